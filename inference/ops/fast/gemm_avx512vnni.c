/* gemm_avx512vnni.c — the int16 GEMM of gemm.h with AVX-512 VNNI vpdpwssd: one instruction
 * multiplies a broadcast activation pair with the 16 channels' weight pairs of one k pair (one
 * packed 512-bit vector) and adds both products into 16 int32 accumulators. vpdpwssd (not the
 * saturating vpdpwssds) wraps like plain integer adds, and the sums never leave int32 (gemm.h),
 * so the result is the exact accumulator. Micro-tile: 4 rows × 16 channels, with a second
 * 4-row tile interleaved when 8 rows remain, so 8 independent chains hide the latency.
 * target(...) lets builds that compile every file with one set of flags (the fuzzer's) accept
 * it; it runs only after gemm_select() saw the features. */
#include <immintrin.h>
#include <string.h>

#include "inference/ops/fast/gemm.h"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

VNNI_TARGET static inline __m512i bcast_pair512(const int16_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return _mm512_set1_epi32(v);
}

VNNI_TARGET
void gemm_s16_avx512vnni(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
			 int nblocks, int32_t *c, size_t ldc)
{
	for (int nb = 0; nb < nblocks; nb++) {
		const int16_t *bb = b + (size_t)nb * k_pairs * GEMM_NR * 2;
		int m = 0;
		for (; m + 8 <= rows; m += 8) {
			const int16_t *ar[8];
			for (int r = 0; r < 8; r++)
				ar[r] = a + (size_t)(m + r) * lda;
			__m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
			__m512i c4 = c0, c5 = c0, c6 = c0, c7 = c0;
			for (int kp = 0; kp < k_pairs; kp++) {
				const __m512i w = _mm512_loadu_si512(bb + (size_t)kp * GEMM_NR * 2);
				c0 = _mm512_dpwssd_epi32(c0, bcast_pair512(ar[0] + 2 * kp), w);
				c1 = _mm512_dpwssd_epi32(c1, bcast_pair512(ar[1] + 2 * kp), w);
				c2 = _mm512_dpwssd_epi32(c2, bcast_pair512(ar[2] + 2 * kp), w);
				c3 = _mm512_dpwssd_epi32(c3, bcast_pair512(ar[3] + 2 * kp), w);
				c4 = _mm512_dpwssd_epi32(c4, bcast_pair512(ar[4] + 2 * kp), w);
				c5 = _mm512_dpwssd_epi32(c5, bcast_pair512(ar[5] + 2 * kp), w);
				c6 = _mm512_dpwssd_epi32(c6, bcast_pair512(ar[6] + 2 * kp), w);
				c7 = _mm512_dpwssd_epi32(c7, bcast_pair512(ar[7] + 2 * kp), w);
			}
			int32_t *cm = c + (size_t)m * ldc + (size_t)nb * GEMM_NR;
			_mm512_storeu_si512(cm, c0);
			_mm512_storeu_si512(cm + ldc, c1);
			_mm512_storeu_si512(cm + 2 * ldc, c2);
			_mm512_storeu_si512(cm + 3 * ldc, c3);
			_mm512_storeu_si512(cm + 4 * ldc, c4);
			_mm512_storeu_si512(cm + 5 * ldc, c5);
			_mm512_storeu_si512(cm + 6 * ldc, c6);
			_mm512_storeu_si512(cm + 7 * ldc, c7);
		}
		for (; m < rows; m += GEMM_MR) {
			const int16_t *a0 = a + (size_t)m * lda, *a1 = a0 + lda, *a2 = a1 + lda,
				      *a3 = a2 + lda;
			__m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
			for (int kp = 0; kp < k_pairs; kp++) {
				const __m512i w = _mm512_loadu_si512(bb + (size_t)kp * GEMM_NR * 2);
				c0 = _mm512_dpwssd_epi32(c0, bcast_pair512(a0 + 2 * kp), w);
				c1 = _mm512_dpwssd_epi32(c1, bcast_pair512(a1 + 2 * kp), w);
				c2 = _mm512_dpwssd_epi32(c2, bcast_pair512(a2 + 2 * kp), w);
				c3 = _mm512_dpwssd_epi32(c3, bcast_pair512(a3 + 2 * kp), w);
			}
			int32_t *cm = c + (size_t)m * ldc + (size_t)nb * GEMM_NR;
			_mm512_storeu_si512(cm, c0);
			_mm512_storeu_si512(cm + ldc, c1);
			_mm512_storeu_si512(cm + 2 * ldc, c2);
			_mm512_storeu_si512(cm + 3 * ldc, c3);
		}
	}
}
