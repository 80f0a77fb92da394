/* relu.c — standalone RELU and RELU6 on int8/uint8 (Keras activations the converter could not
 * fuse, e.g. MobileNetV3's hard-sigmoid ADD → RELU6 → MUL), as TFLite 2.8's QuantizedReluX does
 * it: requantize from the input to the output scale with one multiplier (input_scale /
 * output_scale, double), then clamp to the activation's range on the output scale
 * (zp + round(bound / scale), computed in float). */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

struct relu_params {
	int count;
	int32_t in_zp, out_zp;
	int32_t multiplier;
	int shift;
	int32_t act_min, act_max;
};

static int relu_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_prepare_unary(g, n, &in, &out, err, errlen);
	if (r < 0)
		return r;
	struct relu_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	const double real = (double)in->scale / (double)out->scale;
	const enum activation act = n->op == OP_RELU6 ? ACT_RELU6 : ACT_RELU;
	if (q_quantize_multiplier(real, &p->multiplier, &p->shift) < 0 ||
	    q_activation_range(act, out->type, out->scale, out->zero_point, &p->act_min,
			       &p->act_max) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "scales %g -> %g out of range", (double)in->scale,
			       (double)out->scale);
	}
	p->count = tensor_num_elements(in);
	p->in_zp = in->zero_point;
	p->out_zp = out->zero_point;
	free(n->params);
	n->params = p;
	return 0;
}

static void relu_invoke(struct graph *g, const struct node *n)
{
	const struct relu_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	for (int i = 0; i < p->count; i++) {
		/* |x - zp| <= 255 before the multiplier: no overflow for any sane scale ratio
		 * (q_quantize_multiplier refuses shifts beyond 31). */
		int32_t v = ku_load8(is_signed, in->data, (size_t)i) - p->in_zp;
		v = q_mul_by_quantized_multiplier(v, p->multiplier, p->shift) + p->out_zp;
		ku_store8(is_signed, out->data, (size_t)i, q_clamp(v, p->act_min, p->act_max));
	}
}

const struct op_kernel op_relu = {
	.op = OP_RELU,
	.name = "RELU",
	.max_version = 2,
	.prepare = relu_prepare,
	.invoke = relu_invoke,
};

const struct op_kernel op_relu6 = {
	.op = OP_RELU6,
	.name = "RELU6",
	.max_version = 2,
	.prepare = relu_prepare,
	.invoke = relu_invoke,
};
