/* teach.h — live teaching in the daemon: samples of labelled frames, a new head trained on them
 * in the background, the trained model swapped in like a reload. See docs/teach.md.
 *
 * Parts
 *  1. Store (teach_store.c): <dir>/samples/<label>/<id>.jpg (the model's input as the model saw
 *     it) and <id>.emb (its embedding: the base's quantized bytes with a small header), written
 *     through a temporary file and rename; bounded per label and in total bytes.
 *  2. Capture: teach_start(label, count) arms the next `count` classified frames; the classify
 *     thread hands each frame's input tensor to teach_offer() (a copy into one slot, newest
 *     wins, never blocks); the teach thread embeds it with its own engine on the base (probe =
 *     the embedding) and stores it. Progress and the end are published as events
 *     ("teach_progress", "teach_done", "teach_error") on the server, from the teach thread.
 *  3. Training: teach_train() wakes the teach thread, which lowers its own priority (nice 19),
 *     fits a head on the cached embeddings (rt_fit), writes <dir>/model.tflite and
 *     <dir>/labels.txt (temporary file + rename: never a half-written model), measures the
 *     written file on the held-out samples, then makes teach_event_fd() readable; the main
 *     thread calls teach_take_trained() and swaps the model in.
 * Which model the daemon loads: teach_model_paths() — the trained pair in <dir> when both files
 * exist, else the configured [model] path/labels. Threads: teach_offer() from the classify
 * thread; everything else from the main thread. Errors: negative errno with err filled. */
#ifndef CAMCLASS_DAEMON_TEACH_H
#define CAMCLASS_DAEMON_TEACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "capture/capture.h"
#include "inference/engine.h"

#define TEACH_MAX_COUNT 1000     /* frames one teach request may ask for */
#define TEACH_LABEL_MAX 64

struct server;
struct teach;

struct teach_config {
	const char *dir;
	const char *base;        /* the model whose features are used */
	int max_samples_per_label;
	uint64_t max_disk_bytes;
	enum eng_backend backend;
	int threads;
};

int teach_open(const struct teach_config *cfg, struct server *srv, struct teach **ret, char *err, size_t errlen);
void teach_close(struct teach *t);
/* The server progress events go to (srv may be NULL at open: the server comes later). */
void teach_set_server(struct teach *t, struct server *srv);

/* The model/labels pair the daemon should run: the trained one when <dir> holds both. */
bool teach_model_paths(const char *dir, char *model, size_t model_len, char *labels, size_t labels_len);

/* Requests (main thread). Each returns 0 and a reply object (*ret, new reference), or a
 * negative errno with err filled: -EINVAL bad label/count, -EBUSY training or teaching already,
 * -ENOSPC a limit reached, -ENODATA nothing to train on, -ENOENT unknown label. */
int teach_start(struct teach *t, const char *label, int count, json_t **ret, char *err, size_t errlen);
int teach_samples(struct teach *t, json_t **ret, char *err, size_t errlen);
int teach_forget(struct teach *t, const char *label, const char *id, json_t **ret, char *err, size_t errlen);
int teach_train(struct teach *t, json_t **ret, char *err, size_t errlen);

/* Classify thread: the input tensor of a frame just classified, described by info (the running
 * model's input); ignored unless teaching is armed and info equals the base's input. */
void teach_offer(struct teach *t, const void *tensor, const struct eng_tensor_info *info);

/* Readable (EPOLLIN) when a training run has finished; teach_take_trained() then says how
 * (0: the new model is in model/labels, accuracy filled; <0 with err: it failed). */
int teach_event_fd(const struct teach *t);
int teach_take_trained(struct teach *t, double *ret_accuracy, int *ret_val, char *err, size_t errlen);

#endif
