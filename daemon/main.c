/* main.c — camclassd: options, start-up order, and the one event loop of the main thread.
 *
 * Why it is built this way (after systemd's own small daemons):
 * - The main thread owns every event source in one epoll set: signals through a signalfd (so
 *   SIGTERM/SIGHUP are ordinary events, never async handlers), a timerfd that ticks STATUS=
 *   and the watchdog, the IPC server's fd and the pipeline's failure eventfd. The worker
 *   threads are started with these signals blocked, so only the signalfd sees them.
 * - READY=1 is sent only once the socket listens and the pipeline threads run; WATCHDOG=1
 *   only when daemon/health.c says frames flow (or the camera is reconnecting), so systemd
 *   restarts a wedged pipeline instead of being fed by a blind timer.
 * - A reload is all-or-nothing: the new file is parsed and a changed model is loaded and
 *   validated on the side; anything wrong is logged and the running config stays (reload.c).
 * - The daemon never forks: under systemd (Type=notify) that is what is wanted, and by hand it
 *   runs in the foreground too; -f is accepted for habit's sake. */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/daemon_internal.h"
#include "daemon/health.h"
#include "daemon/model_loader.h"
#include "daemon/pipeline.h"
#include "daemon/preflight.h"
#include "daemon/teach_daemon.h"
#include "ipc/server.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/service.h"
#include "lib/version.h"

#define TICK_MAX_US 1000000ull /* STATUS= refresh; the watchdog may need a faster tick */

static void usage(FILE *f)
{
	fprintf(f, "usage: camclassd -c FILE [-f] [-v]\n"
		   "       camclassd --check-config -c FILE\n"
		   "       camclassd --version\n"
		   "\n"
		   "  -c, --config FILE   configuration (INI), e.g. /etc/camclassd/camclassd.ini\n"
		   "  -f, --foreground    accepted for habit; camclassd never forks\n"
		   "  -v, --verbose       log at debug level (overrides [log] level)\n"
		   "      --check-config  validate FILE and what it names (model, labels, socket group,\n"
		   "                      camera node), print the result, exit 0 (OK) or 1\n"
		   "      --version       print the version and exit\n");
}

static int epoll_add(int epoll_fd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return log_errno(LOG_ERR, errno, "epoll_ctl");
	return 0;
}

static void set_status(struct daemon *d, const char *status)
{
	if (strcmp(d->status, status) == 0)
		return;
	snprintf(d->status, sizeof(d->status), "%s", status);
	svc_notifyf("STATUS=%s", status);
}

static void tick(struct daemon *d)
{
	char line[STATUS_MAX];
	const char *why = NULL;
	uint64_t expirations;
	ssize_t rd = read(d->timer_fd, &expirations, sizeof(expirations));
	(void)rd; /* only drains the timer */

	pl_tick(d->pl, line, sizeof(line));
	set_status(d, line);
	if (!d->watchdog_usec)
		return;
	if (health_check(&d->health, &d->limits, mono_now_ns(), &why)) {
		if (d->unhealthy_logged)
			log_info("pipeline healthy again");
		d->unhealthy_logged = false;
		svc_notify("WATCHDOG=1");
	} else if (!d->unhealthy_logged) {
		char reason[STATUS_MAX];
		pl_health_reason(d->pl, why, reason, sizeof(reason));
		log_warning("pipeline unhealthy (%s): not feeding the watchdog", reason);
		d->unhealthy_logged = true;
	}
}

/* Returns the exit status. */
static int run_loop(struct daemon *d)
{
	char msg[256];
	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(d->epoll_fd, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_errno(LOG_ERR, errno, "epoll_wait");
			return EXIT_FAILURE;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == d->signal_fd) {
				struct signalfd_siginfo si;
				if (read(d->signal_fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					daemon_reload(d);
				} else {
					log_info("%s received, stopping", strsignal((int)si.ssi_signo));
					return EXIT_SUCCESS;
				}
			} else if (fd == d->timer_fd) {
				tick(d);
			} else if (fd == srv_fd(d->srv)) {
				int r = srv_dispatch(d->srv);
				if (r < 0) {
					log_errno(LOG_ERR, r, "IPC server failed");
					return EXIT_FAILURE;
				}
			} else if (d->teach && fd == teach_event_fd(d->teach)) {
				teach_daemon_trained(d->teach, &d->cfg, d->pl, d->srv);
			} else if (d->loader && fd == ml_fd(d->loader)) {
				daemon_reload_model_loaded(d);
			} else if (fd == pl_event_fd(d->pl)) {
				if (pl_failed(d->pl, msg, sizeof(msg))) {
					log_error("%s", msg);
					return EXIT_FAILURE;
				}
			}
		}
	}
}

static int setup_events(struct daemon *d)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->signal_fd < 0)
		return log_errno(LOG_ERR, errno, "signalfd");

	uint64_t tick_us = TICK_MAX_US;
	if (svc_watchdog_usec(&d->watchdog_usec) <= 0)
		d->watchdog_usec = 0;
	if (d->watchdog_usec && d->watchdog_usec / 3 < tick_us)
		tick_us = d->watchdog_usec / 3 ? d->watchdog_usec / 3 : 1;
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->timer_fd < 0)
		return log_errno(LOG_ERR, errno, "timerfd_create");
	struct itimerspec its = {
		.it_interval = { .tv_sec = (time_t)(tick_us / 1000000), .tv_nsec = (long)(tick_us % 1000000) * 1000 },
	};
	its.it_value = its.it_interval;
	if (timerfd_settime(d->timer_fd, 0, &its, NULL) < 0)
		return log_errno(LOG_ERR, errno, "timerfd_settime");

	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0)
		return log_errno(LOG_ERR, errno, "epoll_create1");
	int r = epoll_add(d->epoll_fd, d->signal_fd);
	if (r == 0)
		r = epoll_add(d->epoll_fd, d->timer_fd);
	if (r == 0)
		r = epoll_add(d->epoll_fd, srv_fd(d->srv));
	if (r == 0)
		r = epoll_add(d->epoll_fd, pl_event_fd(d->pl));
	if (r == 0 && d->teach)
		r = epoll_add(d->epoll_fd, teach_event_fd(d->teach));
	return r;
}

static int check_config(const char *path)
{
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_FAILURE;
	}
	int r = pl_camera_probe(&cfg, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "%s: %s\n", path, err);
	int r_pre = preflight_check(&cfg, stderr); /* model, labels, group, camera node */
	config_free(&cfg);
	if (r < 0 || r_pre < 0)
		return EXIT_FAILURE;
	printf("%s: configuration OK\n", path);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .epoll_fd = -1, .signal_fd = -1, .timer_fd = -1 };
	char err[CONFIG_ERR_MAX];
	bool check_only = false;
	int exit_status = EXIT_FAILURE;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "c:fvth", options, NULL)) != -1) {
		switch (opt) {
		case 'c': d.config_path = optarg; break;
		case 'f': break;
		case 'v': d.verbose = true; break;
		case 't': check_only = true; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		case 'V': camclass_print_version(stdout, "camclassd"); return EXIT_SUCCESS;
		default: usage(stderr); return 2;
		}
	}
	if (!d.config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only)
		return check_config(d.config_path);

	log_init();
	if (d.verbose)
		log_set_level(LOG_DEBUG);
	r = config_load(d.config_path, &d.cfg, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		svc_notifyf("STATUS=bad configuration: %s", err);
		return EXIT_FAILURE;
	}
	apply_log_level(&d);

	/* Block before any thread exists, so that only the signalfd receives these. A shell
	 * starts background jobs with SIGINT ignored, and an ignored signal never reaches a
	 * signalfd: restore the default dispositions first. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Teaching first: its base is the configured model, which a trained one then replaces. */
	if (d.cfg.teach.enabled)
		(void)teach_daemon_open(&d.cfg, NULL, &d.teach); /* logged; the daemon serves without it */
	bool trained = teach_effective_model(&d.cfg);
	if (trained)
		log_info("running the trained model %s (docs/teach.md: which model loads)", d.cfg.model.path);
	svc_notifyf("STATUS=loading model %s", d.cfg.model.path);
	struct classifier *model = NULL;
	r = pl_model_load(&d.cfg, &model, err, sizeof(err));
	if (r < 0 && trained) {
		log_error("the trained model does not load (%s); running the configured one", err);
		config_free(&d.cfg);
		r = config_load(d.config_path, &d.cfg, err, sizeof(err));
		if (r >= 0)
			r = pl_model_load(&d.cfg, &model, err, sizeof(err));
	}
	if (r < 0) {
		log_error("%s", err);
		svc_notifyf("STATUS=cannot load the model: %s", err);
		goto out;
	}
	health_init(&d.health, mono_now_ns());
	r = pl_new(&d.cfg, model, &d.health, &d.pl, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	pl_health_limits(d.pl, &d.limits);

	struct srv_hooks hooks;
	pl_hooks(d.pl, &hooks);
	hooks.teach = teach_daemon_hook;
	hooks.teach_userdata = d.teach;
	const struct srv_config srv_cfg = {
		.socket_path = d.cfg.socket.path,
		.socket_mode = d.cfg.socket.mode,
		.socket_group = d.cfg.socket.group,
		.max_clients = (unsigned)d.cfg.socket.max_clients,
		.default_top_k = (unsigned)d.cfg.classify.top_k,
		.default_threshold = d.cfg.classify.threshold,
		.socket_activation = 1,
	};
	r = srv_open(&srv_cfg, &hooks, &d.srv);
	if (r < 0)
		goto out; /* srv_open logged why */
	r = pl_model_labels_to_server(d.pl, d.srv);
	if (r < 0)
		goto out;
	if (d.teach) {
		teach_set_server(d.teach, d.srv);
		pl_set_teach(d.pl, d.teach);
	}
	r = setup_events(&d);
	if (r < 0)
		goto out;
	r = pl_start(d.pl, d.srv);
	if (r < 0)
		goto out;

	log_info("camclassd %s serving on %s (%s mode)", camclass_version(), srv_socket_path(d.srv),
		 config_mode_name(d.cfg.classify.mode));
	svc_notifyf("READY=1\nSTATUS=serving on %s", srv_socket_path(d.srv));
	exit_status = run_loop(&d);
	svc_notify("STOPPING=1\nSTATUS=stopping");
out:
	if (d.loader) { /* stopping while a reload's model loads: wait for it, then drop it */
		struct config pending_cfg;
		struct classifier *pending_model;
		ml_finish(d.loader, &pending_cfg, &pending_model, err, sizeof(err));
		clf_free(pending_model);
		config_free(&pending_cfg);
	}
	pl_free(d.pl); /* joins the threads before the server they publish to goes away */
	teach_close(d.teach); /* after the classify thread that offers it frames */
	if (d.srv)
		srv_close(d.srv);
	if (d.epoll_fd >= 0)
		close(d.epoll_fd);
	if (d.timer_fd >= 0)
		close(d.timer_fd);
	if (d.signal_fd >= 0)
		close(d.signal_fd);
	config_free(&d.cfg);
	if (exit_status == EXIT_SUCCESS)
		log_info("stopped");
	return exit_status;
}
