/* hard_swish.c — HARD_SWISH on int8/uint8: x * relu6(x + 3) / 6, in the int16 fixed-point
 * scheme of TFLite 2.8's reference_ops::HardSwish (which both resolvers use for 8-bit types).
 *
 * The input is moved to a "hires" scale (×128), multiplied once towards the output scale and
 * once towards a "reluish" scale where 3.0 maps to 32768; the reluish value becomes a [0, 1]
 * factor and the final product is shifted down to the output scale. The multipliers are derived
 * in float then cut to int16 as TFLite's HardSwishPrepare does, and the saturation steps of the
 * left-shift case are kept in the same order, since they decide the last bit. */
#include <errno.h>
#include <stdlib.h>

#include "inference/ops/kernel_util.h"
#include "inference/ops/ops.h"
#include "inference/quant.h"

struct hard_swish_params {
	int count;
	int32_t in_zp, out_zp, qmin, qmax;
	int16_t out_multiplier, reluish_multiplier;
	int out_exponent, reluish_exponent;
};

static int hard_swish_prepare(struct graph *g, struct node *n, char *err, size_t errlen)
{
	struct tensor *in, *out;
	int r = ku_prepare_unary(g, n, &in, &out, err, errlen);
	if (r < 0)
		return r;
	struct hard_swish_params *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	const float hires_input_scale = (1.0f / 128.0f) * in->scale;
	const float reluish_scale = 3.0f / 32768.0f;
	const float out_real = hires_input_scale / out->scale;
	const float reluish_real = hires_input_scale / reluish_scale;
	int32_t m32;
	if (q_quantize_multiplier((double)out_real, &m32, &p->out_exponent) < 0 || p->out_exponent > 0 ||
	    p->out_exponent < -15) {
		free(p);
		return ku_fail(err, errlen, n, "input/output scales %g/%g out of range",
			       (double)in->scale, (double)out->scale);
	}
	p->out_multiplier = q_downscale_multiplier_to_int16(m32);
	if (q_quantize_multiplier((double)reluish_real, &m32, &p->reluish_exponent) < 0 ||
	    p->reluish_exponent < -15 || p->reluish_exponent > 15) {
		free(p);
		return ku_fail(err, errlen, n, "input scale %g out of range", (double)in->scale);
	}
	p->reluish_multiplier = q_downscale_multiplier_to_int16(m32);
	p->count = tensor_num_elements(in);
	p->in_zp = in->zero_point;
	p->out_zp = out->zero_point;
	q_type_range(out->type, &p->qmin, &p->qmax);
	free(n->params);
	n->params = p;
	return 0;
}

static int32_t hard_swish_one(const struct hard_swish_params *p, int32_t x)
{
	/* |x - zp| <= 255, so ×128 stays within int16 (<= 32640). */
	const int16_t in_hires = (int16_t)((x - p->in_zp) * 128);
	const int16_t in_on_preshift_out = q_srdhm16(in_hires, p->out_multiplier);
	int16_t reluish = in_hires;
	if (p->reluish_exponent > 0)
		reluish = q_saturating_left_shift16(reluish, p->reluish_exponent - 1);
	reluish = q_srdhm16(reluish, p->reluish_multiplier);
	if (p->reluish_exponent > 0)
		reluish = q_saturating_left_shift16(reluish, 1);
	if (p->reluish_exponent < 0)
		reluish = q_rounding_divide_by_pot16(reluish, -p->reluish_exponent);
	/* [-1, 1] → [0, 1] in Q0.15. */
	reluish = (int16_t)((reluish + (1 << 15)) >> 1);
	const int16_t preshift_out = q_sdhm16(reluish, in_on_preshift_out);
	/* TFLite adds the zero point in int16 and clamps afterwards; keep its wrap (only reachable
	 * with an output scale far below the input's) so even that corner matches. */
	const int32_t shifted = q_rounding_divide_by_pot16(preshift_out, -p->out_exponent) + p->out_zp;
	const int16_t v = (int16_t)((int32_t)(((uint32_t)shifted & 0xffffu) ^ 0x8000u) - 32768);
	return q_clamp(v, p->qmin, p->qmax);
}

static void hard_swish_invoke(struct graph *g, const struct node *n)
{
	const struct hard_swish_params *p = n->params;
	const struct tensor *in = &g->tensors[n->inputs[0]];
	struct tensor *out = &g->tensors[n->outputs[0]];
	if (in->type == TT_INT8) {
		const int8_t *src = (const int8_t *)in->data;
		int8_t *dst = (int8_t *)out->data;
		for (int i = 0; i < p->count; i++)
			dst[i] = (int8_t)hard_swish_one(p, src[i]);
	} else {
		for (int i = 0; i < p->count; i++)
			out->data[i] = (uint8_t)hard_swish_one(p, in->data[i]);
	}
}

const struct op_kernel op_hard_swish = {
	.op = OP_HARD_SWISH,
	.name = "HARD_SWISH",
	.max_version = 1,
	.prepare = hard_swish_prepare,
	.invoke = hard_swish_invoke,
};
