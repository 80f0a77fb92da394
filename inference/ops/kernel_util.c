/* kernel_util.c — see kernel_util.h. */
#include "inference/ops/kernel_util.h"

#include "inference/quant.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

int ku_fail(char *err, size_t errlen, const struct node *n, const char *fmt, ...)
{
	(void)n; /* the engine's message already names the operator and its op */
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

struct tensor *ku_in(struct graph *g, const struct node *n, int i)
{
	if (i < 0 || i >= n->ninputs || n->inputs[i] < 0 || n->inputs[i] >= g->ntensors)
		return NULL;
	return &g->tensors[n->inputs[i]];
}

struct tensor *ku_out(struct graph *g, const struct node *n, int i)
{
	if (i < 0 || i >= n->noutputs || n->outputs[i] < 0 || n->outputs[i] >= g->ntensors)
		return NULL;
	return &g->tensors[n->outputs[i]];
}

int ku_check_arity(const struct node *n, int min_inputs, int max_inputs, char *err, size_t errlen)
{
	if (n->ninputs < min_inputs || n->ninputs > max_inputs) {
		if (min_inputs == max_inputs)
			return ku_fail(err, errlen, n, "has %d inputs, expected %d", n->ninputs,
				       min_inputs);
		return ku_fail(err, errlen, n, "has %d inputs, expected %d to %d", n->ninputs,
			       min_inputs, max_inputs);
	}
	if (n->noutputs != 1)
		return ku_fail(err, errlen, n, "has %d outputs, expected 1", n->noutputs);
	for (int i = 0; i < min_inputs; i++)
		if (n->inputs[i] < 0)
			return ku_fail(err, errlen, n, "input %d is absent but required", i);
	return 0;
}

int ku_check_q8(const struct node *n, const struct tensor *t, const char *what, char *err,
		size_t errlen)
{
	int r = ku_check_q8_weights(n, t, what, err, errlen);
	if (r < 0)
		return r;
	if (t->nq != 1)
		return ku_fail(err, errlen, n, "%s has %d quantization scales, expected one", what,
			       t->nq);
	return 0;
}

int ku_check_q8_weights(const struct node *n, const struct tensor *t, const char *what, char *err,
			size_t errlen)
{
	if (t->type != TT_INT8 && t->type != TT_UINT8)
		return ku_fail(err, errlen, n, "%s has type %s, expected INT8 or UINT8", what,
			       tensor_type_name(t->type));
	if (t->nq < 1)
		return ku_fail(err, errlen, n, "%s (%s) is not quantized", what, t->name);
	if (!(t->scale > 0.0f) || !isfinite(t->scale))
		return ku_fail(err, errlen, n, "%s has invalid scale %g", what, (double)t->scale);
	int32_t lo = t->type == TT_INT8 ? INT8_MIN : 0, hi = t->type == TT_INT8 ? INT8_MAX : UINT8_MAX;
	if (t->zero_point < lo || t->zero_point > hi)
		return ku_fail(err, errlen, n, "%s zero point %d outside the %s range", what,
			       (int)t->zero_point, tensor_type_name(t->type));
	return 0;
}

int ku_check_ndim(const struct node *n, const struct tensor *t, const char *what, int ndim,
		  char *err, size_t errlen)
{
	if (t->ndim != ndim)
		return ku_fail(err, errlen, n, "%s has %d dims, expected %d", what, t->ndim, ndim);
	return 0;
}

int ku_check_same_type(const struct node *n, const struct tensor *a, const char *what_a,
		       const struct tensor *b, const char *what_b, char *err, size_t errlen)
{
	if (a->type != b->type)
		return ku_fail(err, errlen, n, "%s type %s differs from %s type %s", what_b,
			       tensor_type_name(b->type), what_a, tensor_type_name(a->type));
	return 0;
}

static void format_dims(char *buf, size_t len, int ndim, const int32_t *dims)
{
	size_t used = 0;
	int r = snprintf(buf, len, "[");
	used = r > 0 ? (size_t)r : 0;
	for (int i = 0; i < ndim && used < len; i++) {
		r = snprintf(buf + used, len - used, i ? ",%d" : "%d", (int)dims[i]);
		used += r > 0 ? (size_t)r : 0;
	}
	if (used < len)
		snprintf(buf + used, len - used, "]");
}

int ku_check_out_shape(const struct node *n, const struct tensor *out, int ndim,
		       const int32_t *dims, char *err, size_t errlen)
{
	bool same = out->ndim == ndim;
	for (int i = 0; same && i < ndim; i++)
		same = out->dims[i] == dims[i];
	if (same)
		return 0;
	char have[96], want[96];
	format_dims(have, sizeof(have), out->ndim, out->dims);
	format_dims(want, sizeof(want), ndim, dims);
	return ku_fail(err, errlen, n, "output shape %s differs from computed %s", have, want);
}

int ku_check_const(const struct node *n, const struct tensor *t, const char *what, char *err,
		   size_t errlen)
{
	if (!t->is_const || !t->data)
		return ku_fail(err, errlen, n, "%s (%s) must be a constant tensor", what, t->name);
	return 0;
}

int ku_check_conv_weights(const struct node *n, const struct tensor *in,
			  const struct tensor *filter, const struct tensor *bias, int out_ch, int quant_axis, char *err,
			  size_t errlen)
{
	if (filter->nq != 1 && filter->nq != out_ch)
		return ku_fail(err, errlen, n, "filter has %d scales for %d output channels",
			       filter->nq, out_ch);
	if (filter->nq > 1 && filter->quant_axis != quant_axis)
		return ku_fail(err, errlen, n, "filter quantized along axis %d, expected %d",
			       filter->quant_axis, quant_axis);
	if (filter->nq > 1 && in->type == TT_UINT8)
		return ku_fail(err, errlen, n, "per-channel uint8 filters are not supported");
	for (int c = 0; c < filter->nq; c++) {
		if (!(filter->scales[c] > 0.0f) || !isfinite(filter->scales[c]))
			return ku_fail(err, errlen, n, "filter scale %d is %g, expected > 0", c,
				       (double)filter->scales[c]);
		if (in->type == TT_INT8 && filter->zero_points[c] != 0)
			return ku_fail(err, errlen, n, "int8 filter zero point %d is %d, expected 0", c,
				       (int)filter->zero_points[c]);
	}
	if (!bias)
		return 0;
	if (bias->type != TT_INT32)
		return ku_fail(err, errlen, n, "bias has type %s, expected INT32",
			       tensor_type_name(bias->type));
	if (bias->ndim != 1 || bias->dims[0] != out_ch)
		return ku_fail(err, errlen, n, "bias has %d elements, expected %d (one per output channel)",
			       tensor_num_elements(bias), out_ch);
	return ku_check_const(n, bias, "bias", err, errlen);
}

int ku_conv_multipliers(const struct node *n, const struct tensor *in, const struct tensor *filter,
			const struct tensor *out, int out_ch, int32_t *ret_multiplier, int *ret_shift,
			char *err, size_t errlen)
{
	for (int c = 0; c < out_ch; c++) {
		double real;
		if (in->type == TT_INT8)
			real = (double)in->scale * (double)filter->scales[filter->nq > 1 ? c : 0] /
			       (double)out->scale;
		else
			real = (double)(in->scale * filter->scale) / (double)out->scale;
		if (q_quantize_multiplier(real, &ret_multiplier[c], &ret_shift[c]) < 0)
			return ku_fail(err, errlen, n, "output multiplier %g of channel %d out of range",
				       real, c);
	}
	return 0;
}

bool ku_same_shape(const struct tensor *a, const struct tensor *b)
{
	if (a->ndim != b->ndim)
		return false;
	for (int i = 0; i < a->ndim; i++)
		if (a->dims[i] != b->dims[i])
			return false;
	return true;
}

int ku_out_size(enum padding padding, int in_size, int filter_size, int stride, int dilation)
{
	long long effective = (long long)(filter_size - 1) * dilation + 1;
	if (stride <= 0)
		return 0;
	if (padding == PAD_SAME)
		return (int)(((long long)in_size + stride - 1) / stride);
	long long out = ((long long)in_size + stride - effective) / stride;
	return out > 0 ? (int)out : 0;
}

int ku_padding(int stride, int dilation, int in_size, int filter_size, int out_size)
{
	long long effective = (long long)(filter_size - 1) * dilation + 1;
	long long pad = ((long long)(out_size - 1) * stride + effective - in_size) / 2;
	return pad > 0 ? (int)pad : 0;
}

static void bcast_strides(const struct tensor *t, int ndim, const int32_t *dims, int32_t *strides)
{
	int32_t s = 1;
	for (int d = ndim - 1; d >= 0; d--) {
		int td = d - (ndim - t->ndim);
		int32_t size = td >= 0 ? t->dims[td] : 1;
		strides[d] = size == 1 && dims[d] != 1 ? 0 : s;
		s *= size;
	}
}

int ku_broadcast(const struct tensor *a, const struct tensor *b, struct ku_bcast *ret)
{
	struct ku_bcast bc = { .same_shape = ku_same_shape(a, b) };
	bc.ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
	for (int d = 0; d < bc.ndim; d++) {
		int da = d - (bc.ndim - a->ndim), db = d - (bc.ndim - b->ndim);
		int32_t sa = da >= 0 ? a->dims[da] : 1, sb = db >= 0 ? b->dims[db] : 1;
		if (sa != sb && sa != 1 && sb != 1)
			return -EINVAL;
		bc.dims[d] = sa == 1 ? sb : sa;
	}
	bcast_strides(a, bc.ndim, bc.dims, bc.stride_a);
	bcast_strides(b, bc.ndim, bc.dims, bc.stride_b);
	*ret = bc;
	return 0;
}

int ku_prepare_binary(struct graph *g, struct node *n, struct tensor **ret_a, struct tensor **ret_b,
		      struct tensor **ret_out, struct ku_bcast *ret_bc, char *err, size_t errlen)
{
	struct ku_bcast bc;
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *a = ku_in(g, n, 0), *b = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!a || !b || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = ku_check_q8(n, a, "input 1", err, errlen)) < 0 ||
	    (r = ku_check_q8(n, b, "input 2", err, errlen)) < 0 ||
	    (r = ku_check_q8(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, a, "input 1", b, "input 2", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, a, "input 1", out, "output", err, errlen)) < 0)
		return r;
	if (ku_broadcast(a, b, &bc) < 0)
		return ku_fail(err, errlen, n, "input shapes cannot be broadcast together");
	if ((r = ku_check_out_shape(n, out, bc.ndim, bc.dims, err, errlen)) < 0)
		return r;
	*ret_a = a;
	*ret_b = b;
	*ret_out = out;
	*ret_bc = bc;
	return 0;
}

int ku_take_weighted(struct graph *g, struct node *n, int filter_ndim, struct tensor **ret_in,
		     struct tensor **ret_filter, struct tensor **ret_bias, struct tensor **ret_out,
		     char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 3, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *filter = ku_in(g, n, 1), *bias = ku_in(g, n, 2);
	struct tensor *out = ku_out(g, n, 0);
	if (!in || !filter || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0 ||
	    (r = ku_check_q8(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, in, "input", filter, "filter", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, in, "input", out, "output", err, errlen)) < 0 ||
	    (r = ku_check_q8_weights(n, filter, "filter", err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, filter, "filter", filter_ndim, err, errlen)) < 0 ||
	    (r = ku_check_const(n, filter, "filter", err, errlen)) < 0)
		return r;
	*ret_in = in;
	*ret_filter = filter;
	*ret_bias = bias;
	*ret_out = out;
	return 0;
}

int ku_prepare_weighted(struct graph *g, struct node *n, enum padding padding, int stride_h,
			int stride_w, int dil_h, int dil_w, struct tensor **ret_in,
			struct tensor **ret_filter, struct tensor **ret_bias, struct tensor **ret_out,
			char *err, size_t errlen)
{
	struct tensor *in, *filter, *bias, *out;
	int r = ku_take_weighted(g, n, 4, &in, &filter, &bias, &out, err, errlen);
	if (r < 0 || (r = ku_check_ndim(n, in, "input", 4, err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, out, "output", 4, err, errlen)) < 0)
		return r;
	if (padding != PAD_SAME && padding != PAD_VALID)
		return ku_fail(err, errlen, n, "unknown padding %d", (int)padding);
	if (stride_h < 1 || stride_w < 1 || dil_h < 1 || dil_w < 1)
		return ku_fail(err, errlen, n, "stride %dx%d / dilation %dx%d must be >= 1", stride_h,
			       stride_w, dil_h, dil_w);
	*ret_in = in;
	*ret_filter = filter;
	*ret_bias = bias;
	*ret_out = out;
	return 0;
}

int ku_take_io(struct graph *g, struct node *n, int min_inputs, int max_inputs,
	       struct tensor **ret_in, struct tensor **ret_out, char *err, size_t errlen)
{
	int r = ku_check_arity(n, min_inputs, max_inputs, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *out = ku_out(g, n, 0);
	if (!in || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	*ret_in = in;
	*ret_out = out;
	return 0;
}

int ku_take_unary(struct graph *g, struct node *n, struct tensor **ret_in, struct tensor **ret_out,
		  char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_io(g, n, 1, 1, &in, &out, err, errlen);
	if (r < 0)
		return r;
	if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0 ||
	    (r = ku_check_q8(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, in, "input", out, "output", err, errlen)) < 0)
		return r;
	*ret_in = in;
	*ret_out = out;
	return 0;
}

int ku_prepare_unary(struct graph *g, struct node *n, struct tensor **ret_in, struct tensor **ret_out,
		     char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_unary(g, n, &in, &out, err, errlen);
	if (r < 0 || (r = ku_check_out_shape(n, out, in->ndim, in->dims, err, errlen)) < 0)
		return r;
	*ret_in = in;
	*ret_out = out;
	return 0;
}

int ku_conv_stage_prepare(const struct node *n, const struct tensor *in, const struct tensor *filter,
			  const struct tensor *out, int out_ch, enum activation act, int stride_h,
			  int stride_w, int dil_h, int dil_w, struct ku_conv_stage *st, char *err,
			  size_t errlen)
{
	int r = ku_conv_multipliers(n, in, filter, out, out_ch, st->multiplier, st->shift, err, errlen);
	if (r < 0)
		return r;
	if (q_activation_range(act, out->type, out->scale, out->zero_point, &st->act_min,
			       &st->act_max) < 0)
		return ku_fail(err, errlen, n, "unsupported fused activation %s", q_activation_name(act));
	/* filter [out_ch or 1, kh, kw, ...] for both ops */
	const int kh = filter->dims[1], kw = filter->dims[2];
	st->pad_h = ku_padding(stride_h, dil_h, in->dims[1], kh, out->dims[1]);
	st->pad_w = ku_padding(stride_w, dil_w, in->dims[2], kw, out->dims[2]);
	st->input_offset = -in->zero_point;
	st->filter_offset = in->type == TT_UINT8 ? -filter->zero_point : 0;
	st->output_offset = out->zero_point;
	return 0;
}
