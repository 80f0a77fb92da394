/* pad.c — PAD and PADV2 on int8/uint8, float32 and int32, as TFLite 2.8's reference PadImpl:
 * the input is copied into the middle of the output and the border filled with
 *   PAD: zero — the output zero point for 8-bit tensors (the quantized 0.0), 0 otherwise;
 *   PADV2: the constant_values scalar (input 2), which for 8-bit tensors must share the output's
 *          quantization (TFLite checks the same) and is used as its raw value.
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
	size_t elem;              /* bytes per element */
	int32_t before[GRAPH_MAX_DIMS], after[GRAPH_MAX_DIMS];
	uint8_t fill[4];          /* one element's bytes */
};

static int pad_fill_value(struct node *n, const struct tensor *in, const struct tensor *value,
			  struct pad_params *p, char *err, size_t errlen)
{
	int r;
	const bool q8 = in->type == TT_INT8 || in->type == TT_UINT8;
	memset(p->fill, 0, sizeof(p->fill));
	if (!value) {
		if (q8)
			p->fill[0] = (uint8_t)in->zero_point; /* int8: its two's-complement byte */
		return 0;
	}
	if ((r = ku_check_same_type(n, in, "input", value, "constant_values", err, errlen)) < 0 ||
	    (r = ku_check_const(n, value, "constant_values", err, errlen)) < 0)
		return r;
	if (tensor_num_elements(value) != 1)
		return ku_fail(err, errlen, n, "constant_values has %d elements, expected 1",
			       tensor_num_elements(value));
	if (q8 && (value->nq < 1 || value->scale != in->scale || value->zero_point != in->zero_point))
		return ku_fail(err, errlen, n, "constant_values quantization differs from the input's");
	memcpy(p->fill, value->data, p->elem);
	return 0;
}

static int pad_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	const bool v2 = n->op == OP_PADV2;
	int r = ku_check_arity(n, 2, v2 ? 3 : 2, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *pads = ku_in(g, n, 1), *out = ku_out(g, n, 0);
	struct tensor *value = v2 ? ku_in(g, n, 2) : NULL;
	if (!in || !pads || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if (in->type == TT_INT8 || in->type == TT_UINT8) {
		if ((r = ku_check_q8(n, in, "input", err, errlen)) < 0)
			return r;
	} else if (in->type != TT_FLOAT32 && in->type != TT_INT32) {
		return ku_fail(err, errlen, n, "input has type %s, expected INT8, UINT8, FLOAT32 or INT32",
			       tensor_type_name(in->type));
	}
	if ((r = ku_check_same_type(n, in, "input", out, "output", err, errlen)) < 0 ||
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
	p->elem = tensor_type_size(in->type);
	for (int d = 0; d < in->ndim; d++) {
		int64_t b, a;
		if (pads->type == TT_INT32) {
			int32_t v[2];
			memcpy(v, pads->data + 8 * d, 8);
			b = v[0];
			a = v[1];
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
	if ((r = ku_check_out_shape(n, out, in->ndim, want, err, errlen)) < 0 ||
	    (r = pad_fill_value(n, in, value, p, err, errlen)) < 0) {
		free(p);
		return r;
	}
	free(n->params);
	n->params = p;
	return 0;
}

static void fill(const struct pad_params *p, uint8_t *dst, size_t count)
{
	if (p->elem == 1) {
		memset(dst, p->fill[0], count);
		return;
	}
	for (size_t i = 0; i < count; i++)
		memcpy(dst + i * p->elem, p->fill, p->elem);
}

/* Fills output dims d.. at out, copying from in where the index is inside the input. Strides
 * are in bytes. */
static void pad_dim(const struct pad_params *p, const struct tensor *in, int d, const uint8_t *src,
		    uint8_t *dst, const size_t *in_stride, const size_t *out_stride, const size_t *out_elems)
{
	const int32_t in_size = in->dims[d];
	if (d == p->ndim - 1) {
		fill(p, dst, (size_t)p->before[d]);
		memcpy(dst + (size_t)p->before[d] * p->elem, src, (size_t)in_size * p->elem);
		fill(p, dst + ((size_t)p->before[d] + in_size) * p->elem, (size_t)p->after[d]);
		return;
	}
	fill(p, dst, (size_t)p->before[d] * out_elems[d]);
	uint8_t *row = dst + (size_t)p->before[d] * out_stride[d];
	for (int32_t i = 0; i < in_size; i++)
		pad_dim(p, in, d + 1, src + i * in_stride[d], row + i * out_stride[d], in_stride, out_stride,
			out_elems);
	fill(p, row + (size_t)in_size * out_stride[d], (size_t)p->after[d] * out_elems[d]);
}

static void pad_invoke(struct graph *g, const struct node *n)
{
	const struct pad_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	size_t in_stride[GRAPH_MAX_DIMS], out_stride[GRAPH_MAX_DIMS], out_elems[GRAPH_MAX_DIMS];
	size_t si = 1, so = 1;
	for (int d = p->ndim - 1; d >= 0; d--) {
		in_stride[d] = si * p->elem;
		out_stride[d] = so * p->elem;
		out_elems[d] = so;
		si *= (size_t)in->dims[d];
		so *= (size_t)out->dims[d];
	}
	pad_dim(p, in, 0, in->data, out->data, in_stride, out_stride, out_elems);
}

const struct op_kernel op_pad = {
	.op = OP_PAD,
	.name = "PAD",
	.max_version = 2,
	.prepare = pad_prepare,
	.invoke = pad_invoke,
};

const struct op_kernel op_padv2 = {
	.op = OP_PADV2,
	.name = "PADV2",
	.max_version = 2,
	.prepare = pad_prepare,
	.invoke = pad_invoke,
};
