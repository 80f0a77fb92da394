/* ops_graph.h — a one-node graph built by hand, for the tests of weighted ops (conv, depthwise):
 * tensor 0 input, 1 filter, 2 bias (optional: bias_absent), 3 output. Header-only, included by
 * tests/test_ops_conv.c and tests/test_ops_depthwise.c. */
#ifndef CAMCLASS_TESTS_OPS_GRAPH_H
#define CAMCLASS_TESTS_OPS_GRAPH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/graph.h"
#include "inference/ops/ops.h"

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
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->ndim = ndim;
	memcpy(t->dims, dims, (size_t)ndim * sizeof(int32_t));
	t->bytes = (size_t)tensor_num_elements(t) * tensor_type_size(type);
	t->name = "";
	t->data = data;
	t->is_const = i == 1 || i == 2; /* filter and bias */
	if (scale > 0) {
		t->nq = 1;
		tg->scales[i][0] = scale;
		tg->zps[i][0] = zp;
		t->scales = tg->scales[i];
		t->zero_points = tg->zps[i];
		t->scale = scale;
		t->zero_point = zp;
	}
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

#endif
