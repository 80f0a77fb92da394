/* main.c — camclass-mqtt: publishes camclassd's results to an MQTT broker.
 *
 *   camclass-mqtt [-c FILE] [--instance NAME] [--socket PATH] [--check-config] [--version]
 *
 * A separate process on purpose: it needs the network, the daemon keeps none (its unit has
 * PrivateNetwork=yes). It reads the daemon's INI (default /etc/camclassd/camclassd.ini) with the
 * daemon's own validator, so one file configures both and a typo is caught the same way by
 * either; it uses [mqtt], [socket] path and [log] level. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"
#include "lib/log.h"
#include "lib/version.h"
#include "tools/mqtt/bridge.h"
#include "tools/mqtt/settings.h"

#define DEFAULT_CONFIG "/etc/camclassd/camclassd.ini"

static int usage(FILE *f)
{
	fprintf(f, "usage: camclass-mqtt [-c FILE] [--instance NAME] [--socket PATH] "
		   "[--check-config] [--version]\n"
		   "Publishes camclassd's classification state to an MQTT broker, with Home "
		   "Assistant discovery.\n"
		   "  -c, --config FILE  the daemon's INI file (default " DEFAULT_CONFIG ")\n"
		   "  --instance NAME    camclass-mqtt@NAME: socket /run/camclassd/NAME.sock, "
		   "default ids and topics end in NAME\n"
		   "  --socket PATH      the daemon's socket (default: [socket] path)\n"
		   "  --check-config     check the file and the password file, then exit\n"
		   "  --version          print the version and exit\n"
		   "  -h, --help         print this summary\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	const char *instance = NULL, *socket_path = NULL;
	int check_only = 0;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc)
			instance = argv[++i];
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			socket_path = argv[++i];
		else if (strcmp(argv[i], "--check-config") == 0)
			check_only = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			camclass_print_version(stdout, "camclass-mqtt");
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(stdout);
		else
			return usage(stderr);
	}
	log_init();

	struct config c;
	char err[CONFIG_ERR_MAX];
	if (config_load(path, &c, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	log_set_level(c.log.level);
	struct mq_settings s;
	int r = mq_settings_from_config(&c, instance, socket_path, &s, err, sizeof(err));
	config_free(&c);
	if (r < 0) {
		log_error("%s: %s", path, err);
		return 1;
	}
	if (check_only) {
		printf("%s: ok (broker %s:%d, topics %s/...)\n", path, s.host, s.port, s.prefix);
		mq_settings_free(&s);
		return 0;
	}

	/* SIGTERM/SIGINT only through the bridge's signalfd; a closed socket is an error code */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = mq_bridge_run(&s);
	mq_settings_free(&s);
	return r < 0 ? 1 : 0;
}
