/* dwpair_x86.h — the body of dwpair.h's per-pixel depthwise kernel for x86, written once and
 * compiled twice: dwpair_avx2.c and dwpair_avx512vnni.c include it after defining
 *   DWPAIR_TARGET        the target attribute string of their ISA level,
 *   DWPAIR_PIXEL         the name of the entry point (dwpair.h),
 *   DWPAIR_MADD(a, x, w) a += pairwise x·w (int16 pairs into int32 lanes).
 * Per block of 16 channels, two taps' bytes are widened to int16, interleaved
 * (vpunpcklwd/vpunpckhwd) and multiplied with the packed weight pairs into two int32
 * accumulators held in registers over all taps; the unpack order is undone once at the end
 * (vperm2i128). Exactness: dwpair.h. Channels past the last block take dwpair_tail(). Block b
 * reads the weights and start values of block b % wblocks (a running counter, no division). */
#include <immintrin.h>

#include "inference/ops/fast/dwpair.h"

__attribute__((target(DWPAIR_TARGET), always_inline))
static inline __m256i widen16(const uint8_t *p, bool is_signed)
{
	const __m128i b = _mm_loadu_si128((const __m128i *)p);
	return is_signed ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}

__attribute__((target(DWPAIR_TARGET), always_inline))
static inline void blocks(int32_t *acc, const uint8_t *const *x, int taps, int nblocks,
			  bool is_signed, const int16_t *wp, const int32_t *init, int wblocks,
			  bool cyclic)
{
	const int pairs = (taps + 1) / 2;
	for (int b = 0, wb = 0; b < nblocks; b++, wb = cyclic && wb + 1 == wblocks ? 0 : wb + 1) {
		const int c = b * DWPAIR_BLOCK;
		const int16_t *w = wp + (size_t)wb * pairs * 2 * DWPAIR_BLOCK;
		const int32_t *ini = init + (size_t)wb * DWPAIR_BLOCK;
		__m256i lo = _mm256_setzero_si256(), hi = lo;
		for (int p = 0; p < pairs; p++, w += 2 * DWPAIR_BLOCK) {
			const __m256i x0 = widen16(x[2 * p] + c, is_signed);
			/* an odd last tap pairs with itself: its second weights are 0 */
			const __m256i x1 = widen16(x[2 * p + 1 < taps ? 2 * p + 1 : 2 * p] + c, is_signed);
			const __m256i w_lo = _mm256_loadu_si256((const __m256i *)w);
			const __m256i w_hi = _mm256_loadu_si256((const __m256i *)(w + DWPAIR_BLOCK));
			DWPAIR_MADD(lo, _mm256_unpacklo_epi16(x0, x1), w_lo);
			DWPAIR_MADD(hi, _mm256_unpackhi_epi16(x0, x1), w_hi);
		}
		/* lo holds channels 0-3 | 8-11, hi 4-7 | 12-15 */
		const __m256i a0 = _mm256_permute2x128_si256(lo, hi, 0x20);
		const __m256i a1 = _mm256_permute2x128_si256(lo, hi, 0x31);
		_mm256_storeu_si256((__m256i *)(acc + c),
				    _mm256_add_epi32(a0, _mm256_loadu_si256((const __m256i *)ini)));
		_mm256_storeu_si256((__m256i *)(acc + c + 8),
				    _mm256_add_epi32(a1, _mm256_loadu_si256((const __m256i *)(ini + 8))));
	}
}

__attribute__((target(DWPAIR_TARGET)))
void DWPAIR_PIXEL(int32_t *acc, const uint8_t *const *x, int taps, int channels, bool is_signed,
		  const int16_t *wp, const int32_t *init, int wblocks, const int32_t *w32, int32_t x_off)
{
	const int nblocks = channels / DWPAIR_BLOCK;
	/* a pixel's blocks each have their own weights: the counter never wraps (a constant) */
	const bool cyclic = wblocks < nblocks;
	if (is_signed && cyclic)
		blocks(acc, x, taps, nblocks, true, wp, init, wblocks, true);
	else if (is_signed)
		blocks(acc, x, taps, nblocks, true, wp, init, wblocks, false);
	else if (cyclic)
		blocks(acc, x, taps, nblocks, false, wp, init, wblocks, true);
	else
		blocks(acc, x, taps, nblocks, false, wp, init, wblocks, false);
	dwpair_tail(acc, x, taps, nblocks * DWPAIR_BLOCK, channels, is_signed, w32, x_off);
}
