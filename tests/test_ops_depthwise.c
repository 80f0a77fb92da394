/* test_ops_depthwise.c — inference/ops/depthwise_conv.c (DEPTHWISE_CONV_2D): depth multiplier
 * > 1 (including person_detect's shape: one input channel, multiplier 8), dilation, strides,
 * SAME/VALID, per-channel and per-tensor int8, uint8 offsets, clamps, and prepare's checks.
 *
 * Expectations: small integer cases worked out by hand, and a plain double-precision depthwise
 * convolution on the dequantized values rounded half away from zero. As in test_ops_conv.c, data
 * stay near the zero points and output multipliers are >= 0.5, so TFLite's arithmetic rounds once
 * and must match round() exactly (its double rounding below 0.5 is pinned in test_quant.c). */
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

static void set_dw(struct tg *tg, enum padding padding, int stride_h, int stride_w, int dil_h,
		     int dil_w, int depth_multiplier, enum activation act)
{
	tg->n.opt.depthwise.padding = padding;
	tg->n.opt.depthwise.stride_h = stride_h;
	tg->n.opt.depthwise.stride_w = stride_w;
	tg->n.opt.depthwise.dilation_h = dil_h;
	tg->n.opt.depthwise.dilation_w = dil_w;
	tg->n.opt.depthwise.depth_multiplier = depth_multiplier;
	tg->n.opt.depthwise.activation = act;
}


/* One input channel, multiplier 2, 2x2 input {1,2,3,4}, 2x2 filter, VALID. The filter is
 * [1, 2, 2, 2], channel fastest: channel 0 all ones, channel 1 {1, -1, 1, -1}.
 * ch0 = 1+2+3+4 = 10; ch1 = 1-2+3-4 = -2. */
static void depth_multiplier_two_by_hand(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[4] = { 1, 2, 3, 4 }, filter[8] = { 1, 1, 1, -1, 1, 1, 1, -1 }, out[2];
	int32_t in_dims[4] = { 1, 2, 2, 1 }, f_dims[4] = { 1, 2, 2, 2 }, o_dims[4] = { 1, 1, 1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 1.0f, 0);
	set_dw(&tg, PAD_VALID, 1, 1, 1, 1, 2, ACT_NONE);
	assert_int_equal(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 2), 0);
	tg_run(&tg);
	assert_int_equal(out[0], 10);
	assert_int_equal(out[1], -2);
	tg_free(&tg);
}

/* Two channels, multiplier 1: dilation 2 with a 2x2 filter on 3x3 VALID reads
 * the four corners: channel 0 input 1..9 -> 1+3+7+9 = 20; channel 1 input 10*k -> 200, with
 * filter 1 on channel 0 and 2 on channel 1 and out scale 4: 20/4 = 5, 400/4 = 100. */
static void dilation_reads_corners_by_hand(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[18], filter[8] = { 1, 2, 1, 2, 1, 2, 1, 2 }, out[2];
	for (int i = 0; i < 9; i++) {
		in[2 * i] = (int8_t)(i + 1);
		in[2 * i + 1] = (int8_t)(10 * (i + 1));
	}
	int32_t in_dims[4] = { 1, 3, 3, 2 }, f_dims[4] = { 1, 2, 2, 2 }, o_dims[4] = { 1, 1, 1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 4.0f, 0);
	set_dw(&tg, PAD_VALID, 1, 1, 2, 2, 1, ACT_NONE);
	assert_int_equal(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 2), 0);
	tg_run(&tg);
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 100);
	tg_free(&tg);
}

static void multiplier_eight_on_one_channel(void **state)
{
	(void)state;
	/* person_detect's first layer: 1 channel, multiplier 8, 3x3, stride 2, SAME, RELU6 */
	struct tg_case c = {
		.type = TT_INT8, .batches = 1, .in_h = 9, .in_w = 10, .in_ch = 1, .depth_multiplier = 8,
		.kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2, .dil_h = 1, .dil_w = 1,
		.padding = PAD_SAME, .act = ACT_RELU6, .in_scale = 0.0078431f, .out_scale = 0.000045f,
		.in_zp = -1, .out_zp = -128, .nfilter_scales = 8,
		.filter_scales = { 0.011f, 0.0073f, 0.013f, 0.0081f, 0.0133f, 0.0069f, 0.0097f, 0.0109f },
		.bias = true,
	};
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
}

static void multiplier_three_strides_and_padding(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 2, .in_h = 7, .in_w = 8, .in_ch = 3, .depth_multiplier = 3,
		.kh = 3, .kw = 2, .stride_h = 2, .stride_w = 3, .dil_h = 1, .dil_w = 1,
		.padding = PAD_VALID, .act = ACT_NONE, .in_scale = 0.0419f, .out_scale = 0.000617f,
		.in_zp = 6, .out_zp = -3, .nfilter_scales = 1, .filter_scales = { 0.0127f }, .bias = true,
	};
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.padding = PAD_SAME;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.bias = false;
	c.act = ACT_RELU;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
}

static void dilation_with_same_and_valid(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 1, .in_h = 10, .in_w = 9, .in_ch = 4, .depth_multiplier = 1,
		.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 2, .dil_w = 3,
		.padding = PAD_SAME, .act = ACT_NONE, .in_scale = 0.0303f, .out_scale = 0.00022f,
		.in_zp = -20, .out_zp = 7, .nfilter_scales = 4,
		.filter_scales = { 0.0061f, 0.0083f, 0.0117f, 0.0043f }, .bias = true,
	};
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.padding = PAD_VALID;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.depth_multiplier = 2;
	c.nfilter_scales = 1;
	c.stride_w = 2;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
}

static void uint8_offsets_and_clamps(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_UINT8, .batches = 1, .in_h = 8, .in_w = 8, .in_ch = 5, .depth_multiplier = 1,
		.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
		.padding = PAD_SAME, .act = ACT_RELU6, .in_scale = 0.0235f, .out_scale = 0.00121f,
		.in_zp = 0, .out_zp = 0, .filter_zp = 133, .nfilter_scales = 1,
		.filter_scales = { 0.0371f }, .bias = true,
	};
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.stride_h = c.stride_w = 2;
	c.in_zp = 128;
	c.out_zp = 119;
	c.act = ACT_RELU_N1_TO_1;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.depth_multiplier = 2;
	c.act = ACT_NONE;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
}

/* 35 channels at multiplier 1: two full vectorized blocks plus a tail of 3 */
static void many_channels_cover_blocks_and_tail(void **state)
{
	(void)state;
	struct tg_case c = {
		.type = TT_INT8, .batches = 1, .in_h = 5, .in_w = 4, .in_ch = 35, .depth_multiplier = 1,
		.kh = 3, .kw = 3, .stride_h = 2, .stride_w = 1, .dil_h = 1, .dil_w = 1,
		.padding = PAD_SAME, .act = ACT_RELU6, .in_scale = 0.0213f, .out_scale = 0.00017f,
		.in_zp = -3, .out_zp = 2, .nfilter_scales = 1, .filter_scales = { 0.0061f },
		.bias = true,
	};
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
	c.type = TT_UINT8;
	c.in_zp = 128;
	c.out_zp = 120;
	c.filter_zp = 125;
	tg_check_case(&c, OP_DEPTHWISE_CONV_2D);
}

static void prepare_rejects_inconsistent_models(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[18] = { 0 }, filter[16] = { 0 }, out[16] = { 0 };
	int32_t bias[4] = { 0 };
	int32_t in_dims[4] = { 1, 3, 3, 2 }, f_dims[4] = { 1, 2, 2, 4 }, b_dims[1] = { 4 };
	int32_t o_dims[4] = { 1, 2, 2, 4 };
	tg_tensor(&tg, 0, TT_INT8, 4, in_dims, in, 1.0f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, f_dims, filter, 1.0f, 0);
	tg_tensor(&tg, 2, TT_INT32, 1, b_dims, bias, 0, 0);
	tg_tensor(&tg, 3, TT_INT8, 4, o_dims, out, 1.0f, 0);
	set_dw(&tg, PAD_VALID, 1, 1, 1, 1, 2, ACT_NONE);
	assert_int_equal(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3), 0);
	tg_free(&tg);
	/* option says 3, shapes say 4 / 2 = 2 */
	tg.n.opt.depthwise.depth_multiplier = 3;
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "depth_multiplier 3"));
	tg.n.opt.depthwise.depth_multiplier = 2;
	/* output channels not a multiple of input channels */
	tg.t[1].dims[3] = 3;
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	tg.t[1].dims[3] = 4;
	/* filter dim 0 must be 1 */
	tg.t[1].dims[0] = 2;
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "filter dim 0 is 2"));
	tg.t[1].dims[0] = 1;
	/* per-channel scales must match output channels and lie along axis 3 */
	float scales[4] = { 0.1f, 0.2f, 0.3f, 0.4f };
	tg_per_channel(&tg, 1, 2, scales, 3);
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "2 scales for 4 output channels"));
	tg_per_channel(&tg, 1, 4, scales, 0);
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "axis 0"));
	tg_per_channel(&tg, 1, 4, scales, 3);
	assert_int_equal(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3), 0);
	tg_free(&tg);
	/* wrong output shape for SAME */
	tg.n.opt.depthwise.padding = PAD_SAME;
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "differs from computed [1,3,3,4]"));
	tg.n.opt.depthwise.padding = PAD_VALID;
	/* bias with the wrong count */
	tg.t[2].dims[0] = 2;
	assert_true(tg_prepare(&tg, OP_DEPTHWISE_CONV_2D, 3) < 0);
	assert_non_null(strstr(tg.err, "bias"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(depth_multiplier_two_by_hand),
		cmocka_unit_test(dilation_reads_corners_by_hand),
		cmocka_unit_test(multiplier_eight_on_one_channel),
		cmocka_unit_test(multiplier_three_strides_and_padding),
		cmocka_unit_test(dilation_with_same_and_valid),
		cmocka_unit_test(uint8_offsets_and_clamps),
		cmocka_unit_test(many_channels_cover_blocks_and_tail),
		cmocka_unit_test(prepare_rejects_inconsistent_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
