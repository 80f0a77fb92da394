/* model_loader.h — load a reload's model on a thread of its own, so the main loop keeps
 * answering clients while a model file is read, validated and prepared (issue #13: a hostile
 * model once held the main loop for 13 s).
 *
 * Contract
 * - ml_start() takes the parsed config (moved in: the caller must not use or free it after a
 *   successful call; on failure it stays the caller's) and starts a thread running
 *   pl_model_load() on it. ml_fd() becomes readable (EPOLLIN) when the load has ended.
 * - ml_finish() waits for the thread (at once if ml_fd() is readable), hands back the config
 *   and, on success, the model (both owned by the caller from then on), and frees the loader.
 *   It returns the load's result: 0, or a negative errno with the message in err.
 * - Threads: ml_* are called by one thread (the main loop); the load thread touches only the
 *   config it owns and the model it builds. Signals: the load thread inherits the caller's mask
 *   (camclassd blocks its signals before any thread starts). */
#ifndef CAMCLASS_DAEMON_MODEL_LOADER_H
#define CAMCLASS_DAEMON_MODEL_LOADER_H

#include <stddef.h>

#include "daemon/config.h"
#include "daemon/pipeline.h"

struct model_loader;

int ml_start(struct config *cfg, struct model_loader **ret_loader);
int ml_fd(const struct model_loader *ml);
int ml_finish(struct model_loader *ml, struct config *ret_cfg, struct classifier **ret_model,
	      char *err, size_t errlen);

#endif
