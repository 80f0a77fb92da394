/* softmax.c — SOFTMAX on int8/uint8 over the last dim, following TFLite 2.8's reference kernel
 * (the BuiltinRefOpResolver path: PreprocessSoftmaxScaling + reference_ops::Softmax in gemmlowp
 * fixed point; the optimized resolver uses a float lookup table instead and differs in the last
 * bit, so this is not that one).
 *
 * Per row: differences to the row maximum are rescaled to Q5.26 with beta and the input scale
 * folded into one multiplier, exponentiated in fixed point (q_exp_on_negative_values_q5), summed
 * in Q12.19, and each exp multiplied by the fixed-point reciprocal of the sum. Differences below
 * diff_min contribute nothing and produce the minimum output, exactly as in TFLite. The output
 * quantization is fixed by the kernel: scale 1/256, zero point at the type's minimum.
 * An 8-bit difference to the maximum takes only 256 values, so prepare tabulates the exponential
 * of each (same function, so the same bits) and invoke only looks them up. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12
#define SOFTMAX_DIFFS 256 /* max - x of two 8-bit values: 0..255 */

struct softmax_params {
	int rows, depth;
	int32_t input_multiplier;
	int input_left_shift;
	int32_t diff_min;
	int32_t exp_of[SOFTMAX_DIFFS]; /* [max - x]: exp in Q0.31, for diffs >= diff_min */
};

/* exp(diff * beta * scale) in Q0.31 for a non-negative distance below the row maximum. */
static int32_t softmax_exp(const struct softmax_params *p, int32_t diff)
{
	int32_t rescaled = q_mul_by_quantized_multiplier_greater_than_one(diff, p->input_multiplier,
									  p->input_left_shift);
	return q_exp_on_negative_values_q5(rescaled);
}

static int softmax_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_take_unary(g, n, &in, &out, err, errlen);
	if (r < 0)
		return r;
	if (in->ndim < 1)
		return ku_fail(err, errlen, n, "input has no dims");
	if ((r = ku_check_out_shape(n, out, in->ndim, in->dims, err, errlen)) < 0)
		return r;
	const int32_t want_zp = out->type == TT_INT8 ? -128 : 0;
	if (out->zero_point != want_zp || fabsf(out->scale - 1.0f / 256) > 0.001f / 256)
		return ku_fail(err, errlen, n, "output quantization (%g, %d) must be (1/256, %d)",
			       (double)out->scale, (int)out->zero_point, (int)want_zp);
	const float beta = n->opt.softmax.beta;
	if (!(beta > 0.0f) || !isfinite(beta))
		return ku_fail(err, errlen, n, "beta %g must be positive", (double)beta);
	struct softmax_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (q_preprocess_softmax_scaling((double)beta, (double)in->scale, SCALED_DIFF_INTEGER_BITS,
					 &p->input_multiplier, &p->input_left_shift) < 0) {
		free(p);
		return ku_fail(err, errlen, n, "beta %g x input scale %g out of range", (double)beta,
			       (double)in->scale);
	}
	p->diff_min = -q_calculate_input_radius(SCALED_DIFF_INTEGER_BITS, p->input_left_shift);
	for (int32_t d = 0; d < SOFTMAX_DIFFS && -d >= p->diff_min; d++)
		p->exp_of[d] = softmax_exp(p, -d);
	p->depth = in->dims[in->ndim - 1];
	p->rows = p->depth > 0 ? tensor_num_elements(in) / p->depth : 0;
	free(n->params);
	n->params = p;
	return 0;
}

static void softmax_invoke(struct graph *g, const struct node *n)
{
	const struct softmax_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	const bool is_signed = in->type == TT_INT8;
	const int32_t qmin = is_signed ? INT8_MIN : 0, qmax = is_signed ? INT8_MAX : UINT8_MAX;

	for (int row = 0; row < p->rows; row++) {
		const size_t base = (size_t)row * p->depth;
		int32_t max = qmin;
		for (int c = 0; c < p->depth; c++) {
			int32_t v = ku_load8(is_signed, in->data, base + c);
			max = v > max ? v : max;
		}
		/* Q12.19 sum of at most depth values each <= 1.0 (2^19 raw): overflows only beyond
		 * 4096 classes of exp(0); TFLite has the same accumulator and the same limit. */
		int32_t sum = 0;
		for (int c = 0; c < p->depth; c++) {
			int32_t diff = ku_load8(is_signed, in->data, base + c) - max;
			if (diff >= p->diff_min)
				sum += q_rounding_divide_by_pot(p->exp_of[-diff], ACCUMULATION_INTEGER_BITS);
		}
		int bits_over_unit;
		const int32_t reciprocal = q_get_reciprocal(sum, ACCUMULATION_INTEGER_BITS, &bits_over_unit);
		const int out_shift = bits_over_unit + 31 - 8;
		for (int c = 0; c < p->depth; c++) {
			int32_t diff = ku_load8(is_signed, in->data, base + c) - max;
			int32_t v = qmin;
			if (diff >= p->diff_min) {
				int32_t e = p->exp_of[-diff];
				/* out_shift exceeds 31 only when the sum passes 2^28 (over 512 values
				 * near the maximum); each share is then < 2^-9 and rounds to 0. */
				int32_t share = out_shift > 31 ? 0 :
					q_rounding_divide_by_pot(q_srdhm(reciprocal, e), out_shift);
				v = share + qmin;
				v = q_clamp(v, qmin, qmax);
			}
			ku_store8(is_signed, out->data, base + c, v);
		}
	}
}

const struct op_kernel op_softmax = {
	.op = OP_SOFTMAX,
	.name = "SOFTMAX",
	.max_version = 2,
	.prepare = softmax_prepare,
	.invoke = softmax_invoke,
};
