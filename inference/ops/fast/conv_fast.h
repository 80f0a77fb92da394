/* conv_fast.h — the fast CONV_2D path (conv_fast.c), split from conv.c so the reference kernel
 * and the GEMM path each stay one file: conv.c prepares the parameters both use (struct
 * conv_params) and runs the reference loops; conv_fast.c lays out and packs the GEMM path's
 * block at prepare and runs it. */
#ifndef CAMCLASS_INFERENCE_OPS_CONV_FAST_H
#define CAMCLASS_INFERENCE_OPS_CONV_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"
#include "inference/ops/kernel_util.h"

struct conv_fast;

struct conv_params {
	struct ku_conv_stage q;  /* offsets, clamp, per-channel multipliers (kernel_util.h) */
	struct conv_fast *fast; /* NULL: the reference loops; else inside the same allocation */
};

/* Bytes of the fast-path block for this conv (0 when ops_fast_kernels() is off), to allocate
 * zeroed after the params; nworkers = workers_count(g->kernel_ctx). */
size_t conv_fast_bytes(const struct tensor *in, const struct tensor *filter, int out_ch, int k,
		       int nworkers);
/* Lays out the block in mem (conv_fast_bytes of it, zeroed) and packs the weights for node n
 * (its strides and dilation choose how the 8-bit GEMM is fed). */
struct conv_fast *conv_fast_init(void *mem, const struct tensor *in, const struct tensor *filter,
				 int out_ch, int k, int nworkers, const struct node *n);
/* Runs node n (p->fast set) on the workers of g->kernel_ctx. */
void conv_fast_invoke(struct graph *g, const struct node *n);

#endif
