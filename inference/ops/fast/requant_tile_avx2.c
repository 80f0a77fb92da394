/* requant_tile_avx2.c — requant_tile.h's output stage with AVX2, equal to requant_row_portable()
 * value for value. The arithmetic is requant_avx2.c's (see the exactness notes there); what
 * changes is the order of work:
 *
 * - per block of 32 (or 16) channels, everything that depends on the channel only is derived
 *   once: bias (0 without one), the multiplier for even and for odd lanes, the left shift, the
 *   right shift, its mask and half mask (RoundingDivideByPOT's remainder and threshold before the
 *   negative-value adjustment); then every row of the tile reuses them;
 * - a block whose left shifts are all 0 (every multiplier below 1, the usual case) skips the
 *   vpsllvd;
 * - the high 32 bits of the rounded 64-bit product of the odd lanes are moved into place with
 *   one left shift by 1 (bits 31..62 land in the upper half, the blend takes only that half);
 * - 32 results are narrowed with saturating packs and clamped as bytes. Saturation and the clamp
 *   commute into clamp(v): the activation range lies inside the type's range, and saturating
 *   to int16 then to the 8-bit type only moves values that the clamp moves to the same bound.
 *
 * A remaining block of 8 channels is done the same way (its constants once per tile); channels
 * past the last multiple of 8 take requant_row_avx2 row by row. The functions carry
 * target("avx2") as well as the Makefile's -mavx2 (see requant_avx2.c). */
#include <immintrin.h>
#include <stdalign.h>
#include <string.h>

#include "inference/ops/fast/requant_tile.h"

/* Inlined into each caller, so has_left is a constant there and each loop has no branch. */
#define RQ_INLINE static inline __attribute__((target("avx2"), always_inline))

/* Per-8-channel constants of one block. */
struct rq8 {
	__m256i bias, mult_even, mult_odd, left, right, mask, half_mask;
};

__attribute__((target("avx2")))
static inline void rq8_init(struct rq8 *k, const struct requant *rq, int c, int *any_left)
{
	const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
	const __m256i shift = _mm256_loadu_si256((const __m256i *)(rq->shift + c));
	const __m256i mult = _mm256_loadu_si256((const __m256i *)(rq->multiplier + c));
	k->bias = rq->bias ? _mm256_loadu_si256((const __m256i *)(rq->bias + c)) : zero;
	k->mult_even = mult;
	k->mult_odd = _mm256_srli_epi64(mult, 32);
	k->left = _mm256_max_epi32(shift, zero);
	k->right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
	k->mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, k->right), one);
	k->half_mask = _mm256_srli_epi32(k->mask, 1);
	*any_left |= !_mm256_testz_si256(k->left, k->left);
}

/* acc[0..8) → int32 results plus the output offset, before the clamp. */
RQ_INLINE __m256i rq8_apply(const struct rq8 *k, const int32_t *acc, bool has_left,
				__m256i out_off)
{
	const __m256i zero = _mm256_setzero_si256();
	const __m256i half = _mm256_set1_epi64x((int64_t)1 << 30);
	__m256i v = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)acc), k->bias);
	if (has_left)
		v = _mm256_sllv_epi32(v, k->left);
	__m256i even = _mm256_add_epi64(_mm256_mul_epi32(v, k->mult_even), half);
	__m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), k->mult_odd), half);
	v = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xaa);
	const __m256i rem = _mm256_and_si256(v, k->mask);
	const __m256i thr = _mm256_sub_epi32(k->half_mask, _mm256_cmpgt_epi32(zero, v));
	v = _mm256_sub_epi32(_mm256_srav_epi32(v, k->right), _mm256_cmpgt_epi32(rem, thr));
	return _mm256_add_epi32(v, out_off);
}

/* 16 int16 pairs → bytes with the type's saturation, then the activation clamp. */
__attribute__((target("avx2")))
static inline __m256i narrow_clamp(__m256i p01, __m256i p23, bool is_signed, __m256i lo, __m256i hi)
{
	if (is_signed)
		return _mm256_min_epi8(_mm256_max_epi8(_mm256_packs_epi16(p01, p23), lo), hi);
	return _mm256_min_epu8(_mm256_max_epu8(_mm256_packus_epi16(p01, p23), lo), hi);
}

RQ_INLINE void tile32(const struct rq8 *k, bool has_left, const int32_t *acc, size_t ld_acc,
		    int rows, bool is_signed, uint8_t *out, size_t ld_out, __m256i out_off, __m256i lo,
		    __m256i hi)
{
	/* the packs work within 128-bit lanes and leave the 4-channel dwords in the order
	 * v0[0:4] v1[0:4] v2[0:4] v3[0:4] v0[4:8] v1[4:8] ...; this index restores channel order */
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	for (int r = 0; r < rows; r++) {
		const int32_t *a = acc + (size_t)r * ld_acc;
		const __m256i v0 = rq8_apply(&k[0], a, has_left, out_off);
		const __m256i v1 = rq8_apply(&k[1], a + 8, has_left, out_off);
		const __m256i v2 = rq8_apply(&k[2], a + 16, has_left, out_off);
		const __m256i v3 = rq8_apply(&k[3], a + 24, has_left, out_off);
		__m256i b = narrow_clamp(_mm256_packs_epi32(v0, v1), _mm256_packs_epi32(v2, v3), is_signed,
					 lo, hi);
		b = _mm256_permutevar8x32_epi32(b, order);
		_mm256_storeu_si256((__m256i *)(out + (size_t)r * ld_out), b);
	}
}

RQ_INLINE void tile16(const struct rq8 *k, bool has_left, const int32_t *acc, size_t ld_acc,
		    int rows, bool is_signed, uint8_t *out, size_t ld_out, __m256i out_off, __m256i lo,
		    __m256i hi)
{
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	for (int r = 0; r < rows; r++) {
		const int32_t *a = acc + (size_t)r * ld_acc;
		const __m256i v0 = rq8_apply(&k[0], a, has_left, out_off);
		const __m256i v1 = rq8_apply(&k[1], a + 8, has_left, out_off);
		const __m256i p = _mm256_packs_epi32(v0, v1);
		const __m256i b = _mm256_permutevar8x32_epi32(narrow_clamp(p, p, is_signed, lo, hi), order);
		_mm_storeu_si128((__m128i *)(out + (size_t)r * ld_out), _mm256_castsi256_si128(b));
	}
}

/* 8 channels: their bytes are the low dword of each 128-bit lane after the packs. */
RQ_INLINE void tile8(const struct rq8 *k, bool has_left, const int32_t *acc, size_t ld_acc,
		   int rows, bool is_signed, uint8_t *out, size_t ld_out, __m256i out_off, __m256i lo,
		   __m256i hi)
{
	for (int r = 0; r < rows; r++) {
		const __m256i v = rq8_apply(&k[0], acc + (size_t)r * ld_acc, has_left, out_off);
		const __m256i p = _mm256_packs_epi32(v, v);
		const __m256i b = narrow_clamp(p, p, is_signed, lo, hi);
		const uint64_t bytes = (uint32_t)_mm256_extract_epi32(b, 0) |
				       (uint64_t)(uint32_t)_mm256_extract_epi32(b, 4) << 32;
		memcpy(out + (size_t)r * ld_out, &bytes, sizeof(bytes));
	}
}

__attribute__((target("avx2")))
void requant_tile_avx2(const struct requant *rq, const int32_t *acc, size_t ld_acc, int rows,
		       int n, bool is_signed, uint8_t *out, size_t ld_out)
{
	const __m256i out_off = _mm256_set1_epi32(rq->output_offset);
	const __m256i lo = _mm256_set1_epi8((char)rq->act_min), hi = _mm256_set1_epi8((char)rq->act_max);
	alignas(32) struct rq8 k[4];
	int c = 0;
	for (; c + 32 <= n; c += 32) {
		int any_left = 0;
		for (int g = 0; g < 4; g++)
			rq8_init(&k[g], rq, c + 8 * g, &any_left);
		if (any_left)
			tile32(k, true, acc + c, ld_acc, rows, is_signed, out + c, ld_out, out_off, lo, hi);
		else
			tile32(k, false, acc + c, ld_acc, rows, is_signed, out + c, ld_out, out_off, lo, hi);
	}
	for (; c + 16 <= n; c += 16) {
		int any_left = 0;
		for (int g = 0; g < 2; g++)
			rq8_init(&k[g], rq, c + 8 * g, &any_left);
		if (any_left)
			tile16(k, true, acc + c, ld_acc, rows, is_signed, out + c, ld_out, out_off, lo, hi);
		else
			tile16(k, false, acc + c, ld_acc, rows, is_signed, out + c, ld_out, out_off, lo, hi);
	}
	if (c + 8 <= n) { /* 8-channel layers (person_detect's, VWW's first), and 16k + 8 tails */
		int any_left = 0;
		rq8_init(&k[0], rq, c, &any_left);
		if (any_left)
			tile8(k, true, acc + c, ld_acc, rows, is_signed, out + c, ld_out, out_off, lo, hi);
		else
			tile8(k, false, acc + c, ld_acc, rows, is_signed, out + c, ld_out, out_off, lo, hi);
		c += 8;
	}
	if (c < n) {
		const struct requant tail = requant_from(rq, c);
		for (int r = 0; r < rows; r++)
			requant_row_avx2(&tail, acc + (size_t)r * ld_acc + c, n - c, is_signed,
					 out + (size_t)r * ld_out + c);
	}
}
