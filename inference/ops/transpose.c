/* transpose.c — TRANSPOSE (any permutation of up to GRAPH_MAX_DIMS dims) and STRIDED_SLICE, the
 * two data-movement ops PyTorch exports put around a classifier (NCHW→NHWC transposes, slices
 * of a token/class axis). Both move elements without changing them, so one kernel serves every
 * element type (int8/uint8 with the output's quantization equal to the input's, as TFLite
 * requires; float32; int32), bit-exact by construction.
 *
 * prepare turns either op into the same plan: for each output dim, the input start index and the
 * input element stride to step by; invoke walks the output once with an odometer.
 * TRANSPOSE: out.dims[i] = in.dims[perm[i]], stride = in_stride[perm[i]].
 * STRIDED_SLICE follows TFLite 2.8's strided_slice_logic (StartForAxis / StopForAxis): begin and
 * end masks, negative indices counted from the end and clamped, negative strides, shrink axes
 * (dropped from the output); ellipsis and new-axis masks and `offset` are refused by name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

struct move_params {
	int ndim;                         /* walked dims (STRIDED_SLICE: the input's, shrinks kept as 1) */
	size_t elem;
	int32_t count[GRAPH_MAX_DIMS];
	int64_t stride[GRAPH_MAX_DIMS];   /* in elements, may be negative */
	int64_t start;                    /* element offset of the first output element */
	size_t total;
};

static int check_types(struct node *n, const struct tensor *in, const struct tensor *out, char *err, size_t errlen)
{
	int r = ku_check_same_type(n, in, "input", out, "output", err, errlen);
	if (r < 0)
		return r;
	if (in->type == TT_INT8 || in->type == TT_UINT8) {
		if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0)
			return r;
		if (out->nq > 0 && (out->scale != in->scale || out->zero_point != in->zero_point))
			return ku_fail(err, errlen, n, "input quantization (%g, %d) differs from output (%g, %d)",
				       (double)in->scale, (int)in->zero_point, (double)out->scale, (int)out->zero_point);
	} else if (in->type != TT_FLOAT32 && in->type != TT_INT32) {
		return ku_fail(err, errlen, n, "input has type %s, expected INT8, UINT8, FLOAT32 or INT32",
			       tensor_type_name(in->type));
	}
	return 0;
}

/* A constant int32 vector of n values into v. */
static int const_ints(struct node *n, const struct tensor *t, const char *what, int want, int32_t *v, char *err,
		      size_t errlen)
{
	int r = ku_check_const(n, t, what, err, errlen);
	if (r < 0)
		return r;
	if (t->type != TT_INT32 || t->ndim != 1 || t->dims[0] != want)
		return ku_fail(err, errlen, n, "%s must be %d INT32 values", what, want);
	memcpy(v, t->data, (size_t)want * sizeof(int32_t));
	return 0;
}

static void in_strides(const struct tensor *in, int64_t *s)
{
	int64_t acc = 1;
	for (int d = in->ndim - 1; d >= 0; d--) {
		s[d] = acc;
		acc *= in->dims[d];
	}
}

static int finish(struct node *n, struct move_params *tmp, const struct tensor *in)
{
	struct move_params *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	tmp->elem = tensor_type_size(in->type);
	tmp->total = 1;
	for (int d = 0; d < tmp->ndim; d++)
		tmp->total *= (size_t)tmp->count[d];
	*p = *tmp;
	free(n->params);
	n->params = p;
	return 0;
}

static int transpose_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *perm_t = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!in || !perm_t || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	int32_t perm[GRAPH_MAX_DIMS], want[GRAPH_MAX_DIMS];
	int64_t s[GRAPH_MAX_DIMS];
	bool used[GRAPH_MAX_DIMS] = { false };
	if ((r = check_types(n, in, out, err, errlen)) < 0 ||
	    (r = const_ints(n, perm_t, "perm", in->ndim, perm, err, errlen)) < 0)
		return r;
	struct move_params p = { .ndim = in->ndim };
	in_strides(in, s);
	for (int i = 0; i < in->ndim; i++) {
		if (perm[i] < 0 || perm[i] >= in->ndim || used[perm[i]])
			return ku_fail(err, errlen, n, "perm is not a permutation of 0..%d", in->ndim - 1);
		used[perm[i]] = true;
		want[i] = in->dims[perm[i]];
		p.count[i] = want[i];
		p.stride[i] = s[perm[i]];
	}
	if ((r = ku_check_out_shape(n, out, in->ndim, want, err, errlen)) < 0)
		return r;
	return finish(n, &p, in);
}

static int32_t clamp32(int64_t v, int64_t lo, int64_t hi)
{
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static int strided_slice_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 4, 4, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *out = ku_out(g, n, 0);
	if (!in || !out || !ku_in(g, n, 1) || !ku_in(g, n, 2) || !ku_in(g, n, 3))
		return ku_fail(err, errlen, n, "tensor index out of range");
	const int nd = in->ndim;
	int32_t begin[GRAPH_MAX_DIMS], end[GRAPH_MAX_DIMS], step[GRAPH_MAX_DIMS], want[GRAPH_MAX_DIMS];
	int64_t s[GRAPH_MAX_DIMS];
	if ((r = check_types(n, in, out, err, errlen)) < 0 ||
	    (r = const_ints(n, ku_in(g, n, 1), "begin", nd, begin, err, errlen)) < 0 ||
	    (r = const_ints(n, ku_in(g, n, 2), "end", nd, end, err, errlen)) < 0 ||
	    (r = const_ints(n, ku_in(g, n, 3), "strides", nd, step, err, errlen)) < 0)
		return r;
	if (n->opt.strided_slice.ellipsis_mask || n->opt.strided_slice.new_axis_mask || n->opt.strided_slice.offset)
		return ku_fail(err, errlen, n, "ellipsis_mask, new_axis_mask and offset are not supported");
	struct move_params p = { .ndim = nd };
	int want_ndim = 0;
	in_strides(in, s);
	for (int d = 0; d < nd; d++) {
		const int64_t dim = in->dims[d], st = step[d];
		const bool shrink = n->opt.strided_slice.shrink_axis_mask & (1 << d);
		if (st == 0)
			return ku_fail(err, errlen, n, "stride of dim %d is 0", d);
		int64_t start, stop;
		if (n->opt.strided_slice.begin_mask & (1 << d)) {
			start = st > 0 ? 0 : dim - 1;
		} else {
			start = begin[d] < 0 ? begin[d] + dim : begin[d];
			start = st > 0 ? clamp32(start, 0, dim) : clamp32(start, -1, dim - 1);
		}
		if (shrink) {
			stop = start + 1;
		} else if (n->opt.strided_slice.end_mask & (1 << d)) {
			stop = st > 0 ? dim : -1;
		} else {
			stop = end[d] < 0 ? end[d] + dim : end[d];
			stop = st > 0 ? clamp32(stop, 0, dim) : clamp32(stop, -1, dim - 1);
		}
		int64_t count = st > 0 ? (stop - start + st - 1) / st : (start - stop - st - 1) / -st;
		if (count < 0)
			count = 0;
		if (shrink && (count != 1 || start < 0 || start >= dim))
			return ku_fail(err, errlen, n, "shrink axis %d index %lld out of range", d, (long long)start);
		p.count[d] = (int32_t)count;
		p.stride[d] = st * s[d];
		if (count > 0)
			p.start += start * s[d];
		if (!shrink)
			want[want_ndim++] = (int32_t)count;
	}
	if ((r = ku_check_out_shape(n, out, want_ndim, want, err, errlen)) < 0)
		return r;
	return finish(n, &p, in);
}

static void move_invoke(struct graph *g, const struct node *n)
{
	const struct move_params *p = n->params;
	const uint8_t *src = g->tensors[n->inputs[0]].data;
	uint8_t *dst = g->tensors[n->outputs[0]].data;
	int32_t idx[GRAPH_MAX_DIMS] = { 0 };
	int64_t at = p->start;
	for (size_t i = 0; i < p->total; i++) {
		memcpy(dst + i * p->elem, src + (size_t)at * p->elem, p->elem);
		for (int d = p->ndim - 1; d >= 0; d--) {
			at += p->stride[d];
			if (++idx[d] < p->count[d])
				break;
			at -= p->stride[d] * p->count[d];
			idx[d] = 0;
		}
	}
}

const struct op_kernel op_transpose = {
	.op = OP_TRANSPOSE,
	.name = "TRANSPOSE",
	.max_version = 6,
	.prepare = transpose_prepare,
	.invoke = move_invoke,
};

const struct op_kernel op_strided_slice = {
	.op = OP_STRIDED_SLICE,
	.name = "STRIDED_SLICE",
	.max_version = 6,
	.prepare = strided_slice_prepare,
	.invoke = move_invoke,
};
