/* fgemm_avx2.c — the float GEMM tile of fgemm.h with AVX2 and FMA: 6 rows × 16 channels = 12 ymm
 * accumulators; per term, 2 weight loads and 6 broadcast activations feed 12 fused multiply-adds
 * (12 + 2 + 1 of the 16 registers, no spills). Each accumulator lane adds its terms in the
 * reference order. A tile of fewer rows repeats the last row's pointers (the extra sums are
 * computed and dropped); a block of fewer channels is stored through a small buffer. The
 * functions carry target("avx2,fma") as well as the Makefile's -mavx2 -mfma (see gemm_avx2.c);
 * they run only after fgemm_select() saw AVX2 and FMA. */
#include <immintrin.h>
#include <string.h>

#include "inference/ops/fast/fgemm.h"

#define MR 6

__attribute__((target("avx2,fma")))
static inline void store_row(float *c, int cols, __m256 lo_acc, __m256 hi_acc, const float *bias,
			     __m256 lo, __m256 hi)
{
	/* min(hi, max(lo, v)) returns v when v is NaN, as the reference's clamp does */
	const __m256 v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(lo_acc, _mm256_loadu_ps(bias))));
	const __m256 v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(hi_acc, _mm256_loadu_ps(bias + 8))));
	if (cols == FGEMM_NR) {
		_mm256_storeu_ps(c, v0);
		_mm256_storeu_ps(c + 8, v1);
		return;
	}
	float tmp[FGEMM_NR];
	_mm256_storeu_ps(tmp, v0);
	_mm256_storeu_ps(tmp + 8, v1);
	memcpy(c, tmp, (size_t)cols * sizeof(float));
}

__attribute__((target("avx2,fma")))
void fgemm_tile_avx2(int rows, int cols, int ntaps, int kc, const float *const *a, const float *b,
		     const float *bias, float act_min, float act_max, float *c, size_t ldc)
{
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
	__m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	for (int t = 0; t < ntaps; t++) {
		const float *x0 = a[t];
		const float *x1 = rows > 1 ? a[(size_t)ntaps + t] : x0;
		const float *x2 = rows > 2 ? a[(size_t)2 * ntaps + t] : x1;
		const float *x3 = rows > 3 ? a[(size_t)3 * ntaps + t] : x2;
		const float *x4 = rows > 4 ? a[(size_t)4 * ntaps + t] : x3;
		const float *x5 = rows > 5 ? a[(size_t)5 * ntaps + t] : x4;
		const float *bk = b + (size_t)t * kc * FGEMM_NR;
		for (int k = 0; k < kc; k++, bk += FGEMM_NR) {
			const __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8);
			__m256 v = _mm256_broadcast_ss(x0 + k);
			c00 = _mm256_fmadd_ps(v, b0, c00);
			c01 = _mm256_fmadd_ps(v, b1, c01);
			v = _mm256_broadcast_ss(x1 + k);
			c10 = _mm256_fmadd_ps(v, b0, c10);
			c11 = _mm256_fmadd_ps(v, b1, c11);
			v = _mm256_broadcast_ss(x2 + k);
			c20 = _mm256_fmadd_ps(v, b0, c20);
			c21 = _mm256_fmadd_ps(v, b1, c21);
			v = _mm256_broadcast_ss(x3 + k);
			c30 = _mm256_fmadd_ps(v, b0, c30);
			c31 = _mm256_fmadd_ps(v, b1, c31);
			v = _mm256_broadcast_ss(x4 + k);
			c40 = _mm256_fmadd_ps(v, b0, c40);
			c41 = _mm256_fmadd_ps(v, b1, c41);
			v = _mm256_broadcast_ss(x5 + k);
			c50 = _mm256_fmadd_ps(v, b0, c50);
			c51 = _mm256_fmadd_ps(v, b1, c51);
		}
	}
	const __m256 lo = _mm256_set1_ps(act_min), hi = _mm256_set1_ps(act_max);
	store_row(c, cols, c00, c01, bias, lo, hi);
	if (rows > 1)
		store_row(c + ldc, cols, c10, c11, bias, lo, hi);
	if (rows > 2)
		store_row(c + 2 * ldc, cols, c20, c21, bias, lo, hi);
	if (rows > 3)
		store_row(c + 3 * ldc, cols, c30, c31, bias, lo, hi);
	if (rows > 4)
		store_row(c + 4 * ldc, cols, c40, c41, bias, lo, hi);
	if (rows > 5)
		store_row(c + 5 * ldc, cols, c50, c51, bias, lo, hi);
}
