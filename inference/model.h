/* model.h — the TFLite model reader: flatbuffer bytes → struct graph (inference/graph.h).
 *
 * model_read() walks the TFLite schema (tensorflow/lite/schema/schema.fbs, version 3) through
 * the bounds-checked accessors of fbs.h and copies out what the engine needs: tensors (type,
 * static shape, name, quantization), constant data (pointers into buf, which must outlive the
 * graph: the engine keeps the file mapped), operators with their opcode, version, tensor lists
 * and parsed builtin options. Generic facts are validated here (indices in range, buffer sizes
 * equal to the tensor sizes, sizes that cannot overflow, quantization arrays consistent with
 * the shape); what a particular op needs is the kernel's prepare() job, and the order of
 * operators is the planner's. Refused with a message: more than one subgraph, dynamic shapes,
 * unsupported tensor types, sparse or variable tensors, custom ops, a graph without inputs or
 * outputs. Errors: -EBADMSG for a corrupt file, -ENOTSUP for a valid but unsupported one. */
#ifndef CAMCLASS_INFERENCE_MODEL_H
#define CAMCLASS_INFERENCE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"

/* Largest tensor the reader accepts (elements × element size), so that every size computed
 * from shapes fits comfortably in size_t and int on every target. */
#define MODEL_MAX_TENSOR_BYTES ((size_t)1 << 30)

/* On success *ret_graph is filled (free it with model_free_graph); on failure it is untouched
 * and err holds "what: why" (no file name: the caller prefixes it). */
int model_read(const uint8_t *buf, size_t len, struct graph *ret_graph, char *err, size_t errlen);

/* Name of any TFLite builtin op code ("RESIZE_BILINEAR"), or NULL beyond the known table. */
const char *model_op_name(int op);

/* Frees everything the graph owns, including each node's params. Safe on a zeroed graph. */
void model_free_graph(struct graph *g);

#endif
