/* float_reduce.c — the float32 ops that reduce windows or axes: AVERAGE_POOL_2D, MAX_POOL_2D
 * (TFLite 2.8 reference_ops float pools: the average over the window cells inside the image,
 * padding cells not counted; fused activation clamp), MEAN over any constant axis list (sum in
 * float, divided by the element count, as reference_ops::Mean), and SOFTMAX over the last dim
 * (max subtracted, e^(beta·(x − max)), divided by the sum). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/float_util.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

struct fpool_params {
	int pad_h, pad_w;
	float act_min, act_max;
};

static int fpool_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 1, 1, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *out = ku_out(g, n, 0);
	if (!in || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, in, "input", err, errlen)) < 0 || (r = fu_check_f32(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, in, "input", 4, err, errlen)) < 0)
		return r;
	const int fh = n->opt.pool.filter_h, fw = n->opt.pool.filter_w;
	const int sh = n->opt.pool.stride_h, sw = n->opt.pool.stride_w;
	const int out_h = ku_out_size(n->opt.pool.padding, in->dims[1], fh, sh, 1);
	const int out_w = ku_out_size(n->opt.pool.padding, in->dims[2], fw, sw, 1);
	const int32_t want[4] = { in->dims[0], out_h, out_w, in->dims[3] };
	if ((r = ku_check_out_shape(n, out, 4, want, err, errlen)) < 0)
		return r;
	struct fpool_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if ((r = fu_activation_range(n, n->opt.pool.activation, &p->act_min, &p->act_max, err, errlen)) < 0) {
		free(p);
		return r;
	}
	p->pad_h = ku_padding(sh, 1, in->dims[1], fh, out_h);
	p->pad_w = ku_padding(sw, 1, in->dims[2], fw, out_w);
	free(n->params);
	n->params = p;
	return 0;
}

static void fpool_invoke(struct graph *g, const struct node *n)
{
	const struct fpool_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]], *out = &g->tensors[n->outputs[0]];
	const float *x = fu_data(in);
	float *y = fu_data(out);
	const bool is_max = n->op == OP_MAX_POOL_2D;
	const int ih = in->dims[1], iw = in->dims[2], ch = in->dims[3], oh = out->dims[1], ow = out->dims[2];
	for (int b = 0; b < in->dims[0]; b++)
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				const int y0 = oy * n->opt.pool.stride_h - p->pad_h, x0 = ox * n->opt.pool.stride_w - p->pad_w;
				const int fy0 = y0 < 0 ? -y0 : 0, fx0 = x0 < 0 ? -x0 : 0;
				const int fy1 = ih - y0 < n->opt.pool.filter_h ? ih - y0 : n->opt.pool.filter_h;
				const int fx1 = iw - x0 < n->opt.pool.filter_w ? iw - x0 : n->opt.pool.filter_w;
				for (int c = 0; c < ch; c++) {
					float acc = is_max ? -INFINITY : 0.0f;
					int cells = 0;
					for (int fy = fy0; fy < fy1; fy++)
						for (int fx = fx0; fx < fx1; fx++) {
							float v = x[(((size_t)b * ih + y0 + fy) * iw + x0 + fx) * ch + c];
							acc = is_max ? (v > acc ? v : acc) : acc + v;
							cells++;
						}
					if (!is_max)
						acc = cells ? acc / (float)cells : 0.0f;
					y[(((size_t)b * oh + oy) * ow + ox) * ch + c] = fu_clamp(acc, p->act_min, p->act_max);
				}
			}
}

struct fmean_params {
	int ndim;
	int32_t out_stride[GRAPH_MAX_DIMS]; /* per input dim; 0 along reduced axes */
	size_t count, num_outputs;
};

static int fmean_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *axis = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!in || !axis || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, in, "input", err, errlen)) < 0 || (r = fu_check_f32(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_const(n, axis, "axis", err, errlen)) < 0)
		return r;
	if (axis->type != TT_INT32)
		return ku_fail(err, errlen, n, "axis has type %s, expected INT32", tensor_type_name(axis->type));
	const int naxis = tensor_num_elements(axis);
	if (naxis < 1 || axis->ndim > 1)
		return ku_fail(err, errlen, n, "axis must be a non-empty 1-D list, has %d elements", naxis);
	bool reduced[GRAPH_MAX_DIMS] = { false };
	for (int i = 0; i < naxis; i++) {
		int32_t a;
		memcpy(&a, axis->data + 4 * (size_t)i, 4);
		if (a < -in->ndim || a >= in->ndim)
			return ku_fail(err, errlen, n, "axis %d out of range for %d dims", (int)a, in->ndim);
		reduced[a < 0 ? a + in->ndim : a] = true;
	}
	struct fmean_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int32_t want[GRAPH_MAX_DIMS];
	int want_ndim = 0;
	p->count = 1;
	p->num_outputs = 1;
	p->ndim = in->ndim;
	for (int d = 0; d < in->ndim; d++) {
		if (reduced[d]) {
			p->count *= (size_t)in->dims[d];
			if (n->opt.reducer.keep_dims)
				want[want_ndim++] = 1;
		} else {
			p->num_outputs *= (size_t)in->dims[d];
			want[want_ndim++] = in->dims[d];
		}
	}
	int32_t s = 1;
	for (int d = in->ndim - 1; d >= 0; d--) {
		p->out_stride[d] = reduced[d] ? 0 : s;
		if (!reduced[d])
			s *= in->dims[d];
	}
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0) {
		free(p);
		return r;
	}
	free(n->params);
	n->params = p;
	return 0;
}

static void fmean_invoke(struct graph *g, const struct node *n)
{
	const struct fmean_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	const float *x = fu_data(in);
	float *y = fu_data(&g->tensors[n->outputs[0]]);
	const size_t total = p->count * p->num_outputs;
	int idx[GRAPH_MAX_DIMS] = { 0 };
	size_t o = 0;
	for (size_t i = 0; i < p->num_outputs; i++)
		y[i] = 0.0f;
	for (size_t i = 0; i < total; i++) {
		y[o] += x[i];
		for (int d = p->ndim - 1; d >= 0; d--) {
			o += (size_t)p->out_stride[d];
			if (++idx[d] < in->dims[d])
				break;
			o -= (size_t)p->out_stride[d] * (size_t)in->dims[d];
			idx[d] = 0;
		}
	}
	for (size_t i = 0; i < p->num_outputs; i++)
		y[i] /= (float)p->count;
}

struct fsoftmax_params {
	size_t rows, depth;
	float beta;
};

static int fsoftmax_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 1, 1, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *out = ku_out(g, n, 0);
	if (!in || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, in, "input", err, errlen)) < 0 || (r = fu_check_f32(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_out_shape(n, out, in->ndim, in->dims, err, errlen)) < 0)
		return r;
	if (in->ndim < 1 || in->dims[in->ndim - 1] < 1)
		return ku_fail(err, errlen, n, "input has no elements to normalize");
	struct fsoftmax_params *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->depth = (size_t)in->dims[in->ndim - 1];
	p->rows = (size_t)tensor_num_elements(in) / p->depth;
	p->beta = n->opt.softmax.beta;
	free(n->params);
	n->params = p;
	return 0;
}

static void fsoftmax_invoke(struct graph *g, const struct node *n)
{
	const struct fsoftmax_params *p = n->params;
	const float *x = fu_data(&g->tensors[n->inputs[0]]);
	float *y = fu_data(&g->tensors[n->outputs[0]]);
	for (size_t r = 0; r < p->rows; r++) {
		const float *xr = x + r * p->depth;
		float *yr = y + r * p->depth;
		float max = xr[0], sum = 0.0f;
		for (size_t i = 1; i < p->depth; i++)
			max = xr[i] > max ? xr[i] : max;
		for (size_t i = 0; i < p->depth; i++) {
			yr[i] = expf((xr[i] - max) * p->beta);
			sum += yr[i];
		}
		for (size_t i = 0; i < p->depth; i++)
			yr[i] /= sum;
	}
}

const struct op_kernel op_float_average_pool_2d = {
	.op = OP_AVERAGE_POOL_2D, .name = "AVERAGE_POOL_2D", .max_version = 3,
	.prepare = fpool_prepare, .invoke = fpool_invoke,
};
const struct op_kernel op_float_max_pool_2d = {
	.op = OP_MAX_POOL_2D, .name = "MAX_POOL_2D", .max_version = 3,
	.prepare = fpool_prepare, .invoke = fpool_invoke,
};
const struct op_kernel op_float_mean = {
	.op = OP_MEAN, .name = "MEAN", .max_version = 3,
	.prepare = fmean_prepare, .invoke = fmean_invoke,
};
const struct op_kernel op_float_softmax = {
	.op = OP_SOFTMAX, .name = "SOFTMAX", .max_version = 3,
	.prepare = fsoftmax_prepare, .invoke = fsoftmax_invoke,
};
