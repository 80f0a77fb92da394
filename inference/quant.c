/* quant.c — multiplier derivation, activation ranges and gemmlowp fixed-point functions, written
 * to reproduce TensorFlow Lite 2.8's reference integer arithmetic bit for bit (see quant.h).
 *
 * The fixed-point functions keep gemmlowp's structure (Taylor step around -1/8, barrel shifter
 * over the integer bits, three Newton-Raphson steps) because the exact sequence of roundings is
 * the specification: a mathematically better exp would disagree with TFLite in the last bit. */
#include "inference/quant.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>

int q_quantize_multiplier(double real, int32_t *ret_multiplier, int *ret_shift)
{
	if (!isfinite(real))
		return -EINVAL;
	if (real == 0.0) {
		*ret_multiplier = 0;
		*ret_shift = 0;
		return 0;
	}
	int shift;
	double q = frexp(real, &shift);
	int64_t q_fixed = (int64_t)round(q * (double)(1LL << 31));
	if (q_fixed == (1LL << 31)) {
		q_fixed /= 2;
		shift++;
	}
	if (q_fixed > INT32_MAX || q_fixed < -(int64_t)INT32_MAX || shift > 31)
		return -EINVAL;
	/* Below 2^-31 every product would shift out entirely: TFLite flushes to zero. */
	if (shift < -31) {
		shift = 0;
		q_fixed = 0;
	}
	*ret_multiplier = (int32_t)q_fixed;
	*ret_shift = shift;
	return 0;
}

int q_quantize_multiplier_smaller_than_one(double real, int32_t *ret_multiplier,
					   int *ret_left_shift)
{
	int32_t m;
	int shift;
	if (!(real > 0.0 && real < 1.0))
		return -EINVAL;
	int r = q_quantize_multiplier(real, &m, &shift);
	if (r < 0)
		return r;
	if (shift > 0)
		return -EINVAL;
	*ret_multiplier = m;
	*ret_left_shift = shift;
	return 0;
}

int q_quantize_multiplier_greater_than_one(double real, int32_t *ret_multiplier,
					   int *ret_left_shift)
{
	int32_t m;
	int shift;
	if (!(real > 1.0))
		return -EINVAL;
	int r = q_quantize_multiplier(real, &m, &shift);
	if (r < 0)
		return r;
	if (shift < 0)
		return -EINVAL;
	*ret_multiplier = m;
	*ret_left_shift = shift;
	return 0;
}

float q_round_f(float x)
{
	return roundf(x);
}

int q_type_range(enum tensor_type t, int32_t *ret_min, int32_t *ret_max)
{
	switch (t) {
	case TT_INT8:
		*ret_min = INT8_MIN;
		*ret_max = INT8_MAX;
		return 0;
	case TT_UINT8:
		*ret_min = 0;
		*ret_max = UINT8_MAX;
		return 0;
	default:
		return -EINVAL;
	}
}

/* zp + (int)round(f / scale), all in float like TFLite's lambda. */
static int32_t quantize_act_bound(float f, float scale, int32_t zero_point)
{
	return zero_point + (int32_t)q_round_f(f / scale);
}

int q_activation_range(enum activation act, enum tensor_type t, float scale, int32_t zero_point,
		       int32_t *ret_min, int32_t *ret_max)
{
	int32_t qmin, qmax, lo, hi;
	if (q_type_range(t, &qmin, &qmax) < 0 || !(scale > 0.0f) || !isfinite(scale))
		return -EINVAL;
	switch (act) {
	case ACT_NONE:
		lo = qmin;
		hi = qmax;
		break;
	case ACT_RELU:
		lo = quantize_act_bound(0.0f, scale, zero_point);
		lo = lo > qmin ? lo : qmin;
		hi = qmax;
		break;
	case ACT_RELU6:
		lo = quantize_act_bound(0.0f, scale, zero_point);
		lo = lo > qmin ? lo : qmin;
		hi = quantize_act_bound(6.0f, scale, zero_point);
		hi = hi < qmax ? hi : qmax;
		break;
	case ACT_RELU_N1_TO_1:
		lo = quantize_act_bound(-1.0f, scale, zero_point);
		lo = lo > qmin ? lo : qmin;
		hi = quantize_act_bound(1.0f, scale, zero_point);
		hi = hi < qmax ? hi : qmax;
		break;
	default:
		return -EINVAL;
	}
	*ret_min = lo;
	*ret_max = hi;
	return 0;
}

const char *q_activation_name(enum activation act)
{
	switch (act) {
	case ACT_NONE: return "NONE";
	case ACT_RELU: return "RELU";
	case ACT_RELU_N1_TO_1: return "RELU_N1_TO_1";
	case ACT_RELU6: return "RELU6";
	case ACT_TANH: return "TANH";
	case ACT_SIGN_BIT: return "SIGN_BIT";
	default: return "UNKNOWN";
	}
}

/* --- gemmlowp fixed point ------------------------------------------------------------------- */

/* Fixed-point add/sub wrap like gemmlowp's raw int32 arithmetic; unsigned keeps that defined. */
static int32_t fx_add(int32_t a, int32_t b)
{
	return (int32_t)((uint32_t)a + (uint32_t)b);
}

static int32_t fx_sub(int32_t a, int32_t b)
{
	return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* SaturatingRoundingMultiplyByPOT with a positive exponent: a saturating left shift. */
static int32_t fx_sat_shl(int32_t x, int exponent)
{
	const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
	if (x > threshold)
		return INT32_MAX;
	if (x < -threshold)
		return INT32_MIN;
	return q_shl_wrap(x, exponent);
}

/* gemmlowp RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
static int32_t fx_rounding_half_sum(int32_t a, int32_t b)
{
	int64_t sum = (int64_t)a + (int64_t)b;
	int64_t sign = sum >= 0 ? 1 : -1;
	return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor expansion around -1/8. */
static int32_t exp_on_interval_neg_quarter_to_0(int32_t a)
{
	const int32_t exp_minus_one_eighth = 1895147668;   /* exp(-1/8) in Q0.31 */
	const int32_t one_third = 715827883;               /* 1/3 in Q0.31 */
	int32_t x = fx_add(a, 1 << 28);                    /* x = a + 1/8 */
	int32_t x2 = q_srdhm(x, x);
	int32_t x3 = q_srdhm(x2, x);
	int32_t x4 = q_srdhm(x2, x2);
	int32_t x4_over_4 = q_rounding_divide_by_pot(x4, 2);
	int32_t poly = q_rounding_divide_by_pot(
		fx_add(q_srdhm(fx_add(x4_over_4, x3), one_third), x2), 1);
	return fx_add(exp_minus_one_eighth, q_srdhm(exp_minus_one_eighth, fx_add(x, poly)));
}

int32_t q_exp_on_negative_values_q5(int32_t a)
{
	enum { integer_bits = 5, fractional_bits = 31 - integer_bits };
	/* exp(-2^k) in Q0.31 for k = -2..4, gemmlowp's barrel-shifter constants. */
	static const int32_t exp_neg_pow2[] = {
		1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
	};
	const int32_t one_quarter = 1 << (fractional_bits - 2);
	const int32_t mask = one_quarter - 1;
	int32_t a_mod_quarter_minus_quarter = fx_sub(a & mask, one_quarter);
	int32_t result = exp_on_interval_neg_quarter_to_0(fx_sat_shl(a_mod_quarter_minus_quarter,
								     integer_bits));
	int32_t remainder = fx_sub(a_mod_quarter_minus_quarter, a);
	for (int k = -2; k < integer_bits; k++) {
		int shift = fractional_bits + k;
		if (remainder & (int32_t)(1u << shift))
			result = q_srdhm(result, exp_neg_pow2[k + 2]);
	}
	if (a == 0)
		result = INT32_MAX; /* One() in Q0.31 */
	return result;
}

int32_t q_one_over_one_plus_x(int32_t x)
{
	/* Newton-Raphson on the half denominator d = (1 + x) / 2, in Q2.29. */
	const int32_t c48_over_17 = 1515870810;
	const int32_t cneg32_over_17 = -1010580540;
	const int32_t one_q2 = 1 << 29;
	int32_t half_denominator = fx_rounding_half_sum(x, INT32_MAX);
	int32_t est = fx_add(c48_over_17, q_srdhm(half_denominator, cneg32_over_17));
	for (int i = 0; i < 3; i++) {
		int32_t half_denominator_times_est = q_srdhm(half_denominator, est);
		int32_t one_minus = fx_sub(one_q2, half_denominator_times_est);
		est = fx_add(est, fx_sat_shl(q_srdhm(est, one_minus), 2));
	}
	/* est is 1/d = 2/(1+x) in Q2.29; as Q1.30 the same raw is 1/(1+x); rescale to Q0.31. */
	return fx_sat_shl(est, 1);
}

int32_t q_get_reciprocal(int32_t x, int x_integer_digits, int *ret_num_bits_over_unit)
{
	int headroom_plus_one = x == 0 ? 32 : __builtin_clz((uint32_t)x);
	*ret_num_bits_over_unit = x_integer_digits - headroom_plus_one;
	int32_t shifted_sum_minus_one =
		(int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
	return q_one_over_one_plus_x(shifted_sum_minus_one);
}

int q_preprocess_softmax_scaling(double beta, double input_scale, int input_integer_bits,
				 int32_t *ret_multiplier, int *ret_left_shift)
{
	double real = beta * input_scale * (double)(1LL << (31 - input_integer_bits));
	double cap = (double)(1LL << 31) - 1.0;
	if (real > cap)
		real = cap;
	return q_quantize_multiplier_greater_than_one(real, ret_multiplier, ret_left_shift);
}

int q_calculate_input_radius(int input_integer_bits, int input_left_shift)
{
	const int total_signed_bits = 31;
	double max_input_rescaled = 1.0 * ((1 << input_integer_bits) - 1) *
				    (double)(1LL << (total_signed_bits - input_integer_bits)) /
				    (double)(1LL << input_left_shift);
	return (int)floor(max_input_rescaled);
}

/* --- int16 ------------------------------------------------------------------------------------ */

int16_t q_srdhm16(int16_t a, int16_t b)
{
	if (a == b && a == INT16_MIN)
		return INT16_MAX;
	int32_t ab = (int32_t)a * (int32_t)b;
	int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
	return (int16_t)((ab + nudge) / (1 << 15));
}

int16_t q_sdhm16(int16_t a, int16_t b)
{
	if (a == b && a == INT16_MIN)
		return INT16_MAX;
	int32_t ab = (int32_t)a * (int32_t)b;
	return (int16_t)(ab / (1 << 15));
}

int16_t q_rounding_divide_by_pot16(int16_t x, int exponent)
{
	const int16_t mask = (int16_t)((1 << exponent) - 1);
	const int16_t remainder = (int16_t)(x & mask);
	const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
	return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

int16_t q_saturating_left_shift16(int16_t x, int amount)
{
	int32_t r = (int32_t)x * (1 << amount);
	return (int16_t)q_clamp(r, INT16_MIN, INT16_MAX);
}

int16_t q_downscale_multiplier_to_int16(int32_t multiplier)
{
	const int32_t rounding_offset = 1 << 15;
	if (multiplier >= INT32_MAX - rounding_offset)
		return INT16_MAX;
	return (int16_t)((multiplier + rounding_offset) >> 16);
}
