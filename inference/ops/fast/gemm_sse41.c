/* gemm_sse41.c — the int16 GEMM of gemm.h for x86-64 CPUs without AVX2, with 128-bit pmaddwd
 * (exact: gemm.h). Micro-tile: 2 rows × 16 channels = 8 xmm accumulators, 4 weight vectors per
 * k pair, so everything stays in the 16 xmm registers. target(...) as in gemm_avx2.c. */
#include <smmintrin.h>
#include <string.h>

#include "inference/ops/fast/gemm.h"

__attribute__((target("sse4.1")))
static inline __m128i bcast_pair128(const int16_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return _mm_set1_epi32(v);
}

__attribute__((target("sse4.1")))
void gemm_s16_sse41(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		    int nblocks, int32_t *c, size_t ldc)
{
	for (int nb = 0; nb < nblocks; nb++) {
		const int16_t *bb = b + (size_t)nb * k_pairs * GEMM_NR * 2;
		for (int m = 0; m < rows; m += 2) {
			const int16_t *a0 = a + (size_t)m * lda, *a1 = a0 + lda;
			__m128i acc0[4], acc1[4];
			for (int i = 0; i < 4; i++)
				acc0[i] = acc1[i] = _mm_setzero_si128();
			for (int kp = 0; kp < k_pairs; kp++) {
				const int16_t *bk = bb + (size_t)kp * GEMM_NR * 2;
				const __m128i x0 = bcast_pair128(a0 + 2 * kp), x1 = bcast_pair128(a1 + 2 * kp);
				for (int i = 0; i < 4; i++) {
					const __m128i w = _mm_loadu_si128((const __m128i *)(bk + 8 * i));
					acc0[i] = _mm_add_epi32(acc0[i], _mm_madd_epi16(x0, w));
					acc1[i] = _mm_add_epi32(acc1[i], _mm_madd_epi16(x1, w));
				}
			}
			int32_t *c0 = c + (size_t)m * ldc + (size_t)nb * GEMM_NR, *c1 = c0 + ldc;
			for (int i = 0; i < 4; i++) {
				_mm_storeu_si128((__m128i *)(c0 + 4 * i), acc0[i]);
				_mm_storeu_si128((__m128i *)(c1 + 4 * i), acc1[i]);
			}
		}
	}
}
