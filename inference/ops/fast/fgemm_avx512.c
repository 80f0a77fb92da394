/* fgemm_avx512.c — the float GEMM tile of fgemm.h with AVX-512F: 12 rows × 16 channels = 12 zmm
 * accumulators (more independent FMA chains than two FMA pipes' latency needs); per term one
 * weight load and 12 broadcast activations (embedded in the FMAs). Each accumulator lane adds its terms in the reference
 * order. A tile of fewer rows repeats the last row's pointers (the extra sums are dropped); a
 * block of fewer channels is stored under a lane mask. The functions carry target("avx512f") as
 * well as the Makefile's flags (see gemm_avx2.c); they run only after fgemm_select() saw
 * AVX-512F (and the ISA limit allows GEMM_ISA_BEST). */
#include <immintrin.h>

#include "inference/ops/fast/fgemm.h"

#define MR 12

__attribute__((target("avx512f")))
static inline void store_row(float *c, __mmask16 mask, __m512 acc, __m512 bias, __m512 lo, __m512 hi)
{
	/* min(hi, max(lo, v)) returns v when v is NaN, as the reference's clamp does */
	_mm512_mask_storeu_ps(c, mask, _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_add_ps(acc, bias))));
}

__attribute__((target("avx512f")))
void fgemm_tile_avx512(int rows, int cols, int ntaps, int kc, const float *const *a,
		       const float *b, const float *bias, float act_min, float act_max, float *c,
		       size_t ldc)
{
	__m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
	__m512 c8 = c0, c9 = c0, c10 = c0, c11 = c0;
	for (int t = 0; t < ntaps; t++) {
		const float *x[MR];
		x[0] = a[t];
		for (int i = 1; i < MR; i++)
			x[i] = i < rows ? a[(size_t)i * ntaps + t] : x[i - 1];
		const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5],
			    *x6 = x[6], *x7 = x[7], *x8 = x[8], *x9 = x[9], *x10 = x[10], *x11 = x[11];
		const float *bk = b + (size_t)t * kc * FGEMM_NR;
		for (int k = 0; k < kc; k++, bk += FGEMM_NR) {
			const __m512 w = _mm512_loadu_ps(bk);
			c0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[k]), w, c0);
			c1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[k]), w, c1);
			c2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[k]), w, c2);
			c3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[k]), w, c3);
			c4 = _mm512_fmadd_ps(_mm512_set1_ps(x4[k]), w, c4);
			c5 = _mm512_fmadd_ps(_mm512_set1_ps(x5[k]), w, c5);
			c6 = _mm512_fmadd_ps(_mm512_set1_ps(x6[k]), w, c6);
			c7 = _mm512_fmadd_ps(_mm512_set1_ps(x7[k]), w, c7);
			c8 = _mm512_fmadd_ps(_mm512_set1_ps(x8[k]), w, c8);
			c9 = _mm512_fmadd_ps(_mm512_set1_ps(x9[k]), w, c9);
			c10 = _mm512_fmadd_ps(_mm512_set1_ps(x10[k]), w, c10);
			c11 = _mm512_fmadd_ps(_mm512_set1_ps(x11[k]), w, c11);
		}
	}
	const __mmask16 mask = (__mmask16)((1u << cols) - 1u);
	const __m512 bv = _mm512_maskz_loadu_ps(mask, bias);
	const __m512 lo = _mm512_set1_ps(act_min), hi = _mm512_set1_ps(act_max);
	store_row(c, mask, c0, bv, lo, hi);
	if (rows > 1)
		store_row(c + ldc, mask, c1, bv, lo, hi);
	if (rows > 2)
		store_row(c + 2 * ldc, mask, c2, bv, lo, hi);
	if (rows > 3)
		store_row(c + 3 * ldc, mask, c3, bv, lo, hi);
	if (rows > 4)
		store_row(c + 4 * ldc, mask, c4, bv, lo, hi);
	if (rows > 5)
		store_row(c + 5 * ldc, mask, c5, bv, lo, hi);
	if (rows > 6)
		store_row(c + 6 * ldc, mask, c6, bv, lo, hi);
	if (rows > 7)
		store_row(c + 7 * ldc, mask, c7, bv, lo, hi);
	if (rows > 8)
		store_row(c + 8 * ldc, mask, c8, bv, lo, hi);
	if (rows > 9)
		store_row(c + 9 * ldc, mask, c9, bv, lo, hi);
	if (rows > 10)
		store_row(c + 10 * ldc, mask, c10, bv, lo, hi);
	if (rows > 11)
		store_row(c + 11 * ldc, mask, c11, bv, lo, hi);
}

/* Two channel blocks at once (fgemm_tile2_fn): 8 rows × 32 channels = 16 accumulators, per term
 * 2 weight loads and 8 broadcasts for 16 FMAs — half the broadcast loads per FMA of the 12×16
 * tile, whose 13 loads per 12 FMAs kept the load ports, not the FMA pipes, the limit. */
#define MR2 8

__attribute__((target("avx512f")))
void fgemm_tile2_avx512(int rows, int cols, int ntaps, int kc, const float *const *a,
			const float *b, size_t b_next, const float *bias, float act_min,
			float act_max, float *c, size_t ldc)
{
	__m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
	__m512 d0 = c0, d1 = c0, d2 = c0, d3 = c0, d4 = c0, d5 = c0, d6 = c0, d7 = c0;
	for (int t = 0; t < ntaps; t++) {
		const float *x[MR2];
		x[0] = a[t];
		for (int i = 1; i < MR2; i++)
			x[i] = i < rows ? a[(size_t)i * ntaps + t] : x[i - 1];
		const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5],
			    *x6 = x[6], *x7 = x[7];
		const float *bk = b + (size_t)t * kc * FGEMM_NR;
		for (int k = 0; k < kc; k++, bk += FGEMM_NR) {
			const __m512 w = _mm512_loadu_ps(bk), v = _mm512_loadu_ps(bk + b_next);
			__m512 s = _mm512_set1_ps(x0[k]);
			c0 = _mm512_fmadd_ps(s, w, c0);
			d0 = _mm512_fmadd_ps(s, v, d0);
			s = _mm512_set1_ps(x1[k]);
			c1 = _mm512_fmadd_ps(s, w, c1);
			d1 = _mm512_fmadd_ps(s, v, d1);
			s = _mm512_set1_ps(x2[k]);
			c2 = _mm512_fmadd_ps(s, w, c2);
			d2 = _mm512_fmadd_ps(s, v, d2);
			s = _mm512_set1_ps(x3[k]);
			c3 = _mm512_fmadd_ps(s, w, c3);
			d3 = _mm512_fmadd_ps(s, v, d3);
			s = _mm512_set1_ps(x4[k]);
			c4 = _mm512_fmadd_ps(s, w, c4);
			d4 = _mm512_fmadd_ps(s, v, d4);
			s = _mm512_set1_ps(x5[k]);
			c5 = _mm512_fmadd_ps(s, w, c5);
			d5 = _mm512_fmadd_ps(s, v, d5);
			s = _mm512_set1_ps(x6[k]);
			c6 = _mm512_fmadd_ps(s, w, c6);
			d6 = _mm512_fmadd_ps(s, v, d6);
			s = _mm512_set1_ps(x7[k]);
			c7 = _mm512_fmadd_ps(s, w, c7);
			d7 = _mm512_fmadd_ps(s, v, d7);
		}
	}
	/* cols is 17..32: the first block whole, the second under a mask */
	const __mmask16 full = (__mmask16)0xffffu, mask = (__mmask16)((1u << (cols - FGEMM_NR)) - 1u);
	const __m512 bv = _mm512_loadu_ps(bias), bw = _mm512_maskz_loadu_ps(mask, bias + FGEMM_NR);
	const __m512 lo = _mm512_set1_ps(act_min), hi = _mm512_set1_ps(act_max);
#define STORE2(i, cv, dv)                                                                       \
	do {                                                                                    \
		store_row(c + (i) * ldc, full, cv, bv, lo, hi);                                 \
		store_row(c + (i) * ldc + FGEMM_NR, mask, dv, bw, lo, hi);                      \
	} while (0)
	STORE2(0, c0, d0);
	if (rows > 1)
		STORE2(1, c1, d1);
	if (rows > 2)
		STORE2(2, c2, d2);
	if (rows > 3)
		STORE2(3, c3, d3);
	if (rows > 4)
		STORE2(4, c4, d4);
	if (rows > 5)
		STORE2(5, c5, d5);
	if (rows > 6)
		STORE2(6, c6, d6);
	if (rows > 7)
		STORE2(7, c7, d7);
#undef STORE2
}
