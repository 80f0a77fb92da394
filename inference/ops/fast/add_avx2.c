/* add_avx2.c — add_simd.h's loop with AVX2, 32 elements per step, equal to add.c's scalar steps:
 * - (x + offset) << 20: |x + offset| <= 255, so below 2^28, no wrap;
 * - SaturatingRoundingDoublingHighMul as in requant_avx2.c: floor((ab + 2^30) / 2^31) for either
 *   sign of ab, one 64-bit product per lane (vpmuldq on even and odd lanes); the saturating
 *   INT32_MIN² case cannot occur (multipliers are positive or 0); |a| < 2^29 and b < 2^31 keep
 *   the products well inside 64 bits;
 * - RoundingDivideByPOT with one exponent for all lanes and the reference's threshold;
 * - the two scaled inputs are each below 2^28 in magnitude (multipliers < 1), so their sum does
 *   not wrap;
 * - output zero point and clamp in 32 bits, then saturating packs to 16 and 8 bits, which keep
 *   the clamped values (inside the type's range) unchanged.
 * The functions carry target("avx2") so a build compiling every file with the same flags (the
 * fuzzer's) still compiles them; add.c calls them only when gemm_isa_level() has AVX2. */
#include <immintrin.h>

#include "inference/ops/fast/add_simd.h"

/* RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(v, m), e); mask = 2^e - 1. */
__attribute__((target("avx2"), always_inline))
static inline __m256i mul_scaled(__m256i v, __m256i m, __m128i e, __m256i mask)
{
	const __m256i half = _mm256_set1_epi64x((int64_t)1 << 30), zero = _mm256_setzero_si256();
	__m256i even = _mm256_add_epi64(_mm256_mul_epi32(v, m), half);
	__m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), m), half);
	even = _mm256_srli_epi64(even, 31);
	odd = _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32);
	v = _mm256_blend_epi32(even, odd, 0xaa);
	const __m256i rem = _mm256_and_si256(v, mask);
	const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(zero, v));
	return _mm256_sub_epi32(_mm256_sra_epi32(v, e), _mm256_cmpgt_epi32(rem, thr));
}

struct add_consts {
	__m256i off1, off2, m1, m2, mo, mask1, mask2, masko, out_off, lo, hi;
	__m128i e1, e2, eo;
};

__attribute__((target("avx2"), always_inline))
static inline __m256i widen8(const uint8_t *x, bool is_signed)
{
	const __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)x);
	return is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

__attribute__((target("avx2"), always_inline))
static inline __m256i add8(const struct add_consts *k, const uint8_t *a, const uint8_t *b,
			   bool is_signed)
{
	const __m256i x1 = _mm256_slli_epi32(_mm256_add_epi32(widen8(a, is_signed), k->off1), 20);
	const __m256i x2 = _mm256_slli_epi32(_mm256_add_epi32(widen8(b, is_signed), k->off2), 20);
	const __m256i sum = _mm256_add_epi32(mul_scaled(x1, k->m1, k->e1, k->mask1),
					     mul_scaled(x2, k->m2, k->e2, k->mask2));
	const __m256i r = _mm256_add_epi32(mul_scaled(sum, k->mo, k->eo, k->masko), k->out_off);
	return _mm256_min_epi32(_mm256_max_epi32(r, k->lo), k->hi);
}

__attribute__((target("avx2")))
int add_same_avx2(const struct add_simd *p, const uint8_t *a, const uint8_t *b, int n,
		  uint8_t *out)
{
	const struct add_consts k = {
		.off1 = _mm256_set1_epi32(p->in1_offset), .off2 = _mm256_set1_epi32(p->in2_offset),
		.m1 = _mm256_set1_epi64x(p->in1_multiplier), .m2 = _mm256_set1_epi64x(p->in2_multiplier),
		.mo = _mm256_set1_epi64x(p->out_multiplier),
		.mask1 = _mm256_set1_epi32((int32_t)((1u << -p->in1_shift) - 1)),
		.mask2 = _mm256_set1_epi32((int32_t)((1u << -p->in2_shift) - 1)),
		.masko = _mm256_set1_epi32((int32_t)((1u << -p->out_shift) - 1)),
		.out_off = _mm256_set1_epi32(p->out_offset),
		.lo = _mm256_set1_epi32(p->act_min), .hi = _mm256_set1_epi32(p->act_max),
		.e1 = _mm_cvtsi32_si128(-p->in1_shift), .e2 = _mm_cvtsi32_si128(-p->in2_shift),
		.eo = _mm_cvtsi32_si128(-p->out_shift),
	};
	/* the packs leave 4-value dwords in the order v0[0:4] v1[0:4] v2[0:4] v3[0:4] v0[4:8] ... */
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	const bool s = p->is_signed;
	int i = 0;
	for (; i + 32 <= n; i += 32) {
		const __m256i p01 = _mm256_packs_epi32(add8(&k, a + i, b + i, s),
						       add8(&k, a + i + 8, b + i + 8, s));
		const __m256i p23 = _mm256_packs_epi32(add8(&k, a + i + 16, b + i + 16, s),
						       add8(&k, a + i + 24, b + i + 24, s));
		const __m256i v = s ? _mm256_packs_epi16(p01, p23) : _mm256_packus_epi16(p01, p23);
		_mm256_storeu_si256((__m256i *)(void *)(out + i), _mm256_permutevar8x32_epi32(v, order));
	}
	return i;
}
