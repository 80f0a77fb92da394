/* float_fc.c — FULLY_CONNECTED on float32, as TFLite 2.8's reference_ops::FullyConnected:
 * weights [units, depth], the input read as [batches, depth] whatever its rank, each output
 * the sum over depth of input × weight, + bias (optional), clamped by the fused activation.
 * keep_num_dims keeps the input's leading dims. Weights must be float32 constants by prepare
 * (fp16 / int8 dynamic-range weights are dequantized at load, engine_fold.c).
 * Runs on the float GEMM (fast/fgemm.h, one tap of depth terms per row): prepare packs the
 * weights and bias; each sum adds its terms in the reference order (the SIMD kernels with fused
 * multiply-add). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "inference/ops/fast/fgemm.h"
#include "inference/ops/float_util.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

struct ffc_params {
	int batches, depth, units;
	float act_min, act_max;
	struct fgemm_kernel kern;
	float *packed_w;     /* fgemm_pack_b of the weights (after the struct) */
	float *packed_bias;  /* fgemm_pack_bias */
};

static int ffc_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 3, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *filter = ku_in(g, n, 1), *bias = ku_in(g, n, 2);
	struct tensor *out = ku_out(g, n, 0);
	if (!in || !filter || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, in, "input", err, errlen)) < 0 ||
	    (r = fu_check_f32(n, filter, "filter", err, errlen)) < 0 ||
	    (r = fu_check_f32(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, filter, "filter", 2, err, errlen)) < 0 ||
	    (r = ku_check_const(n, filter, "filter", err, errlen)) < 0)
		return r;
	if (n->opt.fc.weights_format != 0)
		return ku_fail(err, errlen, n, "weights format %d is not supported (only DEFAULT)",
			       n->opt.fc.weights_format);
	if (in->ndim < 1)
		return ku_fail(err, errlen, n, "input has no dims");
	const int units = filter->dims[0], depth = filter->dims[1];
	const int in_count = tensor_num_elements(in);
	if (depth <= 0 || in_count % depth != 0)
		return ku_fail(err, errlen, n, "input of %d elements is not a multiple of the weights depth %d",
			       in_count, depth);
	int32_t want[GRAPH_MAX_DIMS];
	int want_ndim;
	if (n->opt.fc.keep_num_dims) {
		if (in->dims[in->ndim - 1] != depth)
			return ku_fail(err, errlen, n, "keep_num_dims needs input last dim %d == depth %d",
				       in->dims[in->ndim - 1], depth);
		want_ndim = in->ndim;
		for (int i = 0; i < in->ndim - 1; i++)
			want[i] = in->dims[i];
		want[in->ndim - 1] = units;
	} else {
		want_ndim = 2;
		want[0] = in_count / depth;
		want[1] = units;
	}
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0)
		return r;
	if (bias) {
		if ((r = fu_check_f32(n, bias, "bias", err, errlen)) < 0 ||
		    (r = ku_check_const(n, bias, "bias", err, errlen)) < 0)
			return r;
		if (tensor_num_elements(bias) != units)
			return ku_fail(err, errlen, n, "bias has %d elements, expected %d", tensor_num_elements(bias),
				       units);
	}
	const size_t wt_n = fgemm_packed_floats(units, depth), bias_n = fgemm_bias_floats(units);
	if (wt_n == 0 || bias_n == 0 ||
	    wt_n + bias_n > (SIZE_MAX - sizeof(struct ffc_params)) / sizeof(float))
		return ku_fail(err, errlen, n, "weights %dx%d too large", units, depth);
	/* the struct's alignment covers the floats after it */
	struct ffc_params *p = calloc(1, sizeof(*p) + (wt_n + bias_n) * sizeof(float));
	if (!p)
		return -ENOMEM;
	p->batches = in_count / depth;
	p->depth = depth;
	p->units = units;
	p->kern = fgemm_select();
	p->packed_w = (float *)(void *)(p + 1);
	p->packed_bias = p->packed_w + wt_n;
	fgemm_pack_b(p->packed_w, fu_data(filter), units, depth);
	fgemm_pack_bias(p->packed_bias, bias ? fu_data(bias) : NULL, units);
	if ((r = fu_activation_range(n, n->opt.fc.activation, &p->act_min, &p->act_max, err, errlen)) < 0) {
		free(p);
		return r;
	}
	free(n->params);
	n->params = p;
	return 0;
}

static void ffc_invoke(struct graph *g, const struct node *n)
{
	const struct ffc_params *p = n->params;
	const float *x = fu_data(&g->tensors[n->inputs[0]]);
	float *y = fu_data(&g->tensors[n->outputs[0]]);
	const float *rows[FGEMM_MAX_MR];
	for (int b0 = 0; b0 < p->batches; b0 += FGEMM_MAX_MR) {
		const int nrows = p->batches - b0 < FGEMM_MAX_MR ? p->batches - b0 : FGEMM_MAX_MR;
		for (int r = 0; r < nrows; r++)
			rows[r] = x + (size_t)(b0 + r) * p->depth;
		fgemm_run(&p->kern, nrows, 1, p->depth, rows, p->packed_w, p->units, p->packed_bias,
			  p->act_min, p->act_max, y + (size_t)b0 * p->units, (size_t)p->units);
	}
}

const struct op_kernel op_float_fully_connected = {
	.op = OP_FULLY_CONNECTED,
	.name = "FULLY_CONNECTED",
	.max_version = 12,
	.prepare = ffc_prepare,
	.invoke = ffc_invoke,
};
