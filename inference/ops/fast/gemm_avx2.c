/* gemm_avx2.c — the int16 GEMM of gemm.h with AVX2 vpmaddwd: each instruction multiplies 16
 * int16 pairs and adds neighbours into 8 exact int32 lanes (|pair sum| <= 2 * 65025), so the
 * result equals the portable kernel's and the reference accumulator. Micro-tile: 4 rows × 16
 * channels = 8 ymm accumulators; per k pair, 2 weight loads and 4 broadcast activation pairs. *
 * The functions carry target("avx2") as well as the Makefile's -mavx2, so a build that compiles
 * every file with the same flags (the fuzzer's) still compiles them; they run only after
 * gemm_select() saw AVX2. */
#include <immintrin.h>
#include <string.h>

#include "inference/ops/fast/gemm.h"

__attribute__((target("avx2")))
static inline __m256i bcast_pair(const int16_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return _mm256_set1_epi32(v);
}

__attribute__((target("avx2")))
void gemm_s16_avx2(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		   int nblocks, int32_t *c, size_t ldc)
{
	for (int nb = 0; nb < nblocks; nb++) {
		const int16_t *bb = b + (size_t)nb * k_pairs * GEMM_NR * 2;
		for (int m = 0; m < rows; m += GEMM_MR) {
			const int16_t *a0 = a + (size_t)m * lda, *a1 = a0 + lda, *a2 = a1 + lda,
				      *a3 = a2 + lda;
			__m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
			__m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
			for (int kp = 0; kp < k_pairs; kp++) {
				const int16_t *bk = bb + (size_t)kp * GEMM_NR * 2;
				const __m256i b0 = _mm256_loadu_si256((const __m256i *)bk);
				const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bk + 16));
				__m256i x = bcast_pair(a0 + 2 * kp);
				c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));
				c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
				x = bcast_pair(a1 + 2 * kp);
				c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));
				c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
				x = bcast_pair(a2 + 2 * kp);
				c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));
				c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
				x = bcast_pair(a3 + 2 * kp);
				c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));
				c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
			}
			int32_t *cm = c + (size_t)m * ldc + (size_t)nb * GEMM_NR;
			_mm256_storeu_si256((__m256i *)cm, c00);
			_mm256_storeu_si256((__m256i *)(cm + 8), c01);
			_mm256_storeu_si256((__m256i *)(cm + ldc), c10);
			_mm256_storeu_si256((__m256i *)(cm + ldc + 8), c11);
			_mm256_storeu_si256((__m256i *)(cm + 2 * ldc), c20);
			_mm256_storeu_si256((__m256i *)(cm + 2 * ldc + 8), c21);
			_mm256_storeu_si256((__m256i *)(cm + 3 * ldc), c30);
			_mm256_storeu_si256((__m256i *)(cm + 3 * ldc + 8), c31);
		}
	}
}

__attribute__((target("avx2")))
void gemm_widen_avx2(int16_t *dst, const uint8_t *x, int n, int is_signed, int32_t x_zp)
{
	const __m256i zp = _mm256_set1_epi16((int16_t)x_zp);
	int i = 0;
	for (; i + 16 <= n; i += 16) {
		const __m128i b = _mm_loadu_si128((const __m128i *)(x + i));
		const __m256i w = is_signed ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_sub_epi16(w, zp));
	}
	if (i < n)
		gemm_widen_portable(dst + i, x + i, n - i, is_signed, x_zp);
}
