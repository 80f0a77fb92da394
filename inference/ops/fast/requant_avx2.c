/* requant_avx2.c — requant.h's output stage, 8 channels at a time, equal to the portable one:
 *
 * - bias add and the left shift wrap in 32 bits (vpaddd, vpsllvd) as the reference's unsigned
 *   arithmetic does;
 * - SaturatingRoundingDoublingHighMul: the reference computes trunc((ab + nudge) / 2^31) with
 *   nudge = 2^30 for ab >= 0 and 1 - 2^30 otherwise. For ab < 0, truncation is
 *   floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31), the same expression as
 *   for ab >= 0, so it is one 64-bit add and shift (vpmuldq on even/odd lanes). The low 32 bits of
 *   a logical shift equal those of the arithmetic one, and the result fits 32 bits because the
 *   multiplier is positive (the saturating INT32_MIN² case cannot occur: multipliers lie in
 *   [2^30, 2^31) or are 0);
 * - RoundingDivideByPOT with per-lane exponents (vpsravd) and the reference's threshold;
 * - output zero point, clamp, then the low byte of each lane (the same truncation as the
 *   reference's 8-bit store, the value being inside the type's range after the clamp). *
 * The functions carry target("avx2") as well as the Makefile's -mavx2, so a build that compiles
 * every file with the same flags (the fuzzer's) still compiles them; they run only after
 * gemm_select() saw AVX2. */
#include <immintrin.h>

#include "inference/ops/fast/requant.h"

__attribute__((target("avx2")))
void requant_row_avx2(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
		      uint8_t *out)
{
	const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
	const __m256i half = _mm256_set1_epi64x((int64_t)1 << 30);
	const __m256i out_off = _mm256_set1_epi32(rq->output_offset);
	const __m256i lo = _mm256_set1_epi32(rq->act_min), hi = _mm256_set1_epi32(rq->act_max);
	const __m256i bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
					       -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1,
					       -1, -1, -1);
	const __m256i gather = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
	int c = 0;
	for (; c + 8 <= n; c += 8) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(acc + c));
		if (rq->bias)
			v = _mm256_add_epi32(v, _mm256_loadu_si256((const __m256i *)(rq->bias + c)));
		const __m256i shift = _mm256_loadu_si256((const __m256i *)(rq->shift + c));
		const __m256i mult = _mm256_loadu_si256((const __m256i *)(rq->multiplier + c));
		const __m256i left = _mm256_max_epi32(shift, zero);
		const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
		v = _mm256_sllv_epi32(v, left);
		__m256i even = _mm256_add_epi64(_mm256_mul_epi32(v, mult), half);
		__m256i odd = _mm256_add_epi64(
			_mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(mult, 32)), half);
		even = _mm256_srli_epi64(even, 31);
		odd = _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32);
		v = _mm256_blend_epi32(even, odd, 0xaa);
		const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
		const __m256i rem = _mm256_and_si256(v, mask);
		const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(zero, v));
		v = _mm256_sub_epi32(_mm256_srav_epi32(v, right), _mm256_cmpgt_epi32(rem, thr));
		v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, out_off), lo), hi);
		v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, bytes), gather);
		_mm_storel_epi64((__m128i *)(out + c), _mm256_castsi256_si128(v));
	}
	if (c < n) {
		const struct requant tail = requant_from(rq, c);
		requant_row_portable(&tail, acc + c, n - c, is_signed, out + c);
	}
}
