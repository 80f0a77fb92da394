/* conv.c — CONV_2D for int8 (per-channel or per-tensor weights) and uint8 (per-tensor), following
 * TFLite 2.8's reference kernels: reference_integer_ops::ConvPerChannel and reference_ops::Conv.
 *
 * The multipliers are derived as TFLite's Prepare derives them (ku_conv_multipliers: double per
 * channel for int8, a float product for uint8 — the difference shows in the last bit).
 * Everything a run needs (padding, offsets, clamp range, multipliers) is fixed in prepare, so
 * invoke is the bare loop nest: NHWC, innermost over input channels, which are contiguous in both
 * the input and the filter ([out_ch, kh, kw, in_ch]).
 *
 * The fast path (ops_fast_kernels(), the default) lives in conv_fast.c: the same accumulators as
 * a GEMM over weights packed here at prepare, in the same allocation as the params. */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/fast/conv_fast.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/workers.h"
#include "inference/quant.h"

/* Products per output value: each |(w - wzp) * (x - xzp)| <= 255 * 255 = 65025, so an int32
 * accumulator holds at most (2^31 - 1) / 65025 = 33025 of them. prepare refuses larger filters. */
#define CONV_MAX_TERMS 33025

static int conv_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	const enum padding padding = n->opt.conv.padding;
	const int stride_h = n->opt.conv.stride_h, stride_w = n->opt.conv.stride_w;
	const int dil_h = n->opt.conv.dilation_h, dil_w = n->opt.conv.dilation_w;
	struct tensor *in, *filter, *bias, *out;
	int r = ku_prepare_weighted(g, n, padding, stride_h, stride_w, dil_h, dil_w, &in, &filter,
				    &bias, &out, err, errlen);
	if (r < 0)
		return r;
	const int out_ch = filter->dims[0], kh = filter->dims[1], kw = filter->dims[2];
	const int in_ch = in->dims[3];
	if (filter->dims[3] != in_ch)
		return ku_fail(err, errlen, n, "filter has %d input channels, input has %d",
			       filter->dims[3], in_ch);
	if ((long long)kh * kw * in_ch > CONV_MAX_TERMS)
		return ku_fail(err, errlen, n, "filter %dx%dx%d too large for a 32-bit accumulator",
			       kh, kw, in_ch);
	const int out_h = ku_out_size(padding, in->dims[1], kh, stride_h, dil_h);
	const int out_w = ku_out_size(padding, in->dims[2], kw, stride_w, dil_w);
	const int32_t want[4] = { in->dims[0], out_h, out_w, out_ch };
	if ((r = ku_check_out_shape(n, out, 4, want, err, errlen)) < 0 ||
	    (r = ku_check_conv_weights(n, in, filter, bias, out_ch, 0, err, errlen)) < 0)
		return r;

	const int k = kh * kw * in_ch, nworkers = workers_count(g->kernel_ctx);
	const size_t base = sizeof(struct conv_params) + (size_t)out_ch * (sizeof(int32_t) + sizeof(int));
	const size_t fast_bytes = conv_fast_bytes(in, filter, out_ch, k, nworkers);
	struct conv_params *p = calloc(1, base + fast_bytes);
	if (!p)
		return -ENOMEM;
	p->q.multiplier = (int32_t *)(p + 1);
	p->q.shift = (int *)(p->q.multiplier + out_ch);
	if (fast_bytes)
		p->fast = conv_fast_init((uint8_t *)p + base, in, filter, out_ch, k, nworkers, n);
	if ((r = ku_conv_stage_prepare(n, in, filter, out, out_ch, n->opt.conv.activation, stride_h,
				       stride_w, dil_h, dil_w, &p->q, err, errlen)) < 0) {
		free(p);
		return r;
	}
	free(n->params);
	n->params = p;
	return 0;
}

static void conv_invoke(struct graph *g, const struct node *n)
{
	const struct conv_params *p = n->params;
	if (p->fast) {
		conv_fast_invoke(g, n);
		return;
	}
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const struct tensor *bias = ku_in(g, n, 2);
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	const int batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_ch = in->dims[3];
	const int out_h = out->dims[1], out_w = out->dims[2], out_ch = out->dims[3];
	const int kh = filter->dims[1], kw = filter->dims[2];
	const int stride_h = n->opt.conv.stride_h, stride_w = n->opt.conv.stride_w;
	const int dil_h = n->opt.conv.dilation_h, dil_w = n->opt.conv.dilation_w;
	const int32_t *bias_data = bias ? (const int32_t *)bias->data : NULL;
	const uint8_t *in_data = in->data, *f_data = filter->data;
	uint8_t *out_data = out->data;

	for (int b = 0; b < batches; b++) {
		for (int oy = 0; oy < out_h; oy++) {
			const int in_y0 = oy * stride_h - p->q.pad_h;
			for (int ox = 0; ox < out_w; ox++) {
				const int in_x0 = ox * stride_w - p->q.pad_w;
				for (int oc = 0; oc < out_ch; oc++) {
					/* Bounded by CONV_MAX_TERMS products of |x| <= 65025: fits int32. */
					int32_t acc = 0;
					for (int ky = 0; ky < kh; ky++) {
						const int iy = in_y0 + ky * dil_h;
						if (iy < 0 || iy >= in_h)
							continue;
						for (int kx = 0; kx < kw; kx++) {
							const int ix = in_x0 + kx * dil_w;
							if (ix < 0 || ix >= in_w)
								continue;
							const size_t in_base = (((size_t)b * in_h + iy) * in_w + ix) * in_ch;
							const size_t f_base = (((size_t)oc * kh + ky) * kw + kx) * in_ch;
							if (is_signed)
								acc += ku_dot_s8((const int8_t *)in_data + in_base,
										 (const int8_t *)f_data + f_base, in_ch,
										 p->q.input_offset, p->q.filter_offset);
							else
								acc += ku_dot_u8(in_data + in_base, f_data + f_base, in_ch,
										 p->q.input_offset, p->q.filter_offset);
						}
					}
					const size_t oi = (((size_t)b * out_h + oy) * out_w + ox) * out_ch + oc;
					ku_store8(is_signed, out_data, oi, ku_conv_stage_out(&p->q, bias_data, oc, acc));
				}
			}
		}
	}
}

const struct op_kernel op_conv_2d = {
	.op = OP_CONV_2D,
	.name = "CONV_2D",
	.max_version = 5,
	.prepare = conv_prepare,
	.invoke = conv_invoke,
};
