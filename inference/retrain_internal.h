/* retrain_internal.h — struct rt_base, shared by the halves of head retraining: retrain_base.c
 * (reading a base, finding its embedding) and tflite_write.c (writing the new model). Internal
 * to inference/: callers see only retrain.h. */
#ifndef CAMCLASS_INFERENCE_RETRAIN_INTERNAL_H
#define CAMCLASS_INFERENCE_RETRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"
#include "inference/retrain.h"

struct rt_base {
	uint8_t *buf;             /* the whole file (constant tensors point into it) */
	size_t len;
	char *path;
	struct graph g;           /* file order: node i is operator i of the file */
	int *producer;            /* per tensor: the node writing it, or -1 */
	struct rt_embedding emb;
};

/* Writes the TFLite flatbuffer (without metadata zip) of the base up to b->emb plus the head,
 * with metadata_buf (may be NULL) as the TFLITE_METADATA buffer. */
int tflite_write_model(const struct rt_base *b, const struct rt_head *h, const uint8_t *metadata_buf,
		       size_t metadata_len, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen);

/* The ModelMetadata flatbuffer and the labels zip of a retrained model. */
int tflite_write_metadata(const struct rt_base *b, int classes, const char *name, uint8_t **ret_buf,
			  size_t *ret_len, char *err, size_t errlen);
int tflite_labels_zip(const char *const *labels, int classes, uint8_t **ret_buf, size_t *ret_len,
		      char *err, size_t errlen);

#define TFLITE_METADATA_NAME "TFLITE_METADATA"
#define TFLITE_LABELS_FILE "labels.txt"

#endif
