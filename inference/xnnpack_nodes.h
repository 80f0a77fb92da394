/* xnnpack_nodes.h — inside the XNNPACK backend (used by xnnpack.c only): which nodes XNNPACK can
 * take, and how each is defined in an XNNPACK subgraph (xnnpack_nodes.c). Only meaningful with
 * CAMCLASS_HAVE_XNNPACK; empty without it. */
#ifndef CAMCLASS_INFERENCE_XNNPACK_NODES_H
#define CAMCLASS_INFERENCE_XNNPACK_NODES_H

#ifdef CAMCLASS_HAVE_XNNPACK

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xnnpack.h>

#include "inference/graph.h"

/* Memory XNNPACK reads as static data (bias copies, bias scales): owned by the delegate, freed
 * after its runtimes. Room for cap pointers is allocated up front. */
struct xnnpack_owned {
	void **ptr;
	int n, cap;
};

/* State while one segment's subgraph is defined. */
struct xnnpack_builder {
	const struct graph *g;
	const int *producer;        /* per tensor: execution index of its producer, or -1 */
	uint32_t *value_of;         /* per tensor: its value id in sg, or XNN_INVALID_VALUE_ID */
	xnn_subgraph_t sg;
	struct xnnpack_owned *owned;
};

/* Helpers shared by xnnpack_nodes.c (8-bit nodes) and xnnpack_float.c (fp32 nodes). */
const struct tensor *xn_input(const struct graph *g, const struct node *n, int i); /* NULL if absent */
const struct tensor *xn_output(const struct graph *g, const struct node *n);
bool xn_activation_supported(enum activation a);
void xn_activation_range(enum activation a, float *ret_min, float *ret_max);
bool xn_is_spatial_mean(const struct graph *g, const struct node *n);
long xn_conv_out_size(enum padding pad, int in, int kernel, int stride, int dilation);
bool xn_conv_shape_ok(const struct tensor *x, const struct tensor *w, const struct tensor *y, enum padding pad,
		      int stride_h, int stride_w, int dilation_h, int dilation_w);
bool xn_broadcast_shape_ok(const struct tensor *a, const struct tensor *b, const struct tensor *y);
size_t xn_value_dims(const struct xnnpack_builder *b, int ti, size_t dims[GRAPH_MAX_DIMS]);
void *xn_own_alloc(struct xnnpack_owned *o, size_t bytes);
enum xnn_status xn_activation_value(struct xnnpack_builder *b, int ti, uint32_t *ret_id);
void xn_conv_padding(enum padding pad, int in, int out, int kernel, int stride, int dilation,
		     uint32_t *ret_before, uint32_t *ret_after);

/* xnnpack_float.c: the same two questions for nodes on float32 tensors. */
bool xnnpack_float_node_supported(const struct graph *g, const struct node *n);
enum xnn_status xnnpack_define_float_node(struct xnnpack_builder *b, const struct node *n);

/* Whether XNNPACK can run node n (see xnnpack.h for the list). */
bool xnnpack_node_supported(const struct graph *g, const struct node *n);
/* Whether n does arithmetic (a run of RESHAPEs alone is not worth a runtime). */
bool xnnpack_node_computes(const struct node *n);
/* Defines activation tensor `tensor` in b->sg with the given external id and flags
 * (XNN_INVALID_VALUE_ID and 0 for an internal value) and records its id in b->value_of. */
enum xnn_status xnnpack_define_activation(struct xnnpack_builder *b, int tensor, uint32_t external_id,
					  uint32_t flags);
/* Defines supported node n, its weights and bias, and any activation not defined yet. */
enum xnn_status xnnpack_define_node(struct xnnpack_builder *b, const struct node *n);

#endif /* CAMCLASS_HAVE_XNNPACK */
#endif
