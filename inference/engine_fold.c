/* engine_fold.c — constants computed once at load, so that the float kernels only ever see
 * float32 weights. The two half-way forms TFLite converters write:
 *   - float16 weights: FLOAT16 constants each read by a DEQUANTIZE (the converter's
 *     `supported_types=[tf.float16]` recipe). The DEQUANTIZE runs now: its output becomes a
 *     float32 constant and the node is dropped from the graph.
 *   - dynamic-range models: int8 (or uint8) quantized constant weights read directly by float
 *     ops (CONV_2D, FULLY_CONNECTED, … with float activations). TFLite's hybrid kernels quantize
 *     the activations on the fly; we dequantize the weights once (scale · (q − zero point), per
 *     channel when the tensor is) and run the float kernels, which is closer to the float model
 *     the weights came from. eng_dequantized_weights() reports it for model-info.
 * The new constants are owned by their tensor (tensor.owned, freed with the graph).
 * Also here, as the one other load-time rewrite: a channels-first input's leading TRANSPOSE to
 * NHWC is folded into the input (fold_input_transpose). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inference/engine_state.h"
#include "inference/ops/ops.h"

/* IEEE half → float, exact (every half is a float). */
static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (mant << 13);
	} else if (exp != 0) {
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	} else if (mant == 0) {
		bits = sign;
	} else { /* subnormal half: normalize */
		int e = -1;
		do {
			e++;
			mant <<= 1;
		} while (!(mant & 0x400u));
		bits = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ffu) << 13);
	}
	float f;
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* src (a constant FLOAT16 or quantized INT8/UINT8 tensor) as float32 values into dst. */
static void dequantize_into(const struct tensor *src, float *dst, size_t count)
{
	size_t inner = 1;
	if (src->nq > 1)
		for (int d = src->quant_axis + 1; d < src->ndim; d++)
			inner *= (size_t)src->dims[d];
	for (size_t i = 0; i < count; i++) {
		if (src->type == TT_FLOAT16) {
			uint16_t h;
			memcpy(&h, src->data + 2 * i, 2);
			dst[i] = half_to_float(h);
			continue;
		}
		int c = src->nq > 1 ? (int)((i / inner) % (size_t)src->dims[src->quant_axis]) : 0;
		int32_t q = src->type == TT_INT8 ? (int32_t)(int8_t)src->data[i] : (int32_t)src->data[i];
		dst[i] = (float)((double)src->scales[c] * (double)(q - src->zero_points[c]));
	}
}

static bool foldable(const struct tensor *t)
{
	if (!t->is_const || !t->data)
		return false;
	if (t->type == TT_FLOAT16)
		return true;
	return (t->type == TT_INT8 || t->type == TT_UINT8) && t->nq >= 1;
}

/* Makes dst a float32 constant holding src's values (dst may be src). */
static int make_float_const(struct tensor *dst, const struct tensor *src)
{
	size_t count = (size_t)tensor_num_elements(src);
	float *buf = malloc(count ? count * sizeof(float) : 1);
	if (!buf)
		return -ENOMEM;
	dequantize_into(src, buf, count);
	free(dst->owned);
	dst->owned = buf;
	dst->data = (uint8_t *)buf;
	dst->type = TT_FLOAT32;
	dst->bytes = count * sizeof(float);
	dst->is_const = true;
	dst->nq = 0;
	dst->scale = 0.0f;
	dst->zero_point = 0;
	return 0;
}

/* A channels-first image input ([1,C,H,W], C 1 or 3) read only by a TRANSPOSE to NHWC (perm
 * 0,2,3,1 — what PyTorch exports put first): the TRANSPOSE's output becomes the graph input and
 * the node is dropped, so preprocessing writes NHWC directly instead of the engine paying for a
 * transpose per frame. Pure data movement, so exact for every type. */
static void fold_input_transpose(struct engine *e)
{
	struct graph *g = &e->g;
	const int in = g->inputs[0];
	const struct tensor *t = &g->tensors[in];
	int reader = -1, readers = 0;
	if (t->ndim != 4 || (t->dims[1] != 1 && t->dims[1] != 3) || t->dims[3] == 1 || t->dims[3] == 3)
		return;
	for (int i = 0; i < g->nnodes; i++)
		for (int k = 0; k < g->nodes[i].ninputs; k++)
			if (g->nodes[i].inputs[k] == in) {
				reader = i;
				readers++;
			}
	if (readers != 1)
		return;
	const struct node *n = &g->nodes[reader];
	if (n->op != OP_TRANSPOSE || n->ninputs != 2 || n->noutputs != 1 || n->inputs[0] != in || n->inputs[1] < 0)
		return;
	const struct tensor *perm = &g->tensors[n->inputs[1]], *out = &g->tensors[n->outputs[0]];
	static const int32_t nhwc[4] = { 0, 2, 3, 1 };
	if (!perm->is_const || !perm->data || perm->type != TT_INT32 || perm->bytes != sizeof(nhwc) ||
	    memcmp(perm->data, nhwc, sizeof(nhwc)) != 0 || out->type != t->type || out->nq != t->nq ||
	    out->scale != t->scale || out->zero_point != t->zero_point || out->ndim != 4 ||
	    out->dims[1] != t->dims[2] || out->dims[2] != t->dims[3] || out->dims[3] != t->dims[1])
		return;
	for (int k = 0; k < g->noutputs; k++)
		if (g->outputs[k] == n->outputs[0])
			return;
	g->inputs[0] = n->outputs[0];
	e->input = n->outputs[0];
	e->folded_input_transpose = true;
	free(g->nodes[reader].params);
	memmove(&g->nodes[reader], &g->nodes[reader + 1], (size_t)(g->nnodes - reader - 1) * sizeof(*g->nodes));
	g->nnodes--;
}

int eng_fold_constants(struct engine *e, const char *name, char *err, size_t errlen)
{
	struct graph *g = &e->g;
	int kept = 0, rc;
	for (int i = 0; i < g->nnodes; i++) {
		struct node *n = &g->nodes[i];
		if (n->op == OP_DEQUANTIZE && n->ninputs == 1 && n->noutputs == 1 && n->inputs[0] >= 0 &&
		    foldable(&g->tensors[n->inputs[0]]) && g->tensors[n->outputs[0]].type == TT_FLOAT32) {
			struct tensor *src = &g->tensors[n->inputs[0]], *dst = &g->tensors[n->outputs[0]];
			if (tensor_num_elements(src) != tensor_num_elements(dst))
				goto bad;
			if (src->type == TT_FLOAT16)
				e->folded_fp16++;
			else
				e->folded_int8++;
			if ((rc = make_float_const(dst, src)) < 0)
				goto nomem;
			free(n->params);
			continue; /* the node is dropped */
		}
		if (ops_node_is_float(g, n) && n->op != OP_RESHAPE && n->op != OP_SQUEEZE) {
			for (int k = 0; k < n->ninputs; k++) {
				struct tensor *t = n->inputs[k] >= 0 ? &g->tensors[n->inputs[k]] : NULL;
				if (!t || !foldable(t))
					continue;
				if (t->type == TT_FLOAT16)
					e->folded_fp16++;
				else
					e->folded_int8++;
				if ((rc = make_float_const(t, t)) < 0)
					goto nomem;
			}
		}
		g->nodes[kept++] = *n;
	}
	g->nnodes = kept;
	fold_input_transpose(e);
	return 0;
bad:
	snprintf(err, errlen, "%s: DEQUANTIZE input and output sizes differ", name);
	return -EINVAL;
nomem:
	snprintf(err, errlen, "%s: out of memory dequantizing weights", name);
	return -ENOMEM;
}
