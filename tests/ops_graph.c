/* ops_graph.c — the hand-built one-node graphs and the shared reference-checked run of the
 * weighted-op tests (ops_graph.h). Before, a header-only copy in each test, and the two tests
 * each carried their own copy of the case run. */
#include "tests/ops_graph.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/ops/ops.h"
#include "tests/testutil.h"

struct tensor *tg_tensor(struct tg *tg, int i, enum tensor_type type, int ndim, const int32_t *dims,
			 void *data, float scale, int32_t zp)
{
	struct tensor *t = &tg->t[i];
	tu_tensor_init(t, type, ndim, dims, data);
	t->is_const = i == 1 || i == 2; /* filter and bias */
	if (scale > 0)
		tu_tensor_quant(t, tg->scales[i], tg->zps[i], scale, zp);
	tg->g.tensors = tg->t;
	if (tg->g.ntensors <= i)
		tg->g.ntensors = i + 1;
	return t;
}

void tg_per_channel(struct tg *tg, int i, int n, const float *scales, int axis)
{
	struct tensor *t = &tg->t[i];
	t->nq = n;
	t->quant_axis = axis;
	for (int c = 0; c < n; c++) {
		tg->scales[i][c] = scales[c];
		tg->zps[i][c] = 0;
	}
	t->scale = scales[0];
}

int tg_prepare(struct tg *tg, int op, int ninputs)
{
	tg->n.op = op;
	tg->n.ninputs = ninputs;
	tg->n.noutputs = 1;
	for (int i = 0; i < ninputs; i++)
		tg->n.inputs[i] = i == 2 && tg->bias_absent ? -1 : i;
	tg->n.outputs[0] = 3;
	tg->g.nodes = &tg->n;
	tg->g.nnodes = 1;
	tg->err[0] = 0;
	tg->kernel = ops_find_for(&tg->g, &tg->n);
	if (!tg->kernel) {
		snprintf(tg->err, sizeof(tg->err), "no kernel for op %d", op);
		return -ENOTSUP;
	}
	return tg->kernel->prepare(&tg->g, &tg->n, tg->err, sizeof(tg->err));
}

void tg_run(struct tg *tg)
{
	tg->kernel->invoke(&tg->g, &tg->n);
}

void tg_free(struct tg *tg)
{
	free(tg->n.params);
	tg->n.params = NULL;
}

int ref_out_size(enum padding pad, int in, int k, int stride, int dil)
{
	int eff = (k - 1) * dil + 1;
	return pad == PAD_SAME ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

int ref_pad_before(int in, int k, int stride, int dil, int out)
{
	int eff = (k - 1) * dil + 1;
	int total = (out - 1) * stride + eff - in;
	return total > 0 ? total / 2 : 0;
}

int32_t ref_quantize(double real, float scale, int32_t zp, enum tensor_type type,
		     enum activation act)
{
	double lo = type == TT_INT8 ? -128 : 0, hi = type == TT_INT8 ? 127 : 255;
	double q = round(real / scale) + zp;
	if (act == ACT_RELU || act == ACT_RELU6)
		lo = fmax(lo, zp);
	if (act == ACT_RELU6)
		hi = fmin(hi, zp + round(6.0 / scale));
	if (act == ACT_RELU_N1_TO_1) {
		lo = fmax(lo, zp + round(-1.0 / scale));
		hi = fmin(hi, zp + round(1.0 / scale));
	}
	return (int32_t)fmin(fmax(q, lo), hi);
}

int32_t get8(enum tensor_type t, const void *p, size_t i)
{
	return t == TT_INT8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

static uint32_t lcg_state = 12345;

uint32_t lcg(void)
{
	lcg_state = lcg_state * 1664525u + 1013904223u;
	return lcg_state >> 8;
}

uint8_t small_around(enum tensor_type t, int32_t zp)
{
	int32_t v = zp + (int32_t)(lcg() % 17) - 8;
	int32_t lo = t == TT_INT8 ? -128 : 0, hi = t == TT_INT8 ? 127 : 255;
	v = v < lo ? lo : (v > hi ? hi : v);
	return (uint8_t)(v & 0xff);
}

/* The plain convolution on dequantized values. A depthwise output channel oc reads input
 * channel oc / depth_multiplier through filter [1, kh, kw, out_ch]; a CONV_2D one reads every
 * input channel through filter [out_ch, kh, kw, in_ch]. */
static void ref_conv(const struct tg_case *c, bool depthwise, int out_ch, const void *in,
		     const void *filter, const int32_t *bias, int32_t *out, int out_h, int out_w)
{
	int pad_h = ref_pad_before(c->in_h, c->kh, c->stride_h, c->dil_h, out_h);
	int pad_w = ref_pad_before(c->in_w, c->kw, c->stride_w, c->dil_w, out_w);
	for (int b = 0; b < c->batches; b++)
		for (int oy = 0; oy < out_h; oy++)
			for (int ox = 0; ox < out_w; ox++)
				for (int oc = 0; oc < out_ch; oc++) {
					double fs = c->filter_scales[c->nfilter_scales > 1 ? oc : 0];
					double sum = bias ? bias[oc] * (double)c->in_scale * fs : 0.0;
					const int ic0 = depthwise ? oc / c->depth_multiplier : 0;
					const int ic1 = depthwise ? ic0 + 1 : c->in_ch;
					for (int ky = 0; ky < c->kh; ky++)
						for (int kx = 0; kx < c->kw; kx++)
							for (int ic = ic0; ic < ic1; ic++) {
								int y = oy * c->stride_h - pad_h + ky * c->dil_h;
								int x = ox * c->stride_w - pad_w + kx * c->dil_w;
								if (y < 0 || y >= c->in_h || x < 0 || x >= c->in_w)
									continue;
								size_t xi = (((size_t)b * c->in_h + y) * c->in_w + x) * c->in_ch + ic;
								size_t wi = depthwise ? ((size_t)ky * c->kw + kx) * out_ch + oc :
									(((size_t)oc * c->kh + ky) * c->kw + kx) * c->in_ch + ic;
								double xv = (get8(c->type, in, xi) - c->in_zp) * (double)c->in_scale;
								double wv = (get8(c->type, filter, wi) - c->filter_zp) * fs;
								sum += xv * wv;
							}
					out[(((size_t)b * out_h + oy) * out_w + ox) * out_ch + oc] =
						ref_quantize(sum, c->out_scale, c->out_zp, c->type, c->act);
				}
}

void tg_check_case(const struct tg_case *c, int op)
{
	const bool dw = op == OP_DEPTHWISE_CONV_2D;
	struct tg tg = { 0 };
	const int out_ch = dw ? c->in_ch * c->depth_multiplier : c->out_ch;
	const int out_h = ref_out_size(c->padding, c->in_h, c->kh, c->stride_h, c->dil_h);
	const int out_w = ref_out_size(c->padding, c->in_w, c->kw, c->stride_w, c->dil_w);
	const size_t in_n = (size_t)c->batches * c->in_h * c->in_w * c->in_ch;
	const size_t f_n = (size_t)c->kh * c->kw * out_ch * (dw ? 1 : c->in_ch);
	const size_t out_n = (size_t)c->batches * out_h * out_w * out_ch;
	uint8_t *in = malloc(in_n), *filter = malloc(f_n), *out = malloc(out_n);
	int32_t *bias = malloc((size_t)out_ch * sizeof(int32_t)), *want = malloc(out_n * sizeof(int32_t));
	assert_non_null(in);
	assert_non_null(filter);
	assert_non_null(out);
	assert_non_null(bias);
	assert_non_null(want);
	for (size_t i = 0; i < in_n; i++)
		in[i] = small_around(c->type, c->in_zp);
	for (size_t i = 0; i < f_n; i++)
		filter[i] = small_around(c->type, c->filter_zp);
	for (int i = 0; i < out_ch; i++)
		bias[i] = (int32_t)(lcg() % 201) - 100;

	int32_t in_dims[4] = { c->batches, c->in_h, c->in_w, c->in_ch };
	int32_t dw_dims[4] = { 1, c->kh, c->kw, out_ch }, conv_dims[4] = { out_ch, c->kh, c->kw, c->in_ch };
	int32_t b_dims[1] = { out_ch };
	int32_t o_dims[4] = { c->batches, out_h, out_w, out_ch };
	tg_tensor(&tg, 0, c->type, 4, in_dims, in, c->in_scale, c->in_zp);
	tg_tensor(&tg, 1, c->type, 4, dw ? dw_dims : conv_dims, filter, c->filter_scales[0], c->filter_zp);
	if (c->nfilter_scales > 1)
		tg_per_channel(&tg, 1, c->nfilter_scales, c->filter_scales, dw ? 3 : 0);
	tg_tensor(&tg, 2, TT_INT32, 1, b_dims, bias, 0, 0);
	tg_tensor(&tg, 3, c->type, 4, o_dims, out, c->out_scale, c->out_zp);
	if (dw) {
		tg.n.opt.depthwise.padding = c->padding;
		tg.n.opt.depthwise.stride_h = c->stride_h;
		tg.n.opt.depthwise.stride_w = c->stride_w;
		tg.n.opt.depthwise.dilation_h = c->dil_h;
		tg.n.opt.depthwise.dilation_w = c->dil_w;
		tg.n.opt.depthwise.depth_multiplier = c->depth_multiplier;
		tg.n.opt.depthwise.activation = c->act;
	} else {
		tg.n.opt.conv.padding = c->padding;
		tg.n.opt.conv.stride_h = c->stride_h;
		tg.n.opt.conv.stride_w = c->stride_w;
		tg.n.opt.conv.dilation_h = c->dil_h;
		tg.n.opt.conv.dilation_w = c->dil_w;
		tg.n.opt.conv.activation = c->act;
	}
	if (tg_prepare(&tg, op, c->bias ? 3 : 2) != 0)
		fail_msg("prepare failed: %s", tg.err);
	tg_run(&tg);
	ref_conv(c, dw, out_ch, in, filter, c->bias ? bias : NULL, want, out_h, out_w);
	for (size_t i = 0; i < out_n; i++)
		if (get8(c->type, out, i) != want[i])
			fail_msg("output %zu: kernel %d, reference %d", i, get8(c->type, out, i), want[i]);
	tg_free(&tg);
	free(in);
	free(filter);
	free(out);
	free(bias);
	free(want);
}
