/* float_conv.c — CONV_2D and DEPTHWISE_CONV_2D on float32, as TFLite 2.8's reference_ops::Conv
 * and reference_ops::DepthwiseConv compute them: for each output value the sum over the filter
 * window (rows, columns, input channels in that order) of input × filter, then + bias, then the
 * fused activation's clamp. Padding and output size are TFLite's (ku_padding, ku_out_size).
 *
 * The filter and bias must be float32 constants by the time prepare runs: fp16 or int8
 * (dynamic-range) weights are dequantized at load by the engine (engine_fold.c).
 *
 * CONV_2D runs on the float GEMM (fast/fgemm.h): prepare packs the filter into its channel blocks
 * and picks the kernel for this CPU; invoke walks the output pixels in chunks of FCONV_CHUNK,
 * fills a table of one pointer per pixel and tap — a window row, or a window cell where
 * dilation_w > 1 — into the input, or at a run of zeros for a tap in the padding (a row crossing
 * the left/right padding is copied, zero-filled), and hands the chunk to the GEMM. Chunks
 * are shared among the workers of g->kernel_ctx. Each sum still adds its terms in the reference
 * order (padding cells add exact zeros); the SIMD kernels' fused multiply-add rounds differently.
 * DEPTHWISE_CONV_2D updates a row of output-channel sums per window cell, whose innermost loop
 * runs over contiguous channels and is vectorized by the compiler. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/ops/fast/fgemm.h"
#include "inference/ops/fast/workers.h"
#include "inference/ops/float_util.h"
#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"

/* Output pixels per GEMM call: a multiple of every kernel's row tile (4, 6, 8, 12), small enough
 * that the pointer table stays in L1, large enough that a layer has a few chunks per worker. */
#define FCONV_CHUNK 48
/* With dilation_w 1 the kw cells of a window row are one run of kw*ic floats in the input, so
 * the GEMM takes a window row as one tap (longer inner loops, fewer pointers: ResNet8's first
 * layer, 3 input channels: 1.8× faster). A row that crosses the left or right padding is copied,
 * zero-filled, into per-worker scratch — used when that scratch stays below this size. */
#define FCONV_ROWS_MAX_BYTES (256 * 1024)

struct fconv_params {
	int pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, depth_multiplier;
	float act_min, act_max;
	/* CONV_2D (all after the struct, NULL for DEPTHWISE_CONV_2D) */
	struct fgemm_kernel kern;
	bool row_taps;        /* a tap is a window row of kw*ic floats, else a cell of ic */
	int ntaps, kc;        /* the GEMM's view: kh taps of kw*ic, or kh*kw taps of ic */
	const float **ptrs;   /* nworkers × FCONV_CHUNK × ntaps tap pointers */
	float *packed_w;      /* fgemm_pack_b of the filter, [oc][kh*kw*ic] */
	float *packed_bias;   /* fgemm_pack_bias */
	float *zeros;         /* kc zeros: what a tap entirely in the padding reads */
	float *rows;          /* row_taps: nworkers × FCONV_CHUNK × kh × kc scratch, else NULL */
	float *acc;           /* DEPTHWISE_CONV_2D: oc running sums of one output pixel */
};

/* acc[0..n) += x[0..n) · w[0..n): blocks of FU_BLOCK with a fixed-length inner loop so that GCC
 * vectorizes it at -O2; each acc[o] still adds its terms in the reference order. */
#define FU_BLOCK 8

static inline void mul_acc(float *acc, const float *x, const float *w, int n)
{
	int o = 0;
	for (; o + FU_BLOCK <= n; o += FU_BLOCK)
		for (int j = 0; j < FU_BLOCK; j++)
			acc[o + j] += x[o + j] * w[o + j];
	for (; o < n; o++)
		acc[o] += x[o] * w[o];
}

static int fconv_common(struct graph *g, struct node *n, bool dw, struct fconv_params *p,
			struct tensor **ret_in, struct tensor **ret_filter, struct tensor **ret_bias,
			struct tensor **ret_out, char *err, size_t errlen)
{
	int r = ku_check_arity(n, 2, 3, err, errlen);
	if (r < 0)
		return r;
	struct tensor *in = ku_in(g, n, 0), *filter = ku_in(g, n, 1), *bias = ku_in(g, n, 2);
	struct tensor *out = ku_out(g, n, 0);
	if (!in || !filter || !out)
		return ku_fail(err, errlen, n, "tensor index out of range");
	if ((r = fu_check_f32(n, in, "input", err, errlen)) < 0 ||
	    (r = fu_check_f32(n, filter, "filter", err, errlen)) < 0 ||
	    (r = fu_check_f32(n, out, "output", err, errlen)) < 0 ||
	    (r = ku_check_const(n, filter, "filter", err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, in, "input", 4, err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, filter, "filter", 4, err, errlen)) < 0)
		return r;
	const enum padding padding = dw ? n->opt.depthwise.padding : n->opt.conv.padding;
	p->stride_h = dw ? n->opt.depthwise.stride_h : n->opt.conv.stride_h;
	p->stride_w = dw ? n->opt.depthwise.stride_w : n->opt.conv.stride_w;
	p->dil_h = dw ? n->opt.depthwise.dilation_h : n->opt.conv.dilation_h;
	p->dil_w = dw ? n->opt.depthwise.dilation_w : n->opt.conv.dilation_w;
	const int out_ch = dw ? filter->dims[3] : filter->dims[0];
	const int kh = filter->dims[1], kw = filter->dims[2];
	if (dw) {
		if (filter->dims[0] != 1)
			return ku_fail(err, errlen, n, "filter dim 0 is %d, expected 1", filter->dims[0]);
		if (in->dims[3] < 1 || out_ch % in->dims[3] != 0)
			return ku_fail(err, errlen, n, "%d output channels are not a multiple of %d input channels",
				       out_ch, in->dims[3]);
		p->depth_multiplier = out_ch / in->dims[3];
	} else if (filter->dims[3] != in->dims[3]) {
		return ku_fail(err, errlen, n, "filter has %d input channels, input has %d", filter->dims[3],
			       in->dims[3]);
	}
	const int out_h = ku_out_size(padding, in->dims[1], kh, p->stride_h, p->dil_h);
	const int out_w = ku_out_size(padding, in->dims[2], kw, p->stride_w, p->dil_w);
	const int32_t want[4] = { in->dims[0], out_h, out_w, out_ch };
	if ((r = ku_check_out_shape(n, out, 4, want, err, errlen)) < 0)
		return r;
	if (bias) {
		if ((r = fu_check_f32(n, bias, "bias", err, errlen)) < 0 ||
		    (r = ku_check_const(n, bias, "bias", err, errlen)) < 0)
			return r;
		if (tensor_num_elements(bias) != out_ch)
			return ku_fail(err, errlen, n, "bias has %d elements, expected %d", tensor_num_elements(bias),
				       out_ch);
	}
	r = fu_activation_range(n, dw ? n->opt.depthwise.activation : n->opt.conv.activation, &p->act_min,
				&p->act_max, err, errlen);
	if (r < 0)
		return r;
	p->pad_h = ku_padding(p->stride_h, p->dil_h, in->dims[1], kh, out_h);
	p->pad_w = ku_padding(p->stride_w, p->dil_w, in->dims[2], kw, out_w);
	*ret_in = in;
	*ret_filter = filter;
	*ret_bias = bias;
	*ret_out = out;
	return 0;
}

static int dw_prepare(struct node *n, const struct fconv_params *tmp, int oc)
{
	struct fconv_params *p = malloc(sizeof(*p) + (size_t)oc * sizeof(float));
	if (!p)
		return -ENOMEM;
	*p = *tmp;
	p->acc = (float *)(void *)(p + 1);
	free(n->params);
	n->params = p;
	return 0;
}

static int prepare(struct graph *g, struct node *n, bool dw, char *err, size_t errlen)
{
	struct fconv_params tmp = { 0 };
	struct tensor *in = NULL, *filter = NULL, *bias = NULL, *out = NULL;
	int r = fconv_common(g, n, dw, &tmp, &in, &filter, &bias, &out, err, errlen);
	if (r < 0)
		return r;
	const int oc = out->dims[3], kh = filter->dims[1], kw = filter->dims[2], ic = in->dims[3];
	if (dw)
		return dw_prepare(n, &tmp, oc);
	/* Sizes in size_t from positive int dims; the products are checked before they are used. */
	const size_t nworkers = (size_t)workers_count(g->kernel_ctx);
	if (ic < 1 || (size_t)kh * kw > (size_t)INT32_MAX / (size_t)ic ||
	    (size_t)kh * kw > SIZE_MAX / sizeof(float *) / FCONV_CHUNK / nworkers)
		return ku_fail(err, errlen, n, "filter %dx%dx%dx%d too large", oc, kh, kw, ic);
	const int k = kh * kw * ic;
	const size_t wt_n = fgemm_packed_floats(oc, k), bias_n = fgemm_bias_floats(oc);
	if (wt_n == 0 || bias_n == 0)
		return ku_fail(err, errlen, n, "filter %dx%dx%dx%d too large", oc, kh, kw, ic);
	/* k <= INT32_MAX, so the row scratch (<= nworkers * FCONV_CHUNK * k floats) is compared
	 * against its limit without overflow */
	tmp.row_taps = tmp.dil_w == 1 && kw > 1 &&
		       (size_t)k <= FCONV_ROWS_MAX_BYTES / sizeof(float) / FCONV_CHUNK / nworkers;
	tmp.ntaps = tmp.row_taps ? kh : kh * kw;
	tmp.kc = tmp.row_taps ? kw * ic : ic;
	const size_t ptr_n = nworkers * FCONV_CHUNK * (size_t)tmp.ntaps;
	const size_t rows_n = tmp.row_taps ? nworkers * FCONV_CHUNK * (size_t)k : 0;
	const size_t float_n = wt_n + bias_n + (size_t)tmp.kc + rows_n;
	if (float_n > (SIZE_MAX - sizeof(struct fconv_params) - ptr_n * sizeof(float *)) / sizeof(float))
		return ku_fail(err, errlen, n, "filter %dx%dx%dx%d too large", oc, kh, kw, ic);
	/* the struct's alignment covers the pointers after it, and the floats after those */
	struct fconv_params *p = malloc(sizeof(*p) + ptr_n * sizeof(float *) + float_n * sizeof(float));
	if (!p)
		return -ENOMEM;
	*p = tmp;
	p->kern = fgemm_select();
	p->ptrs = (const float **)(void *)(p + 1);
	p->packed_w = (float *)(void *)(p->ptrs + ptr_n);
	p->packed_bias = p->packed_w + wt_n;
	p->zeros = p->packed_bias + bias_n;
	p->rows = tmp.row_taps ? p->zeros + tmp.kc : NULL;
	p->acc = NULL;
	/* [oc][kh][kw][ic] is the GEMM's term order in both views */
	fgemm_pack_b(p->packed_w, fu_data(filter), oc, k);
	fgemm_pack_bias(p->packed_bias, bias ? fu_data(bias) : NULL, oc);
	for (int c = 0; c < tmp.kc; c++)
		p->zeros[c] = 0.0f;
	free(n->params);
	n->params = p;
	return 0;
}

static int fconv_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	return prepare(g, n, false, err, errlen);
}

static int fdw_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	return prepare(g, n, true, err, errlen);
}

/* One invoke's geometry, copied into each worker's locals: the build has -fno-strict-aliasing,
 * so the pointer and float stores of the fill would make the compiler reload fields it reads
 * through a pointer (pointer filling took a quarter of ResNet8's time that way). */
struct fconv_job {
	const struct fconv_params *p;
	const float *x, *zeros;
	float *y;
	int ih, iw, ic, oh, ow, oc, kh, kw, pixels;
	int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, ntaps, kc;
	bool row_taps;
};

/* The tap pointers of output pixel (oy, ox) of image xb into pt; window rows that cross the
 * left/right padding are copied into scratch (kh * kc floats, row_taps only). */
static inline void fill_pixel(const struct fconv_job *j, const float *xb, int oy, int ox,
			      const float **pt, float *scratch)
{
	const int ix0 = ox * j->stride_w - j->pad_w, iy0 = oy * j->stride_h - j->pad_h;
	const size_t row_floats = (size_t)j->iw * j->ic;
	if (!j->row_taps) {
		for (int fy = 0; fy < j->kh; fy++) {
			const int iy = iy0 + fy * j->dil_h;
			for (int fx = 0; fx < j->kw; fx++) {
				const int ix = ix0 + fx * j->dil_w;
				const bool inside = iy >= 0 && iy < j->ih && ix >= 0 && ix < j->iw;
				*pt++ = inside ? xb + (size_t)iy * row_floats + (size_t)ix * j->ic : j->zeros;
			}
		}
		return;
	}
	const bool cols_inside = ix0 >= 0 && ix0 + j->kw <= j->iw;
	/* column ix0 of the image's first row; formed only when it lies inside the image */
	const float *first = cols_inside ? xb + (size_t)ix0 * j->ic : NULL;
	if (cols_inside && iy0 >= 0 && iy0 + (j->kh - 1) * j->dil_h < j->ih) {
		/* the whole window inside the image: the common case */
		for (int fy = 0; fy < j->kh; fy++)
			pt[fy] = first + (size_t)(iy0 + fy * j->dil_h) * row_floats;
		return;
	}
	for (int fy = 0; fy < j->kh; fy++) {
		const int iy = iy0 + fy * j->dil_h;
		if (iy < 0 || iy >= j->ih) {
			pt[fy] = j->zeros;
			continue;
		}
		if (cols_inside) {
			pt[fy] = first + (size_t)iy * row_floats;
			continue;
		}
		const float *src = xb + (size_t)iy * row_floats;
		float *row = scratch + (size_t)fy * j->kc;
		for (int fx = 0; fx < j->kw; fx++) {
			const int ix = ix0 + fx;
			if (ix >= 0 && ix < j->iw)
				memcpy(row + (size_t)fx * j->ic, src + (size_t)ix * j->ic, (size_t)j->ic * sizeof(float));
			else
				memset(row + (size_t)fx * j->ic, 0, (size_t)j->ic * sizeof(float));
		}
		pt[fy] = row;
	}
}

/* Chunks [begin, end) of output pixels: the tap pointers of each, then the GEMM. */
static void fconv_range(void *arg, int worker, int begin, int end)
{
	const struct fconv_job j = *(const struct fconv_job *)arg;
	const struct fconv_params *p = j.p;
	const size_t k = (size_t)j.ntaps * j.kc, image = (size_t)j.ih * j.iw * j.ic;
	const float **ptrs = p->ptrs + (size_t)worker * FCONV_CHUNK * j.ntaps;
	float *scratch = p->rows ? p->rows + (size_t)worker * FCONV_CHUNK * k : NULL;
	for (int chunk = begin; chunk < end; chunk++) {
		const int m0 = chunk * FCONV_CHUNK;
		const int rows = j.pixels - m0 < FCONV_CHUNK ? j.pixels - m0 : FCONV_CHUNK;
		int ox = m0 % j.ow, oy = m0 / j.ow % j.oh, bt = m0 / j.ow / j.oh;
		for (int r = 0; r < rows; r++) {
			fill_pixel(&j, j.x + (size_t)bt * image, oy, ox, ptrs + (size_t)r * j.ntaps,
				   scratch ? scratch + (size_t)r * k : NULL);
			if (++ox == j.ow) {
				ox = 0;
				if (++oy == j.oh) {
					oy = 0;
					bt++;
				}
			}
		}
		fgemm_run(&p->kern, rows, j.ntaps, j.kc, ptrs, p->packed_w, j.oc, p->packed_bias,
			  p->act_min, p->act_max, j.y + (size_t)m0 * j.oc, (size_t)j.oc);
	}
}

static void fconv_invoke(struct graph *g, const struct node *n)
{
	const struct fconv_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const struct tensor *out = &g->tensors[n->outputs[0]];
	struct fconv_job job = {
		.p = p, .x = fu_data(in), .zeros = p->zeros, .y = fu_data(out),
		.ih = in->dims[1], .iw = in->dims[2], .ic = in->dims[3],
		.oh = out->dims[1], .ow = out->dims[2], .oc = out->dims[3],
		.kh = filter->dims[1], .kw = filter->dims[2],
		.pixels = out->dims[0] * out->dims[1] * out->dims[2],
		.stride_h = p->stride_h, .stride_w = p->stride_w, .pad_h = p->pad_h, .pad_w = p->pad_w,
		.dil_h = p->dil_h, .dil_w = p->dil_w, .ntaps = p->ntaps, .kc = p->kc,
		.row_taps = p->row_taps,
	};
	const int chunks = (job.pixels + FCONV_CHUNK - 1) / FCONV_CHUNK;
	/* workers_run_shared() counts GEMM multiply-adds; a float one costs about the same */
	const long long work = (long long)job.pixels * job.oc * job.kh * job.kw * job.ic;
	workers_run_shared(g->kernel_ctx, fconv_range, &job, chunks, 1, work);
}

static void fdw_invoke(struct graph *g, const struct node *n)
{
	const struct fconv_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]], *filter = &g->tensors[n->inputs[1]];
	const struct tensor *out = &g->tensors[n->outputs[0]];
	const float *x = fu_data(in), *w = fu_data(filter);
	const float *b = n->ninputs > 2 && n->inputs[2] >= 0 ? fu_data(&g->tensors[n->inputs[2]]) : NULL;
	float *y = fu_data(out), *acc = p->acc;
	const int batches = in->dims[0], ih = in->dims[1], iw = in->dims[2], ic = in->dims[3];
	const int oh = out->dims[1], ow = out->dims[2], oc = out->dims[3];
	const int kh = filter->dims[1], kw = filter->dims[2], dm = p->depth_multiplier;
	for (int bt = 0; bt < batches; bt++)
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				for (int o = 0; o < oc; o++)
					acc[o] = 0.0f;
				for (int fy = 0; fy < kh; fy++) {
					const int iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
					if (iy < 0 || iy >= ih)
						continue;
					for (int fx = 0; fx < kw; fx++) {
						const int ix = ox * p->stride_w - p->pad_w + fx * p->dil_w;
						if (ix < 0 || ix >= iw)
							continue;
						const float *xr = x + (((size_t)bt * ih + iy) * iw + ix) * ic;
						const float *wr = w + ((size_t)fy * kw + fx) * oc;
						if (dm == 1) {
							mul_acc(acc, xr, wr, oc);
							continue;
						}
						for (int c = 0; c < ic; c++)
							for (int m = 0; m < dm; m++)
								acc[c * dm + m] += xr[c] * wr[c * dm + m];
					}
				}
				float *yr = y + (((size_t)bt * oh + oy) * ow + ox) * oc;
				for (int o = 0; o < oc; o++)
					yr[o] = fu_clamp(b ? acc[o] + b[o] : acc[o], p->act_min, p->act_max);
			}
}

const struct op_kernel op_float_conv_2d = {
	.op = OP_CONV_2D,
	.name = "CONV_2D",
	.max_version = 8,
	.prepare = fconv_prepare,
	.invoke = fconv_invoke,
};

const struct op_kernel op_float_depthwise_conv_2d = {
	.op = OP_DEPTHWISE_CONV_2D,
	.name = "DEPTHWISE_CONV_2D",
	.max_version = 7,
	.prepare = fdw_prepare,
	.invoke = fdw_invoke,
};
