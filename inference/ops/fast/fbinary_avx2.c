/* fbinary_avx2.c — the same-shape float ADD/SUB/MUL loop of fbinary.h with AVX2, 16 floats per
 * step: the op, then max(lo, v) and min(hi, v) in that operand order — vmaxps/vminps return their
 * second operand when either is NaN or both are equal, which is exactly fu_clamp's
 * `v < lo ? lo : (v > hi ? hi : v)` (NaN and -0.0 kept). The functions carry target("avx2")
 * as well as the Makefile's flags (see gemm_avx2.c). */
#include <immintrin.h>

#include "inference/graph.h"
#include "inference/ops/fast/fbinary.h"

#define STEP 16

__attribute__((target("avx2")))
static inline __m256 clamp(__m256 v, __m256 lo, __m256 hi)
{
	return _mm256_min_ps(hi, _mm256_max_ps(lo, v));
}

#define LOOP(intrin)                                                                             \
	for (; i + STEP <= n; i += STEP) {                                                        \
		const __m256 v0 = intrin(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));        \
		const __m256 v1 = intrin(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8)); \
		_mm256_storeu_ps(y + i, clamp(v0, vlo, vhi));                                      \
		_mm256_storeu_ps(y + i + 8, clamp(v1, vlo, vhi));                                  \
	}

__attribute__((target("avx2")))
size_t fbinary_same_avx2(int op, const float *a, const float *b, float *y, size_t n, float lo,
			 float hi)
{
	const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
	size_t i = 0;
	switch (op) {
	case OP_ADD: LOOP(_mm256_add_ps); break;
	case OP_SUB: LOOP(_mm256_sub_ps); break;
	case OP_MUL: LOOP(_mm256_mul_ps); break;
	default: break;
	}
	return i;
}
