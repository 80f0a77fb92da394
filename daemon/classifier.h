/* classifier.h — one image classifier: a model with its labels, turning a picture into ranked
 * scores. The single path that camclassd (per camera frame) and `camclass classify` (per image
 * file) both take, so what the CLI says about a picture is what the daemon would say, by
 * construction. Config-free: the caller maps its own settings onto struct clf_options (the
 * daemon its [model] section, daemon/model.c; the CLI its arguments).
 *
 *   clf_load ─→ clf_decode_frame | clf_decode_still ─→ clf_prepare ─→ clf_run ─→ clf_scores
 *                                                                              └→ clf_top_k
 *  - clf_load(): loads the engine, reads the labels (one per line, class N = line N, exactly as
 *    many as the model has outputs; from labels_path, else from the model's own metadata, else
 *    labels_fallback_path), checks that the input is a 1×H×W×{1,3} (or 1×{1,3}×H×W) image and
 *    prepares capture's preprocessing for it (model_io.h: 8-bit rule, or (pixel − mean) / std
 *    for float models; struct cap_prep: the target, plus crop and resize).
 *  - clf_decode_*(): capture's decoder with that preparation (JPEG DCT-scaled to just above the
 *    model size); clf_prepare(): crop, resize, colour, quantize into the input tensor;
 *    clf_run(): the engine, then the dequantized scores (eng_output_value; softmaxed when the
 *    output holds logits, model_io_scores) into clf_scores().
 *    Separate steps so that the daemon can time them and keep the decoded picture.
 *  - clf_top_k(): pure ranking, shared by the daemon's postprocessing and the CLI.
 *
 * Memory: the classifier owns its engine, labels, decoder and score buffer. An image from
 * clf_decode_*() is owned by the classifier's decoder and valid until its next decode; the
 * array from clf_scores() until the next clf_run() or clf_free(). Strings in clf_options are
 * only read during clf_load().
 * Threads: the running steps (decode, prepare, run, scores) are for one thread at a time. What
 * was fixed at load — clf_name, clf_labels, clf_class_count, clf_input, clf_engine for
 * eng_backend_used()/eng_arena_bytes() — may be read from any thread while it is not freed.
 * Errors: 0 or a negative errno code; nothing is logged here (the caller decides).
 * clf_load() fills err with one message naming the file ("labels.txt has 10 labels but
 * m.tflite has 1001 outputs"); the decode/prepare steps return capture's CAP_ERR_* codes
 * (cap_strerror()); clf_run() returns -EIO and clf_run_error() says which operators failed. */
#ifndef CAMCLASS_DAEMON_CLASSIFIER_H
#define CAMCLASS_DAEMON_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "daemon/model_io.h"
#include "inference/engine.h"

/* --- labels: one per line; trailing CR/LF stripped; empty lines kept (line N is class N) --- */
struct labels {
	char **names;
	size_t count;
};

/* Reads path (at most 100000 labels, no NUL bytes; the forms of labels_text.h: BOM, CRLF,
 * trailing blank lines, INDEX NAME); err names the file and line on failure. */
int labels_load(const char *path, struct labels *ret, char *err, size_t errlen);
void labels_free(struct labels *l);

/* --- the classifier ------------------------------------------------------------------------- */
struct clf_options {
	const char *model_path;
	const char *labels_path;  /* NULL or "": the labels file inside the model (TFLite metadata), */
	const char *labels_fallback_path; /* else this one (NULL: none, an error names both) */
	enum eng_backend backend;
	int threads;              /* >= 1 */
	enum cap_crop crop;
	enum cap_resize resize;
	struct model_io_settings io; /* float input normalization, output kind (model_io.h) */
};

struct classifier;

int clf_load(const struct clf_options *opt, struct classifier **ret_classifier, char *err,
	     size_t errlen);
void clf_free(struct classifier *c);  /* NULL is fine */

const char *clf_name(const struct classifier *c);   /* model file name without ".tflite" */
size_t clf_class_count(const struct classifier *c); /* outputs = labels */
const char *const *clf_labels(const struct classifier *c); /* clf_class_count() names */
const struct eng_tensor_info *clf_input(const struct classifier *c);
/* The input tensor as clf_prepare() left it (read only; the running steps' thread). */
const void *clf_input_tensor(const struct classifier *c);
const struct engine *clf_engine(const struct classifier *c);
const struct cap_prep *clf_prep(const struct classifier *c);
/* How the input is fed ("float32, (pixel - 127.5) / 127.5 from the model's metadata") and where
 * the labels came from ("labels.txt", "model.tflite:imagenet_labels.txt"), for logs. */
const char *clf_input_desc(const struct classifier *c);
const char *clf_labels_source(const struct classifier *c);

/* A camera frame / a still image file's bytes (JPEG or BMP) → a picture, as capture decodes. */
int clf_decode_frame(struct classifier *c, const struct cap_frame *frame, struct cap_image *ret_image);
int clf_decode_still(struct classifier *c, const uint8_t *data, size_t bytes,
		     struct cap_image *ret_image);
/* Why the last decode failed, in the decoder's words (cap_decoder_last_error()); "" if it did not. */
const char *clf_decode_error(const struct classifier *c);
/* The picture → the model's input tensor (cap_preprocess with clf_prep()). */
int clf_prepare(struct classifier *c, const struct cap_image *image);
/* A YUYV or NV12 camera frame's region (NULL: all of it) → the input tensor in one pass
 * (cap_preprocess_yuv): the tensor clf_decode_frame, the region's view and clf_prepare give,
 * without decoding the whole frame. Errors as those steps; clf_decode_error() says why. */
int clf_prepare_frame(struct classifier *c, const struct cap_frame *frame,
		      const struct cap_rect *region);
/* Run the model on the prepared input; 0 or -EIO (clf_run_error() says why). */
int clf_run(struct classifier *c);
const char *clf_run_error(const struct classifier *c);
/* The last run's clf_class_count() scores (dequantized outputs). */
const float *clf_scores(const struct classifier *c);

/* --- ranking -------------------------------------------------------------------------------- */
struct clf_rank {
	uint32_t index;           /* class */
	float score;
};

/* The best min(k, n) of scores[0..n) that are ≥ min_score, into ret (room for k), best first;
 * equal scores rank the lower class first, NaN never ranks. Returns how many were written.
 * O(n log k), no allocation. */
size_t clf_top_k(const float *scores, size_t n, size_t k, float min_score, struct clf_rank *ret);

#endif
