/* dwconv_avx2.c — dwconv.h's per-pixel kernel, 16 channels per step in two int32 accumulators
 * kept in registers across the taps (exactness: dwconv.h). vpmulld of values below 2^16 in
 * magnitude is exact. Channels past the last multiple of 8 take the portable loop. *
 * The functions carry target("avx2") as well as the Makefile's -mavx2, so a build that compiles
 * every file with the same flags (the fuzzer's) still compiles them; they run only after
 * gemm_select() saw AVX2. */
#include <immintrin.h>

#include "inference/ops/fast/dwconv.h"

__attribute__((target("avx2")))
static inline __m256i load_x(const uint8_t *p, bool is_signed)
{
	const __m128i b = _mm_loadl_epi64((const __m128i *)p);
	return is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
}

__attribute__((target("avx2")))
void dw_pixel_avx2(int32_t *acc, const uint8_t *const *x, const int32_t *const *w, int ntaps,
		   int channels, bool is_signed, int32_t x_off)
{
	const __m256i off = _mm256_set1_epi32(x_off);
	int c = 0;
	for (; c + 16 <= channels; c += 16) {
		__m256i a0 = _mm256_setzero_si256(), a1 = a0;
		for (int t = 0; t < ntaps; t++) {
			const __m256i x0 = _mm256_add_epi32(load_x(x[t] + c, is_signed), off);
			const __m256i x1 = _mm256_add_epi32(load_x(x[t] + c + 8, is_signed), off);
			const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w[t] + c));
			const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w[t] + c + 8));
			a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(x0, w0));
			a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(x1, w1));
		}
		_mm256_storeu_si256((__m256i *)(acc + c), a0);
		_mm256_storeu_si256((__m256i *)(acc + c + 8), a1);
	}
	for (; c + 8 <= channels; c += 8) {
		__m256i a0 = _mm256_setzero_si256();
		for (int t = 0; t < ntaps; t++) {
			const __m256i x0 = _mm256_add_epi32(load_x(x[t] + c, is_signed), off);
			const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w[t] + c));
			a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(x0, w0));
		}
		_mm256_storeu_si256((__m256i *)(acc + c), a0);
	}
	if (c < channels) {
		const uint8_t *xs[DW_FAST_MAX_TAPS];
		const int32_t *ws[DW_FAST_MAX_TAPS];
		for (int t = 0; t < ntaps; t++) {
			xs[t] = x[t] + c;
			ws[t] = w[t] + c;
		}
		dw_pixel_portable(acc + c, xs, ws, ntaps, channels - c, is_signed, x_off);
	}
}
