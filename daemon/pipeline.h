/* pipeline.h — the two worker threads of camclassd and what they share.
 *
 *   capture thread:  cap_next → cap_slot_put        (newest frame only; older ones are skipped)
 *   classify thread: cap_slot_take → decode → preprocess → eng_invoke → postproc
 *                    → srv_publish_result           (never blocks on clients)
 *   main thread:     everything else (config, signals, the IPC server, reloads, STATUS=).
 *
 * Lifecycle: pl_model_load() (main thread, may be slow) → pl_new() → srv_open() with the hooks
 * of pl_hooks() → pl_start(pl, srv) → … → pl_free() (stops and joins the threads).
 * Reload: load the new model on the side with pl_model_load(); pl_apply() pauses the classify
 * thread between two frames, flushes the server's mailbox, swaps model, labels and settings,
 * and resumes; camera changes reopen the camera. Clients stay connected.
 * On-demand mode: the camera runs only while the server reports a subscriber or a pending
 * classify request (demand_changed hook); otherwise it is closed (STREAMOFF + close).
 * Fatal errors (a camera config error the device reveals, like an unknown control) are
 * signalled on pl_event_fd() (EPOLLIN) and described by pl_failed().
 * Threads: every pl_* function is main-thread only, except that the hooks are called by the
 * server on the main thread too. */
#ifndef CAMCLASS_DAEMON_PIPELINE_H
#define CAMCLASS_DAEMON_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/classifier.h"
#include "daemon/config.h"
#include "daemon/health.h"
#include "ipc/server.h"

struct pipeline;

/* A classifier (daemon/classifier.h) from [model] path/labels/backend/threads/crop/resize: the
 * labels must match the outputs, the input must be a 1×H×W×{1,3} image; logs what was loaded.
 * err names the file on failure. Free it with clf_free(). */
int pl_model_load(const struct config *cfg, struct classifier **ret_model, char *err, size_t errlen);

/* What can be known of [camera] without disturbing a running camera (cap_probe): for a file
 * source, that its folder or clip opens. err: "camera: /srv/frames: no .jpg, .jpeg or .png files".
 * For --check-config; reloads do the same check themselves. */
int pl_camera_probe(const struct config *cfg, char *err, size_t errlen);

/* Takes ownership of model (also on failure). Threads are not started yet. */
int pl_new(const struct config *cfg, struct classifier *model, struct health *h,
	   struct pipeline **ret_pl, char *err, size_t errlen);
void pl_hooks(struct pipeline *pl, struct srv_hooks *ret_hooks);
/* Give the server the current model's label table (before pl_start). */
int pl_model_labels_to_server(struct pipeline *pl, struct server *srv);
int pl_start(struct pipeline *pl, struct server *srv);
/* Live teaching (daemon/teach.h): each classified frame's input tensor is offered to t. Before
 * pl_start; t must outlive the pipeline's threads. */
struct teach;
void pl_set_teach(struct pipeline *pl, struct teach *t);
void pl_free(struct pipeline *pl);

/* Apply a reloaded config; new_model (may be NULL: keep the current one) is taken. */
int pl_apply(struct pipeline *pl, const struct config *cfg, struct classifier *new_model);

/* Once a second from the main loop: updates rates; fills a STATUS= line. */
void pl_tick(struct pipeline *pl, char *status_line, size_t len);

int pl_event_fd(const struct pipeline *pl);
/* True (and the message) when a worker hit an error the daemon cannot recover from. */
bool pl_failed(struct pipeline *pl, char *msg, size_t len);
/* The health limits that fit the configured frame rate. */
void pl_health_limits(const struct pipeline *pl, struct health_limits *ret);
/* health_check()'s reason, with the last undecodable frame and the decoder's words added when
 * frames do not decode: "frames arrive but none can be decoded (last: frame-7.jpg: JPEG
 * header: Empty JPEG image (DNL not supported))". */
void pl_health_reason(struct pipeline *pl, const char *why, char *buf, size_t len);

#endif
