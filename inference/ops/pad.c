/* pad.c — PAD on int8/uint8: copies the input into the middle of the output and fills the
 * border with the output zero point (the quantized 0.0), as TFLite 2.8's reference PadImpl does
 * for PAD (PADV2's explicit pad value is not supported).
 *
 * The paddings tensor ([ndim, 2], int32 or int64) must be constant: prepare turns it into
 * before/after counts, checks them against the output shape, and invoke walks the output once
 * per innermost row: left fill, one memcpy of the input row, right fill. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

struct pad_params {
	int ndim;
	int32_t before[GRAPH_MAX_DIMS], after[GRAPH_MAX_DIMS];
	uint8_t fill;
};

static int pad_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *pads = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	if (!in || !pads || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0 ||
	    (r = ku_check_same_type(n, in, "input", out, "output", err, errlen)) < 0 ||
	    (r = ku_check_const(n, pads, "paddings", err, errlen)) < 0)
		return r;
	if (out->nq > 0 && (out->scale != in->scale || out->zero_point != in->zero_point))
		return ku_fail(err, errlen, n, "input quantization (%g, %d) differs from output (%g, %d)",
			       (double)in->scale, (int)in->zero_point, (double)out->scale,
			       (int)out->zero_point);
	if (pads->type != TT_INT32 && pads->type != TT_INT64)
		return ku_fail(err, errlen, n, "paddings have type %s, expected INT32 or INT64",
			       tensor_type_name(pads->type));
	if (pads->ndim != 2 || pads->dims[0] != in->ndim || pads->dims[1] != 2)
		return ku_fail(err, errlen, n, "paddings must be [%d, 2]", in->ndim);
	if (in->ndim < 1)
		return ku_fail(err, errlen, n, "input has no dims");
	struct pad_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int32_t want[GRAPH_MAX_DIMS];
	p->ndim = in->ndim;
	for (int d = 0; d < in->ndim; d++) {
		int64_t b, a;
		if (pads->type == TT_INT32) {
			b = ((const int32_t *)pads->data)[2 * d];
			a = ((const int32_t *)pads->data)[2 * d + 1];
		} else {
			memcpy(&b, pads->data + 16 * d, 8);
			memcpy(&a, pads->data + 16 * d + 8, 8);
		}
		if (b < 0 || a < 0 || b + a + in->dims[d] > INT32_MAX) {
			free(p);
			return ku_fail(err, errlen, n, "padding %lld/%lld of dim %d invalid", (long long)b,
				       (long long)a, d);
		}
		p->before[d] = (int32_t)b;
		p->after[d] = (int32_t)a;
		want[d] = in->dims[d] + p->before[d] + p->after[d];
	}
	if ((r = ku_check_out_shape(n, out, in->ndim, want, err, errlen)) < 0) {
		free(p);
		return r;
	}
	p->fill = (uint8_t)in->zero_point; /* int8 zero point stored as its two's-complement byte */
	free(n->params);
	n->params = p;
	return 0;
}

/* Fills output dims d.. at out, copying from in where the index is inside the input. */
static void pad_dim(const struct pad_params *p, const struct tensor *in, const struct tensor *out,
		    int d, const uint8_t *src, uint8_t *dst, const size_t *in_stride,
		    const size_t *out_stride)
{
	const int32_t in_size = in->dims[d];
	if (d == p->ndim - 1) {
		memset(dst, p->fill, (size_t)p->before[d]);
		memcpy(dst + p->before[d], src, (size_t)in_size);
		memset(dst + p->before[d] + in_size, p->fill, (size_t)p->after[d]);
		return;
	}
	memset(dst, p->fill, (size_t)p->before[d] * out_stride[d]);
	uint8_t *row = dst + (size_t)p->before[d] * out_stride[d];
	for (int32_t i = 0; i < in_size; i++)
		pad_dim(p, in, out, d + 1, src + i * in_stride[d], row + i * out_stride[d], in_stride,
			out_stride);
	memset(row + (size_t)in_size * out_stride[d], p->fill, (size_t)p->after[d] * out_stride[d]);
}

static void pad_invoke(struct graph *g, const struct node *n)
{
	const struct pad_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	size_t in_stride[GRAPH_MAX_DIMS], out_stride[GRAPH_MAX_DIMS];
	size_t si = 1, so = 1;
	for (int d = p->ndim - 1; d >= 0; d--) {
		in_stride[d] = si;
		out_stride[d] = so;
		si *= (size_t)in->dims[d];
		so *= (size_t)out->dims[d];
	}
	pad_dim(p, in, out, 0, in->data, out->data, in_stride, out_stride);
}

const struct op_kernel op_pad = {
	.op = OP_PAD,
	.name = "PAD",
	.max_version = 2,
	.prepare = pad_prepare,
	.invoke = pad_invoke,
};
