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

#include "inference/ops/fast/add_simd.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

#define SUB_LEFT_SHIFT 20 /* ADD's (add.c): SUB is ADD's arithmetic with s1 − s2 */

struct sub_params {
	struct ku_bcast bc;
	size_t count;
	struct add_simd q;      /* ADD's quantities, prepared by add_quant_prepare */
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
	r = add_quant_prepare(n, a, b, out, &p->q, err, errlen);
	if (r < 0) {
		free(p);
		return r;
	}
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
		const struct add_simd *q = &p->q;
		const int32_t x1 = (ku_load8(sgn, ta->data, ia) + q->in1_offset) * (1 << SUB_LEFT_SHIFT);
		const int32_t x2 = (ku_load8(sgn, tb->data, ib) + q->in2_offset) * (1 << SUB_LEFT_SHIFT);
		const int32_t s1 = q_mul_by_quantized_multiplier_smaller_than_one(x1, q->in1_multiplier, q->in1_shift);
		const int32_t s2 = q_mul_by_quantized_multiplier_smaller_than_one(x2, q->in2_multiplier, q->in2_shift);
		const int32_t raw = q_mul_by_quantized_multiplier_smaller_than_one(s1 - s2, q->out_multiplier,
										 q->out_shift) + q->out_offset;
		ku_store8(sgn, out->data, i, q_clamp(raw, q->act_min, q->act_max));
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
