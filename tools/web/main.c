/* main.c — camclass-web: a web page, an MJPEG stream and Prometheus metrics for camclassd.
 *
 *   camclass-web -c FILE [-v]
 *   camclass-web --check-config -c FILE
 *   camclass-web --version
 *
 * Why it is a separate process: the daemon stays free of HTTP and of network sockets (its unit
 * has PrivateNetwork=yes); this program is only a client of its Unix socket (ipc/client.h) and
 * can run sandboxed under its own unit. It reads the same INI as the daemon through the same
 * loader, so [web] is checked by one validator and the socket path comes from [socket]. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "lib/log.h"
#include "lib/service.h"
#include "lib/version.h"
#include "tools/web/auth.h"
#include "tools/web/http.h"
#include "tools/web/hub.h"
#include "tools/web/link.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: camclass-web -c FILE [-v]\n"
		   "       camclass-web --check-config -c FILE\n"
		   "       camclass-web --version\n"
		   "Serves the camclassd page, /stream.mjpg and /metrics as [web] in FILE says.\n"
		   "  -c FILE           the daemon's INI file ([web], [socket] path, [log] level)\n"
		   "  -v                log at debug level\n"
		   "  --check-config    check FILE and [web] auth_file, then exit\n"
		   "  --version         print the version and exit\n"
		   "  -h, --help        print this summary\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int check_only = 0, verbose = 0;
	char err[CONFIG_ERR_MAX];
	struct config cfg;

	log_init();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check_only = 1;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			camclass_print_version(stdout, "camclass-web");
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	log_set_level(verbose ? LOG_DEBUG : cfg.log.level);

	struct web_auth *auth = NULL;
	struct web_link *link = NULL;
	struct web_hub *hub = NULL;
	struct web_server *server = NULL;
	int r = web_auth_load(cfg.web.auth, cfg.web.auth_file, &auth, err, sizeof(err));
	if (r < 0) {
		log_error("[web] auth_file: %s", err);
		goto out;
	}
	if (check_only) {
		printf("%s: configuration OK\n", path);
		goto out;
	}
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	/* blocked before any thread starts, so every thread inherits the mask */
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = link_new(cfg.socket.path, &link);
	if (r == 0)
		r = hub_new(cfg.socket.path, (unsigned)cfg.web.stream_fps, &hub);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot start");
		goto out;
	}
	struct web_parts parts = { .cfg = &cfg, .auth = auth, .link = link, .hub = hub };
	unsigned port;
	r = web_server_start(&parts, &server, &port);
	if (r < 0)
		goto out;
	log_info("serving http on %s (port %u), auth %s, teach %s, daemon socket %s",
		 cfg.web.listen, port, config_web_auth_name(cfg.web.auth),
		 cfg.web.allow_teach ? "on" : "off", cfg.socket.path);
	svc_notifyf("READY=1\nSTATUS=serving on %s", cfg.web.listen);

	int sig;
	while (sigwait(&stop_signals, &sig) != 0)
		;
	log_info("stopping (signal %d)", sig);
	svc_notify("STOPPING=1");
	r = 0;
out:
	web_server_stop(server);
	hub_free(hub);
	link_free(link);
	web_auth_free(auth);
	config_free(&cfg);
	return r < 0 ? 1 : 0;
}
