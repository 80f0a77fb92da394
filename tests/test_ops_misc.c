/* test_ops_misc.c — the smaller op kernels in inference/ops/: AVERAGE/MAX_POOL_2D, MEAN (all
 * three of TFLite 2.8's paths), ADD, MUL, SOFTMAX, QUANTIZE, DEQUANTIZE, PAD, CONCATENATION,
 * HARD_SWISH, LOGISTIC, FULLY_CONNECTED, RESHAPE, SQUEEZE, RELU, RELU6.
 *
 * Expected values are worked out by hand in the comments (real values, then quantized), or come
 * from plain double-precision math on the dequantized inputs where a sweep says more. */
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
#include "tests/testutil.h"

/* --- a one-node graph built by hand ------------------------------------------------------- */
#define TG_MAX_TENSORS 8

struct tg {
	struct graph g;
	struct tensor t[TG_MAX_TENSORS];
	struct node n;
	float scale[TG_MAX_TENSORS];
	int32_t zp[TG_MAX_TENSORS];
	char err[256];
};

static struct tensor *tg_tensor(struct tg *tg, int i, enum tensor_type type, int ndim,
				const int32_t *dims, void *data, float scale, int32_t zp)
{
	struct tensor *t = &tg->t[i];
	tu_tensor_init(t, type, ndim, dims, data);
	if (scale > 0)
		tu_tensor_quant(t, &tg->scale[i], &tg->zp[i], scale, zp);
	tg->g.tensors = tg->t;
	tg->g.ntensors = TG_MAX_TENSORS;
	return t;
}

/* A constant (weights, axis list, shape, paddings). */
static struct tensor *tg_const(struct tg *tg, int i, enum tensor_type type, int ndim,
			       const int32_t *dims, const void *data, float scale, int32_t zp)
{
	struct tensor *t = tg_tensor(tg, i, type, ndim, dims, (void *)data, scale, zp);
	t->is_const = true;
	return t;
}

/* Inputs are tensors 0..ninputs-1, the output is tensor 7. */
static int tg_prepare(struct tg *tg, int op, int ninputs)
{
	free(tg->n.params);
	tg->n.params = NULL;
	tg->n.op = op;
	tg->n.ninputs = ninputs;
	tg->n.noutputs = 1;
	for (int i = 0; i < ninputs; i++)
		tg->n.inputs[i] = i;
	tg->n.outputs[0] = 7;
	tg->g.nodes = &tg->n;
	tg->g.nnodes = 1;
	tg->err[0] = 0;
	const struct op_kernel *k = ops_find(op);
	assert_non_null(k);
	return k->prepare(&tg->g, &tg->n, tg->err, sizeof(tg->err));
}

static void tg_prepare_ok(struct tg *tg, int op, int ninputs)
{
	if (tg_prepare(tg, op, ninputs) != 0)
		fail_msg("prepare failed: %s", tg->err);
}

static void tg_run(struct tg *tg)
{
	ops_find(tg->n.op)->invoke(&tg->g, &tg->n);
}

static void tg_free(struct tg *tg)
{
	free(tg->n.params);
	tg->n.params = NULL;
}

#define DIMS(...) ((const int32_t[]){ __VA_ARGS__ })

static void set_pool(struct tg *tg, enum padding pad, int fh, int fw, int sh, int sw,
		     enum activation act)
{
	tg->n.opt.pool.padding = pad;
	tg->n.opt.pool.filter_h = fh;
	tg->n.opt.pool.filter_w = fw;
	tg->n.opt.pool.stride_h = sh;
	tg->n.opt.pool.stride_w = sw;
	tg->n.opt.pool.activation = act;
}

/* --- pooling -------------------------------------------------------------------------------- */

static void average_pool_rounds_half_away_from_zero(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* rows {1, 2, -1, -2} twice; 2x2 windows, stride 2: sums 6 and -6 over 4 cells:
	 * 1.5 -> 2, -1.5 -> -2 */
	int8_t in[8] = { 1, 2, -1, -2, 1, 2, -1, -2 }, out[2];
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 2, 4, 1), in, 0.5f, 0);
	tg_tensor(&tg, 7, TT_INT8, 4, DIMS(1, 1, 2, 1), out, 0.5f, 0);
	set_pool(&tg, PAD_VALID, 2, 2, 2, 2, ACT_NONE);
	tg_prepare_ok(&tg, OP_AVERAGE_POOL_2D, 1);
	tg_run(&tg);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], -2);
	tg_free(&tg);
}

static void average_pool_same_counts_only_inside_cells(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* 3x3 of 1..9, 2x2 stride 2 SAME: padding 1 after. {1,2,4,5} = 12/4 = 3; {3,6} = 9/2 = 4.5
	 * -> 5; {7,8} = 15/2 = 7.5 -> 8; {9} = 9 */
	uint8_t in[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, out[4];
	tg_tensor(&tg, 0, TT_UINT8, 4, DIMS(1, 3, 3, 1), in, 1.0f, 0);
	tg_tensor(&tg, 7, TT_UINT8, 4, DIMS(1, 2, 2, 1), out, 1.0f, 0);
	set_pool(&tg, PAD_SAME, 2, 2, 2, 2, ACT_NONE);
	tg_prepare_ok(&tg, OP_AVERAGE_POOL_2D, 1);
	tg_run(&tg);
	const uint8_t want[4] = { 3, 5, 8, 9 };
	assert_memory_equal(out, want, 4);
	tg_free(&tg);
}

static void max_pool_with_relu_and_channels(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* two channels interleaved; 2x2 window covers everything: ch0 max 7, ch1 max -3 which RELU
	 * (zp 2 -> real 0 at q = 2) raises to 2 */
	int8_t in[8] = { 1, -9, 7, -3, -5, -4, 0, -8 }, out[2];
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 2, 2, 2), in, 0.1f, 2);
	tg_tensor(&tg, 7, TT_INT8, 4, DIMS(1, 1, 1, 2), out, 0.1f, 2);
	set_pool(&tg, PAD_VALID, 2, 2, 1, 1, ACT_RELU);
	tg_prepare_ok(&tg, OP_MAX_POOL_2D, 1);
	tg_run(&tg);
	assert_int_equal(out[0], 7);
	assert_int_equal(out[1], 2);
	tg_free(&tg);
	/* pooling must not rescale: a different output zero point is refused */
	tg.t[7].zero_point = 3;
	assert_true(tg_prepare(&tg, OP_MAX_POOL_2D, 1) < 0);
	tg.t[7].zero_point = 2;
	tg.t[7].dims[1] = 2;
	assert_true(tg_prepare(&tg, OP_MAX_POOL_2D, 1) < 0);
	assert_non_null(strstr(tg.err, "output shape"));
}

/* --- MEAN --------------------------------------------------------------------------------- */

static const int8_t mean_in[8] = { 1, -1, 2, -2, 3, -3, 5, -5 }; /* [1,2,2,2]: ch0 {1,2,3,5} */

static void mean_spatial_int8_keep_dims(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t out[2];
	int32_t axis[2] = { 1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 2, 2, 2), (void *)mean_in, 0.5f, 0);
	tg_const(&tg, 1, TT_INT32, 1, DIMS(2), axis, 0, 0);
	tg_tensor(&tg, 7, TT_INT8, 4, DIMS(1, 1, 1, 2), out, 0.25f, 0);
	tg.n.opt.reducer.keep_dims = true;
	tg_prepare_ok(&tg, OP_MEAN, 2);
	tg_run(&tg);
	/* integer path: sum 11, x (0.5 / 0.25) = 22, / 4 = 5.5 -> 6; ch1 -> -6 */
	assert_int_equal(out[0], 6);
	assert_int_equal(out[1], -6);
	tg_free(&tg);
}

static void mean_spatial_uint8_keep_dims(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	uint8_t in[4] = { 3, 4, 5, 7 }, out[1];
	int32_t axis[2] = { 2, 1 };
	tg_tensor(&tg, 0, TT_UINT8, 4, DIMS(1, 2, 2, 1), in, 1.0f, 2);
	tg_const(&tg, 1, TT_INT32, 1, DIMS(2), axis, 0, 0);
	tg_tensor(&tg, 7, TT_UINT8, 4, DIMS(1, 1, 1, 1), out, 1.0f, 0);
	tg.n.opt.reducer.keep_dims = true;
	tg_prepare_ok(&tg, OP_MEAN, 2);
	tg_run(&tg);
	/* real values {1, 2, 3, 5}: mean 2.75 -> 3. (uint8 path: 19 * 0.25 = 4.75 -> 5, minus the
	 * zero-point bias round(2) = 2 -> 3) */
	assert_int_equal(out[0], 3);
	tg_free(&tg);
}

static void mean_same_quantization_truncates(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t out[2];
	int32_t axis[2] = { 1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 2, 2, 2), (void *)mean_in, 0.5f, 0);
	tg_const(&tg, 1, TT_INT32, 1, DIMS(2), axis, 0, 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(1, 2), out, 0.5f, 0);
	tg.n.opt.reducer.keep_dims = false;
	tg_prepare_ok(&tg, OP_MEAN, 2);
	tg_run(&tg);
	/* TFLite's general path with equal quantization: 11 / 4 = 2 and -11 / 4 = -2 (C division
	 * truncates), not the rounded 3 / -3 of the spatial path */
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], -2);
	tg_free(&tg);
	/* the same reduction written with negative axes misses the special path even with
	 * keep_dims (TFLite compares the raw axis values) */
	axis[0] = -3;
	axis[1] = -2;
	tg_tensor(&tg, 7, TT_INT8, 4, DIMS(1, 1, 1, 2), out, 0.5f, 0);
	tg.n.opt.reducer.keep_dims = true;
	tg_prepare_ok(&tg, OP_MEAN, 2);
	tg_run(&tg);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], -2);
	tg_free(&tg);
}

static void mean_rescaling_general_path(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[4] = { 1, 2, 3, 5 }, out[1];
	int32_t axis[1] = { 1 };
	tg_tensor(&tg, 0, TT_INT8, 2, DIMS(1, 4), in, 0.5f, 1);
	tg_const(&tg, 1, TT_INT32, 1, DIMS(1), axis, 0, 0);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(1), out, 0.25f, -3);
	tg_prepare_ok(&tg, OP_MEAN, 2);
	tg_run(&tg);
	/* real values (q - 1) * 0.5 = {0, 0.5, 1, 2}: mean 0.875 = 3.5 steps of 0.25 -> 4, -3 -> 1 */
	assert_int_equal(out[0], 1);
	tg_free(&tg);
	/* wrong output shape and an axis beyond the rank are refused */
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(1, 1), out, 0.25f, -3);
	assert_true(tg_prepare(&tg, OP_MEAN, 2) < 0);
	assert_non_null(strstr(tg.err, "output shape [1,1] differs from computed [1]"));
	axis[0] = 2;
	assert_true(tg_prepare(&tg, OP_MEAN, 2) < 0);
	assert_non_null(strstr(tg.err, "axis 2 out of range"));
}

/* --- ADD / MUL ------------------------------------------------------------------------------ */

static void add_rescales_both_inputs(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* a = 0.5 * q, b = 0.25 * (q - 10), out = q + 5 (scale 1, zp -5), RELU at q = -5 */
	int8_t a[3] = { 4, -6, 100 }, b[3] = { 14, 6, 90 }, out[3];
	tg_tensor(&tg, 0, TT_INT8, 1, DIMS(3), a, 0.5f, 0);
	tg_tensor(&tg, 1, TT_INT8, 1, DIMS(3), b, 0.25f, 10);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(3), out, 1.0f, -5);
	tg.n.opt.add.activation = ACT_RELU;
	tg_prepare_ok(&tg, OP_ADD, 2);
	tg_run(&tg);
	assert_int_equal(out[0], -2);  /* 2.0 + 1.0 = 3 -> -5 + 3 */
	assert_int_equal(out[1], -5);  /* -3.0 - 1.0 = -4 -> -9, RELU -> -5 */
	assert_int_equal(out[2], 65);  /* 50 + 20 = 70 -> 65 */
	tg_free(&tg);
}

static void add_broadcast_matches_double_reference(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	uint8_t a[6], b[3], out[6];
	for (int i = 0; i < 6; i++)
		a[i] = (uint8_t)(37 * i + 11);
	for (int i = 0; i < 3; i++)
		b[i] = (uint8_t)(91 * i + 5);
	const float sa = 0.0371f, sb = 0.0517f, so = 0.0611f;
	const int32_t za = 120, zb = 131, zo = 127;
	tg_tensor(&tg, 0, TT_UINT8, 2, DIMS(2, 3), a, sa, za);
	tg_tensor(&tg, 1, TT_UINT8, 1, DIMS(3), b, sb, zb);
	tg_tensor(&tg, 7, TT_UINT8, 2, DIMS(2, 3), out, so, zo);
	tg_prepare_ok(&tg, OP_ADD, 2);
	tg_run(&tg);
	for (int i = 0; i < 6; i++) {
		double real = (a[i] - za) * (double)sa + (b[i % 3] - zb) * (double)sb;
		double q = fmin(fmax(round(real / so) + zo, 0), 255);
		assert_int_equal(out[i], (int)q);
	}
	tg_free(&tg);
	/* incompatible shapes */
	tg_tensor(&tg, 1, TT_UINT8, 1, DIMS(2), b, sb, zb);
	assert_true(tg_prepare(&tg, OP_ADD, 2) < 0);
	assert_non_null(strstr(tg.err, "broadcast"));
}

static void mul_by_hand_and_broadcast(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* a = 0.5 q, b = 0.25 q (one value, broadcast), out scale 0.5 zp 1: 2.0 * 3.0 = 6 -> 13;
	 * -1.0 * 3.0 = -3 -> -5; 0.5 * 3 = 1.5 -> 4; 63.5 * 3 = 190.5 -> 127 */
	int8_t a[4] = { 4, -2, 1, 127 }, b[1] = { 12 }, out[4];
	tg_tensor(&tg, 0, TT_INT8, 2, DIMS(2, 2), a, 0.5f, 0);
	tg_tensor(&tg, 1, TT_INT8, 1, DIMS(1), b, 0.25f, 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(2, 2), out, 0.5f, 1);
	tg_prepare_ok(&tg, OP_MUL, 2);
	tg_run(&tg);
	const int8_t want[4] = { 13, -5, 4, 127 };
	assert_memory_equal(out, want, 4);
	tg_free(&tg);
}

/* --- SOFTMAX -------------------------------------------------------------------------------- */

static void softmax_equal_inputs_share_evenly(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[4] = { 7, 7, 7, 7 }, out[4];
	tg_tensor(&tg, 0, TT_INT8, 2, DIMS(1, 4), in, 0.1f, 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(1, 4), out, 1.0f / 256, -128);
	tg.n.opt.softmax.beta = 1.0f;
	tg_prepare_ok(&tg, OP_SOFTMAX, 1);
	tg_run(&tg);
	/* 0.25 each = 64/256 -> -128 + 64 */
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], -64);
	tg_free(&tg);
}

static void softmax_two_classes_int8_and_uint8(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* scale 0.1, q {10, 0}: difference 1.0 -> 1/(1+e^-1) = 0.73106 -> 187.15 -> 187;
	 * 0.26894 -> 68.85 -> 69. Two rows. */
	int8_t in[4] = { 10, 0, -50, -40 }, out[4];
	tg_tensor(&tg, 0, TT_INT8, 2, DIMS(2, 2), in, 0.1f, 3);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(2, 2), out, 1.0f / 256, -128);
	tg.n.opt.softmax.beta = 1.0f;
	tg_prepare_ok(&tg, OP_SOFTMAX, 1);
	tg_run(&tg);
	const int8_t want[4] = { 187 - 128, 69 - 128, 69 - 128, 187 - 128 };
	assert_memory_equal(out, want, 4);
	tg_free(&tg);
	/* beta 2 doubles the difference: 1/(1+e^-2) = 0.880797 -> 225.48 -> 225; 30.52 -> 31 */
	uint8_t uin[2] = { 110, 100 }, uout[2];
	tg_tensor(&tg, 0, TT_UINT8, 2, DIMS(1, 2), uin, 0.1f, 100);
	tg_tensor(&tg, 7, TT_UINT8, 2, DIMS(1, 2), uout, 1.0f / 256, 0);
	tg.n.opt.softmax.beta = 2.0f;
	tg_prepare_ok(&tg, OP_SOFTMAX, 1);
	tg_run(&tg);
	assert_int_equal(uout[0], 225);
	assert_int_equal(uout[1], 31);
	tg_free(&tg);
}

static void softmax_far_below_max_is_zero_and_max_saturates(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* scale 1: differences of 100 are below diff_min (-15 here): exactly 0 probability; the
	 * maximum gets all of it, 256/256, clamped to the top code */
	int8_t in[3] = { 0, -100, -120 }, out[3];
	tg_tensor(&tg, 0, TT_INT8, 2, DIMS(1, 3), in, 1.0f, 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(1, 3), out, 1.0f / 256, -128);
	tg.n.opt.softmax.beta = 1.0f;
	tg_prepare_ok(&tg, OP_SOFTMAX, 1);
	tg_run(&tg);
	assert_int_equal(out[0], 127);
	assert_int_equal(out[1], -128);
	assert_int_equal(out[2], -128);
	tg_free(&tg);
	/* output quantization other than (1/256, -128) is refused */
	tg.t[7].zero_point = 0;
	assert_true(tg_prepare(&tg, OP_SOFTMAX, 1) < 0);
	assert_non_null(strstr(tg.err, "1/256"));
}

/* --- QUANTIZE / DEQUANTIZE ------------------------------------------------------------------ */

static void quantize_float_rounds_half_away_and_clamps(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	float in[5] = { 1.25f, -1.25f, 100.0f, -100.0f, 0.0f };
	int8_t out[5];
	tg_tensor(&tg, 0, TT_FLOAT32, 1, DIMS(5), in, 0, 0);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(5), out, 0.5f, -1);
	tg_prepare_ok(&tg, OP_QUANTIZE, 1);
	tg_run(&tg);
	/* 2.5 -> 3 -> 2; -2.5 -> -3 -> -4; 200 - 1 -> 127; -201 -> -128; 0 -> -1 */
	const int8_t want[5] = { 2, -4, 127, -128, -1 };
	assert_memory_equal(out, want, 5);
	tg_free(&tg);
}

static void requantize_between_int8_and_uint8(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* same scale, zp 128 -> zp 0 (the tf2 mobilenet input): just x - 128 */
	uint8_t u[3] = { 0, 128, 255 };
	int8_t s[3];
	tg_tensor(&tg, 0, TT_UINT8, 1, DIMS(3), u, 0.0078431f, 128);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(3), s, 0.0078431f, 0);
	tg_prepare_ok(&tg, OP_QUANTIZE, 1);
	tg_run(&tg);
	const int8_t want_s[3] = { -128, 0, 127 };
	assert_memory_equal(s, want_s, 3);
	tg_free(&tg);
	/* int8 scale 0.5 -> uint8 scale 0.25 zp 10: 1.5 -> 16; -1.5 -> 4; 50 -> 210; 63.5 -> 264
	 * clamped to 255 */
	int8_t s2[4] = { 3, -3, 100, 127 };
	uint8_t u2[4];
	tg_tensor(&tg, 0, TT_INT8, 1, DIMS(4), s2, 0.5f, 0);
	tg_tensor(&tg, 7, TT_UINT8, 1, DIMS(4), u2, 0.25f, 10);
	tg_prepare_ok(&tg, OP_QUANTIZE, 1);
	tg_run(&tg);
	const uint8_t want_u[4] = { 16, 4, 210, 255 };
	assert_memory_equal(u2, want_u, 4);
	tg_free(&tg);
}

static void dequantize_uint8_and_int8(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	uint8_t u[3] = { 128, 130, 0 };
	float f[3];
	tg_tensor(&tg, 0, TT_UINT8, 1, DIMS(3), u, 0.5f, 128);
	tg_tensor(&tg, 7, TT_FLOAT32, 1, DIMS(3), f, 0, 0);
	tg_prepare_ok(&tg, OP_DEQUANTIZE, 1);
	tg_run(&tg);
	assert_true(f[0] == 0.0f && f[1] == 1.0f && f[2] == -64.0f);
	tg_free(&tg);
	int8_t s[2] = { -128, 127 };
	tg_tensor(&tg, 0, TT_INT8, 1, DIMS(2), s, 0.1f, -3);
	tg_tensor(&tg, 7, TT_FLOAT32, 1, DIMS(2), f, 0, 0);
	tg_prepare_ok(&tg, OP_DEQUANTIZE, 1);
	tg_run(&tg);
	assert_true(f[0] == (float)(0.1f * -125.0) && f[1] == (float)(0.1f * 130.0));
	tg_free(&tg);
}

/* --- PAD / CONCATENATION -------------------------------------------------------------------- */

static void pad_fills_with_zero_point(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[4] = { 1, 2, 3, 4 }, out[9];
	int32_t pads[8] = { 0, 0, 1, 0, 0, 1, 0, 0 };
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 2, 2, 1), in, 0.5f, -5);
	tg_const(&tg, 1, TT_INT32, 2, DIMS(4, 2), pads, 0, 0);
	tg_tensor(&tg, 7, TT_INT8, 4, DIMS(1, 3, 3, 1), out, 0.5f, -5);
	tg_prepare_ok(&tg, OP_PAD, 2);
	tg_run(&tg);
	/* one row above, one column right, filled with the zero point (real 0.0) */
	const int8_t want[9] = { -5, -5, -5, 1, 2, -5, 3, 4, -5 };
	assert_memory_equal(out, want, 9);
	tg_free(&tg);
	tg.t[7].dims[2] = 4;
	assert_true(tg_prepare(&tg, OP_PAD, 2) < 0);
	assert_non_null(strstr(tg.err, "computed [1,3,3,1]"));
}

static void concat_copies_and_rescales(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t a[2] = { 1, 2 }, b[4] = { 3, 4, 5, 6 }, out[6];
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 1, 2, 1), a, 0.5f, 0);
	tg_tensor(&tg, 1, TT_INT8, 4, DIMS(1, 1, 2, 2), b, 0.5f, 0);
	tg_tensor(&tg, 7, TT_INT8, 4, DIMS(1, 1, 2, 3), out, 0.5f, 0);
	tg.n.opt.concat.axis = -1;
	tg_prepare_ok(&tg, OP_CONCATENATION, 2);
	tg_run(&tg);
	const int8_t want[6] = { 1, 3, 4, 2, 5, 6 };
	assert_memory_equal(out, want, 6);
	tg_free(&tg);
	/* int8 inputs that would need rescaling are refused, as in TFLite */
	tg.t[1].scale = 0.25f;
	assert_true(tg_prepare(&tg, OP_CONCATENATION, 2) < 0);
	/* uint8: input 2 at scale 0.5 into scale 1: 3 -> 1.5 -> 2, 5 -> 2.5 -> 3 */
	uint8_t ua[1] = { 9 }, ub[2] = { 3, 5 }, uout[3];
	tg_tensor(&tg, 0, TT_UINT8, 1, DIMS(1), ua, 1.0f, 0);
	tg_tensor(&tg, 1, TT_UINT8, 1, DIMS(2), ub, 0.5f, 0);
	tg_tensor(&tg, 7, TT_UINT8, 1, DIMS(3), uout, 1.0f, 0);
	tg.n.opt.concat.axis = 0;
	tg_prepare_ok(&tg, OP_CONCATENATION, 2);
	tg_run(&tg);
	const uint8_t uwant[3] = { 9, 2, 3 };
	assert_memory_equal(uout, uwant, 3);
	tg_free(&tg);
}

/* --- HARD_SWISH / LOGISTIC ------------------------------------------------------------------ */

static void hard_swish_by_hand_and_sweep(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[256], out[256];
	for (int i = 0; i < 256; i++)
		in[i] = (int8_t)(i - 128);
	tg_tensor(&tg, 0, TT_INT8, 1, DIMS(256), in, 0.1f, 0);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(256), out, 0.1f, 0);
	tg_prepare_ok(&tg, OP_HARD_SWISH, 1);
	tg_run(&tg);
	/* x * relu6(x + 3) / 6: 4.0 -> 4.0 (40); -4.0 -> 0; 0 -> 0; 1.0 -> 0.667 (6.67 -> 7);
	 * 2.0 -> 1.667 (16.67 -> 17); -1.0 -> -0.333 (-3.33 -> -3) */
	assert_int_equal(out[128 + 40], 40);
	assert_int_equal(out[128 - 40], 0);
	assert_int_equal(out[128], 0);
	assert_int_equal(out[128 + 10], 7);
	assert_int_equal(out[128 + 20], 17);
	assert_int_equal(out[128 - 10], -3);
	/* Over the whole range: TFLite's int16 fixed point (a truncating final multiply, by design)
	 * stays within one step of the exact value; TFLite's own tests allow the same. */
	for (int i = 0; i < 256; i++) {
		double x = (i - 128) * 0.1;
		double y = x * fmin(fmax(x + 3, 0), 6) / 6;
		double q = fmin(fmax(round(y / 0.1), -128), 127);
		assert_true(fabs(out[i] - q) <= 1);
	}
	tg_free(&tg);
}

static void logistic_matches_sigmoid(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[256], out[256];
	for (int i = 0; i < 256; i++)
		in[i] = (int8_t)(i - 128);
	tg_tensor(&tg, 0, TT_INT8, 1, DIMS(256), in, 0.1f, 0);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(256), out, 1.0f / 256, -128);
	tg_prepare_ok(&tg, OP_LOGISTIC, 1);
	tg_run(&tg);
	/* 0 -> 0.5 = 128/256 -> 0; 1.0 -> 0.7311 -> 187.15 -> 59; 12.7 -> 256 -> clamp 127 */
	assert_int_equal(out[128], 0);
	assert_int_equal(out[128 + 10], 59);
	assert_int_equal(out[255], 127);
	assert_int_equal(out[0], -128);
	for (int i = 0; i < 256; i++) {
		double y = 1.0 / (1.0 + exp(-(i - 128) * 0.1)) * 256;
		if (fabs(y - floor(y) - 0.5) < 1e-3)
			continue; /* a float-vs-double tie; none in this range, kept for safety */
		double q = fmin(fmax(round(y) - 128, -128), 127);
		assert_int_equal(out[i], (int)q);
	}
	tg_free(&tg);
	tg.t[7].scale = 1.0f / 128;
	assert_true(tg_prepare(&tg, OP_LOGISTIC, 1) < 0);
}

/* --- FULLY_CONNECTED ------------------------------------------------------------------------ */

static void fully_connected_int8_and_uint8(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* x = {0.5, 1, 1.5}, W = 0.5 * {{1,1,1},{1,-1,2}}, bias {4, -4} at 0.25, out scale 0.25:
	 * unit0: 0.5*(0.5+1+1.5) + 1 = 2.5 -> 10; unit1: 0.5*(0.5-1+3) - 1 = 0.25 -> 1 */
	int8_t x[3] = { 1, 2, 3 }, w[6] = { 1, 1, 1, 1, -1, 2 }, out[2];
	int32_t bias[2] = { 4, -4 };
	tg_tensor(&tg, 0, TT_INT8, 2, DIMS(1, 3), x, 0.5f, 0);
	tg_const(&tg, 1, TT_INT8, 2, DIMS(2, 3), w, 0.5f, 0);
	tg_const(&tg, 2, TT_INT32, 1, DIMS(2), bias, 0.25f, 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(1, 2), out, 0.25f, 0);
	tg_prepare_ok(&tg, OP_FULLY_CONNECTED, 3);
	tg_run(&tg);
	assert_int_equal(out[0], 10);
	assert_int_equal(out[1], 1);
	tg_free(&tg);
	/* uint8 with offsets, two batches: x {130, 126} zp 128 -> {2, -2}; w {131, 125} zp 128 ->
	 * {3, -3}: acc 12, * 0.5 * 0.5 / 1 = 3, + zp 100 = 103; batch 2 x {128, 128} -> 100 */
	uint8_t ux[4] = { 130, 126, 128, 128 }, uw[2] = { 131, 125 }, uout[2];
	tg_tensor(&tg, 0, TT_UINT8, 2, DIMS(2, 2), ux, 0.5f, 128);
	tg_const(&tg, 1, TT_UINT8, 2, DIMS(1, 2), uw, 0.5f, 128);
	tg_tensor(&tg, 7, TT_UINT8, 2, DIMS(2, 1), uout, 1.0f, 100);
	tg_prepare_ok(&tg, OP_FULLY_CONNECTED, 2);
	tg_run(&tg);
	assert_int_equal(uout[0], 103);
	assert_int_equal(uout[1], 100);
	tg_free(&tg);
	/* a [1, 2, 2] input flattens to 2 batches -> [2, 1]; keep_num_dims wants [1, 2, 1] */
	tg_tensor(&tg, 0, TT_UINT8, 3, DIMS(1, 2, 2), ux, 0.5f, 128);
	tg_prepare_ok(&tg, OP_FULLY_CONNECTED, 2);
	tg_free(&tg);
	tg.n.opt.fc.keep_num_dims = true;
	assert_true(tg_prepare(&tg, OP_FULLY_CONNECTED, 2) < 0);
	assert_non_null(strstr(tg.err, "computed [1,2,1]"));
	tg.n.opt.fc.keep_num_dims = false;
	/* uint8 FULLY_CONNECTED has one output multiplier: per-channel uint8 weights are refused */
	tg.t[1].nq = 2;
	assert_true(tg_prepare(&tg, OP_FULLY_CONNECTED, 2) < 0);
	assert_non_null(strstr(tg.err, "per-channel weights"));
	tg.t[1].nq = 1;
	/* activations must be per-tensor */
	tg.t[0].nq = 2;
	assert_true(tg_prepare(&tg, OP_FULLY_CONNECTED, 2) < 0);
	assert_non_null(strstr(tg.err, "input has 2 quantization scales"));
	tg.t[0].nq = 1;
	/* depth mismatch */
	tg_tensor(&tg, 0, TT_UINT8, 2, DIMS(1, 3), ux, 0.5f, 128);
	assert_true(tg_prepare(&tg, OP_FULLY_CONNECTED, 2) < 0);
	assert_non_null(strstr(tg.err, "not a multiple of the weights depth 2"));
}

/* --- RESHAPE / SQUEEZE ---------------------------------------------------------------------- */

static void reshape_and_squeeze_copy_and_check_dims(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	int8_t in[6] = { 1, 2, 3, 4, 5, 6 }, out[6] = { 0 };
	int32_t shape[2] = { -1, 2 };
	tg_tensor(&tg, 0, TT_INT8, 3, DIMS(1, 2, 3), in, 0.5f, 0);
	tg_const(&tg, 1, TT_INT32, 1, DIMS(2), shape, 0, 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(3, 2), out, 0.5f, 0);
	tg.n.opt.reshape.n = -1;
	tg_prepare_ok(&tg, OP_RESHAPE, 2); /* -1 inferred as 6 / 2 = 3 */
	tg_run(&tg);
	assert_memory_equal(out, in, 6);
	tg_free(&tg);
	/* option instead of a shape tensor; element count must agree */
	tg.n.opt.reshape.n = 2;
	tg.n.opt.reshape.new_shape[0] = 4;
	tg.n.opt.reshape.new_shape[1] = 2;
	assert_true(tg_prepare(&tg, OP_RESHAPE, 1) < 0);
	assert_non_null(strstr(tg.err, "8 elements, input 6"));
	tg.n.opt.reshape.new_shape[0] = 3;
	tg_prepare_ok(&tg, OP_RESHAPE, 1);
	tg_free(&tg);
	/* quantization may not change */
	tg.t[7].zero_point = 1;
	assert_true(tg_prepare(&tg, OP_RESHAPE, 1) < 0);
	tg.t[7].zero_point = 0;

	memset(out, 0, sizeof(out));
	tg_tensor(&tg, 0, TT_INT8, 4, DIMS(1, 3, 1, 2), in, 0.5f, 0);
	tg_tensor(&tg, 7, TT_INT8, 3, DIMS(3, 1, 2), out, 0.5f, 0);
	tg.n.opt.squeeze.n = 1;
	tg.n.opt.squeeze.dims[0] = 0;
	tg_prepare_ok(&tg, OP_SQUEEZE, 1);
	tg_run(&tg);
	assert_memory_equal(out, in, 6);
	tg_free(&tg);
	tg.n.opt.squeeze.n = 0; /* all size-1 dims: [3, 2] */
	assert_true(tg_prepare(&tg, OP_SQUEEZE, 1) < 0);
	tg_tensor(&tg, 7, TT_INT8, 2, DIMS(3, 2), out, 0.5f, 0);
	tg_prepare_ok(&tg, OP_SQUEEZE, 1);
	tg_free(&tg);
	tg.n.opt.squeeze.n = 1;
	tg.n.opt.squeeze.dims[0] = 1; /* size 3 */
	assert_true(tg_prepare(&tg, OP_SQUEEZE, 1) < 0);
	assert_non_null(strstr(tg.err, "has size 3"));
}

static void relu_and_relu6_requantize_and_clamp(void **state)
{
	(void)state;
	struct tg tg = { 0 };
	/* input scale 0.1 zp 10, output scale 0.05 zp -20: q -> -20 + 2 (q - 10).
	 * 5 (-0.5) -> 0.0 = -20; 10 (0) -> -20; 13 (0.3) -> -14; 50 (4.0) -> 60; 80 (7.0) -> 120,
	 * and RELU6 caps 7.0 at 6.0 = -20 + 120 = 100 */
	int8_t in[5] = { 5, 10, 13, 50, 80 }, out[5];
	tg_tensor(&tg, 0, TT_INT8, 1, DIMS(5), in, 0.1f, 10);
	tg_tensor(&tg, 7, TT_INT8, 1, DIMS(5), out, 0.05f, -20);
	tg_prepare_ok(&tg, OP_RELU, 1);
	tg_run(&tg);
	const int8_t want_relu[5] = { -20, -20, -14, 60, 120 };
	assert_memory_equal(out, want_relu, 5);
	tg_prepare_ok(&tg, OP_RELU6, 1);
	tg_run(&tg);
	const int8_t want_relu6[5] = { -20, -20, -14, 60, 100 };
	assert_memory_equal(out, want_relu6, 5);
	tg_free(&tg);
	/* uint8, same quantization: plain clamp at the zero point 128 and at 128 + 6 / 0.1 = 188 */
	uint8_t uin[3] = { 100, 150, 250 }, uout[3];
	tg_tensor(&tg, 0, TT_UINT8, 1, DIMS(3), uin, 0.1f, 128);
	tg_tensor(&tg, 7, TT_UINT8, 1, DIMS(3), uout, 0.1f, 128);
	tg_prepare_ok(&tg, OP_RELU6, 1);
	tg_run(&tg);
	const uint8_t want_u[3] = { 128, 150, 188 };
	assert_memory_equal(uout, want_u, 3);
	tg_free(&tg);
}

static void registry_knows_every_op(void **state)
{
	(void)state;
	static const int ops[] = {
		OP_ADD, OP_AVERAGE_POOL_2D, OP_CONCATENATION, OP_CONV_2D, OP_DEPTHWISE_CONV_2D,
		OP_DEQUANTIZE, OP_FULLY_CONNECTED, OP_LOGISTIC, OP_MAX_POOL_2D, OP_MUL, OP_RESHAPE,
		OP_SOFTMAX, OP_PAD, OP_MEAN, OP_SQUEEZE, OP_QUANTIZE, OP_HARD_SWISH, OP_RELU, OP_RELU6,
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const struct op_kernel *k = ops_find(ops[i]);
		assert_non_null(k);
		assert_int_equal(k->op, ops[i]);
		assert_string_equal(k->name, builtin_op_name(ops[i]));
	}
	assert_null(ops_find(999));
	assert_null(ops_find(20)); /* RELU_N1_TO_1 as an op: not supported */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(average_pool_rounds_half_away_from_zero),
		cmocka_unit_test(average_pool_same_counts_only_inside_cells),
		cmocka_unit_test(max_pool_with_relu_and_channels),
		cmocka_unit_test(mean_spatial_int8_keep_dims),
		cmocka_unit_test(mean_spatial_uint8_keep_dims),
		cmocka_unit_test(mean_same_quantization_truncates),
		cmocka_unit_test(mean_rescaling_general_path),
		cmocka_unit_test(add_rescales_both_inputs),
		cmocka_unit_test(add_broadcast_matches_double_reference),
		cmocka_unit_test(mul_by_hand_and_broadcast),
		cmocka_unit_test(softmax_equal_inputs_share_evenly),
		cmocka_unit_test(softmax_two_classes_int8_and_uint8),
		cmocka_unit_test(softmax_far_below_max_is_zero_and_max_saturates),
		cmocka_unit_test(quantize_float_rounds_half_away_and_clamps),
		cmocka_unit_test(requantize_between_int8_and_uint8),
		cmocka_unit_test(dequantize_uint8_and_int8),
		cmocka_unit_test(pad_fills_with_zero_point),
		cmocka_unit_test(concat_copies_and_rescales),
		cmocka_unit_test(hard_swish_by_hand_and_sweep),
		cmocka_unit_test(logistic_matches_sigmoid),
		cmocka_unit_test(fully_connected_int8_and_uint8),
		cmocka_unit_test(reshape_and_squeeze_copy_and_check_dims),
		cmocka_unit_test(relu_and_relu6_requantize_and_clamp),
		cmocka_unit_test(registry_knows_every_op),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
