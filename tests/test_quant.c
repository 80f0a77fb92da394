/* test_quant.c — inference/quant.c: TFLite 2.8's multiplier derivation and rounding, activation
 * ranges, and the gemmlowp fixed-point functions behind SOFTMAX and HARD_SWISH. Expected values
 * are worked out by hand in the comments (or, for the fixed-point transcendental functions, checked
 * against libm with the tolerance their polynomial/Newton steps allow). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "inference/quant.h"

static void quantize_multiplier_zero_and_powers_of_two(void **state)
{
	(void)state;
	int32_t m = -1;
	int shift = -1;
	assert_int_equal(q_quantize_multiplier(0.0, &m, &shift), 0);
	assert_int_equal(m, 0);
	assert_int_equal(shift, 0);
	/* 1.0 = 0.5 * 2^1 -> 0.5 * 2^31 = 2^30, shift 1 */
	assert_int_equal(q_quantize_multiplier(1.0, &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(shift, 1);
	/* 0.5 = 0.5 * 2^0 */
	assert_int_equal(q_quantize_multiplier(0.5, &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(shift, 0);
	/* 2^-10 = 0.5 * 2^-9 */
	assert_int_equal(q_quantize_multiplier(1.0 / 1024, &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(shift, -9);
}

static void quantize_multiplier_rounds_half_away_and_renormalizes(void **state)
{
	(void)state;
	int32_t m;
	int shift;
	/* 0.75 = 0.75 * 2^0 -> 0.75 * 2^31 = 1610612736 exactly */
	assert_int_equal(q_quantize_multiplier(0.75, &m, &shift), 0);
	assert_int_equal(m, 1610612736);
	assert_int_equal(shift, 0);
	/* 3.0 = 0.75 * 2^2: the > 1 case keeps the same mantissa, shift 2 */
	assert_int_equal(q_quantize_multiplier(3.0, &m, &shift), 0);
	assert_int_equal(m, 1610612736);
	assert_int_equal(shift, 2);
	/* q = 0.5 + 2^-33 (a quarter of a unit above 2^30 in the last place): rounds down to 2^30 */
	assert_int_equal(q_quantize_multiplier(0.5 + ldexp(1, -33), &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	/* q = 0.5 + 2^-32 is exactly half a unit: round() goes away from zero -> 2^30 + 1 */
	assert_int_equal(q_quantize_multiplier(0.5 + ldexp(1, -32), &m, &shift), 0);
	assert_int_equal(m, (1 << 30) + 1);
	/* q = 1 - 2^-33 rounds up to 2^31, which is renormalized to 2^30 with shift + 1 */
	assert_int_equal(q_quantize_multiplier(1.0 - ldexp(1, -33), &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(shift, 1);
	/* negative multipliers keep their sign in the mantissa */
	assert_int_equal(q_quantize_multiplier(-0.5, &m, &shift), 0);
	assert_int_equal(m, -(1 << 30));
	assert_int_equal(shift, 0);
}

static void quantize_multiplier_flushes_tiny_and_refuses_huge(void **state)
{
	(void)state;
	int32_t m = 7;
	int shift = 7;
	/* 2^-40 = 0.5 * 2^-39: shift < -31 is flushed to zero like TFLite */
	assert_int_equal(q_quantize_multiplier(ldexp(1, -40), &m, &shift), 0);
	assert_int_equal(m, 0);
	assert_int_equal(shift, 0);
	/* 2^-31 = 0.5 * 2^-30 is still representable */
	assert_int_equal(q_quantize_multiplier(ldexp(1, -31), &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(shift, -30);
	assert_int_equal(q_quantize_multiplier(ldexp(1, 40), &m, &shift), -EINVAL);
	assert_int_equal(q_quantize_multiplier(NAN, &m, &shift), -EINVAL);
	assert_int_equal(q_quantize_multiplier(INFINITY, &m, &shift), -EINVAL);
	assert_int_equal(q_quantize_multiplier_smaller_than_one(1.5, &m, &shift), -EINVAL);
	assert_int_equal(q_quantize_multiplier_smaller_than_one(0.0, &m, &shift), -EINVAL);
	assert_int_equal(q_quantize_multiplier_smaller_than_one(0.25, &m, &shift), 0);
	assert_int_equal(shift, -1);
	assert_int_equal(q_quantize_multiplier_greater_than_one(0.5, &m, &shift), -EINVAL);
	assert_int_equal(q_quantize_multiplier_greater_than_one(6.0, &m, &shift), 0);
	assert_int_equal(m, 1610612736); /* 6 = 0.75 * 2^3 */
	assert_int_equal(shift, 3);
}

static void srdhm_rounds_and_saturates(void **state)
{
	(void)state;
	/* 2^30 is 0.5 in Q0.31: x * 0.5 with the nudge rounding ties up for ab >= 0 */
	assert_int_equal(q_srdhm(3, 1 << 30), 2);    /* 1.5 -> 2 */
	assert_int_equal(q_srdhm(2, 1 << 30), 1);
	/* for ab < 0 the nudge is 1 - 2^30 and division truncates: -1.5 -> -1 */
	assert_int_equal(q_srdhm(-3, 1 << 30), -1);
	assert_int_equal(q_srdhm(-5, 1 << 30), -2);  /* -2.5 -> -2 */
	assert_int_equal(q_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
	assert_int_equal(q_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1); /* (2^31-1)^2*2/2^32 */
	assert_int_equal(q_srdhm(0, 12345), 0);
}

static void rounding_divide_by_pot_is_half_away_from_zero(void **state)
{
	(void)state;
	assert_int_equal(q_rounding_divide_by_pot(5, 1), 3);    /* 2.5 -> 3 */
	assert_int_equal(q_rounding_divide_by_pot(-5, 1), -3);  /* -2.5 -> -3 */
	assert_int_equal(q_rounding_divide_by_pot(4, 1), 2);
	assert_int_equal(q_rounding_divide_by_pot(-3, 2), -1);  /* -0.75 -> -1 */
	assert_int_equal(q_rounding_divide_by_pot(-2, 2), -1);  /* -0.5 -> -1 */
	assert_int_equal(q_rounding_divide_by_pot(2, 2), 1);    /* 0.5 -> 1 */
	assert_int_equal(q_rounding_divide_by_pot(1, 2), 0);    /* 0.25 -> 0 */
	assert_int_equal(q_rounding_divide_by_pot(77, 0), 77);
	assert_int_equal(q_rounding_divide_by_pot(INT32_MAX, 31), 1);
	assert_int_equal(q_rounding_divide_by_pot(INT32_MIN, 31), -1);
}

static void multiply_by_quantized_multiplier_both_directions(void **state)
{
	(void)state;
	/* 0.375 = 0.75 * 2^-1: m = 1610612736, shift -1. 100 * 0.375 = 37.5 -> 38 */
	assert_int_equal(q_mul_by_quantized_multiplier(100, 1610612736, -1), 38);
	/* -37.5: SRDHM(-100, 0.75) = -75 exactly, then -75 / 2 = -37.5 -> -38 (away from zero) */
	assert_int_equal(q_mul_by_quantized_multiplier(-100, 1610612736, -1), -38);
	/* 3.0 = 0.75 * 2^2: 7 * 3 = 21 (shift left first, then the high multiply) */
	assert_int_equal(q_mul_by_quantized_multiplier(7, 1610612736, 2), 21);
	assert_int_equal(q_mul_by_quantized_multiplier(-7, 1610612736, 2), -21);
	/* multiplier 0 (a zero scale) gives 0 */
	assert_int_equal(q_mul_by_quantized_multiplier(123456, 0, 0), 0);
	/* double rounding, TFLite's way: x = -3 times 0.25 (2^30, shift -1): SRDHM(-3, 0.5) = -1
	 * (-1.5 truncated after the nudge), then -1 / 2 = -0.5 -> -1. A single rounding of -0.75
	 * would also give -1; x = 3: SRDHM = 2 (1.5 up), 2 / 2 = 1 (0.75 -> 1). */
	assert_int_equal(q_mul_by_quantized_multiplier(-3, 1 << 30, -1), -1);
	assert_int_equal(q_mul_by_quantized_multiplier(3, 1 << 30, -1), 1);
	/* x = 2 * 0.25 = 0.5: SRDHM(2, 0.5) = 1, 1 / 2 = 0.5 -> 1 */
	assert_int_equal(q_mul_by_quantized_multiplier(2, 1 << 30, -1), 1);
	/* Where double rounding shows: 3078 * 1339407050 * 2^-39 = 7.49914 (exact), but the high
	 * multiply first gives round(3078 * 1339407050 / 2^31) = round(1919.78) = 1920, and
	 * 1920 / 2^8 = 7.5 rounds away from zero to 8. TFLite says 8; a single round() says 7.
	 * (Found by the depthwise tests' double reference: this is why those keep multipliers
	 * >= 0.5, where only one rounding happens.) */
	assert_int_equal(q_mul_by_quantized_multiplier(3078, 1339407050, -8), 8);
	/* smaller-than-one and greater-than-one variants */
	assert_int_equal(q_mul_by_quantized_multiplier_smaller_than_one(1000, 1 << 30, -2), 125);
	assert_int_equal(q_mul_by_quantized_multiplier_greater_than_one(10, 1610612736, 3), 60);
}

static void activation_ranges_int8_and_uint8(void **state)
{
	(void)state;
	int32_t lo, hi;
	/* int8, scale 0.1, zp -10: 0.0 -> -10, 6.0 -> -10 + 60 = 50, -1 -> -20, 1 -> 0 */
	assert_int_equal(q_activation_range(ACT_NONE, TT_INT8, 0.1f, -10, &lo, &hi), 0);
	assert_int_equal(lo, -128);
	assert_int_equal(hi, 127);
	assert_int_equal(q_activation_range(ACT_RELU, TT_INT8, 0.1f, -10, &lo, &hi), 0);
	assert_int_equal(lo, -10);
	assert_int_equal(hi, 127);
	assert_int_equal(q_activation_range(ACT_RELU6, TT_INT8, 0.1f, -10, &lo, &hi), 0);
	assert_int_equal(lo, -10);
	assert_int_equal(hi, 50);
	assert_int_equal(q_activation_range(ACT_RELU_N1_TO_1, TT_INT8, 0.1f, -10, &lo, &hi), 0);
	assert_int_equal(lo, -20);
	assert_int_equal(hi, 0);
	/* uint8, scale 1/32, zp 0: 6.0 -> 192; RELU_N1_TO_1: -1 -> -32 clamps to 0, 1 -> 32 */
	assert_int_equal(q_activation_range(ACT_RELU6, TT_UINT8, 1.0f / 32, 0, &lo, &hi), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 192);
	assert_int_equal(q_activation_range(ACT_RELU_N1_TO_1, TT_UINT8, 1.0f / 32, 0, &lo, &hi), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 32);
	/* RELU6 with a coarse scale: 6 / 0.5 = 12 steps above zp 200 -> 212; zp below 0 -> 0 clamp */
	assert_int_equal(q_activation_range(ACT_RELU6, TT_UINT8, 0.5f, 200, &lo, &hi), 0);
	assert_int_equal(lo, 200);
	assert_int_equal(hi, 212);
	/* RELU6 whose 6.0 lies beyond the type: clamps to the type maximum */
	assert_int_equal(q_activation_range(ACT_RELU6, TT_INT8, 0.01f, 0, &lo, &hi), 0);
	assert_int_equal(hi, 127);
	assert_int_equal(q_activation_range(ACT_TANH, TT_INT8, 0.1f, 0, &lo, &hi), -EINVAL);
	assert_int_equal(q_activation_range(ACT_NONE, TT_INT32, 0.1f, 0, &lo, &hi), -EINVAL);
	assert_int_equal(q_activation_range(ACT_NONE, TT_INT8, 0.0f, 0, &lo, &hi), -EINVAL);
}

/* The fixed-point exp is a 4-term Taylor expansion around -1/8 on [-1/4, 0) plus a barrel
 * shifter: its truncation error is about (1/8)^5 / 5! = 2.5e-7, so 2^-21 (4.8e-7) absolute bounds
 * it, while any wrong constant, shift or rounding step is off by far more (> 2^-12). */
static void exp_on_negative_values_matches_libm(void **state)
{
	(void)state;
	assert_int_equal(q_exp_on_negative_values_q5(0), INT32_MAX);
	for (double a = -0.01; a > -31.0; a *= 1.37) {
		int32_t raw = (int32_t)lround(a * (1 << 26));
		double got = q_exp_on_negative_values_q5(raw) / 2147483648.0;
		double want = exp(raw / 67108864.0);
		assert_true(fabs(got - want) < ldexp(1, -21));
	}
}

static void reciprocal_and_one_over_one_plus_x(void **state)
{
	(void)state;
	for (double x = 0.0; x < 1.0; x += 0.0625) {
		int32_t raw = (int32_t)lround(x * 2147483648.0);
		double got = q_one_over_one_plus_x(raw) / 2147483648.0;
		assert_true(fabs(got - 1.0 / (1.0 + x)) < ldexp(1, -24));
	}
	/* 3.0 in Q12.19: 1/3 = r * 2^-bits with r in [0.5, 1): 3 = 1.5 * 2^1 -> bits 1, r = 2/3 */
	int bits;
	int32_t r = q_get_reciprocal(3 << 19, 12, &bits);
	assert_int_equal(bits, 1);
	assert_true(fabs(r / 2147483648.0 - 2.0 / 3.0) < ldexp(1, -24));
	/* 1.0 exactly: 1 = (1 + 0) * 2^0 */
	r = q_get_reciprocal(1 << 19, 12, &bits);
	assert_int_equal(bits, 0);
	assert_true(r > INT32_MAX - 16);
}

static void softmax_scaling_and_radius(void **state)
{
	(void)state;
	int32_t m;
	int shift;
	/* beta 1, scale 1/16: 1/16 * 2^26 = 2^22 = 0.5 * 2^23 -> (2^30, 23) */
	assert_int_equal(q_preprocess_softmax_scaling(1.0, 1.0 / 16, 5, &m, &shift), 0);
	assert_int_equal(m, 1 << 30);
	assert_int_equal(shift, 23);
	/* radius: (2^5 - 1) * 2^26 / 2^23 = 31 * 8 = 248 */
	assert_int_equal(q_calculate_input_radius(5, 23), 248);
	/* huge beta*scale is capped at 2^31 - 1 */
	assert_int_equal(q_preprocess_softmax_scaling(1e6, 1.0, 5, &m, &shift), 0);
	assert_int_equal(shift, 31);
}

static void int16_helpers(void **state)
{
	(void)state;
	assert_int_equal(q_srdhm16(3, 1 << 14), 2);          /* 1.5 -> 2 */
	assert_int_equal(q_srdhm16(-3, 1 << 14), -1);        /* -1.5 -> -1 */
	assert_int_equal(q_sdhm16(3, 1 << 14), 1);           /* 1.5 truncated */
	assert_int_equal(q_sdhm16(-3, 1 << 14), -1);         /* -1.5 truncated toward zero */
	assert_int_equal(q_srdhm16(INT16_MIN, INT16_MIN), INT16_MAX);
	assert_int_equal(q_rounding_divide_by_pot16(-5, 1), -3);
	assert_int_equal(q_saturating_left_shift16(20000, 1), INT16_MAX);
	assert_int_equal(q_saturating_left_shift16(-20000, 1), INT16_MIN);
	assert_int_equal(q_saturating_left_shift16(100, 3), 800);
	/* (2^30 + 2^15) >> 16 = 2^14 (+ 0 after truncation of the half) */
	assert_int_equal(q_downscale_multiplier_to_int16(1 << 30), 1 << 14);
	assert_int_equal(q_downscale_multiplier_to_int16(INT32_MAX), INT16_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quantize_multiplier_zero_and_powers_of_two),
		cmocka_unit_test(quantize_multiplier_rounds_half_away_and_renormalizes),
		cmocka_unit_test(quantize_multiplier_flushes_tiny_and_refuses_huge),
		cmocka_unit_test(srdhm_rounds_and_saturates),
		cmocka_unit_test(rounding_divide_by_pot_is_half_away_from_zero),
		cmocka_unit_test(multiply_by_quantized_multiplier_both_directions),
		cmocka_unit_test(activation_ranges_int8_and_uint8),
		cmocka_unit_test(exp_on_negative_values_matches_libm),
		cmocka_unit_test(reciprocal_and_one_over_one_plus_x),
		cmocka_unit_test(softmax_scaling_and_radius),
		cmocka_unit_test(int16_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
