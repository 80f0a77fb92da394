/* test_ops_quantize.c — QUANTIZE's SIMD float32 → 8-bit loop (inference/ops/fast/quantize_avx2.c)
 * against TFLite's AffineQuantize written out here with roundf: values exactly halfway between
 * two steps (where round-half-away-from-zero and other roundings part), the float just below
 * 0.5, negative zero, values beyond ±2^30 steps, ±infinity and NaN (the low end, like the scalar
 * loop), random values at several scales, every zero point end and narrowed clamp ranges, and
 * lengths that are not whole vectors (the loop must stop at its returned count and leave the rest
 * to the scalar code). On CPUs without the SIMD loop the test says so and checks nothing else. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "inference/ops/fast/gemm.h"
#include "inference/ops/fast/quantize_simd.h"
#include "tests/testutil.h"

#if defined(__x86_64__)
enum { N = 200 };

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	return tu_rand(&rng_state);
}

/* reference_ops::AffineQuantize for one value, clamped to [qmin, qmax]. */
static uint8_t affine_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax)
{
	float q = roundf(x / scale);
	int32_t v;
	if (isnan(q) || q <= -1073741824.0f)
		v = INT32_MIN / 2; /* far below any qmin */
	else if (q >= 1073741824.0f)
		v = INT32_MAX / 2;
	else
		v = (int32_t)q + zp;
	v = v < qmin ? qmin : (v > qmax ? qmax : v);
	return (uint8_t)v;
}

static float pick_value(float scale)
{
	switch (rnd() % 10) {
	case 0: return ((float)(int32_t)(rnd() % 600) - 300.0f + 0.5f) * scale; /* halfway */
	case 1: return nextafterf(0.5f, 0.0f) * scale * (rnd() & 1 ? 1.0f : -1.0f);
	case 2: return -0.0f;
	case 3: return (rnd() & 1 ? 1.0f : -1.0f) * 3e9f * scale;
	case 4: return rnd() % 3 == 0 ? NAN : (rnd() & 1 ? INFINITY : -INFINITY);
	case 5: return (float)(rnd() % 1000) * 1e-42f; /* subnormal */
	default: return ((float)(rnd() % 2000001) - 1000000.0f) / 1000000.0f * 400.0f * scale;
	}
}

#endif

static void simd_quantize_equals_affine_quantize(void **state)
{
	(void)state;
#if defined(__x86_64__)
	if (gemm_isa_level() < GEMM_ISA_SIMD) {
		printf("quantize: no AVX2 on this CPU, nothing to compare\n");
		return;
	}
	static const float scales[] = { 1.0f / 255.0f, 0.0078125f, 0.017f, 1.5f, 3e-6f };
	float in[N];
	uint8_t got[N + 1], want[N];
	for (int it = 0; it < 3000; it++) {
		const float scale = scales[rnd() % 5];
		const bool is_signed = rnd() & 1;
		const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
		const int32_t zp = rnd() % 4 == 0 ? (rnd() & 1 ? tmin : tmax) : tmin + (int32_t)(rnd() % 256);
		const int32_t qmin = tmin + (rnd() % 3 ? 0 : (int32_t)(rnd() % 20));
		const int32_t qmax = tmax - (rnd() % 3 ? 0 : (int32_t)(rnd() % 20));
		const int n = (int)(rnd() % N) + 1;
		for (int i = 0; i < n; i++) {
			in[i] = pick_value(scale);
			want[i] = affine_quantize(in[i], scale, zp, qmin, qmax);
		}
		memset(got, 0xa5, sizeof(got));
		const int done = quantize_f32_avx2(in, n, scale, zp, qmin, qmax, is_signed, got);
		assert_true(done >= 0 && done <= n && done % 32 == 0 && n - done < 32);
		for (int i = 0; i < done; i++)
			if (got[i] != want[i])
				fail_msg("iteration %d: %a / %a (zp %d, [%d, %d]) gave byte %u, want %u", it,
					 (double)in[i], (double)scale, zp, qmin, qmax, got[i], want[i]);
		for (int i = done; i < N + 1; i++)
			assert_int_equal(got[i], 0xa5);
	}
#else
	printf("quantize: no SIMD loop on this architecture, nothing to compare\n");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simd_quantize_equals_affine_quantize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
