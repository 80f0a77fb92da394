/* ops_graph.h — a one-node graph built by hand, for the tests of weighted ops (conv, depthwise):
 * tensor 0 input, 1 filter, 2 bias (optional: bias_absent), 3 output. Header-only, included by
 * tests/test_ops_conv.c and tests/test_ops_depthwise.c. */
#ifndef CAMCLASS_TESTS_OPS_GRAPH_H
#define CAMCLASS_TESTS_OPS_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inference/graph.h"
#include "inference/ops/ops.h"
#include "tests/testutil.h"

#define TG_MAX_TENSORS 4
#define TG_MAX_CH 64

struct tg {
	struct graph g;
	struct tensor t[TG_MAX_TENSORS];
	struct node n;
	float scales[TG_MAX_TENSORS][TG_MAX_CH];
	int32_t zps[TG_MAX_TENSORS][TG_MAX_CH];
	bool bias_absent;          /* input 2 given as -1, TFLite's "optional input absent" */
	char err[256];
};

static inline struct tensor *tg_tensor(struct tg *tg, int i, enum tensor_type type, int ndim,
				const int32_t *dims, void *data, float scale, int32_t zp)
{
	struct tensor *t = &tg->t[i];
	tu_tensor_init(t, type, ndim, dims, data);
	t->is_const = i == 1 || i == 2; /* filter and bias */
	if (scale > 0)
		tu_tensor_quant(t, tg->scales[i], tg->zps[i], scale, zp);
	tg->g.tensors = tg->t;
	if (tg->g.ntensors <= i)
		tg->g.ntensors = i + 1;
	return t;
}

static inline void tg_per_channel(struct tg *tg, int i, int n, const float *scales, int axis)
{
	struct tensor *t = &tg->t[i];
	t->nq = n;
	t->quant_axis = axis;
	for (int c = 0; c < n; c++) {
		tg->scales[i][c] = scales[c];
		tg->zps[i][c] = 0;
	}
	t->scale = scales[0];
}

static inline int tg_prepare(struct tg *tg, int op, int ninputs)
{
	tg->n.op = op;
	tg->n.ninputs = ninputs;
	tg->n.noutputs = 1;
	for (int i = 0; i < ninputs; i++)
		tg->n.inputs[i] = i == 2 && tg->bias_absent ? -1 : i;
	tg->n.outputs[0] = 3;
	tg->g.nodes = &tg->n;
	tg->g.nnodes = 1;
	tg->err[0] = 0;
	return ops_find(op)->prepare(&tg->g, &tg->n, tg->err, sizeof(tg->err));
}

static inline void tg_run(struct tg *tg)
{
	ops_find(tg->n.op)->invoke(&tg->g, &tg->n);
}

static inline void tg_free(struct tg *tg)
{
	free(tg->n.params);
	tg->n.params = NULL;
}

/* --- pieces of the independent double-precision references ------------------------------ */
static inline int ref_out_size(enum padding pad, int in, int k, int stride, int dil)
{
	int eff = (k - 1) * dil + 1;
	return pad == PAD_SAME ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

static inline int ref_pad_before(int in, int k, int stride, int dil, int out)
{
	int eff = (k - 1) * dil + 1;
	int total = (out - 1) * stride + eff - in;
	return total > 0 ? total / 2 : 0;
}

static inline int32_t ref_quantize(double real, float scale, int32_t zp, enum tensor_type type,
			    enum activation act)
{
	double lo = type == TT_INT8 ? -128 : 0, hi = type == TT_INT8 ? 127 : 255;
	double q = round(real / scale) + zp;
	if (act == ACT_RELU || act == ACT_RELU6)
		lo = fmax(lo, zp);
	if (act == ACT_RELU6)
		hi = fmin(hi, zp + round(6.0 / scale));
	if (act == ACT_RELU_N1_TO_1) {
		lo = fmax(lo, zp + round(-1.0 / scale));
		hi = fmin(hi, zp + round(1.0 / scale));
	}
	return (int32_t)fmin(fmax(q, lo), hi);
}

static inline int32_t get8(enum tensor_type t, const void *p, size_t i)
{
	return t == TT_INT8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* A deterministic pseudo-random sequence (each test binary starts from the same seed). */
static uint32_t lcg_state = 12345;
static inline uint32_t lcg(void)
{
	lcg_state = lcg_state * 1664525u + 1013904223u;
	return lcg_state >> 8;
}

/* A quantized value within 8 steps of zp (clamped to the type), as bytes of that type. */
static inline uint8_t small_around(enum tensor_type t, int32_t zp)
{
	int32_t v = zp + (int32_t)(lcg() % 17) - 8;
	int32_t lo = t == TT_INT8 ? -128 : 0, hi = t == TT_INT8 ? 127 : 255;
	v = v < lo ? lo : (v > hi ? hi : v);
	return (uint8_t)(v & 0xff);
}

#endif
