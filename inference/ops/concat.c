/* concat.c — CONCATENATION along one axis, following TFLite 2.8. float32/int32 tensors are
 * copied as they are; int8 inputs must share the output's quantization and are copied (TFLite refuses rescaling for
 * int8); uint8 inputs with other scales are rescaled as reference_ops::ConcatenationWithScaling
 * does — in float, round half away from zero, clamped to [0, 255].
 *
 * Copies go in blocks: for each outer index (product of dims before the axis) each input
 * contributes one contiguous run of axis_size × inner elements. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

struct concat_params {
	int axis, ninputs;
	size_t outer;
	size_t run[GRAPH_MAX_NODE_INPUTS];  /* bytes per outer index, per input */
	bool rescale[GRAPH_MAX_NODE_INPUTS];
	float scale[GRAPH_MAX_NODE_INPUTS], bias[GRAPH_MAX_NODE_INPUTS];
	int32_t out_zp;
};

static int concat_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 1, GRAPH_MAX_NODE_INPUTS, err, errlen);
	if (r < 0)
		return r;
	struct tensor *out = ku_out(g, n, 0), *first = ku_in(g, n, 0);
	if (!out || !first)
		return ku_fail(err, errlen, n, "tensor index out of range");
	const bool q8 = out->type == TT_INT8 || out->type == TT_UINT8;
	if (!q8 && out->type != TT_FLOAT32 && out->type != TT_INT32)
		return ku_fail(err, errlen, n, "output has type %s, expected INT8, UINT8, FLOAT32 or INT32",
			       tensor_type_name(out->type));
	if (q8 && (r = ku_check_q8(n, out, "output", err, errlen)) < 0)
		return r;
	const size_t elem = tensor_type_size(out->type);
	if (n->opt.concat.activation != ACT_NONE)
		return ku_fail(err, errlen, n, "fused activation %s is not supported",
			       q_activation_name(n->opt.concat.activation));
	const int ndim = first->ndim;
	int axis = n->opt.concat.axis;
	if (axis < -ndim || axis >= ndim)
		return ku_fail(err, errlen, n, "axis %d out of range for %d dims", axis, ndim);
	axis = axis < 0 ? axis + ndim : axis;
	struct concat_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int32_t want[GRAPH_MAX_DIMS];
	memcpy(want, first->dims, sizeof(want));
	want[axis] = 0;
	size_t inner = 1;
	p->outer = 1;
	for (int d = 0; d < axis; d++)
		p->outer *= (size_t)first->dims[d];
	for (int d = axis + 1; d < ndim; d++)
		inner *= (size_t)first->dims[d];
	for (int i = 0; i < n->ninputs; i++) {
		struct tensor *t = ku_in(g, n, i);
		char what[32];
		snprintf(what, sizeof(what), "input %d", i);
		if (!t) {
			r = ku_fail(err, errlen, n, "%s is absent", what);
			goto fail;
		}
		if ((q8 && (r = ku_check_q8(n, t, what, err, errlen)) < 0) ||
		    (r = ku_check_same_type(n, out, "output", t, what, err, errlen)) < 0)
			goto fail;
		if (t->ndim != ndim) {
			r = ku_fail(err, errlen, n, "%s has %d dims, input 0 has %d", what, t->ndim, ndim);
			goto fail;
		}
		for (int d = 0; d < ndim; d++)
			if (d != axis && t->dims[d] != first->dims[d]) {
				r = ku_fail(err, errlen, n, "%s dim %d is %d, input 0 has %d", what, d,
					    (int)t->dims[d], (int)first->dims[d]);
				goto fail;
			}
		want[axis] += t->dims[axis];
		p->run[i] = (size_t)t->dims[axis] * inner * elem;
		const bool same = !q8 || (t->scale == out->scale && t->zero_point == out->zero_point);
		if (!same && t->type == TT_INT8) {
			r = ku_fail(err, errlen, n, "int8 %s quantization (%g, %d) differs from output (%g, %d)",
				    what, (double)t->scale, (int)t->zero_point, (double)out->scale,
				    (int)out->zero_point);
			goto fail;
		}
		p->rescale[i] = !same;
		p->scale[i] = t->scale * (1.0f / out->scale);
		p->bias[i] = (float)-t->zero_point * p->scale[i];
	}
	if ((r = ku_check_out_shape(n, out, ndim, want, err, errlen)) < 0)
		goto fail;
	p->axis = axis;
	p->ninputs = n->ninputs;
	p->out_zp = out->zero_point;
	free(n->params);
	n->params = p;
	return 0;
fail:
	free(p);
	return r;
}

static void concat_invoke(struct graph *g, const struct node *n)
{
	const struct concat_params *p = n->params;
	uint8_t *dst = g->tensors[n->outputs[0]].data;
	for (size_t o = 0; o < p->outer; o++) {
		for (int i = 0; i < p->ninputs; i++) {
			const uint8_t *src = g->tensors[n->inputs[i]].data + o * p->run[i];
			if (!p->rescale[i]) {
				memcpy(dst, src, p->run[i]);
			} else {
				/* uint8 only (int8 rescaling is refused in prepare). */
				for (size_t j = 0; j < p->run[i]; j++) {
					float scaled = (float)src[j] * p->scale[i];
					float shifted = scaled + p->bias[i];
					int32_t v = (int32_t)q_round_f(shifted) + p->out_zp;
					dst[j] = (uint8_t)q_clamp(v, 0, 255);
				}
			}
			dst += p->run[i];
		}
	}
}

const struct op_kernel op_concatenation = {
	.op = OP_CONCATENATION,
	.name = "CONCATENATION",
	.max_version = 3,
	.prepare = concat_prepare,
	.invoke = concat_invoke,
};
