/* pool.c — AVERAGE_POOL_2D and MAX_POOL_2D on int8/uint8, following TFLite 2.8's
 * reference_integer_ops::AveragePool/MaxPool and their uint8 twins in reference_ops.
 *
 * Both ops share the window walk; only the reduction differs. The average divides by the number
 * of window cells inside the image (padding cells do not count) and rounds half away from zero
 * with integer division, as TFLite does — no multiplier, because TFLite requires the input and
 * output quantization to be equal (checked here). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

struct pool_params {
	int pad_h, pad_w;
	int32_t act_min, act_max;
};

/* Window cells: filter_h * filter_w <= 2^31 / 255 keeps the int32 sum exact; prepare checks. */
#define POOL_MAX_CELLS (INT32_MAX / 255)

static int pool_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_unary(g, n, &in, &out, err, errlen);
	if (r < 0 || (r = ku_check_ndim(n, in, "input", 4, err, errlen)) < 0 ||
	    (r = ku_check_ndim(n, out, "output", 4, err, errlen)) < 0)
		return r;
	const int fh = n->opt.pool.filter_h, fw = n->opt.pool.filter_w;
	const int sh = n->opt.pool.stride_h, sw = n->opt.pool.stride_w;
	if (n->opt.pool.padding != PAD_SAME && n->opt.pool.padding != PAD_VALID)
		return ku_fail(err, errlen, n, "unknown padding %d", (int)n->opt.pool.padding);
	if (fh < 1 || fw < 1 || sh < 1 || sw < 1)
		return ku_fail(err, errlen, n, "filter %dx%d / stride %dx%d must be >= 1", fh, fw, sh, sw);
	if ((long long)fh * fw > POOL_MAX_CELLS)
		return ku_fail(err, errlen, n, "filter %dx%d too large", fh, fw);
	if (fabsf(in->scale - out->scale) > 1e-6f || in->zero_point != out->zero_point)
		return ku_fail(err, errlen, n, "input quantization (%g, %d) differs from output (%g, %d)",
			       (double)in->scale, (int)in->zero_point, (double)out->scale,
			       (int)out->zero_point);
	const int out_h = ku_out_size(n->opt.pool.padding, in->dims[1], fh, sh, 1);
	const int out_w = ku_out_size(n->opt.pool.padding, in->dims[2], fw, sw, 1);
	const int32_t want[4] = { in->dims[0], out_h, out_w, in->dims[3] };
	if ((r = ku_check_out_shape(n, out, 4, want, err, errlen)) < 0)
		return r;
	struct pool_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (q_activation_range(n->opt.pool.activation, out->type, out->scale, out->zero_point,
			       &p->act_min, &p->act_max) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "unsupported fused activation %s",
			       q_activation_name(n->opt.pool.activation));
	}
	p->pad_h = ku_padding(sh, 1, in->dims[1], fh, out_h);
	p->pad_w = ku_padding(sw, 1, in->dims[2], fw, out_w);
	free(n->params);
	n->params = p;
	return 0;
}

/* Channels accumulated at once: the inner loop walks contiguous channels of one pixel (NHWC),
 * which the compiler vectorizes when the count is this constant (full blocks; -O2's cost model
 * vectorizes no loop that needs a remainder); a fixed block keeps the accumulators on the stack. */
#define POOL_CHANNEL_BLOCK 256

/* acc[c] += or max= the n channels at px: one pixel of the window. */
static inline void pool_add_pixel(int32_t *acc, const uint8_t *px, int n, bool is_signed, bool is_max)
{
	if (is_signed && is_max)
		for (int c = 0; c < n; c++)
			acc[c] = (int8_t)px[c] > acc[c] ? (int8_t)px[c] : acc[c];
	else if (is_signed)
		for (int c = 0; c < n; c++)
			acc[c] += (int8_t)px[c];
	else if (is_max)
		for (int c = 0; c < n; c++)
			acc[c] = px[c] > acc[c] ? px[c] : acc[c];
	else
		for (int c = 0; c < n; c++)
			acc[c] += px[c];
}

static void pool_run(struct graph *g, const struct node *n, bool is_max)
{
	const struct pool_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]], *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	const int batches = in->dims[0], in_h = in->dims[1], in_w = in->dims[2], ch = in->dims[3];
	const int out_h = out->dims[1], out_w = out->dims[2];
	const int fh = n->opt.pool.filter_h, fw = n->opt.pool.filter_w;
	const int sh = n->opt.pool.stride_h, sw = n->opt.pool.stride_w;
	int32_t acc[POOL_CHANNEL_BLOCK];

	for (int b = 0; b < batches; b++) {
		for (int oy = 0; oy < out_h; oy++) {
			const int in_y0 = oy * sh - p->pad_h;
			const int fy0 = in_y0 < 0 ? -in_y0 : 0;
			const int fy1 = fh < in_h - in_y0 ? fh : in_h - in_y0;
			for (int ox = 0; ox < out_w; ox++) {
				const int in_x0 = ox * sw - p->pad_w;
				const int fx0 = in_x0 < 0 ? -in_x0 : 0;
				const int fx1 = fw < in_w - in_x0 ? fw : in_w - in_x0;
				const int count = (fy1 - fy0) * (fx1 - fx0);
				const size_t out_base = (((size_t)b * out_h + oy) * out_w + ox) * ch;
				for (int c0 = 0; c0 < ch; c0 += POOL_CHANNEL_BLOCK) {
					const int nc = ch - c0 < POOL_CHANNEL_BLOCK ? ch - c0 : POOL_CHANNEL_BLOCK;
					const int32_t init = is_max ? (is_signed ? INT8_MIN : 0) : 0;
					for (int c = 0; c < nc; c++)
						acc[c] = init;
					/* Sums of <= POOL_MAX_CELLS values of magnitude <= 255. */
					for (int fy = fy0; fy < fy1; fy++) {
						const size_t row = ((size_t)b * in_h + in_y0 + fy) * in_w;
						for (int fx = fx0; fx < fx1; fx++) {
							const uint8_t *px = in->data + (row + (size_t)(in_x0 + fx)) * ch + c0;
							if (nc == POOL_CHANNEL_BLOCK)
								pool_add_pixel(acc, px, POOL_CHANNEL_BLOCK, is_signed, is_max);
							else
								pool_add_pixel(acc, px, nc, is_signed, is_max);
						}
					}
					for (int c = 0; c < nc; c++) {
						int32_t v = acc[c];
						/* TFLite fails at run time on a window wholly in the padding;
						 * such a window keeps 0 here rather than dividing by zero. */
						if (!is_max && count > 0)
							v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
						v = q_clamp(v, p->act_min, p->act_max);
						ku_store8(is_signed, out->data, out_base + (size_t)c0 + c, v);
					}
				}
			}
		}
	}
}

static void avg_pool_invoke(struct graph *g, const struct node *n)
{
	pool_run(g, n, false);
}

static void max_pool_invoke(struct graph *g, const struct node *n)
{
	pool_run(g, n, true);
}

const struct op_kernel op_average_pool_2d = {
	.op = OP_AVERAGE_POOL_2D,
	.name = "AVERAGE_POOL_2D",
	.max_version = 3,
	.prepare = pool_prepare,
	.invoke = avg_pool_invoke,
};

const struct op_kernel op_max_pool_2d = {
	.op = OP_MAX_POOL_2D,
	.name = "MAX_POOL_2D",
	.max_version = 3,
	.prepare = pool_prepare,
	.invoke = max_pool_invoke,
};
