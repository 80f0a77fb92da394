/* test_ops_conv.c — inference/ops/conv.c (CONV_2D): padding SAME/VALID, strides, dilation,
 * per-channel vs per-tensor int8 weights, uint8 with input and filter offsets, fused activation
 * clamps, and the shape/quantization checks of prepare.
 *
 * Expectations are either small integer cases worked out by hand (arithmetic in the comments) or
 * a plain double-precision convolution on the dequantized values, rounded half away from zero
 * and clamped — an independent computation that shares no code or integer tricks with the
 * kernel. Data stay within 8 steps of the zero points and the scales are chosen so the output
 * multiplier in_scale * filter_scale / out_scale is >= 0.5: then TFLite's arithmetic rounds once
 * (in the doubling high multiply) and must equal round() of the exact value. Below 0.5 it rounds
 * twice (high multiply, then a power-of-two divide), which is TFLite's defined behaviour and can
 * differ from round() by one; test_quant.c pins that case down by hand, and the golden models
 * (camclass infer on ../shared/models) cover it end to end. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/graph.h"
#include "inference/ops/ops.h"

#include "tests/ops_graph.h"

static void set_conv(struct tg *tg, enum padding padding, int stride_h, int stride_w, int dil_h,
		     int dil_w, enum activation act)
{
	tg->n.opt.conv.padding = padding;
	tg->n.opt.conv.stride_h = stride_h;
	tg->n.opt.conv.stride_w = stride_w;
	tg->n.opt.conv.dilation_h = dil_h;
	tg->n.opt.conv.dilation_w = dil_w;
	tg->n.opt.conv.activation = act;
}

/* --- hand-checked cases --------------------------------------------------------------------- */

/* 3x3 input 1..9, 2x2 filter of ones, all scales 1, zero points 0. */
static void valid_stride1_sums_windows(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, filter[4] = { 1, 1, 1, 1 }, out[4];
	int32_t in_dims[4] = { 1, 3, 3, 1 }, f_dims[4] = { 1, 2, 2, 1 }, o_dims[4] = { 1, 2, 2, 1 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 1.0f, 0);
	set_conv(&tg, PAD_VALID, 1, 1, 1, 1, ACT_NONE);
	assert_int_equal(tg_prepare(&tg, OP_CONV_2D, 2), 0);
	tg_run(&tg);
	/* 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28 */
	int8_t want[4] = { 12, 16, 24, 28 };
	assert_memory_equal(out, want, sizeof(want));
	tg_free(&tg);
}

/* Same input, SAME padding, stride 2: out = ceil(3/2) = 2; total padding (2-1)*2 + 2 - 3 = 1,
 * all of it after (before = 1/2 = 0). A bias of 100 at bias scale 1 and a zero point. */
static void same_stride2_pads_after(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, filter[4] = { 1, 1, 1, 1 }, out[4];
	int32_t bias[1] = { 100 };
	int32_t in_dims[4] = { 1, 3, 3, 1 }, f_dims[4] = { 1, 2, 2, 1 }, b_dims[1] = { 1 };
	int32_t o_dims[4] = { 1, 2, 2, 1 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 2, TT_INT32, 1, b_dims, bias, 0, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 1.0f, -50);
	set_conv(&tg, PAD_SAME, 2, 2, 1, 1, ACT_NONE);
	assert_int_equal(tg_prepare(&tg, OP_CONV_2D, 3), 0);
	tg_run(&tg);
	/* windows: {1,2,4,5} = 12, {3,6} = 9, {7,8} = 15, {9} = 9; + 100 bias - 50 zero point */
	int8_t want[4] = { 62, 59, 65, 59 };
	assert_memory_equal(out, want, sizeof(want));
	tg_free(&tg);
}

/* Output multiplier 0.5 * 0.3 / 0.25 = 0.6 with an input zero point: checks rounding and the
 * offset. Input q = {10, 12} at zp 4 -> {6, 8}; weights {3, -2}: acc = 18 - 16 = 2;
 * 2 * 0.6 = 1.2 -> 1; out zp 3 -> 4. Second channel weights {5, 5}: 70 * 0.6 = 42 -> 45. */
static void one_by_one_rescale_with_offsets(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[2] = { 10, 12 }, filter[4] = { 3, -2, 5, 5 }, out[2];
	int32_t in_dims[4] = { 1, 1, 1, 2 }, f_dims[4] = { 2, 1, 1, 2 }, o_dims[4] = { 1, 1, 1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 0.5f, 4);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 0.3f, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 0.25f, 3);
	tg.bias_absent = true;
	set_conv(&tg, PAD_VALID, 1, 1, 1, 1, ACT_NONE);
	assert_int_equal(tg_prepare(&tg, OP_CONV_2D, 3), 0);
	tg_run(&tg);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[1], 45);
	tg_free(&tg);
}

/* --- reference-checked cases ------------------------------------------------------------------ */

static void valid_and_same_with_strides(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 2, .in_h = 7, .in_w = 6, .in_ch = 3, .out_ch = 4,
		.kh = 3, .kw = 2, .stride_h = 2, .stride_w = 1, .dil_h = 1, .dil_w = 1,
		.padding = PAD_VALID, .act = ACT_NONE, .in_scale = 0.0371f, .out_scale = 0.000571f,
		.in_zp = -7, .out_zp = 5, .nfilter_scales = 1, .filter_scales = { 0.0113f }, .bias = true,
	};
	tg_check_case(&c, OP_CONV_2D);
	c.padding = PAD_SAME;
	tg_check_case(&c, OP_CONV_2D);
	c.stride_h = 3;
	c.stride_w = 2;
	tg_check_case(&c, OP_CONV_2D);
	c.bias = false;
	tg_check_case(&c, OP_CONV_2D);
}

static void dilation_same_and_valid(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 1, .in_h = 9, .in_w = 8, .in_ch = 2, .out_ch = 3,
		.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 2, .dil_w = 3,
		.padding = PAD_SAME, .act = ACT_NONE, .in_scale = 0.0517f, .out_scale = 0.000619f,
		.in_zp = 3, .out_zp = -2, .nfilter_scales = 1, .filter_scales = { 0.0091f }, .bias = true,
	};
	tg_check_case(&c, OP_CONV_2D);
	c.padding = PAD_VALID;
	tg_check_case(&c, OP_CONV_2D);
	c.stride_h = 2;
	tg_check_case(&c, OP_CONV_2D);
}

static void per_channel_differs_from_per_tensor(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 1, .in_h = 5, .in_w = 5, .in_ch = 4, .out_ch = 5,
		.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
		.padding = PAD_SAME, .act = ACT_NONE, .in_scale = 0.0233f, .out_scale = 0.000071f,
		.in_zp = -128, .out_zp = 0, .nfilter_scales = 5,
		.filter_scales = { 0.0031f, 0.0053f, 0.0019f, 0.0042f, 0.0027f }, .bias = true,
	};
	tg_check_case(&c, OP_CONV_2D);
	c.nfilter_scales = 1;
	tg_check_case(&c, OP_CONV_2D);
}

static void uint8_with_input_and_filter_offsets(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_UINT8, .batches = 1, .in_h = 6, .in_w = 7, .in_ch = 3, .out_ch = 4,
		.kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2, .dil_h = 1, .dil_w = 1,
		.padding = PAD_SAME, .act = ACT_NONE, .in_scale = 0.0078125f, .out_scale = 0.0000551f,
		.in_zp = 128, .out_zp = 117, .filter_zp = 121, .nfilter_scales = 1,
		.filter_scales = { 0.00517f }, .bias = true,
	};
	tg_check_case(&c, OP_CONV_2D);
	c.padding = PAD_VALID;
	c.act = ACT_RELU6;
	tg_check_case(&c, OP_CONV_2D);
}

/* 37 input channels: two full blocks of the vectorized dot product plus a tail of 5 */
static void many_channels_cover_blocks_and_tail(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 1, .in_h = 4, .in_w = 5, .in_ch = 37, .out_ch = 3,
		.kh = 2, .kw = 2, .stride_h = 1, .stride_w = 2, .dil_h = 1, .dil_w = 1,
		.padding = PAD_SAME, .act = ACT_NONE, .in_scale = 0.0117f, .out_scale = 0.000075f,
		.in_zp = 4, .out_zp = -1, .nfilter_scales = 3,
		.filter_scales = { 0.0041f, 0.0037f, 0.0033f }, .bias = true,
	};
	tg_check_case(&c, OP_CONV_2D);
	c.type = TT_UINT8;
	c.in_zp = 127;
	c.out_zp = 131;
	c.filter_zp = 140;
	c.nfilter_scales = 1;
	tg_check_case(&c, OP_CONV_2D);
}

/* One output pixel whose window is the whole unpadded input — the TF1 MobileNets' head (1×1 on
 * a 1×1 map) and a 3×3 VALID conv on a 3×3 input — runs as a matrix-vector product (the GEMV
 * path, as FULLY_CONNECTED), two batches, int8 and uint8, with channel blocks and tails. */
static void whole_window_runs_as_gemv(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 2, .in_h = 1, .in_w = 1, .in_ch = 77, .out_ch = 37,
		.kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
		.padding = PAD_VALID, .act = ACT_NONE, .in_scale = 0.0117f, .out_scale = 0.000075f,
		.in_zp = 4, .out_zp = -1, .nfilter_scales = 1, .filter_scales = { 0.0041f }, .bias = true,
	};
	tg_check_case(&c, OP_CONV_2D);
	c.padding = PAD_SAME;
	tg_check_case(&c, OP_CONV_2D);
	c.in_h = c.in_w = c.kh = c.kw = 3;
	c.in_ch = 5;
	c.padding = PAD_VALID;
	c.act = ACT_RELU;
	tg_check_case(&c, OP_CONV_2D);
	c.type = TT_UINT8;
	c.in_zp = 127;
	c.out_zp = 131;
	c.filter_zp = 140;
	c.bias = false;
	tg_check_case(&c, OP_CONV_2D);
}

static void activation_clamps(void **state)
{
	(void)state;
	static const enum activation acts[] = { ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1 };
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		struct tg_case c = {
			.type = TT_INT8, .batches = 1, .in_h = 4, .in_w = 4, .in_ch = 3, .out_ch = 2,
			.kh = 2, .kw = 2, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
			.padding = PAD_VALID, .act = acts[i], .in_scale = 0.2f, .out_scale = 0.04f,
			.in_zp = 1, .out_zp = -9, .nfilter_scales = 1, .filter_scales = { 0.5f },
			.bias = true,
		};
		tg_check_case(&c, OP_CONV_2D);
		c.type = TT_UINT8;
		c.in_zp = 131;
		c.out_zp = 100;
		c.filter_zp = 127;
		tg_check_case(&c, OP_CONV_2D);
	}
}

/* RELU6 on a tiny case by hand: out scale 0.5, zp 0: 6.0 -> 12. acc 40 * (1*1/0.5) = 80 -> 12. */
static void relu6_caps_by_hand(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[1] = { 40 }, filter[2] = { 1, -1 }, out[2];
	int32_t in_dims[4] = { 1, 1, 1, 1 }, f_dims[4] = { 2, 1, 1, 1 }, o_dims[4] = { 1, 1, 1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 0.5f, 0);
	set_conv(&tg, PAD_VALID, 1, 1, 1, 1, ACT_RELU6);
	assert_int_equal(tg_prepare(&tg, OP_CONV_2D, 2), 0);
	tg_run(&tg);
	assert_int_equal(out[0], 12); /* 80 capped at 6.0 / 0.5 = 12 */
	assert_int_equal(out[1], 0);  /* -80 raised to 0.0 */
	tg_free(&tg);
}

/* --- prepare refuses inconsistent models ------------------------------------------------------ */

static void prepare_rejects_bad_shapes_and_quantization(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* filter holds the 16 values of the valid [2,2,2,2] shape below: prepare packs them. */
	int8_t in[18] = { 0 }, filter[16] = { 0 }, out[16] = { 0 };
	int32_t bias[3] = { 0 };
	int32_t in_dims[4] = { 1, 3, 3, 2 }, f_dims[4] = { 2, 2, 3, 1 }, b_dims[1] = { 2 };
	int32_t o_dims[4] = { 1, 2, 2, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 2, TT_INT32, 1, b_dims, bias, 0, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 1.0f, 0);
	set_conv(&tg, PAD_VALID, 1, 1, 1, 1, ACT_NONE);
	/* filter in-channels 1 vs input 2 */
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "input channels"));
	tg.t[1].dims[1] = 2; tg.t[1].dims[2] = 2; tg.t[1].dims[3] = 2;
	assert_int_equal(tg_prepare(&tg, OP_CONV_2D, 3), 0);
	tg_free(&tg);
	/* output shape not what VALID computes */
	tg.t[3].dims[1] = 3;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "output shape [1,3,2,2] differs from computed [1,2,2,2]"));
	tg.t[3].dims[1] = 2;
	/* per-channel scale count must equal output channels */
	float three[3] = { 0.1f, 0.2f, 0.3f };
	tg_per_channel(&tg, 1, 3, three, 0);
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "3 scales for 2 output channels"));
	tg_per_channel(&tg, 1, 1, three, 0);
	/* bias must be int32 with one value per output channel */
	tg.t[2].dims[0] = 3;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "bias has 3 elements"));
	tg.t[2].dims[0] = 2;
	tg.t[2].type = TT_INT8;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "bias has type INT8"));
	tg.t[2].type = TT_INT32;
	/* filter rank, mixed types, activation, stride */
	tg.t[1].ndim = 3;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_string_equal(tg.err, "filter has 3 dims, expected 4"); /* the engine names the op */
	tg.t[1].ndim = 4;
	tg.t[0].type = TT_UINT8;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	tg.t[0].type = TT_INT8;
	tg.n.opt.conv.activation = ACT_TANH;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "TANH"));
	tg.n.opt.conv.activation = ACT_NONE;
	tg.n.opt.conv.stride_h = 0;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	tg.n.opt.conv.stride_h = 1;
	/* int8 filters must be symmetric */
	tg.zps[1][0] = 3;
	tg.t[1].zero_point = 3;
	assert_true(tg_prepare(&tg, OP_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "zero point"));
	/* one input only */
	assert_true(tg_prepare(&tg, OP_CONV_2D, 1) < 0);
	assert_non_null(strstr(tg.err, "has 1 inputs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_stride1_sums_windows),
		cmocka_unit_test(same_stride2_pads_after),
		cmocka_unit_test(one_by_one_rescale_with_offsets),
		cmocka_unit_test(valid_and_same_with_strides),
		cmocka_unit_test(dilation_same_and_valid),
		cmocka_unit_test(per_channel_differs_from_per_tensor),
		cmocka_unit_test(uint8_with_input_and_filter_offsets),
		cmocka_unit_test(many_channels_cover_blocks_and_tail),
		cmocka_unit_test(whole_window_runs_as_gemv),
		cmocka_unit_test(activation_clamps),
		cmocka_unit_test(relu6_caps_by_hand),
		cmocka_unit_test(prepare_rejects_bad_shapes_and_quantization),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
