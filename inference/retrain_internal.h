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

/* The new head as FULLY_CONNECTED parameters in the body's 8-bit type (retrain_quant.c). */
struct tflite_head_q {
	enum tensor_type type;    /* the embedding's: TT_INT8 or TT_UINT8 */
	uint8_t *weights;         /* classes × depth */
	int32_t *bias;
	float w_scale, out_scale;
	int32_t w_zp, out_zp;
};
int tflite_quantize_head(const struct rt_head *h, const struct rt_embedding *e, struct tflite_head_q *q, char *err,
			 size_t errlen);
void tflite_head_q_free(struct tflite_head_q *q);

/* Builtin options of base node n, read from the file's operator table, written into fb
 * (tflite_options.c). *ret is 0 when the operator has none. */
struct fbb;
struct fbb_ref;
struct fbs_vec;
int tflite_copy_options(struct fbb *fb, const struct fbs_vec *raw_ops, const struct node *n, uint8_t *ret_type,
			struct fbb_ref *ret, char *err, size_t errlen);

#define TFLITE_METADATA_NAME "TFLITE_METADATA"
#define TFLITE_LABELS_FILE "labels.txt"

#endif
