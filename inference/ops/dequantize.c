/* dequantize.c — DEQUANTIZE: int8/uint8 → float32 as TFLite 2.8's reference_ops::Dequantize
 * computes it: the scale widened to double, times (q − zp), rounded once to float. */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

struct dequantize_params {
	int count;
	int32_t in_zp;
	double in_scale;
};

static int dequantize_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_io(g, n, 1, 1, &in, &out, err, errlen);
	if (r < 0)
		return r;
	if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0)
		return r;
	if (out->type != TT_FLOAT32)
		return ku_fail(err, errlen, n, "output has type %s, expected FLOAT32",
			       tensor_type_name(out->type));
	if ((r = ku_check_out_shape(n, out, in->ndim, in->dims, err, errlen)) < 0)
		return r;
	struct dequantize_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->count = tensor_num_elements(in);
	p->in_zp = in->zero_point;
	p->in_scale = (double)in->scale;
	free(n->params);
	n->params = p;
	return 0;
}

static void dequantize_invoke(struct graph *g, const struct node *n)
{
	const struct dequantize_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool in_signed = in->type == TT_INT8;
	float *fout = (float *)out->data;
	for (int i = 0; i < p->count; i++)
		fout[i] = (float)(p->in_scale * (double)(ku_load8(in_signed, in->data, i) - p->in_zp));
}

const struct op_kernel op_dequantize = {
	.op = OP_DEQUANTIZE,
	.name = "DEQUANTIZE",
	.max_version = 4,
	.prepare = dequantize_prepare,
	.invoke = dequantize_invoke,
};
