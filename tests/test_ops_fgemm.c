/* test_ops_fgemm.c — the float GEMM (inference/ops/fast/fgemm.c and its per-ISA tiles) and the
 * float kernels built on it (CONV_2D, FULLY_CONNECTED in float_conv.c / float_fc.c, and the
 * same-shape ADD/SUB/MUL of float_eltwise.c), each against a plain double-precision loop written
 * here, on odd shapes: channel counts that are no multiple of a vector or block, row counts that
 * leave partial tiles, strides, SAME/VALID padding, dilation, every fused activation, with and
 * without bias, on every ISA level this CPU has and on one and two workers.
 *
 * Float results may differ from the reference only by rounding (summation with fused
 * multiply-add): each output must lie within the textbook bound of a float sum of n terms,
 * (n + 2) * FLT_EPSILON * (sum of the terms' magnitudes), of the exact value. A wrong index or
 * a lost term is off by the size of a term, far beyond that. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/graph.h"
#include "inference/ops/fast/fgemm.h"
#include "inference/ops/fast/gemm.h"
#include "inference/ops/fast/workers.h"
#include "inference/ops/ops.h"
#include "tests/ops_graph.h"
#include "tests/testutil.h"

static uint64_t rng = 0x5eed1234abcdULL;

static float frand(void) /* in [-1, 1] */
{
	return (float)tu_rand_in(&rng, -1000000, 1000000) / 1e6f;
}

static float *frand_array(size_t n)
{
	float *v = malloc(n * sizeof(float) + 1);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = frand();
	return v;
}

static const enum gemm_isa levels[] = { GEMM_ISA_PORTABLE, GEMM_ISA_BASIC, GEMM_ISA_SIMD, GEMM_ISA_BEST };

/* got against the exact sum `exact` of nterms terms whose magnitudes add up to mag, clamped to
 * [lo, hi] as the kernel does. */
static void check_value(float got, double exact, double mag, int nterms, float lo, float hi,
			const char *what, size_t index)
{
	const double want = exact < lo ? lo : (exact > hi ? hi : exact);
	const double bound = (nterms + 2) * (double)FLT_EPSILON * mag + 1e-30;
	if (fabs((double)got - want) > bound)
		fail_msg("%s: output %zu is %.9g, exact %.9g (bound %.3g)", what, index, (double)got, want,
			 bound);
}

/* fgemm_run on random data: rows × (ntaps taps of kc) × out_ch, c rows ldc = out_ch + 3 apart,
 * the 3 floats between rows must stay untouched. */
static void gemm_case(const struct fgemm_kernel *kern, int rows, int ntaps, int kc, int out_ch,
		      float lo, float hi)
{
	const int k = ntaps * kc;
	const size_t ldc = (size_t)out_ch + 3;
	float *w = frand_array((size_t)out_ch * k), *bias = frand_array((size_t)out_ch);
	float *x = frand_array((size_t)rows * ntaps * kc);
	const float **a = malloc((size_t)rows * ntaps * sizeof(*a));
	float *packed = malloc(fgemm_packed_floats(out_ch, k) * sizeof(float));
	float *packed_bias = malloc(fgemm_bias_floats(out_ch) * sizeof(float));
	float *c = malloc((size_t)rows * ldc * sizeof(float));
	assert_true(a && packed && packed_bias && c);
	/* taps of a row point at scattered runs: row m tap t at x[((m*7 + t*3) % (rows*ntaps)) * kc] */
	for (int m = 0; m < rows; m++)
		for (int t = 0; t < ntaps; t++)
			a[m * ntaps + t] = x + (size_t)((m * 7 + t * 3) % (rows * ntaps)) * kc;
	fgemm_pack_b(packed, w, out_ch, k);
	fgemm_pack_bias(packed_bias, bias, out_ch);
	for (size_t i = 0; i < (size_t)rows * ldc; i++)
		c[i] = 12345.0f;
	fgemm_run(kern, rows, ntaps, kc, a, packed, out_ch, packed_bias, lo, hi, c, ldc);
	char what[128];
	snprintf(what, sizeof(what), "%s gemm %dx(%d*%d)x%d [%g,%g]", kern->name, rows, ntaps, kc,
		 out_ch, (double)lo, (double)hi);
	for (int m = 0; m < rows; m++) {
		for (int o = 0; o < out_ch; o++) {
			double exact = bias[o], mag = fabs(bias[o]);
			for (int t = 0; t < ntaps; t++)
				for (int q = 0; q < kc; q++) {
					const double term = (double)a[m * ntaps + t][q] * w[(size_t)o * k + t * kc + q];
					exact += term;
					mag += fabs(term);
				}
			check_value(c[m * ldc + o], exact, mag, k + 1, lo, hi, what, (size_t)m * ldc + o);
		}
		for (size_t o = (size_t)out_ch; o < ldc; o++)
			if (c[m * ldc + o] != 12345.0f)
				fail_msg("%s: wrote past row %d's %d channels", what, m, out_ch);
	}
	free(w);
	free(bias);
	free(x);
	free(a);
	free(packed);
	free(packed_bias);
	free(c);
}

static void gemm_equals_double_reference_on_odd_shapes(void **state)
{
	(void)state;
	static const int rows_set[] = { 1, 5, 13, 25 }, taps_set[] = { 1, 2, 9 };
	static const int kc_set[] = { 1, 3, 16, 19 }, oc_set[] = { 1, 15, 16, 17, 40 };
	static const float ranges[][2] = { { -INFINITY, INFINITY }, { 0.0f, 6.0f }, { -1.0f, 1.0f } };
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		gemm_set_isa_limit(levels[l]);
		const struct fgemm_kernel kern = fgemm_select();
		assert_true(kern.mr >= 1 && kern.mr <= FGEMM_MAX_MR && kern.mr2 <= FGEMM_MAX_MR);
		assert_true(!kern.tile2 || kern.mr2 >= 1);
		int ran = 0;
		for (size_t r = 0; r < 4; r++)
			for (size_t t = 0; t < 3; t++)
				for (size_t q = 0; q < 4; q++)
					for (size_t o = 0; o < 5; o++, ran++)
						gemm_case(&kern, rows_set[r], taps_set[t], kc_set[q], oc_set[o],
							  ranges[ran % 3][0], ranges[ran % 3][1]);
		printf("fgemm level %d (%s, %d rows per tile): %d cases\n", (int)levels[l], kern.name,
		       kern.mr, ran);
	}
	gemm_set_isa_limit(GEMM_ISA_BEST);
}

/* --- float CONV_2D through its kernel ------------------------------------------------------ */

struct conv_case {
	int batches, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw;
	enum padding pad;
	enum activation act;
	bool bias;
};

static int out_size(enum padding pad, int in, int k, int stride, int dil)
{
	const int eff = (k - 1) * dil + 1;
	return pad == PAD_SAME ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

static void act_range(enum activation act, float *lo, float *hi)
{
	*lo = act == ACT_RELU || act == ACT_RELU6 ? 0.0f : (act == ACT_RELU_N1_TO_1 ? -1.0f : -INFINITY);
	*hi = act == ACT_RELU6 ? 6.0f : (act == ACT_RELU_N1_TO_1 ? 1.0f : INFINITY);
}

/* Runs the one-node graph (tests/ops_graph.h: 0 input, 1 filter, 2 bias, 3 output) with the
 * float kernel the engine would pick, on pool w (NULL: one worker). */
static void fnode_run(struct tg *f, int op, int ninputs, struct workers *w)
{
	f->g.kernel_ctx = w;
	if (tg_prepare(f, op, ninputs) != 0)
		fail_msg("prepare: %s", f->err);
	tg_run(f);
	tg_free(f);
}

static void conv_case_run(const struct conv_case *cc, struct workers *w, const char *isa)
{
	const int oh = out_size(cc->pad, cc->ih, cc->kh, cc->sh, cc->dh);
	const int ow = out_size(cc->pad, cc->iw, cc->kw, cc->sw, cc->dw);
	const size_t in_n = (size_t)cc->batches * cc->ih * cc->iw * cc->ic;
	const size_t k = (size_t)cc->kh * cc->kw * cc->ic, out_n = (size_t)cc->batches * oh * ow * cc->oc;
	float *x = frand_array(in_n), *filt = frand_array((size_t)cc->oc * k);
	float *bias = frand_array((size_t)cc->oc), *y = malloc(out_n * sizeof(float));
	assert_non_null(y);
	struct tg f;
	memset(&f, 0, sizeof(f));
	const int32_t in_dims[4] = { cc->batches, cc->ih, cc->iw, cc->ic };
	const int32_t f_dims[4] = { cc->oc, cc->kh, cc->kw, cc->ic };
	const int32_t b_dims[1] = { cc->oc }, o_dims[4] = { cc->batches, oh, ow, cc->oc };
	tg_tensor(&f, 0, TT_FLOAT32, 4, in_dims, x, 0, 0);
	tg_tensor(&f, 1, TT_FLOAT32, 4, f_dims, filt, 0, 0);
	tg_tensor(&f, 2, TT_FLOAT32, 1, b_dims, bias, 0, 0);
	tg_tensor(&f, 3, TT_FLOAT32, 4, o_dims, y, 0, 0);
	f.n.opt.conv.padding = cc->pad;
	f.n.opt.conv.stride_h = cc->sh;
	f.n.opt.conv.stride_w = cc->sw;
	f.n.opt.conv.dilation_h = cc->dh;
	f.n.opt.conv.dilation_w = cc->dw;
	f.n.opt.conv.activation = cc->act;
	fnode_run(&f, OP_CONV_2D, cc->bias ? 3 : 2, w);
	float lo, hi;
	act_range(cc->act, &lo, &hi);
	/* TFLite's padding: half the total, the extra one after */
	const int pad_h = cc->pad == PAD_SAME ? (((oh - 1) * cc->sh + (cc->kh - 1) * cc->dh + 1 - cc->ih) > 0 ?
						 ((oh - 1) * cc->sh + (cc->kh - 1) * cc->dh + 1 - cc->ih) / 2 : 0) : 0;
	const int pad_w = cc->pad == PAD_SAME ? (((ow - 1) * cc->sw + (cc->kw - 1) * cc->dw + 1 - cc->iw) > 0 ?
						 ((ow - 1) * cc->sw + (cc->kw - 1) * cc->dw + 1 - cc->iw) / 2 : 0) : 0;
	char what[160];
	snprintf(what, sizeof(what), "%s conv %dx%dx%dx%d k%dx%d s%d,%d d%d,%d %s act %d bias %d workers %d",
		 isa, cc->batches, cc->ih, cc->iw, cc->ic, cc->kh, cc->kw, cc->sh, cc->sw, cc->dh, cc->dw,
		 cc->pad == PAD_SAME ? "SAME" : "VALID", (int)cc->act, cc->bias, workers_count(w));
	for (int b = 0; b < cc->batches; b++)
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++)
				for (int o = 0; o < cc->oc; o++) {
					double exact = cc->bias ? bias[o] : 0.0, mag = fabs(exact);
					for (int fy = 0; fy < cc->kh; fy++)
						for (int fx = 0; fx < cc->kw; fx++) {
							const int iy = oy * cc->sh - pad_h + fy * cc->dh;
							const int ix = ox * cc->sw - pad_w + fx * cc->dw;
							if (iy < 0 || iy >= cc->ih || ix < 0 || ix >= cc->iw)
								continue;
							for (int c = 0; c < cc->ic; c++) {
								const double term =
									(double)x[(((size_t)b * cc->ih + iy) * cc->iw + ix) * cc->ic + c] *
									filt[(((size_t)o * cc->kh + fy) * cc->kw + fx) * cc->ic + c];
								exact += term;
								mag += fabs(term);
							}
						}
					const size_t i = (((size_t)b * oh + oy) * ow + ox) * cc->oc + o;
					check_value(y[i], exact, mag, (int)k + 1, lo, hi, what, i);
				}
	free(x);
	free(filt);
	free(bias);
	free(y);
}

static void float_conv_equals_double_reference(void **state)
{
	(void)state;
	static const struct conv_case cases[] = {
		/* window rows as taps, left/right border rows copied */
		{ 1, 7, 9, 3, 17, 3, 3, 1, 1, 1, 1, PAD_SAME, ACT_RELU, true },
		{ 2, 8, 6, 5, 7, 3, 2, 2, 1, 1, 1, PAD_SAME, ACT_NONE, false },
		{ 1, 9, 9, 17, 33, 3, 3, 2, 2, 1, 1, PAD_VALID, ACT_RELU6, true },
		/* dilation_w 2: one tap per window cell */
		{ 1, 10, 11, 4, 9, 3, 3, 1, 1, 2, 2, PAD_SAME, ACT_RELU_N1_TO_1, true },
		{ 1, 9, 8, 6, 5, 2, 2, 1, 2, 3, 1, PAD_SAME, ACT_NONE, true },
		/* 1×1 (a plain GEMM), kw 1, stride 3 */
		{ 1, 6, 7, 19, 16, 1, 1, 1, 1, 1, 1, PAD_VALID, ACT_NONE, true },
		{ 1, 12, 5, 2, 5, 5, 1, 1, 1, 1, 1, PAD_SAME, ACT_RELU, true },
		{ 1, 5, 13, 1, 3, 1, 5, 1, 3, 1, 1, PAD_SAME, ACT_NONE, true },
		/* several chunks of pixels, shared by the workers */
		{ 2, 16, 16, 8, 24, 3, 3, 1, 1, 1, 1, PAD_SAME, ACT_RELU, true },
	};
	struct workers *w2 = NULL;
	assert_int_equal(workers_create(2, &w2), 0);
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		gemm_set_isa_limit(levels[l]);
		const char *isa = fgemm_select().name;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			conv_case_run(&cases[i], NULL, isa);
			conv_case_run(&cases[i], w2, isa);
		}
	}
	gemm_set_isa_limit(GEMM_ISA_BEST);
	workers_destroy(w2);
}

/* --- float FULLY_CONNECTED ----------------------------------------------------------------- */

static void fc_case_run(int batches, int depth, int units, enum activation act, bool has_bias)
{
	float *x = frand_array((size_t)batches * depth), *wt = frand_array((size_t)units * depth);
	float *bias = frand_array((size_t)units), *y = malloc((size_t)batches * units * sizeof(float));
	assert_non_null(y);
	struct tg f;
	memset(&f, 0, sizeof(f));
	const int32_t in_dims[2] = { batches, depth }, w_dims[2] = { units, depth };
	const int32_t b_dims[1] = { units }, o_dims[2] = { batches, units };
	tg_tensor(&f, 0, TT_FLOAT32, 2, in_dims, x, 0, 0);
	tg_tensor(&f, 1, TT_FLOAT32, 2, w_dims, wt, 0, 0);
	tg_tensor(&f, 2, TT_FLOAT32, 1, b_dims, bias, 0, 0);
	tg_tensor(&f, 3, TT_FLOAT32, 2, o_dims, y, 0, 0);
	f.n.opt.fc.activation = act;
	fnode_run(&f, OP_FULLY_CONNECTED, has_bias ? 3 : 2, NULL);
	float lo, hi;
	act_range(act, &lo, &hi);
	char what[96];
	snprintf(what, sizeof(what), "%s fc %dx%d -> %d act %d bias %d", fgemm_select().name, batches,
		 depth, units, (int)act, has_bias);
	for (int b = 0; b < batches; b++)
		for (int u = 0; u < units; u++) {
			double exact = has_bias ? bias[u] : 0.0, mag = fabs(exact);
			for (int d = 0; d < depth; d++) {
				const double term = (double)x[(size_t)b * depth + d] * wt[(size_t)u * depth + d];
				exact += term;
				mag += fabs(term);
			}
			check_value(y[(size_t)b * units + u], exact, mag, depth + 1, lo, hi, what,
				    (size_t)b * units + u);
		}
	free(x);
	free(wt);
	free(bias);
	free(y);
}

static void float_fc_equals_double_reference(void **state)
{
	(void)state;
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		gemm_set_isa_limit(levels[l]);
		fc_case_run(1, 64, 10, ACT_NONE, true);
		fc_case_run(13, 19, 17, ACT_RELU, true);  /* more rows than any tile */
		fc_case_run(3, 1, 33, ACT_RELU6, false);
		fc_case_run(25, 40, 1, ACT_RELU_N1_TO_1, true);
	}
	gemm_set_isa_limit(GEMM_ISA_BEST);
}

/* --- float same-shape ADD / SUB / MUL ------------------------------------------------------ */

/* The block and AVX2 loops compute the same single float operation per element as the plain
 * loop, so here the results must be equal, not only close; y aliasing an input must work too.
 * 87 elements: whole vectors and blocks, then a tail. */
static void binary_cases(void)
{
	static const int ops[] = { OP_ADD, OP_SUB, OP_MUL };
	static const enum activation acts[] = { ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1 };
	const int count = 16 * 5 + 7;
	for (size_t o = 0; o < 3; o++)
		for (size_t ai = 0; ai < 4; ai++)
			for (int in_place = 0; in_place < 2; in_place++) {
				float *a = frand_array((size_t)count), *b = frand_array((size_t)count);
				float *y = in_place ? a : malloc((size_t)count * sizeof(float));
				float *want = malloc((size_t)count * sizeof(float));
				assert_true(y && want);
				float lo, hi;
				act_range(acts[ai], &lo, &hi);
				for (int i = 0; i < count; i++) {
					/* scaled so that RELU6 clamps some */
					a[i] *= 8.0f;
					const float v = ops[o] == OP_ADD ? a[i] + b[i] :
							(ops[o] == OP_SUB ? a[i] - b[i] : a[i] * b[i]);
					want[i] = v < lo ? lo : (v > hi ? hi : v);
				}
				struct tg f;
				memset(&f, 0, sizeof(f));
				const int32_t dims[3] = { 1, 29, 3 };
				tg_tensor(&f, 0, TT_FLOAT32, 3, dims, a, 0, 0);
				tg_tensor(&f, 1, TT_FLOAT32, 3, dims, b, 0, 0);
				tg_tensor(&f, 2, TT_FLOAT32, 3, dims, b, 0, 0);
				tg_tensor(&f, 3, TT_FLOAT32, 3, dims, y, 0, 0);
				f.n.opt.add.activation = acts[ai];
				fnode_run(&f, ops[o], 2, NULL);
				for (int i = 0; i < count; i++)
					if (y[i] != want[i])
						fail_msg("op %d act %d in place %d: element %d is %.9g, expected %.9g",
							 ops[o], (int)acts[ai], in_place, i, (double)y[i],
							 (double)want[i]);
				free(a);
				free(b);
				if (!in_place)
					free(y);
				free(want);
			}
}

static void float_binary_same_shape_equals_plain_loop(void **state)
{
	(void)state;
	for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		gemm_set_isa_limit(levels[l]);
		binary_cases();
	}
	gemm_set_isa_limit(GEMM_ISA_BEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gemm_equals_double_reference_on_odd_shapes),
		cmocka_unit_test(float_conv_equals_double_reference),
		cmocka_unit_test(float_fc_equals_double_reference),
		cmocka_unit_test(float_binary_same_shape_equals_plain_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
