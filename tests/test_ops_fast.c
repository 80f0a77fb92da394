/* test_ops_fast.c — the fast CONV_2D / DEPTHWISE_CONV_2D paths (gemm*.c, dwconv*.c,
 * requant*.c, workers.c) against the reference loops of the same kernels, on random shapes and
 * parameters: odd channel counts (tails of every SIMD block), 1×1 / 3×3 / other filters,
 * strides 1 and 2, dilation, SAME/VALID, per-tensor uint8 with both zero points, per-channel
 * int8, fused activations, batch 1 and 2. Each case runs with the best kernels of this CPU
 * (AVX-512 VNNI GEMM where present), the baseline SIMD ones (AVX2/NEON), the basic SIMD GEMM
 * (SSE4.1) with portable helpers, the portable ones, and pools of 2 and 3 workers. The
 * reference path (ops_set_fast_kernels(false)) is the one the golden test pins to TFLite, so
 * equality here is bit-exactness. On arm64 CPUs with the dot-product instructions the best
 * level is the 8-bit sdot/udot conv GEMM, on x86-64 CPUs with AVX-512 VNNI the vpdpbusd one
 * (gemm8.h): the random cases run it, and so do cases with extreme bytes and zero points, and a
 * filter at the largest K the int32 bound allows (elsewhere those run the other levels, and the
 * output says so). Also ADD's fast path the
 * same way, and the SIMD requantization against the portable one on extreme accumulators and
 * shifts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/graph.h"
#include "inference/ops/fast/gemm.h"
#include "inference/ops/fast/gemm8.h"
#include "inference/ops/ops.h"
#include "inference/ops/fast/requant.h"
#include "inference/ops/fast/workers.h"
#include "tests/testutil.h"

#define MAX_CH 48

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	return tu_rand(&rng_state);
}

static int rnd_in(int lo, int hi) /* inclusive */
{
	return tu_rand_in(&rng_state, lo, hi);
}

static float rnd_scale(float lo, float hi)
{
	return lo + (hi - lo) * (float)(rnd() % 10000) / 10000.0f;
}

struct fg {
	struct graph g;
	struct tensor t[4];
	struct node n;
	float scales[4][MAX_CH];
	int32_t zps[4][MAX_CH];
	uint8_t *buf[4];
	char err[256];
};

static void fg_tensor(struct fg *fg, int i, enum tensor_type type, int ndim, const int32_t *dims,
		      float scale, int32_t zp)
{
	struct tensor *t = &fg->t[i];
	tu_tensor_init(t, type, ndim, dims, NULL);
	free(fg->buf[i]);
	fg->buf[i] = malloc(t->bytes);
	assert_non_null(fg->buf[i]);
	t->data = fg->buf[i];
	t->is_const = i == 1 || i == 2;
	tu_tensor_quant(t, fg->scales[i], fg->zps[i], scale, zp);
}

static void fg_fill_random(struct fg *fg, int i)
{
	if (fg->t[i].type == TT_INT32) {
		int32_t *v = (int32_t *)fg->t[i].data;
		for (size_t k = 0; k < fg->t[i].bytes / 4; k++)
			v[k] = rnd_in(-40000, 40000);
		return;
	}
	for (size_t k = 0; k < fg->t[i].bytes; k++)
		fg->t[i].data[k] = (uint8_t)rnd();
}

static void fg_free(struct fg *fg)
{
	for (int i = 0; i < 4; i++)
		free(fg->buf[i]);
	free(fg->n.params);
}

static int out_size(enum padding pad, int in, int k, int stride, int dil)
{
	const int eff = (k - 1) * dil + 1;
	return pad == PAD_SAME ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

/* Prepares and runs the node with the given settings; the output bytes go to ret_out. */
static void fg_run(struct fg *fg, bool fast, enum gemm_isa isa, struct workers *w, uint8_t *ret_out)
{
	ops_set_fast_kernels(fast);
	gemm_set_isa_limit(isa);
	fg->g.kernel_ctx = w;
	free(fg->n.params);
	fg->n.params = NULL;
	const struct op_kernel *k = ops_find(fg->n.op);
	int r = k->prepare(&fg->g, &fg->n, fg->err, sizeof(fg->err));
	if (r != 0)
		fail_msg("prepare: %s", fg->err);
	memset(fg->t[3].data, 0xa5, fg->t[3].bytes);
	k->invoke(&fg->g, &fg->n);
	memcpy(ret_out, fg->t[3].data, fg->t[3].bytes);
	ops_set_fast_kernels(true);
	gemm_set_isa_limit(GEMM_ISA_BEST);
}

/* A random CONV_2D (depthwise = false) or DEPTHWISE_CONV_2D node. */
static void build_case(struct fg *fg, bool depthwise, int iter)
{
	free(fg->n.params);
	memset(&fg->n, 0, sizeof(fg->n));
	const bool is_signed = rnd() & 1;
	const enum tensor_type type = is_signed ? TT_INT8 : TT_UINT8;
	const int batches = iter % 5 == 0 ? 2 : 1;
	const int in_h = rnd_in(1, 11), in_w = rnd_in(1, 13);
	/* every other depthwise case in whole blocks of 16 channels: x86's dwpair kernel takes those */
	const int in_ch = depthwise ? (iter % 2 ? rnd_in(1, MAX_CH) : 16 * rnd_in(1, MAX_CH / 16))
				    : rnd_in(1, 37);
	const int dm = depthwise ? (iter % 4 == 3 ? 2 : 1) : 1;
	const int out_ch = depthwise ? (in_ch * dm > MAX_CH ? in_ch : in_ch * dm) : rnd_in(1, 41);
	const int real_dm = out_ch / in_ch;
	static const int ksizes[][2] = { { 1, 1 }, { 3, 3 }, { 3, 3 }, { 1, 1 }, { 2, 3 }, { 5, 5 } };
	const int kk = rnd_in(0, 5);
	const int kh = ksizes[kk][0], kw = ksizes[kk][1];
	const int stride = rnd_in(1, 2), dil = iter % 7 == 6 ? 2 : 1;
	enum padding pad = rnd() & 1 ? PAD_SAME : PAD_VALID;
	if (out_size(pad, in_h, kh, stride, dil) < 1 || out_size(pad, in_w, kw, stride, dil) < 1)
		pad = PAD_SAME;
	const int out_h = out_size(pad, in_h, kh, stride, dil), out_w = out_size(pad, in_w, kw, stride, dil);
	const int32_t zp_lo = is_signed ? -128 : 0, zp_hi = is_signed ? 127 : 255;
	const float in_scale = rnd_scale(0.005f, 0.05f), out_scale = rnd_scale(0.02f, 0.5f);

	const int32_t in_dims[4] = { batches, in_h, in_w, in_ch };
	const int32_t f_dims[4] = { depthwise ? 1 : out_ch, kh, kw, depthwise ? out_ch : in_ch };
	const int32_t b_dims[1] = { out_ch };
	const int32_t o_dims[4] = { batches, out_h, out_w, out_ch };
	fg_tensor(fg, 0, type, 4, in_dims, in_scale, rnd_in(zp_lo, zp_hi));
	fg_tensor(fg, 1, type, 4, f_dims, rnd_scale(0.001f, 0.02f), is_signed ? 0 : rnd_in(0, 255));
	fg_tensor(fg, 2, TT_INT32, 1, b_dims, 0, 0);
	fg->t[2].nq = 0;
	fg_tensor(fg, 3, type, 4, o_dims, out_scale, rnd_in(zp_lo, zp_hi));
	if (is_signed && (rnd() & 1)) { /* per-channel weights */
		struct tensor *f = &fg->t[1];
		f->nq = out_ch;
		f->quant_axis = depthwise ? 3 : 0;
		for (int c = 0; c < out_ch; c++) {
			fg->scales[1][c] = rnd_scale(0.0005f, 0.03f);
			fg->zps[1][c] = 0;
		}
		f->scale = fg->scales[1][0];
	}
	for (int i = 0; i < 3; i++)
		fg_fill_random(fg, i);
	fg->g.tensors = fg->t;
	fg->g.ntensors = 4;
	fg->g.nodes = &fg->n;
	fg->g.nnodes = 1;
	fg->n.op = depthwise ? OP_DEPTHWISE_CONV_2D : OP_CONV_2D;
	fg->n.ninputs = 3;
	fg->n.noutputs = 1;
	fg->n.inputs[0] = 0;
	fg->n.inputs[1] = 1;
	fg->n.inputs[2] = iter % 6 == 5 ? -1 : 2;
	fg->n.outputs[0] = 3;
	static const enum activation acts[] = { ACT_NONE, ACT_RELU, ACT_RELU6 };
	if (depthwise) {
		fg->n.opt.depthwise.padding = pad;
		fg->n.opt.depthwise.stride_h = stride;
		fg->n.opt.depthwise.stride_w = stride;
		fg->n.opt.depthwise.dilation_h = dil;
		fg->n.opt.depthwise.dilation_w = dil;
		fg->n.opt.depthwise.depth_multiplier = real_dm;
		fg->n.opt.depthwise.activation = acts[iter % 3];
	} else {
		fg->n.opt.conv.padding = pad;
		fg->n.opt.conv.stride_h = stride;
		fg->n.opt.conv.stride_w = stride;
		fg->n.opt.conv.dilation_h = dil;
		fg->n.opt.conv.dilation_w = dil;
		fg->n.opt.conv.activation = acts[iter % 3];
	}
}

static void compare_paths(bool depthwise, int iters)
{
	struct workers *w2 = NULL, *w3 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	assert_int_equal(workers_create(3, &w3), 0);
	struct fg fg;
	memset(&fg, 0, sizeof(fg));
	for (int it = 0; it < iters; it++) {
		build_case(&fg, depthwise, it);
		const size_t bytes = fg.t[3].bytes;
		uint8_t *ref = malloc(bytes), *got = malloc(bytes);
		assert_non_null(ref);
		assert_non_null(got);
		fg_run(&fg, false, GEMM_ISA_SIMD, NULL, ref);
		struct {
			const char *what;
			enum gemm_isa isa;
			struct workers *w;
		} runs[] = {
			{ "best isa", GEMM_ISA_BEST, NULL },
			{ "baseline simd", GEMM_ISA_SIMD, NULL },
			{ "basic simd", GEMM_ISA_BASIC, NULL },
			{ "portable", GEMM_ISA_PORTABLE, NULL },
			{ "best isa, 2 workers", GEMM_ISA_BEST, w2 },
			{ "portable, 3 workers", GEMM_ISA_PORTABLE, w3 },
		};
		for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
			fg_run(&fg, true, runs[r].isa, runs[r].w, got);
			for (size_t i = 0; i < bytes; i++)
				if (got[i] != ref[i])
					fail_msg("case %d (%s, %s, in %dx%dx%dx%d ch->%d, filter %dx%d): "
						 "byte %zu is %u, reference %u",
						 it, depthwise ? "depthwise" : "conv", runs[r].what,
						 fg.t[0].dims[0], fg.t[0].dims[1], fg.t[0].dims[2],
						 fg.t[0].dims[3], fg.t[3].dims[3], fg.t[1].dims[1],
						 fg.t[1].dims[2], i, got[i], ref[i]);
		}
		free(ref);
		free(got);
	}
	fg_free(&fg);
	workers_destroy(w2);
	workers_destroy(w3);
}

/* The fast paths (every level, 1 and 2 workers) equal the reference on the built case. */
static void expect_all_levels_equal_reference(struct fg *fg, struct workers *w2, const char *what)
{
	const size_t bytes = fg->t[3].bytes;
	uint8_t *ref = malloc(bytes), *got = malloc(bytes);
	assert_non_null(ref);
	assert_non_null(got);
	fg_run(fg, false, GEMM_ISA_SIMD, NULL, ref);
	static const enum gemm_isa levels[] = { GEMM_ISA_BEST, GEMM_ISA_SIMD, GEMM_ISA_PORTABLE,
						GEMM_ISA_BEST };
	for (size_t r = 0; r < sizeof(levels) / sizeof(levels[0]); r++) {
		fg_run(fg, true, levels[r], r == 3 ? w2 : NULL, got);
		for (size_t i = 0; i < bytes; i++)
			if (got[i] != ref[i])
				fail_msg("%s, level %d%s (in zp %d, filter zp %d, in %dx%dx%d ch->%d, "
					 "filter %dx%d): byte %zu is %u, reference %u",
					 what, (int)levels[r], r == 3 ? ", 2 workers" : "",
					 fg->t[0].zero_point, fg->t[1].zero_point, fg->t[0].dims[1],
					 fg->t[0].dims[2], fg->t[0].dims[3], fg->t[3].dims[3],
					 fg->t[1].dims[1], fg->t[1].dims[2], i, got[i], ref[i]);
	}
	free(ref);
	free(got);
}

static bool dotprod_available(void)
{
	gemm_dot_rowsum_fn rowsum;
	gemm_set_isa_limit(GEMM_ISA_BEST);
	return gemm_dot_select(0, &rowsum) != NULL && gemm_dot_select(1, &rowsum) != NULL;
}

/* x86-64 with AVX-512 VNNI: the best level runs gemm8.h's 8-bit GEMM. */
static bool vnni8_available(void)
{
	gemm_dot_rowsum_fn rowsum;
	gemm_set_isa_limit(GEMM_ISA_BEST);
	return gemm8_select(false, &rowsum) != NULL && gemm8_select(true, &rowsum) != NULL;
}

/* Random conv cases whose input and weight bytes and zero points are all taken from the ends of
 * their ranges (0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff): the dot path's uint8 products and the zero-
 * point corrections at their largest, the padding filled with an extreme zero point. */
static void conv_extreme_bytes_equal_reference(void **state)
{
	(void)state;
	if (!dotprod_available() && !vnni8_available())
		printf("8-bit conv GEMM: not available (no HWCAP_ASIMDDP, no AVX-512 VNNI); these cases ran the other levels\n");
	static const uint8_t ends[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff };
	struct workers *w2 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	struct fg fg;
	memset(&fg, 0, sizeof(fg));
	for (int it = 0; it < 150; it++) {
		build_case(&fg, false, it);
		for (int t = 0; t < 2; t++)
			for (size_t i = 0; i < fg.t[t].bytes; i++)
				fg.t[t].data[i] = ends[rnd() % 6];
		const bool is_signed = fg.t[0].type == TT_INT8;
		const int32_t zp = is_signed ? (int32_t)(int8_t)ends[rnd() % 6] : ends[rnd() % 6];
		fg.t[0].zero_point = fg.zps[0][0] = zp;
		if (!is_signed)
			fg.t[1].zero_point = fg.zps[1][0] = ends[rnd() % 6];
		expect_all_levels_equal_reference(&fg, w2, "extreme bytes");
	}
	fg_free(&fg);
	workers_destroy(w2);
}

/* A 1×1 convolution over K = 33025 input channels, the most prepare accepts and the most the dot
 * path's int32 bound allows (33025 * 255 * 255 < 2^31): extreme inputs and weights at every
 * combination of extreme zero points, so accumulators reach about ±2^31. The output scale maps
 * them inside the output range, checked, so a wrong accumulator cannot hide behind the clamp. */
static void conv_at_largest_k_equals_reference(void **state)
{
	(void)state;
	enum { K = 33025, OUT_CH = 3 };
	struct workers *w2 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	struct fg fg;
	memset(&fg, 0, sizeof(fg));
	for (int is_signed = 0; is_signed < 2; is_signed++) {
		const enum tensor_type type = is_signed ? TT_INT8 : TT_UINT8;
		const uint8_t lo = is_signed ? 0x80 : 0x00, hi = is_signed ? 0x7f : 0xff;
		for (int zps = 0; zps < 4; zps++) {
			free(fg.n.params);
			memset(&fg.n, 0, sizeof(fg.n));
			const int32_t in_dims[4] = { 1, 1, 2, K }, f_dims[4] = { OUT_CH, 1, 1, K };
			const int32_t o_dims[4] = { 1, 1, 2, OUT_CH };
			const int32_t z_lo = is_signed ? -128 : 0, z_hi = is_signed ? 127 : 255;
			fg_tensor(&fg, 0, type, 4, in_dims, 0.01f, zps & 1 ? z_hi : z_lo);
			fg_tensor(&fg, 1, type, 4, f_dims, 0.01f, is_signed ? 0 : (zps & 2 ? 255 : 0));
			fg_tensor(&fg, 3, type, 4, o_dims, 2500.0f, is_signed ? 0 : 128);
			for (int k = 0; k < K; k++) {
				fg.t[0].data[k] = hi;     /* pixel 0: all high */
				fg.t[0].data[K + k] = lo; /* pixel 1: all low */
				fg.t[1].data[k] = hi;
				fg.t[1].data[K + k] = lo;
				fg.t[1].data[2 * K + k] = k & 1 ? hi : lo;
			}
			fg.g.tensors = fg.t;
			fg.g.ntensors = 4;
			fg.g.nodes = &fg.n;
			fg.g.nnodes = 1;
			fg.n.op = OP_CONV_2D;
			fg.n.ninputs = 3;
			fg.n.noutputs = 1;
			fg.n.inputs[0] = 0;
			fg.n.inputs[1] = 1;
			fg.n.inputs[2] = -1;
			fg.n.outputs[0] = 3;
			fg.n.opt.conv.padding = PAD_VALID;
			fg.n.opt.conv.stride_h = fg.n.opt.conv.stride_w = 1;
			fg.n.opt.conv.dilation_h = fg.n.opt.conv.dilation_w = 1;
			expect_all_levels_equal_reference(&fg, w2, "largest K");
			/* the reference outputs lie inside the range: no clamp hides the accumulator */
			for (size_t i = 0; i < fg.t[3].bytes; i++) {
				const int v = is_signed ? (int8_t)fg.t[3].data[i] : fg.t[3].data[i];
				if (v <= z_lo || v >= z_hi)
					fail_msg("largest K: output %zu is %d, at the clamp", i, v);
			}
		}
	}
	fg_free(&fg);
	workers_destroy(w2);
}

static void fast_conv_equals_reference_on_random_cases(void **state)
{
	(void)state;
	compare_paths(false, 300);
}

static void fast_depthwise_equals_reference_on_random_cases(void **state)
{
	(void)state;
	compare_paths(true, 300);
}

/* ADD's fast path (tabulated inputs, SIMD output stage, worker split) against its reference
 * loop: same-shape and broadcast inputs of both types, random scales and zero points. */
static void fast_add_equals_reference_on_random_cases(void **state)
{
	(void)state;
	struct workers *w2 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	struct fg fg;
	memset(&fg, 0, sizeof(fg));
	for (int it = 0; it < 300; it++) {
		free(fg.n.params);
		memset(&fg.n, 0, sizeof(fg.n));
		const bool is_signed = rnd() & 1;
		const enum tensor_type type = is_signed ? TT_INT8 : TT_UINT8;
		const int32_t zp_lo = is_signed ? -128 : 0, zp_hi = is_signed ? 127 : 255;
		/* up to 1100 elements, beyond ADD_CHUNK and the pool's size threshold for big ones */
		const int32_t dims[4] = { 1, rnd_in(1, 10), rnd_in(1, 10), it % 10 == 9 ? 1500 : rnd_in(1, 11) };
		int32_t bdims[4];
		memcpy(bdims, dims, sizeof(bdims));
		if (it % 3 == 2)
			bdims[1] = bdims[2] = 1; /* broadcast over H and W: the reference loop */
		fg_tensor(&fg, 0, type, 4, dims, rnd_scale(0.01f, 0.1f), rnd_in(zp_lo, zp_hi));
		fg_tensor(&fg, 1, type, 4, bdims, rnd_scale(0.01f, 0.1f), rnd_in(zp_lo, zp_hi));
		fg_tensor(&fg, 3, type, 4, dims, rnd_scale(0.02f, 0.2f), rnd_in(zp_lo, zp_hi));
		fg_fill_random(&fg, 0);
		fg_fill_random(&fg, 1);
		fg.g.tensors = fg.t;
		fg.g.ntensors = 4;
		fg.g.nodes = &fg.n;
		fg.g.nnodes = 1;
		fg.n.op = OP_ADD;
		fg.n.ninputs = 2;
		fg.n.noutputs = 1;
		fg.n.inputs[0] = 0;
		fg.n.inputs[1] = 1;
		fg.n.outputs[0] = 3;
		static const enum activation acts[] = { ACT_NONE, ACT_RELU, ACT_RELU6 };
		fg.n.opt.add.activation = acts[it % 3];
		const size_t bytes = fg.t[3].bytes;
		uint8_t *ref = malloc(bytes), *got = malloc(bytes);
		assert_non_null(ref);
		assert_non_null(got);
		fg_run(&fg, false, GEMM_ISA_BEST, NULL, ref);
		for (int r = 0; r < 3; r++) {
			fg_run(&fg, true, r == 1 ? GEMM_ISA_PORTABLE : GEMM_ISA_BEST, r == 2 ? w2 : NULL, got);
			for (size_t i = 0; i < bytes; i++)
				if (got[i] != ref[i])
					fail_msg("add case %d run %d: byte %zu is %u, reference %u", it, r, i,
						 got[i], ref[i]);
		}
		free(ref);
		free(got);
	}
	fg_free(&fg);
	workers_destroy(w2);
}

/* The SIMD requantization against the portable one: accumulators at both int32 extremes,
 * multipliers across [2^30, 2^31) and 0, right shifts up to 31 and left shifts, offsets and
 * clamps of both types, lengths that leave every tail size. */
static void simd_requant_equals_portable(void **state)
{
	(void)state;
	enum { N = 45 };
	int32_t acc[N], bias[N], mult[N];
	int shift[N];
	uint8_t got[N], want[N];
	const requant_row_fn simd = requant_select();
	for (int it = 0; it < 4000; it++) {
		for (int c = 0; c < N; c++) {
			switch (rnd() % 6) {
			case 0: acc[c] = INT32_MIN + (int32_t)(rnd() % 3); break;
			case 1: acc[c] = INT32_MAX - (int32_t)(rnd() % 3); break;
			case 2: acc[c] = (int32_t)rnd_in(-3, 3); break;
			default: acc[c] = (int32_t)(rnd() ^ (rnd() << 16)); break;
			}
			bias[c] = rnd() % 4 ? (int32_t)(rnd() ^ (rnd() << 16)) >> (rnd() % 20) : INT32_MAX;
			mult[c] = rnd() % 50 ? (int32_t)((1u << 30) + (rnd() ^ (rnd() << 15)) % (1u << 30)) : 0;
			shift[c] = rnd() % 8 ? -rnd_in(0, 31) : rnd_in(1, 8);
		}
		const bool is_signed = rnd() & 1;
		const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
		struct requant rq = {
			.bias = rnd() % 5 ? bias : NULL, .multiplier = mult, .shift = shift,
			.output_offset = rnd_in(lo, hi), .act_min = lo + rnd_in(0, 10), .act_max = hi - rnd_in(0, 10),
		};
		const int n = rnd_in(1, N);
		requant_row_portable(&rq, acc, n, is_signed, want);
		simd(&rq, acc, n, is_signed, got);
		assert_memory_equal(got, want, (size_t)n);
	}
}

/* Every worker runs exactly once per workers_run, and the split covers the range once. */
static void workers_run_each_worker_once_and_split_covers_range(void **state)
{
	(void)state;
	struct workers *w = NULL;
	assert_int_equal(workers_create(3, &w), 0);
	assert_int_equal(workers_count(w), 3);
	assert_int_equal(workers_count(NULL), 1);
	for (int total = 0; total < 50; total++) {
		int covered = 0, prev_end = 0;
		for (int k = 0; k < 3; k++) {
			int b, e;
			workers_split(total, k, 3, &b, &e);
			assert_int_equal(b, prev_end);
			covered += e - b;
			prev_end = e;
		}
		assert_int_equal(covered, total);
		assert_int_equal(prev_end, total);
	}
	workers_destroy(w);
}

int main(void)
{
	printf("fast kernels: %s\n", gemm_isa_name());
	printf("dotprod: %s\n", dotprod_available() ? "available, the best level runs the 8-bit conv GEMM"
						  : "not available");
	printf("avx512vnni 8-bit GEMM: %s\n", vnni8_available() ? "available, the best level runs it"
								: "not available");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fast_conv_equals_reference_on_random_cases),
		cmocka_unit_test(conv_extreme_bytes_equal_reference),
		cmocka_unit_test(conv_at_largest_k_equals_reference),
		cmocka_unit_test(fast_depthwise_equals_reference_on_random_cases),
		cmocka_unit_test(fast_add_equals_reference_on_random_cases),
		cmocka_unit_test(simd_requant_equals_portable),
		cmocka_unit_test(workers_run_each_worker_once_and_split_covers_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
