/* retrain.h — a new classifier head on a pre-trained base model: find the base's embedding
 * (the features its own classifier reads), fit a softmax-regression head on embeddings, and
 * write the base up to the embedding plus the new head as a standard TFLite file.
 * The public face of head retraining in inference/, used by `camclass retrain` and by the
 * daemon's live teaching.
 *
 * Parts
 *  1. rt_base_open(): reads and validates a base model and picks its embedding tensor: the
 *     input of the final classifier — a FULLY_CONNECTED, or the 1x1 CONV_2D on a pooled 1x1
 *     tensor of the TF1 MobileNets — found by walking back from the output over SOFTMAX,
 *     LOGISTIC, RESHAPE, SQUEEZE, QUANTIZE and DEQUANTIZE; or the tensor the caller names.
 *     Embeddings are read with the engine's probe (eng_options.probe_tensor = info.name).
 *  2. rt_fit(): float softmax regression on dequantized embeddings, L2-regularised (the bias is
 *     not), class-balanced (each class weighs the same in the loss), full-batch accelerated
 *     gradient with backtracking: deterministic (no randomness at all; the caller's split and
 *     augmentation carry the seed).
 *  3. rt_write(): the new model as bytes: the operators the embedding needs (others, with their
 *     tensors and buffers, are dropped), then FULLY_CONNECTED (weights quantized per tensor as
 *     the TFLite converter does for FULLY_CONNECTED: symmetric int8 in [-127, 127] on int8
 *     bases, asymmetric uint8 on uint8 bases; int32 bias at input scale x weight scale) and
 *     SOFTMAX (scale 1/256), then QUANTIZE/DEQUANTIZE back to the base's own output type when
 *     it differs from the body's. The labels go in as TFLite metadata: a ModelMetadata
 *     flatbuffer ("M001") in a buffer named by the model's "TFLITE_METADATA" entry, whose
 *     output tensor names an associated file "labels.txt" (TENSOR_AXIS_LABELS), stored in a
 *     zip appended to the flatbuffer, as the TFLite metadata writer lays it out.
 *
 * Memory: an rt_base owns a copy of the file and its parsed graph; rt_embedding strings live as
 * long as the base. rt_fit() fills a caller-owned struct rt_head (free with rt_head_free()).
 * rt_write() returns a malloc'd buffer. Threads: no shared state; one base per thread at a time.
 * Errors: negative errno codes with err filled: "base.tflite: no recognisable classifier head:
 * ...", -ENOTSUP for a base that cannot be retrained (float, no head), -EINVAL for bad
 * arguments, -EBADMSG for a corrupt file, -ENOMEM. */
#ifndef CAMCLASS_INFERENCE_RETRAIN_H
#define CAMCLASS_INFERENCE_RETRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/engine.h"

#define RT_MAX_CLASSES 1000
#define RT_MAX_LABEL_BYTES 256

struct rt_embedding {
	int tensor;               /* index in the base's tensor list */
	const char *name;         /* unique in the base: usable as eng_options.probe_tensor */
	int depth;                /* elements (the new FULLY_CONNECTED's input depth) */
	enum eng_dtype type;      /* ENG_INT8 or ENG_UINT8 */
	float scale;
	int32_t zero_point;
	char head[160];           /* what was found: "FULLY_CONNECTED (operator 30), 10 classes" */
	int base_classes;         /* the old head's class count, 0 when --embedding named it */
};

struct rt_base;

/* embedding: a tensor name, or NULL to find the classifier head. */
int rt_base_open(const char *path, const char *embedding, struct rt_base **ret_base, char *err,
		 size_t errlen);
/* The same for a model in memory (copied); name is used in messages. */
int rt_base_open_memory(const void *data, size_t len, const char *name, const char *embedding,
			struct rt_base **ret_base, char *err, size_t errlen);
const struct rt_embedding *rt_base_embedding(const struct rt_base *b);
void rt_base_free(struct rt_base *b);

struct rt_fit_options {
	double l2;                /* weight of 0.5·||W||² (>= 0) */
	int iterations;           /* full-batch steps (>= 1) */
	/* optional progress, called every few steps and at the end (stderr reporting) */
	void (*progress)(int iteration, double loss, void *ctx);
	void *ctx;
};

/* A float head on dequantized embeddings: logits = weights · x + bias. */
struct rt_head {
	int classes, depth;
	float *weights;           /* classes × depth, row-major */
	float *bias;              /* classes */
	float logit_min, logit_max; /* range seen on the training set, for the output quantization */
	double loss;              /* final training objective */
};

/* x: n × depth dequantized embeddings; y: n class indices in [0, classes). */
int rt_fit(const float *x, const int *y, size_t n, int classes, int depth,
	   const struct rt_fit_options *opt, struct rt_head *ret_head, char *err, size_t errlen);
int rt_head_predict(const struct rt_head *h, const float *x); /* argmax class */
void rt_head_free(struct rt_head *h);

/* labels: h->classes strings (non-empty, no newline, < RT_MAX_LABEL_BYTES). name: the model's
 * name in its metadata. */
int rt_write(const struct rt_base *b, const struct rt_head *h, const char *const *labels,
	     const char *name, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen);

/* Writes bytes to path through a temporary file in the same folder, fsync and rename: a reader
 * sees the old file or the whole new one, never a part. */
int rt_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen);

#endif
