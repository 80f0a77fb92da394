/* test_ops_dwrow.c — the row path of narrow DEPTHWISE_CONV_2D layers (inference/ops/fast/dwrow.c)
 * against the reference loops of the same kernel (ops_set_fast_kernels(false), the path the
 * golden test pins to TFLite), so equality is bit-exactness. Random cases with 1, 2, 4 or 8
 * output channels and depth multipliers 1..8 (person_detect's first layer: 1 channel × 8), or
 * 16-64 channels (the pattern of weights spanning several kernel blocks),
 * widths that leave every tail of the 16-lane kernel blocks and 32-lane requantization rows,
 * 1×1 / 3×3 / 2×3 / 5×5 filters, strides 1-3, dilation, SAME/VALID, uint8 per-tensor and int8
 * per-channel, batch 1-2, with and without bias; each at the best ISA level, the baseline SIMD
 * one and with 2 and 3 workers. Also extreme input bytes and zero points, and which layers take
 * the row path at all (dwrow_bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/ops/fast/dwpair.h"
#include "inference/ops/fast/dwrow.h"
#include "inference/ops/fast/gemm.h"
#include "inference/ops/fast/workers.h"
#include "inference/ops/ops.h"
#include "tests/ops_graph.h"
#include "tests/testutil.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static int rnd_in(int lo, int hi) /* inclusive */
{
	return tu_rand_in(&rng_state, lo, hi);
}

static float rnd_scale(float lo, float hi)
{
	return lo + (hi - lo) * (float)rnd_in(0, 9999) / 10000.0f;
}

/* One random narrow depthwise node in tg with its buffers (freed by the caller). */
struct narrow {
	struct tg tg;
	uint8_t *in, *filter, *out;
	int32_t *bias;
};

static void narrow_build(struct narrow *c, int iter, bool extreme)
{
	memset(c, 0, sizeof(*c));
	const bool is_signed = rnd_in(0, 1);
	const enum tensor_type type = is_signed ? TT_INT8 : TT_UINT8;
	/* 1-8 channels (any depth multiplier up to the channels), or 16-64 in whole blocks of 16
	 * (depth multiplier 1 or 2): the weight pattern shorter than, equal to and longer than a
	 * kernel block, requantization rows of 32, 32 + 16 and 64 lanes */
	static const int chs[] = { 1, 2, 4, 8, 16, 32, 48, 64 };
	const int ch = chs[rnd_in(0, 7)];
	const int dm = ch >= 16 ? rnd_in(1, 2) : 1 << rnd_in(0, ch == 1 ? 0 : (ch == 2 ? 1 : ch == 4 ? 2 : 3));
	const int in_ch = ch / dm, batches = iter % 5 == 0 ? 2 : 1;
	static const int ksizes[][2] = { { 3, 3 }, { 3, 3 }, { 1, 1 }, { 2, 3 }, { 5, 5 } };
	const int kk = rnd_in(0, 4), kh = ksizes[kk][0], kw = ksizes[kk][1];
	const int stride = iter % 9 == 8 ? 3 : rnd_in(1, 2), dil = iter % 7 == 6 ? 2 : 1;
	const int in_h = rnd_in(1, 9), in_w = rnd_in(1, 75);
	enum padding pad = rnd_in(0, 1) ? PAD_SAME : PAD_VALID;
	if (ref_out_size(pad, in_h, kh, stride, dil) < 1 || ref_out_size(pad, in_w, kw, stride, dil) < 1)
		pad = PAD_SAME;
	const int out_h = ref_out_size(pad, in_h, kh, stride, dil);
	const int out_w = ref_out_size(pad, in_w, kw, stride, dil);
	const int32_t zp_lo = is_signed ? -128 : 0, zp_hi = is_signed ? 127 : 255;
	const int32_t in_dims[4] = { batches, in_h, in_w, in_ch }, f_dims[4] = { 1, kh, kw, ch };
	const int32_t b_dims[1] = { ch }, o_dims[4] = { batches, out_h, out_w, ch };
	const size_t in_bytes = (size_t)batches * in_h * in_w * in_ch, f_bytes = (size_t)kh * kw * ch;
	c->in = malloc(in_bytes);
	c->filter = malloc(f_bytes);
	c->bias = malloc((size_t)ch * sizeof(int32_t));
	c->out = malloc((size_t)batches * out_h * out_w * ch);
	assert_non_null(c->in);
	assert_non_null(c->filter);
	assert_non_null(c->bias);
	assert_non_null(c->out);
	static const uint8_t ends[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	for (size_t i = 0; i < in_bytes; i++)
		c->in[i] = extreme ? ends[rnd_in(0, 5)] : (uint8_t)rnd_in(0, 255);
	for (size_t i = 0; i < f_bytes; i++)
		c->filter[i] = extreme ? ends[rnd_in(0, 5)] : (uint8_t)rnd_in(0, 255);
	for (int i = 0; i < ch; i++)
		c->bias[i] = rnd_in(-40000, 40000);
	const int32_t in_zp = extreme ? (is_signed ? (int8_t)ends[rnd_in(0, 5)] : ends[rnd_in(0, 5)])
				      : rnd_in(zp_lo, zp_hi);
	struct tg *tg = &c->tg;
	tg_tensor(tg, 0, type, 4, in_dims, c->in, rnd_scale(0.005f, 0.05f), in_zp);
	tg_tensor(tg, 1, type, 4, f_dims, c->filter, rnd_scale(0.001f, 0.02f),
		  is_signed ? 0 : rnd_in(0, 255));
	tg_tensor(tg, 2, TT_INT32, 1, b_dims, c->bias, 0, 0);
	tg_tensor(tg, 3, type, 4, o_dims, c->out, rnd_scale(0.02f, 0.5f), rnd_in(zp_lo, zp_hi));
	if (is_signed && rnd_in(0, 1)) {
		float scales[64];
		for (int i = 0; i < ch; i++)
			scales[i] = rnd_scale(0.0005f, 0.03f);
		tg_per_channel(tg, 1, ch, scales, 3);
	}
	tg->bias_absent = iter % 6 == 5;
	static const enum activation acts[] = { ACT_NONE, ACT_RELU, ACT_RELU6 };
	tg->n.opt.depthwise.padding = pad;
	tg->n.opt.depthwise.stride_h = tg->n.opt.depthwise.stride_w = stride;
	tg->n.opt.depthwise.dilation_h = tg->n.opt.depthwise.dilation_w = dil;
	tg->n.opt.depthwise.depth_multiplier = dm;
	tg->n.opt.depthwise.activation = acts[iter % 3];
}

static void narrow_free(struct narrow *c)
{
	tg_free(&c->tg);
	free(c->in);
	free(c->filter);
	free(c->bias);
	free(c->out);
}

/* Prepares and runs the node with the given settings; the output goes to ret_out. */
static void narrow_run(struct narrow *c, bool fast, enum gemm_isa isa, struct workers *w,
		       uint8_t *ret_out)
{
	ops_set_fast_kernels(fast);
	gemm_set_isa_limit(isa);
	c->tg.g.kernel_ctx = w;
	tg_free(&c->tg);
	if (tg_prepare(&c->tg, OP_DEPTHWISE_CONV_2D, 3) != 0)
		fail_msg("prepare: %s", c->tg.err);
	memset(c->out, 0xa5, c->tg.t[3].bytes);
	tg_run(&c->tg);
	memcpy(ret_out, c->out, c->tg.t[3].bytes);
	ops_set_fast_kernels(true);
	gemm_set_isa_limit(GEMM_ISA_BEST);
}

static void compare_narrow(int iters, bool extreme)
{
	struct workers *w2 = NULL, *w3 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	assert_int_equal(workers_create(3, &w3), 0);
	for (int it = 0; it < iters; it++) {
		struct narrow c;
		narrow_build(&c, it, extreme);
		const size_t bytes = c.tg.t[3].bytes;
		uint8_t *ref = malloc(bytes), *got = malloc(bytes);
		assert_non_null(ref);
		assert_non_null(got);
		narrow_run(&c, false, GEMM_ISA_SIMD, NULL, ref);
		static const struct {
			const char *what;
			enum gemm_isa isa;
			int workers;
		} runs[] = {
			{ "best isa", GEMM_ISA_BEST, 1 },
			{ "baseline simd", GEMM_ISA_SIMD, 1 },
			{ "best isa, 2 workers", GEMM_ISA_BEST, 2 },
			{ "baseline simd, 3 workers", GEMM_ISA_SIMD, 3 },
		};
		for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
			narrow_run(&c, true, runs[r].isa,
				   runs[r].workers == 2 ? w2 : runs[r].workers == 3 ? w3 : NULL, got);
			const struct tensor *in = &c.tg.t[0], *f = &c.tg.t[1];
			for (size_t i = 0; i < bytes; i++)
				if (got[i] != ref[i])
					fail_msg("case %d (%s, %s, in %dx%dx%dx%d ch->%d, filter %dx%d, "
						 "stride %d, dilation %d, in zp %d): byte %zu is %u, reference %u",
						 it, runs[r].what, in->type == TT_INT8 ? "int8" : "uint8",
						 in->dims[0], in->dims[1], in->dims[2], in->dims[3], f->dims[3],
						 f->dims[1], f->dims[2], c.tg.n.opt.depthwise.stride_w,
						 c.tg.n.opt.depthwise.dilation_w, in->zero_point, i, got[i],
						 ref[i]);
		}
		free(ref);
		free(got);
		narrow_free(&c);
	}
	workers_destroy(w2);
	workers_destroy(w3);
}

static void narrow_depthwise_equals_reference_on_random_cases(void **state)
{
	(void)state;
	compare_narrow(400, false);
}

static void narrow_depthwise_extreme_bytes_equal_reference(void **state)
{
	(void)state;
	compare_narrow(150, true);
}

/* A node prepared once and run on one input, then on another (as the engine runs frame after
 * frame): the second output is the reference's for the second input — no input row the
 * workers expanded in the first run is reused. */
static void second_run_reads_the_new_input(void **state)
{
	(void)state;
	struct workers *w2 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	for (int it = 0; it < 60; it++) {
		struct narrow c;
		narrow_build(&c, it, false);
		const size_t bytes = c.tg.t[3].bytes, in_bytes = c.tg.t[0].bytes;
		uint8_t *ref = malloc(bytes), *got = malloc(bytes);
		assert_non_null(ref);
		assert_non_null(got);
		for (size_t i = 0; i < in_bytes; i++) /* the second input */
			c.in[i] = (uint8_t)(c.in[i] * 7 + 3);
		narrow_run(&c, false, GEMM_ISA_SIMD, NULL, ref);
		for (size_t i = 0; i < in_bytes; i++) /* back to the first */
			c.in[i] = (uint8_t)((c.in[i] - 3) * 183); /* 7 * 183 = 1281 = 1 mod 256 */
		narrow_run(&c, true, GEMM_ISA_BEST, it % 2 ? w2 : NULL, got);
		for (size_t i = 0; i < in_bytes; i++)
			c.in[i] = (uint8_t)(c.in[i] * 7 + 3);
		c.tg.g.kernel_ctx = it % 2 ? w2 : NULL;
		tg_run(&c.tg);
		assert_memory_equal(c.out, ref, bytes);
		free(ref);
		free(got);
		narrow_free(&c);
	}
	workers_destroy(w2);
}

/* Which layers the row path takes: 1, 2, 4, 8 or 16 channels, or more in whole blocks of 16 at
 * stride 1, on CPUs with dwpair's kernel, rows up to DWROW_MAX_LANES lanes; never 3 or 24
 * channels (the per-pixel kernels take those). */
static void row_path_takes_narrow_layers_only(void **state)
{
	(void)state;
	gemm_set_isa_limit(GEMM_ISA_BEST);
	const bool simd = dwpair_select() != NULL;
	struct dwrow_geom geo = {
		.batches = 1, .in_h = 48, .in_w = 48, .in_ch = 8, .out_h = 48, .out_w = 48, .ch = 8,
		.kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
	};
	assert_int_equal(dwrow_bytes(&geo, 1) > 0, simd);
	geo.in_ch = 1; /* person_detect's first layer: depth multiplier 8, stride 2 */
	geo.stride_h = geo.stride_w = 2;
	assert_int_equal(dwrow_bytes(&geo, 2) > 0, simd);
	geo.in_ch = geo.ch = 16; /* VWW's 48x48x16 stride-2 layer */
	assert_int_equal(dwrow_bytes(&geo, 1) > 0, simd);
	geo.in_ch = geo.ch = 32; /* wider: stride 1 only */
	assert_int_equal(dwrow_bytes(&geo, 1), 0);
	geo.stride_h = geo.stride_w = 1;
	assert_int_equal(dwrow_bytes(&geo, 1) > 0, simd);
	geo.in_ch = geo.ch = 24;
	assert_int_equal(dwrow_bytes(&geo, 1), 0);
	geo.in_ch = geo.ch = 3;
	assert_int_equal(dwrow_bytes(&geo, 1), 0);
	geo.in_ch = geo.ch = 8;
	geo.out_w = DWROW_MAX_LANES / 8 + 1;
	assert_int_equal(dwrow_bytes(&geo, 1), 0);
	gemm_set_isa_limit(GEMM_ISA_PORTABLE);
	geo.out_w = 48;
	assert_int_equal(dwrow_bytes(&geo, 1), 0);
	gemm_set_isa_limit(GEMM_ISA_BEST);
	printf("dwrow: %s\n", simd ? "available, the SIMD levels run narrow layers by rows"
				   : "not available on this CPU; these cases ran the per-pixel kernels");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(row_path_takes_narrow_layers_only),
		cmocka_unit_test(narrow_depthwise_equals_reference_on_random_cases),
		cmocka_unit_test(narrow_depthwise_extreme_bytes_equal_reference),
		cmocka_unit_test(second_run_reads_the_new_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
