/* quant.h — the integer arithmetic every quantized kernel shares, bit-exact with TensorFlow Lite
 * 2.8 (kernels/internal/common.h, quantization_util.cc, kernel_util.cc) and gemmlowp's fixed-point
 * library that TFLite's reference softmax uses.
 *
 * Why one place: TFLite's results depend on the exact rounding of every step (round-half-away
 * when a multiplier is derived, round-half-up-with-a-twist in the doubling high multiply,
 * round-half-away in the power-of-two divide). Getting one of them subtly wrong shifts outputs by
 * 1 LSB somewhere in a 50-layer network, so each is written once, tested in tests/test_quant.c,
 * and used by every kernel.
 *
 * Signed overflow: TFLite's C++ relies on two's-complement wrap in a few places (x << shift in
 * MultiplyByQuantizedMultiplier when the multiplier is > 1). We reproduce the wrap through
 * unsigned arithmetic, which is defined in C, instead of invoking UB.
 *
 * The per-element helpers are static inline: they sit in the innermost loops. */
#ifndef CAMCLASS_INFERENCE_QUANT_H
#define CAMCLASS_INFERENCE_QUANT_H

#include <stdint.h>

#include "inference/graph.h"

/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b*2 + 2^31 rounding nudge) >> 32, saturating the
 * single overflow case INT32_MIN*INT32_MIN. The nudge is 2^30 for ab >= 0, 1-2^30 otherwise, and
 * the division truncates toward zero: that is TFLite's rounding, not round-half-even. */
static inline int32_t q_srdhm(int32_t a, int32_t b)
{
	if (a == b && a == INT32_MIN)
		return INT32_MAX;
	int64_t ab = (int64_t)a * (int64_t)b;
	int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
	return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero; 0 <= exponent <= 31. */
static inline int32_t q_rounding_divide_by_pot(int32_t x, int exponent)
{
	const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
	const int32_t remainder = x & mask;
	const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^left_shift with two's-complement wrap, as TFLite's `x * (1 << left_shift)` behaves. */
static inline int32_t q_shl_wrap(int32_t x, int left_shift)
{
	return (int32_t)((uint32_t)x << left_shift);
}

/* TFLite MultiplyByQuantizedMultiplier (double rounding, the 2.8 default): shift > 0 shifts left
 * before the high multiply, shift < 0 divides after it. */
static inline int32_t q_mul_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
	int left_shift = shift > 0 ? shift : 0;
	int right_shift = shift > 0 ? 0 : -shift;
	return q_rounding_divide_by_pot(q_srdhm(q_shl_wrap(x, left_shift), multiplier), right_shift);
}

/* TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp: left_shift <= 0. */
static inline int32_t q_mul_by_quantized_multiplier_smaller_than_one(int32_t x, int32_t multiplier,
								    int left_shift)
{
	return q_rounding_divide_by_pot(q_srdhm(x, multiplier), -left_shift);
}

/* TFLite MultiplyByQuantizedMultiplierGreaterThanOne: left_shift >= 0. */
static inline int32_t q_mul_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier,
								    int left_shift)
{
	return q_srdhm(q_shl_wrap(x, left_shift), multiplier);
}

static inline int32_t q_clamp(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) or 0.
 * 0 gives (0, 0); |real| < ~2^-31 is flushed to (0, 0) like TFLite. Returns -EINVAL for values
 * that are not finite or too large to represent (TFLite aborts there). */
int q_quantize_multiplier(double real, int32_t *ret_multiplier, int *ret_shift);
/* QuantizeMultiplierSmallerThanOneExp: 0 < real < 1, ret_left_shift <= 0. -EINVAL otherwise. */
int q_quantize_multiplier_smaller_than_one(double real, int32_t *ret_multiplier,
					   int *ret_left_shift);
/* QuantizeMultiplierGreaterThanOne: real > 1, ret_left_shift >= 0. -EINVAL otherwise. */
int q_quantize_multiplier_greater_than_one(double real, int32_t *ret_multiplier,
					   int *ret_left_shift);

/* TFLite's round(): half away from zero (std::round). */
float q_round_f(float x);

/* Representable range of an 8-bit quantized type: int8 [-128,127], uint8 [0,255]. -EINVAL for
 * other types. */
int q_type_range(enum tensor_type t, int32_t *ret_min, int32_t *ret_max);

/* CalculateActivationRangeQuantized: the clamp range of a fused activation on an output with
 * this type, scale and zero point (quantize(f) = zp + (int)round(f / scale) in float).
 * -EINVAL for TANH/SIGN_BIT or unknown values, or a non-8-bit type. */
int q_activation_range(enum activation act, enum tensor_type t, float scale, int32_t zero_point,
		       int32_t *ret_min, int32_t *ret_max);
const char *q_activation_name(enum activation act);

/* --- gemmlowp fixed point, as TFLite's reference softmax uses it ------------------------------
 * Values are raw int32 with a stated number of integer bits: Q5.26 means 5 integer bits,
 * 26 fractional bits (and a sign bit). */

/* exp(a) for a <= 0 given in Q5.26; result in Q0.31 (gemmlowp exp_on_negative_values). */
int32_t q_exp_on_negative_values_q5(int32_t a);
/* 1 / (1 + x) for x in [0, 1) given in Q0.31; result in Q0.31
 * (gemmlowp one_over_one_plus_x_for_x_in_0_1). */
int32_t q_one_over_one_plus_x(int32_t x);
/* TFLite GetReciprocal: 1/x for x > 0 in Q(x_integer_digits); the result is a Q0.31 value to be
 * read as scaled by 2^-ret_num_bits_over_unit. */
int32_t q_get_reciprocal(int32_t x, int x_integer_digits, int *ret_num_bits_over_unit);
/* TFLite PreprocessSoftmaxScaling: multiplier and left shift that rescale an input difference to
 * Q(input_integer_bits) with beta and the input scale folded in. */
int q_preprocess_softmax_scaling(double beta, double input_scale, int input_integer_bits,
				 int32_t *ret_multiplier, int *ret_left_shift);
/* TFLite CalculateInputRadius (total_signed_bits 31). */
int q_calculate_input_radius(int input_integer_bits, int input_left_shift);

/* --- int16 fixed point (HARD_SWISH) --------------------------------------------------------- */
int16_t q_srdhm16(int16_t a, int16_t b);               /* SaturatingRoundingDoublingHighMul */
int16_t q_sdhm16(int16_t a, int16_t b);                /* SaturatingDoublingHighMul (truncating) */
int16_t q_rounding_divide_by_pot16(int16_t x, int exponent);
int16_t q_saturating_left_shift16(int16_t x, int amount);
int16_t q_downscale_multiplier_to_int16(int32_t multiplier); /* DownScaleInt32ToInt16Multiplier */

#endif
