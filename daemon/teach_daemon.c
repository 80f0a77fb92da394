/* teach_daemon.c — live teaching wired into camclassd: which model runs at start, the socket
 * hook of the teach requests, and the swap after a training run. Main thread only.
 *
 * The rule for the model (docs/teach.md): with teaching on ([teach] keys in the file), a trained
 * pair <dir>/model.tflite + <dir>/labels.txt, when both exist, replaces [model] path/labels —
 * at start and at every reload, so a restart keeps what was taught. If the trained pair does not
 * load (say a crash between writing its two files), the daemon logs why and runs the configured
 * model. The teaching base is [teach] base, or the configured [model] path (never the trained
 * model: features come from the original network). */
#include "daemon/teach_daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/classifier.h"
#include "lib/log.h"

bool teach_effective_model(struct config *cfg)
{
	char model[4200], labels[4200];
	if (!cfg->teach.enabled || !teach_model_paths(cfg->teach.dir, model, sizeof(model), labels, sizeof(labels)))
		return false;
	char *m = strdup(model), *l = strdup(labels);
	if (!m || !l) {
		free(m);
		free(l);
		return false;
	}
	free(cfg->model.path);
	free(cfg->model.labels);
	cfg->model.path = m;
	cfg->model.labels = l;
	return true;
}

int teach_daemon_open(const struct config *cfg, struct server *srv, struct teach **ret)
{
	char err[512];
	struct teach_config tc = {
		.dir = cfg->teach.dir,
		.base = cfg->teach.base[0] ? cfg->teach.base : cfg->model.path,
		.max_samples_per_label = cfg->teach.max_samples_per_label,
		.max_disk_bytes = (uint64_t)cfg->teach.max_disk_mb << 20,
		.backend = cfg->model.backend,
		.threads = 1,
	};
	int r = teach_open(&tc, srv, ret, err, sizeof(err));
	if (r < 0)
		log_error("teaching unavailable: %s", err);
	return r;
}

int teach_daemon_hook(void *userdata, const char *cmd, const json_t *args, json_t **ret_reply, char *err,
		      size_t errlen)
{
	struct teach *t = userdata;
	const char *label = json_string_value(json_object_get(args, "label"));
	const json_t *count = json_object_get(args, "count"), *id = json_object_get(args, "sample");
	if (!t) {
		snprintf(err, errlen, "teaching is not available (no [teach] section, or its base did not load)");
		return -ENOTSUP;
	}
	if ((strcmp(cmd, "teach") == 0 || strcmp(cmd, "forget") == 0) && !label) {
		snprintf(err, errlen, "\"label\" must be a string");
		return -EINVAL;
	}
	if (strcmp(cmd, "teach") == 0) {
		if (count && !json_is_integer(count)) {
			snprintf(err, errlen, "\"count\" must be an integer from 1 to %d", TEACH_MAX_COUNT);
			return -EINVAL;
		}
		json_int_t n = count ? json_integer_value(count) : 1;
		return teach_start(t, label, n < 0 || n > TEACH_MAX_COUNT ? 0 : (int)n, ret_reply, err, errlen);
	}
	if (strcmp(cmd, "samples") == 0)
		return teach_samples(t, ret_reply, err, errlen);
	if (strcmp(cmd, "forget") == 0) {
		if (id && !json_is_string(id)) {
			snprintf(err, errlen, "\"sample\" must be a string (a sample id from the files in [teach] dir)");
			return -EINVAL;
		}
		return teach_forget(t, label, id ? json_string_value(id) : NULL, ret_reply, err, errlen);
	}
	return teach_train(t, ret_reply, err, errlen);
}

void teach_daemon_trained(struct teach *t, struct config *cfg, struct pipeline *pl, struct server *srv)
{
	char err[512];
	double acc;
	int val;
	int r = teach_take_trained(t, &acc, &val, err, sizeof(err));
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		log_error("teach: training failed: %s", err);
		srv_publish_event(srv, "teach_error", json_pack("{s:s}", "message", err));
		return;
	}
	struct classifier *model = NULL;
	if (!teach_effective_model(cfg) || (r = pl_model_load(cfg, &model, err, sizeof(err))) < 0) {
		log_error("teach: the trained model does not load: %s", r < 0 ? err : "files missing");
		srv_publish_event(srv, "teach_error", json_pack("{s:s}", "message", r < 0 ? err : "trained model missing"));
		return;
	}
	char name[256];
	snprintf(name, sizeof(name), "%s", clf_name(model));
	r = pl_apply(pl, cfg, model);
	if (r < 0) {
		srv_publish_event(srv, "teach_error", json_pack("{s:s}", "message", "the trained model was refused"));
		return;
	}
	json_t *samples;
	int labels = 0;
	json_int_t n = 0;
	if (teach_samples(t, &samples, err, sizeof(err)) == 0) {
		json_t *l, *arr = json_object_get(samples, "labels");
		size_t i;
		json_array_foreach(arr, i, l) {
			labels++;
			n += json_integer_value(json_object_get(l, "samples"));
		}
		json_decref(samples);
	}
	log_info("teach: trained model %s in service (held-out accuracy %.1f %% on %d samples)", cfg->model.path,
		 100 * acc, val);
	srv_publish_event(srv, "model_reloaded", json_pack("{s:s}", "model", name));
	srv_publish_event(srv, "teach_trained", json_pack("{s:s,s:f,s:i,s:i,s:I}", "model", cfg->model.path,
							  "accuracy", acc, "val", val, "labels", labels, "samples", n));
}
