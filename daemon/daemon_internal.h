/* daemon_internal.h — the state of camclassd's main thread, shared by main.c (options,
 * start-up, the event loop) and reload.c (SIGHUP: re-read the file, swap the config and model).
 * Split only to keep each file to one job; nothing else includes it. Main thread only. */
#ifndef CAMCLASS_DAEMON_DAEMON_INTERNAL_H
#define CAMCLASS_DAEMON_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/config.h"
#include "daemon/health.h"
#include "daemon/model_loader.h"
#include "daemon/pipeline.h"
#include "lib/log.h"

#define STATUS_MAX 256

struct server;
struct teach;

struct daemon {
	const char *config_path;
	bool verbose;
	struct config cfg;
	struct health health;
	struct health_limits limits;
	struct pipeline *pl;
	struct server *srv;
	struct teach *teach;    /* NULL: teaching off or unavailable */
	int epoll_fd, signal_fd, timer_fd;
	uint64_t watchdog_usec; /* 0: no watchdog */
	bool unhealthy_logged;
	char status[STATUS_MAX];
	struct model_loader *loader;    /* a reload's model being loaded off the main loop */
	bool reload_again;              /* SIGHUP while loading: reload once more afterwards */
};

static inline void apply_log_level(const struct daemon *d)
{
	log_set_level(d->verbose ? LOG_DEBUG : d->cfg.log.level);
}

/* reload.c: a SIGHUP's reload — the file is parsed, a changed model loaded off the loop and
 * validated; anything wrong is logged and the running config stays. daemon_reload_model_loaded
 * is the loop's answer to the loader's fd becoming readable. */
void daemon_reload(struct daemon *d);
void daemon_reload_model_loaded(struct daemon *d);

#endif
