/* dwpair_avx512vnni.c — dwpair_avx2.c's kernel on CPUs with AVX-512 VNNI: the same 256-bit
 * unpacked pairs and packed weights, but vpdpwssd multiplies the pairs and adds them into the
 * accumulator in one instruction (vpmaddwd + vpaddd in the AVX2 kernel). vpdpwssd (not the
 * saturating vpdpwssds) wraps like vpaddd, and dwpair.h bounds every sum far inside int32, so the
 * result is the same. Chosen at the best ISA level (dwpair_select); target(...) as in
 * gemm_avx512vnni.c. */
#include <immintrin.h>

#include "inference/ops/dwpair.h"

__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"), always_inline))
static inline __m256i widen16(const uint8_t *p, bool is_signed)
{
	const __m128i b = _mm_loadu_si128((const __m128i *)p);
	return is_signed ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}

__attribute__((target("avx2,avx512f,avx512vl,avx512vnni"), always_inline))
static inline void blocks(int32_t *acc, const uint8_t *const *x, int taps, int nblocks,
			  bool is_signed, const int16_t *wp, const int32_t *init)
{
	const int pairs = (taps + 1) / 2;
	for (int b = 0; b < nblocks; b++) {
		const int c = b * DWPAIR_BLOCK;
		const int16_t *w = wp + (size_t)b * pairs * 2 * DWPAIR_BLOCK;
		__m256i lo = _mm256_setzero_si256(), hi = lo;
		for (int p = 0; p < pairs; p++, w += 2 * DWPAIR_BLOCK) {
			const __m256i x0 = widen16(x[2 * p] + c, is_signed);
			/* an odd last tap pairs with itself: its second weights are 0 */
			const __m256i x1 = widen16(x[2 * p + 1 < taps ? 2 * p + 1 : 2 * p] + c, is_signed);
			const __m256i w_lo = _mm256_loadu_si256((const __m256i *)w);
			const __m256i w_hi = _mm256_loadu_si256((const __m256i *)(w + DWPAIR_BLOCK));
			lo = _mm256_dpwssd_epi32(lo, _mm256_unpacklo_epi16(x0, x1), w_lo);
			hi = _mm256_dpwssd_epi32(hi, _mm256_unpackhi_epi16(x0, x1), w_hi);
		}
		/* lo holds channels 0-3 | 8-11, hi 4-7 | 12-15 */
		const __m256i a0 = _mm256_permute2x128_si256(lo, hi, 0x20);
		const __m256i a1 = _mm256_permute2x128_si256(lo, hi, 0x31);
		_mm256_storeu_si256((__m256i *)(acc + c),
				    _mm256_add_epi32(a0, _mm256_loadu_si256((const __m256i *)(init + c))));
		_mm256_storeu_si256((__m256i *)(acc + c + 8),
				    _mm256_add_epi32(a1, _mm256_loadu_si256((const __m256i *)(init + c + 8))));
	}
}

__attribute__((target("avx2,avx512f,avx512vl,avx512vnni")))
void dwpair_pixel_avx512vnni(int32_t *acc, const uint8_t *const *x, int taps, int channels,
			     bool is_signed, const int16_t *wp, const int32_t *init,
			     const int32_t *w32, int32_t x_off)
{
	const int nblocks = channels / DWPAIR_BLOCK;
	if (is_signed)
		blocks(acc, x, taps, nblocks, true, wp, init);
	else
		blocks(acc, x, taps, nblocks, false, wp, init);
	for (int c = nblocks * DWPAIR_BLOCK; c < channels; c++) {
		int32_t sum = 0;
		for (int t = 0; t < taps; t++) {
			const int32_t xv = is_signed ? (int32_t)(int8_t)x[t][c] : (int32_t)x[t][c];
			sum += (xv + x_off) * w32[(size_t)t * channels + c];
		}
		acc[c] = sum;
	}
}
