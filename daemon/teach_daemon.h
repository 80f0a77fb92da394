/* teach_daemon.h — live teaching as camclassd uses it (daemon/teach_daemon.c): the model rule,
 * the server's teach hook, the swap after training. Main thread only. */
#ifndef CAMCLASS_DAEMON_TEACH_DAEMON_H
#define CAMCLASS_DAEMON_TEACH_DAEMON_H

#include <stdbool.h>

#include <jansson.h>

#include "daemon/config.h"
#include "daemon/pipeline.h"
#include "daemon/teach.h"
#include "ipc/server.h"

/* With teaching on and a trained pair in [teach] dir: cfg's [model] path/labels become it. */
bool teach_effective_model(struct config *cfg);
/* cfg: as loaded (before teach_effective_model), so the base is the configured model. */
int teach_daemon_open(const struct config *cfg, struct server *srv, struct teach **ret);
/* srv_hooks.teach, userdata the struct teach (NULL: teaching unavailable). */
int teach_daemon_hook(void *userdata, const char *cmd, const json_t *args, json_t **ret_reply, char *err,
		      size_t errlen);
/* teach_event_fd() readable: take the result, load and apply the trained model, tell clients. */
void teach_daemon_trained(struct teach *t, struct config *cfg, struct pipeline *pl, struct server *srv);

#endif
