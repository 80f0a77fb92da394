/* depthwise_conv.c — DEPTHWISE_CONV_2D for int8 (per-channel or per-tensor weights) and uint8
 * (per-tensor), following TFLite 2.8's reference_integer_ops::DepthwiseConvPerChannel and
 * reference_ops::DepthwiseConv (whose "away from zero" output rounding is the ordinary
 * MultiplyByQuantizedMultiplier).
 *
 * Output channel oc = ic * depth_multiplier + m reads only input channel ic. The filter is
 * [1, kh, kw, out_ch]; the multipliers follow conv.c's rule (ku_conv_multipliers). The depth
 * multiplier is taken from the shapes (out_ch / in_ch) and the option must agree with it, so a
 * file whose option contradicts its own tensors is refused instead of read out of bounds. Loop
 * order: per output pixel, then filter taps, then channels, so the innermost loop walks
 * contiguous input, filter and accumulator rows.
 *
 * Fast path (ops_fast_kernels(), up to DW_FAST_MAX_TAPS taps): the weights minus their zero
 * point are widened to int32 at prepare, each output pixel's in-bounds taps are summed by a SIMD
 * kernel (dwconv.h) with the accumulators in registers — on x86-64 by dwpair.h's, which takes
 * all taps two at a time and reads the ones outside the input from a zero-point row — and
 * requant_tile.h finishes DW_BATCH pixels at a time: the same sums and the same requantization
 * as below. With a depth multiplier above 1 each tap's input row is first expanded to output
 * channels (x[oc / dm]) in a per-worker scratch. Output pixels are split in equal shares across
 * the workers of g->kernel_ctx, each with its own accumulator rows.
 *
 * Layers with 1, 2, 4 or 8 channels or whole blocks of 16 (on x86-64) take dwrow.h's row path
 * instead: a whole output row as one run of pixel × channel lanes through the same pair kernel,
 * from padded, phase-split copies of the input rows; output rows are split across the workers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/fast/dwconv.h"
#include "inference/ops/fast/dwpair.h"
#include "inference/ops/fast/dwrow.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/requant.h"
#include "inference/ops/fast/requant_tile.h"
#include "inference/ops/fast/workers.h"
#include "inference/quant.h"

struct dw_fast {
	int nworkers;
	dw_pixel_fn pixel;
	requant_row_fn requant;
	requant_tile_fn requant_tile; /* NULL: row by row with requant */
	int32_t *w;             /* [kh*kw][out_ch] weights minus their zero point */
	int32_t *acc;           /* nworkers × DW_BATCH × out_ch accumulators */
	uint8_t *expanded;      /* depth multiplier > 1: nworkers × taps × out_ch input bytes */
	/* dwpair.h's kernel (pair != NULL) instead of pixel: */
	dwpair_pixel_fn pair;
	int16_t *wp;            /* dwpair_pack's weights */
	int32_t *init;          /* out_ch: -x_zp * sum of each channel's weights */
	uint8_t *zp_row;        /* out_ch bytes of the input zero point, the taps outside the input */
	struct dwrow *row;      /* narrow layers: dwrow.h's row path instead of the above */
};

/* Output pixels whose accumulators are requantized together (requant_tile.h). */
#define DW_BATCH 8

/* workers_run_sized() counts GEMM multiply-adds (~0.01 ns each); a depthwise output value costs
 * about 1 ns here (3×3 taps, its requantization and the per-pixel setup). */
#define DW_WORK_PER_OUTPUT 100

/* Per output value at most kh*kw products of magnitude <= 255*255 = 65025. */
#define DW_MAX_TERMS 33025

struct dw_params {
	struct ku_conv_stage q; /* offsets, clamp, per-channel multipliers (kernel_util.h) */
	int depth_multiplier;
	int32_t *acc;           /* out_ch scratch accumulators, so invoke allocates nothing */
	struct dw_fast *fast;   /* NULL: reference loops; else inside the same allocation */
};

/* Each worker's accumulators and expanded rows start on their own 64-byte cache line: they are
 * written every pixel, and a line shared by two workers' scratch slowed the 112×112×32 layer to
 * 1.45× on two threads. */
static size_t dw_line(size_t bytes)
{
	return (bytes + 63) & ~(size_t)63;
}

static size_t dw_acc_stride(int out_ch) /* int32 elements */
{
	return dw_line((size_t)DW_BATCH * out_ch * sizeof(int32_t)) / sizeof(int32_t);
}

static size_t dw_fast_bytes(int dm, int taps, int out_ch, int nworkers)
{
	if (!ops_fast_kernels() || taps > DW_FAST_MAX_TAPS)
		return 0;
	const size_t expanded = dm > 1 ? (size_t)nworkers * dw_line((size_t)taps * out_ch) : 0;
	return 64 + dw_line(sizeof(struct dw_fast) + (size_t)taps * out_ch * sizeof(int32_t)) +
	       (size_t)nworkers * dw_acc_stride(out_ch) * sizeof(int32_t) +
	       (size_t)out_ch * sizeof(int32_t) + dwpair_packed_elems(taps, out_ch) * sizeof(int16_t) +
	       64 + expanded + (size_t)out_ch;
}

static struct dw_fast *dw_fast_init(void *mem, const struct tensor *in, const struct tensor *filter,
				    bool is_signed, int taps, int out_ch, int nworkers)
{
	struct dw_fast *f = (struct dw_fast *)dw_line((size_t)mem);
	const int dm = out_ch / in->dims[3];
	f->nworkers = nworkers;
	f->pixel = dw_pixel_select();
	f->requant = requant_select();
	f->requant_tile = requant_tile_select();
	f->w = (int32_t *)(f + 1);
	f->acc = (int32_t *)dw_line((size_t)(f->w + (size_t)taps * out_ch));
	f->init = f->acc + (size_t)nworkers * dw_acc_stride(out_ch);
	f->wp = (int16_t *)(f->init + out_ch);
	f->expanded = (uint8_t *)dw_line((size_t)(f->wp + dwpair_packed_elems(taps, out_ch)));
	f->zp_row = f->expanded + (dm > 1 ? (size_t)nworkers * dw_line((size_t)taps * out_ch) : 0);
	const int32_t w_zp = is_signed ? 0 : filter->zero_point;
	for (size_t i = 0; i < (size_t)taps * out_ch; i++)
		f->w[i] = ku_load8(is_signed, filter->data, i) - w_zp;
	/* dwpair runs whole blocks of 16 channels (the rest scalar): narrower layers (person_detect's
	 * 8 channels) keep dwconv.h's kernel, which has 8-channel SIMD steps */
	f->pair = out_ch % DWPAIR_BLOCK == 0 ? dwpair_select() : NULL;
	dwpair_pack(f->wp, f->init, f->w, taps, out_ch, -in->zero_point);
	memset(f->zp_row, (uint8_t)in->zero_point, (size_t)out_ch); /* the stored byte, either type */
	return f;
}

static int dw_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	const enum padding padding = n->opt.depthwise.padding;
	const int stride_h = n->opt.depthwise.stride_h, stride_w = n->opt.depthwise.stride_w;
	const int dil_h = n->opt.depthwise.dilation_h, dil_w = n->opt.depthwise.dilation_w;
	struct tensor *in, *filter, *bias, *out;
	int r = ku_prepare_weighted(g, n, padding, stride_h, stride_w, dil_h, dil_w, &in, &filter,
				    &bias, &out, err, errlen);
	if (r < 0)
		return r;
	const int kh = filter->dims[1], kw = filter->dims[2], out_ch = filter->dims[3];
	const int in_ch = in->dims[3];
	if (filter->dims[0] != 1)
		return ku_fail(err, errlen, n, "filter dim 0 is %d, expected 1", filter->dims[0]);
	if (in_ch <= 0 || out_ch % in_ch != 0)
		return ku_fail(err, errlen, n, "filter has %d channels, not a multiple of the %d input channels",
			       out_ch, in_ch);
	const int dm = out_ch / in_ch;
	if (n->opt.depthwise.depth_multiplier != dm)
		return ku_fail(err, errlen, n, "depth_multiplier %d contradicts %d input and %d output channels",
			       n->opt.depthwise.depth_multiplier, in_ch, out_ch);
	if ((long long)kh * kw > DW_MAX_TERMS)
		return ku_fail(err, errlen, n, "filter %dx%d too large for a 32-bit accumulator", kh, kw);
	const int out_h = ku_out_size(padding, in->dims[1], kh, stride_h, dil_h);
	const int out_w = ku_out_size(padding, in->dims[2], kw, stride_w, dil_w);
	const int32_t want[4] = { in->dims[0], out_h, out_w, out_ch };
	if ((r = ku_check_out_shape(n, out, 4, want, err, errlen)) < 0)
		return r;
	if ((r = ku_check_conv_weights(n, in, filter, bias, out_ch, 3, err, errlen)) < 0)
		return r;

	const size_t per_channel_bytes = 2 * sizeof(int32_t) + sizeof(int);
	const size_t base = sizeof(struct dw_params) + (size_t)out_ch * per_channel_bytes;
	const int nworkers = workers_count(g->kernel_ctx);
	const size_t fast_bytes = dw_fast_bytes(dm, kh * kw, out_ch, nworkers);
	const struct dwrow_geom geo = {
		.batches = in->dims[0], .in_h = in->dims[1], .in_w = in->dims[2], .in_ch = in_ch,
		.out_h = out_h, .out_w = out_w, .ch = out_ch, .kh = kh, .kw = kw,
		.stride_h = stride_h, .stride_w = stride_w, .dil_h = dil_h, .dil_w = dil_w,
	};
	const size_t row_bytes = fast_bytes ? dwrow_bytes(&geo, nworkers) : 0;
	struct dw_params *p = calloc(1, base + fast_bytes + row_bytes + sizeof(void *));
	if (!p)
		return -ENOMEM;
	p->q.multiplier = (int32_t *)(p + 1);
	p->acc = p->q.multiplier + out_ch;
	p->q.shift = (int *)(p->acc + out_ch);
	const size_t at = (base + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *);
	if (fast_bytes)
		p->fast = dw_fast_init((uint8_t *)p + at, in, filter, in->type == TT_INT8, kh * kw, out_ch,
				       nworkers);
	if ((r = ku_conv_stage_prepare(n, in, filter, out, out_ch, n->opt.depthwise.activation,
				       stride_h, stride_w, dil_h, dil_w, &p->q, err, errlen)) < 0) {
		free(p);
		return r;
	}
	if (row_bytes) /* after the stage: the row path copies its padding and multipliers */
		p->fast->row = dwrow_init((uint8_t *)p + at + fast_bytes, &geo, nworkers, p->fast->w,
					  &p->q, bias ? (const int32_t *)bias->data : NULL);
	p->depth_multiplier = dm;
	free(n->params);
	n->params = p;
	return 0;
}

/* One filter tap for every output channel: acc[ic * dm + m] += (w + w_off) * (x[ic] + x_off).
 * Typed per signedness; the common multiplier-1 case runs in fixed-length blocks that the
 * compiler vectorizes (see KU_BLOCK in kernel_util.h). */
static void mac_taps_s8(int32_t *acc, const int8_t *x, const int8_t *w, int in_ch, int dm,
			int32_t x_off, int32_t w_off)
{
	if (dm == 1) {
		int c = 0;
		for (; c + KU_BLOCK <= in_ch; c += KU_BLOCK)
			for (int j = 0; j < KU_BLOCK; j++)
				acc[c + j] += ((int32_t)w[c + j] + w_off) * ((int32_t)x[c + j] + x_off);
		for (; c < in_ch; c++)
			acc[c] += ((int32_t)w[c] + w_off) * ((int32_t)x[c] + x_off);
		return;
	}
	for (int ic = 0; ic < in_ch; ic++) {
		const int32_t xv = (int32_t)x[ic] + x_off;
		for (int m = 0; m < dm; m++)
			acc[ic * dm + m] += ((int32_t)w[ic * dm + m] + w_off) * xv;
	}
}

static void mac_taps_u8(int32_t *acc, const uint8_t *x, const uint8_t *w, int in_ch, int dm,
			int32_t x_off, int32_t w_off)
{
	if (dm == 1) {
		int c = 0;
		for (; c + KU_BLOCK <= in_ch; c += KU_BLOCK)
			for (int j = 0; j < KU_BLOCK; j++)
				acc[c + j] += ((int32_t)w[c + j] + w_off) * ((int32_t)x[c + j] + x_off);
		for (; c < in_ch; c++)
			acc[c] += ((int32_t)w[c] + w_off) * ((int32_t)x[c] + x_off);
		return;
	}
	for (int ic = 0; ic < in_ch; ic++) {
		const int32_t xv = (int32_t)x[ic] + x_off;
		for (int m = 0; m < dm; m++)
			acc[ic * dm + m] += ((int32_t)w[ic * dm + m] + w_off) * xv;
	}
}

struct dw_job {
	const struct graph *g;
	const struct node *n;
};

/* Output pixels [pix0, pix1) of the job. */
static void dw_fast_range(void *arg, int worker, int pix0, int pix1)
{
	const struct dw_job *job = arg;
	const struct graph *g = job->g;
	const struct node *n = job->n;
	const struct dw_params *p = n->params;
	const struct dw_fast *f = p->fast;
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const struct tensor *bias = n->ninputs > 2 && n->inputs[2] >= 0 ? &g->tensors[n->inputs[2]] : NULL;
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	const int in_h = in->dims[1], in_w = in->dims[2], in_ch = in->dims[3];
	const int out_h = out->dims[1], out_w = out->dims[2], ch = out->dims[3];
	const int kh = filter->dims[1], kw = filter->dims[2], dm = p->depth_multiplier;
	uint8_t *expanded = f->expanded + (size_t)worker * dw_line((size_t)kh * kw * ch);
	const int stride_h = n->opt.depthwise.stride_h, stride_w = n->opt.depthwise.stride_w;
	const int dil_h = n->opt.depthwise.dilation_h, dil_w = n->opt.depthwise.dilation_w;
	int32_t *acc = f->acc + (size_t)worker * dw_acc_stride(ch);
	const struct requant rq = requant_of(&p->q, bias ? (const int32_t *)bias->data : NULL);
	const uint8_t *xs[DW_FAST_MAX_TAPS];
	const int32_t *ws[DW_FAST_MAX_TAPS];
	/* dwpair on a window wholly inside the input (most pixels): tap t is the window's corner
	 * plus tap_off[t], no bounds to test */
	size_t tap_off[DW_FAST_MAX_TAPS];
	for (int ky = 0; ky < kh; ky++)
		for (int kx = 0; kx < kw; kx++)
			tap_off[ky * kw + kx] = ((size_t)ky * dil_h * in_w + (size_t)kx * dil_w) * in_ch;
	const int span_h = (kh - 1) * dil_h, span_w = (kw - 1) * dil_w;
	int batch0 = pix0; /* first pixel whose accumulators wait in acc */
	/* (b, oy, ox) of pix, stepped along instead of divided out per pixel */
	int b = pix0 / (out_h * out_w), oy = pix0 / out_w % out_h, ox = pix0 % out_w;
	for (int pix = pix0; pix < pix1; pix++, ox = ox + 1 < out_w ? ox + 1 : 0) {
		if (pix > pix0 && ox == 0 && ++oy == out_h) {
			oy = 0;
			b++;
		}
		const int in_y0 = oy * stride_h - p->q.pad_h, in_x0 = ox * stride_w - p->q.pad_w;
		int ntaps = 0;
		const bool inside = f->pair && dm == 1 && in_y0 >= 0 && in_y0 + span_h < in_h &&
				    in_x0 >= 0 && in_x0 + span_w < in_w;
		if (inside) {
			const uint8_t *corner = in->data + (((size_t)b * in_h + in_y0) * in_w + in_x0) * in_ch;
			for (ntaps = 0; ntaps < kh * kw; ntaps++)
				xs[ntaps] = corner + tap_off[ntaps];
		}
		for (int ky = 0; ky < kh && !inside; ky++) {
			const int iy = in_y0 + ky * dil_h;
			for (int kx = 0; kx < kw; kx++) {
				const int ix = in_x0 + kx * dil_w;
				if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
					/* dwpair takes every tap, these as zero-point rows */
					if (f->pair) {
						xs[ntaps] = f->zp_row;
						ws[ntaps++] = NULL;
					}
					continue;
				}
				const uint8_t *x = in->data + (((size_t)b * in_h + iy) * in_w + ix) * in_ch;
				if (dm > 1) {
					uint8_t *e = expanded + (size_t)ntaps * ch;
					for (int ic = 0; ic < in_ch; ic++)
						memset(e + (size_t)ic * dm, x[ic], (size_t)dm);
					x = e;
				}
				xs[ntaps] = x;
				ws[ntaps] = f->w + ((size_t)ky * kw + kx) * ch;
				ntaps++;
			}
		}
		if (f->pair)
			f->pair(acc + (size_t)(pix - batch0) * ch, xs, ntaps, ch, is_signed, f->wp, f->init,
				ch / DWPAIR_BLOCK, f->w, p->q.input_offset);
		else
			f->pixel(acc + (size_t)(pix - batch0) * ch, xs, ws, ntaps, ch, is_signed,
				 p->q.input_offset);
		if (pix + 1 - batch0 == DW_BATCH || pix + 1 == pix1) {
			requant_tile_run(f->requant_tile, f->requant, &rq, acc, (size_t)ch,
					 pix + 1 - batch0, ch, is_signed, out->data + (size_t)batch0 * ch,
					 (size_t)ch);
			batch0 = pix + 1;
		}
	}
}

/* Output rows [row0, row1) on the row path (dwrow.h). */
static void dw_row_range(void *arg, int worker, int row0, int row1)
{
	const struct dw_job *job = arg;
	const struct tensor *in = &job->g->tensors[job->n->inputs[0]];
	const struct tensor *out = &job->g->tensors[job->n->outputs[0]];
	const struct dw_params *p = job->n->params;
	dwrow_run(p->fast->row, worker, row0, row1, in->data, out->data, in->type == TT_INT8);
}

static void dw_invoke(struct graph *g, const struct node *n)
{
	const struct dw_params *p = n->params;
	if (p->fast && p->fast->row) {
		struct dw_job job = { .g = g, .n = n };
		const struct tensor *out = &g->tensors[n->outputs[0]];
		dwrow_begin(p->fast->row);
		workers_run_shared(g->kernel_ctx, dw_row_range, &job, out->dims[0] * out->dims[1], 1,
				   (long long)tensor_num_elements(out) * DW_WORK_PER_OUTPUT);
		return;
	}
	if (p->fast) {
		struct dw_job job = { .g = g, .n = n };
		const struct tensor *out = &g->tensors[n->outputs[0]];
		/* units are output pixels (not rows: the 7×7 layers have too few rows to balance) */
		workers_run_shared(g->kernel_ctx, dw_fast_range, &job,
				   out->dims[0] * out->dims[1] * out->dims[2], DW_BATCH,
				   (long long)tensor_num_elements(out) * DW_WORK_PER_OUTPUT);
		return;
	}
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const struct tensor *bias = ku_in(g, n, 2);
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	const int batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], in_ch = in->dims[3];
	const int out_h = out->dims[1], out_w = out->dims[2], out_ch = out->dims[3];
	const int kh = filter->dims[1], kw = filter->dims[2], dm = p->depth_multiplier;
	const int stride_h = n->opt.depthwise.stride_h, stride_w = n->opt.depthwise.stride_w;
	const int dil_h = n->opt.depthwise.dilation_h, dil_w = n->opt.depthwise.dilation_w;
	const int32_t *bias_data = bias ? (const int32_t *)bias->data : NULL;
	const uint8_t *in_data = in->data, *f_data = filter->data;
	uint8_t *out_data = out->data;
	int32_t *acc = p->acc; /* scratch owned by params; only this node's invoke touches it */

	for (int b = 0; b < batches; b++) {
		for (int oy = 0; oy < out_h; oy++) {
			const int in_y0 = oy * stride_h - p->q.pad_h;
			for (int ox = 0; ox < out_w; ox++) {
				const int in_x0 = ox * stride_w - p->q.pad_w;
				/* Each acc[oc] sums at most DW_MAX_TERMS products |x| <= 65025. */
				memset(acc, 0, (size_t)out_ch * sizeof(*acc));
				for (int ky = 0; ky < kh; ky++) {
					const int iy = in_y0 + ky * dil_h;
					if (iy < 0 || iy >= in_h)
						continue;
					for (int kx = 0; kx < kw; kx++) {
						const int ix = in_x0 + kx * dil_w;
						if (ix < 0 || ix >= in_w)
							continue;
						const size_t in_base = (((size_t)b * in_h + iy) * in_w + ix) * in_ch;
						const size_t f_base = ((size_t)ky * kw + kx) * out_ch;
						if (is_signed)
							mac_taps_s8(acc, (const int8_t *)in_data + in_base,
								    (const int8_t *)f_data + f_base, in_ch, dm,
								    p->q.input_offset, p->q.filter_offset);
						else
							mac_taps_u8(acc, in_data + in_base, f_data + f_base, in_ch, dm,
								    p->q.input_offset, p->q.filter_offset);
					}
				}
				const size_t out_base = (((size_t)b * out_h + oy) * out_w + ox) * out_ch;
				for (int oc = 0; oc < out_ch; oc++)
					ku_store8(is_signed, out_data, out_base + oc,
						  ku_conv_stage_out(&p->q, bias_data, oc, acc[oc]));
			}
		}
	}
}

const struct op_kernel op_depthwise_conv_2d = {
	.op = OP_DEPTHWISE_CONV_2D,
	.name = "DEPTHWISE_CONV_2D",
	.max_version = 6,
	.prepare = dw_prepare,
	.invoke = dw_invoke,
};
