/* sub_minmax.c — SUB, MAXIMUM and MINIMUM on int8/uint8 with numpy broadcasting, as TFLite 2.8
 * computes them (the ops PyTorch exports put around normalisation and clamps).
 *
 * SUB is ADD's arithmetic (add.c) with a minus: sub.cc's PrepareGeneralSubOp derives the same
 * three multipliers (inputs to twice the larger input scale with 20 bits of headroom, the
 * difference back to the output scale) and SubElementwise subtracts the scaled inputs. No fast
 * path: classifier heads are small.
 * MAXIMUM/MINIMUM compare the stored values (reference_ops::MaximumMinimumBroadcastSlow): TFLite
 * does no rescaling, which is only meaningful when both inputs share the output's
 * quantization — refused otherwise, rather than computing nonsense. */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

#define SUB_LEFT_SHIFT 20

struct sub_params {
	struct ku_bcast bc;
	size_t count;
	int32_t in1_offset, in2_offset, out_offset;
	int32_t in1_multiplier, in2_multiplier, out_multiplier;
	int in1_shift, in2_shift, out_shift;
	int32_t act_min, act_max;
};

static int sub_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *a, *b, *out;
	struct ku_bcast bc;
	int r = ku_prepare_binary(g, n, &a, &b, &out, &bc, err, errlen);
	if (r < 0)
		return r;
	struct sub_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bc = bc;
	p->count = (size_t)tensor_num_elements(out);
	const double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
	const double real_out = twice_max / (double)((float)(1 << SUB_LEFT_SHIFT) * out->scale);
	if (q_quantize_multiplier_smaller_than_one((double)a->scale / twice_max, &p->in1_multiplier, &p->in1_shift) < 0 ||
	    q_quantize_multiplier_smaller_than_one((double)b->scale / twice_max, &p->in2_multiplier, &p->in2_shift) < 0 ||
	    q_quantize_multiplier_smaller_than_one(real_out, &p->out_multiplier, &p->out_shift) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "scales %g, %g -> %g give multipliers out of range", (double)a->scale,
			       (double)b->scale, (double)out->scale);
	}
	if (q_activation_range(n->opt.add.activation, out->type, out->scale, out->zero_point, &p->act_min,
			       &p->act_max) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "unsupported fused activation %s", q_activation_name(n->opt.add.activation));
	}
	p->in1_offset = -a->zero_point;
	p->in2_offset = -b->zero_point;
	p->out_offset = out->zero_point;
	free(n->params);
	n->params = p;
	return 0;
}

static void sub_invoke(struct graph *g, const struct node *n)
{
	const struct sub_params *p = n->params;
	const struct tensor *ta = &g->tensors[n->inputs[0]], *tb = &g->tensors[n->inputs[1]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool sgn = out->type == TT_INT8;
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (size_t i = 0; i < p->count; i++) {
		const int32_t x1 = (ku_load8(sgn, ta->data, ia) + p->in1_offset) * (1 << SUB_LEFT_SHIFT);
		const int32_t x2 = (ku_load8(sgn, tb->data, ib) + p->in2_offset) * (1 << SUB_LEFT_SHIFT);
		const int32_t s1 = q_mul_by_quantized_multiplier_smaller_than_one(x1, p->in1_multiplier, p->in1_shift);
		const int32_t s2 = q_mul_by_quantized_multiplier_smaller_than_one(x2, p->in2_multiplier, p->in2_shift);
		const int32_t raw = q_mul_by_quantized_multiplier_smaller_than_one(s1 - s2, p->out_multiplier,
										 p->out_shift) + p->out_offset;
		ku_store8(sgn, out->data, i, q_clamp(raw, p->act_min, p->act_max));
		if (p->bc.same_shape) {
			ia++;
			ib++;
		} else {
			ku_bcast_next(&p->bc, idx, &ia, &ib);
		}
	}
}

struct minmax_params {
	struct ku_bcast bc;
	size_t count;
};

static int minmax_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *a, *b, *out;
	struct ku_bcast bc;
	int r = ku_prepare_binary(g, n, &a, &b, &out, &bc, err, errlen);
	if (r < 0)
		return r;
	if (a->scale != out->scale || b->scale != out->scale || a->zero_point != out->zero_point ||
	    b->zero_point != out->zero_point)
		return ku_fail(err, errlen, n, "inputs (%g, %d) and (%g, %d) must share the output quantization (%g, %d)",
			       (double)a->scale, (int)a->zero_point, (double)b->scale, (int)b->zero_point,
			       (double)out->scale, (int)out->zero_point);
	struct minmax_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bc = bc;
	p->count = (size_t)tensor_num_elements(out);
	free(n->params);
	n->params = p;
	return 0;
}

static void minmax_invoke(struct graph *g, const struct node *n)
{
	const struct minmax_params *p = n->params;
	const struct tensor *ta = &g->tensors[n->inputs[0]], *tb = &g->tensors[n->inputs[1]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool sgn = out->type == TT_INT8, is_max = n->op == OP_MAXIMUM;
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (size_t i = 0; i < p->count; i++) {
		const int32_t x1 = ku_load8(sgn, ta->data, ia), x2 = ku_load8(sgn, tb->data, ib);
		ku_store8(sgn, out->data, i, is_max ? (x1 > x2 ? x1 : x2) : (x1 < x2 ? x1 : x2));
		if (p->bc.same_shape) {
			ia++;
			ib++;
		} else {
			ku_bcast_next(&p->bc, idx, &ia, &ib);
		}
	}
}

const struct op_kernel op_sub = {
	.op = OP_SUB, .name = "SUB", .max_version = 3, .prepare = sub_prepare, .invoke = sub_invoke,
};
const struct op_kernel op_maximum = {
	.op = OP_MAXIMUM, .name = "MAXIMUM", .max_version = 4, .prepare = minmax_prepare, .invoke = minmax_invoke,
};
const struct op_kernel op_minimum = {
	.op = OP_MINIMUM, .name = "MINIMUM", .max_version = 4, .prepare = minmax_prepare, .invoke = minmax_invoke,
};
