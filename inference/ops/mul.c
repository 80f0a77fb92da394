/* mul.c — MUL on int8/uint8 with numpy broadcasting, following TFLite 2.8's quantized mul
 * (reference_integer_ops::Mul / BroadcastMul4DSlow): out = zp_out + MBQM((x1 - zp1) * (x2 - zp2)),
 * with the multiplier in1_scale * in2_scale / out_scale computed in float as TFLite's Prepare does
 * (all three operands are floats; only the result is widened to double). */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

struct mul_params {
	struct ku_bcast bc;
	int32_t in1_offset, in2_offset, out_offset;
	int32_t multiplier;
	int shift;
	int32_t act_min, act_max;
};

static int mul_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *a, *b, *out;
	struct ku_bcast bc;
	int r = ku_prepare_binary(g, n, &a, &b, &out, &bc, err, errlen);
	if (r < 0)
		return r;
	struct mul_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bc = bc;
	const float product_scale = a->scale * b->scale;
	const double real = (double)(product_scale / out->scale);
	if (q_quantize_multiplier(real, &p->multiplier, &p->shift) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "output multiplier %g out of range", real);
	}
	if (q_activation_range(n->opt.add.activation, out->type, out->scale, out->zero_point,
			       &p->act_min, &p->act_max) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "unsupported fused activation %s",
			       q_activation_name(n->opt.add.activation));
	}
	p->in1_offset = -a->zero_point;
	p->in2_offset = -b->zero_point;
	p->out_offset = out->zero_point;
	free(n->params);
	n->params = p;
	return 0;
}

static void mul_invoke(struct graph *g, const struct node *n)
{
	const struct mul_params *p = n->params;
	const struct tensor *a = &g->tensors[n->inputs[0]], *b = &g->tensors[n->inputs[1]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = out->type == TT_INT8;
	const int total = tensor_num_elements(out);
	const struct ku_bcast *bc = &p->bc;
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t ia = 0, ib = 0;
	for (int i = 0; i < total; i++) {
		size_t ra = bc->same_shape ? (size_t)i : ia, rb = bc->same_shape ? (size_t)i : ib;
		/* |x - zp| <= 255 each: the product is <= 65025 in magnitude. */
		const int32_t prod = (ku_load8(is_signed, a->data, ra) + p->in1_offset) *
				     (ku_load8(is_signed, b->data, rb) + p->in2_offset);
		int32_t v = q_mul_by_quantized_multiplier(prod, p->multiplier, p->shift) + p->out_offset;
		v = q_clamp(v, p->act_min, p->act_max);
		ku_store8(is_signed, out->data, i, v);
		if (!bc->same_shape)
			ku_bcast_next(bc, idx, &ia, &ib);
	}
}

const struct op_kernel op_mul = {
	.op = OP_MUL,
	.name = "MUL",
	.max_version = 4,
	.prepare = mul_prepare,
	.invoke = mul_invoke,
};
