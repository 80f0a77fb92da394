/* reload.c — camclassd's reload (SIGHUP), all-or-nothing: the new file is parsed and a changed
 * model is loaded and validated on the side (daemon/model_loader.c, off the main loop, so
 * clients keep being answered); anything wrong is logged and the running config stays. Split
 * from main.c (options, start-up, the event loop) to keep each file to one job. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "daemon/daemon_internal.h"
#include "daemon/teach_daemon.h"
#include "ipc/server.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/service.h"

/* NAN (an unset input_mean/input_std) equals NAN here. */
static bool same_setting(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static bool model_settings_changed(const struct config *a, const struct config *b)
{
	return strcmp(a->model.path, b->model.path) != 0 ||
	       strcmp(a->model.labels, b->model.labels) != 0 ||
	       a->model.backend != b->model.backend || a->model.threads != b->model.threads ||
	       a->model.resize != b->model.resize || a->model.crop != b->model.crop ||
	       !same_setting(a->model.input_mean, b->model.input_mean) ||
	       !same_setting(a->model.input_std, b->model.input_std) || a->model.output != b->model.output;
}

static bool socket_settings_changed(const struct config *a, const struct config *b)
{
	return strcmp(a->socket.path, b->socket.path) != 0 || a->socket.mode != b->socket.mode ||
	       strcmp(a->socket.group, b->socket.group) != 0 ||
	       a->socket.max_clients != b->socket.max_clients;
}

/* The second half of a reload, once any new model is loaded: swap it all in, or keep the
 * running configuration when the pipeline refuses it. Takes cfg and model. */
static void reload_apply(struct daemon *d, struct config *cfg, struct classifier *model)
{
	bool new_model = model != NULL;
	char model_name[256] = "";
	if (model)
		snprintf(model_name, sizeof(model_name), "%s", clf_name(model));
	int r = pl_apply(d->pl, cfg, model);
	if (r < 0) {
		config_free(cfg); /* pl_apply logged why */
		return;
	}
	/* the clients' defaults: subscribers that chose no top_k/threshold follow them at once */
	r = srv_set_defaults(d->srv, (unsigned)cfg->classify.top_k, cfg->classify.threshold);
	if (r < 0)
		log_errno(LOG_WARNING, r, "[classify] top_k/threshold not applied to clients");
	if (socket_settings_changed(&d->cfg, cfg))
		log_warning("[socket] changes take effect after a restart");
	config_free(&d->cfg);
	d->cfg = *cfg;
	apply_log_level(d);
	pl_health_limits(d->pl, &d->limits);
	if (new_model) {
		json_t *extra = json_pack("{s:s}", "model", model_name);
		if (!extra || srv_publish_event(d->srv, "model_reloaded", extra) < 0)
			log_warning("could not tell clients about the new model");
		log_info("model %s in service", model_name);
	}
	log_info("configuration reloaded");
}


/* The model loader is done (its fd is readable). */
void daemon_reload_model_loaded(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	struct classifier *model;
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, ml_fd(d->loader), NULL);
	int r = ml_finish(d->loader, &cfg, &model, err, sizeof(err));
	d->loader = NULL;
	if (r < 0) {
		log_error("reload rejected, keeping the running model: %s", err);
		config_free(&cfg);
	} else {
		reload_apply(d, &cfg, model);
	}
	svc_notify("READY=1");
	if (d->reload_again) {
		d->reload_again = false;
		daemon_reload(d);
	}
}

/* A changed model is loaded on a thread of its own (daemon/model_loader.c): clients keep being
 * answered meanwhile, and READY=1 follows when it is in service or rejected. */
void daemon_reload(struct daemon *d)
{
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	int r;

	if (d->loader) {
		log_info("reload requested while a model loads; reloading again once it is done");
		d->reload_again = true;
		return;
	}
	svc_notifyf("RELOADING=1\nSTATUS=reloading %s\nMONOTONIC_USEC=%llu", d->config_path,
		   (unsigned long long)(mono_now_ns() / 1000));
	d->status[0] = 0;
	log_info("reloading %s", d->config_path);
	r = config_load(d->config_path, &cfg, err, sizeof(err));
	if (r < 0) {
		log_error("reload rejected, keeping the running configuration: %s", err);
		goto done;
	}
	teach_effective_model(&cfg);
	if (model_settings_changed(&d->cfg, &cfg)) {
		r = ml_start(&cfg, &d->loader);
		if (r >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = ml_fd(d->loader) };
			if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev) == 0)
				return; /* daemon_reload_model_loaded() goes on */
			log_errno(LOG_ERR, errno, "reload: epoll_ctl");
			struct classifier *model;
			ml_finish(d->loader, &cfg, &model, err, sizeof(err));
			d->loader = NULL;
			clf_free(model);
		}
		log_error("reload rejected, keeping the running configuration: cannot load the model");
		config_free(&cfg);
		goto done;
	}
	reload_apply(d, &cfg, NULL);
done:
	svc_notify("READY=1");
}
