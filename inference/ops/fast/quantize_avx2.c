/* quantize_avx2.c — quantize_simd.h's loop with AVX2, 32 floats per step, equal to quantize.c's
 * scalar loop:
 * - x / scale is vdivps, the same IEEE single division as the scalar '/';
 * - roundf (half away from zero): t = trunc(q) by vroundps; d = q - t is exact (for |q| < 2^23 it
 *   is q's fraction bits; above, q is whole and d = 0); t + copysign(1, q) when |d| >= 0.5 is
 *   exact too (|t| < 2^23). NaN stays NaN, ±inf stays ±inf (d is NaN, so nothing is added);
 * - the clamp to ±2^30: vmaxps returns its second operand when the first is NaN, so NaN goes to
 *   -2^30 like the scalar comparison; then vminps;
 * - vcvttps2dq of a whole number below 2^30 in magnitude is exact; adding zp cannot overflow;
 * - saturating packs to 16 then 8 bits, then the clamp to [qmin, qmax] as bytes: the range lies
 *   inside the type's, so that equals clamping the int32.
 * Only add/sub/div/round here (no products), so no FMA contraction can change a rounding. */
#include <immintrin.h>

#include "inference/ops/fast/quantize_simd.h"

__attribute__((target("avx2"), always_inline))
static inline __m256i quantize8(const float *in, __m256 scale, __m256i zp)
{
	const __m256 q = _mm256_div_ps(_mm256_loadu_ps(in), scale);
	const __m256 t = _mm256_round_ps(q, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
	const __m256 d = _mm256_andnot_ps(sign, _mm256_sub_ps(q, t)); /* |q - t| */
	const __m256 one = _mm256_or_ps(_mm256_and_ps(q, sign), _mm256_set1_ps(1.0f));
	__m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(d, half, _CMP_GE_OQ), one));
	r = _mm256_max_ps(r, _mm256_set1_ps(-1073741824.0f));
	r = _mm256_min_ps(r, _mm256_set1_ps(1073741824.0f));
	return _mm256_add_epi32(_mm256_cvttps_epi32(r), zp);
}

__attribute__((target("avx2")))
int quantize_f32_avx2(const float *in, int n, float scale, int32_t zp, int32_t qmin, int32_t qmax,
		      bool is_signed, uint8_t *out)
{
	const __m256 vscale = _mm256_set1_ps(scale);
	const __m256i vzp = _mm256_set1_epi32(zp);
	const __m256i lo = _mm256_set1_epi8((char)qmin), hi = _mm256_set1_epi8((char)qmax);
	/* the packs leave 4-value dwords in the order v0[0:4] v1[0:4] v2[0:4] v3[0:4] v0[4:8] ... */
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	int i = 0;
	for (; i + 32 <= n; i += 32) {
		const __m256i p01 = _mm256_packs_epi32(quantize8(in + i, vscale, vzp),
						       quantize8(in + i + 8, vscale, vzp));
		const __m256i p23 = _mm256_packs_epi32(quantize8(in + i + 16, vscale, vzp),
						       quantize8(in + i + 24, vscale, vzp));
		__m256i b;
		if (is_signed)
			b = _mm256_min_epi8(_mm256_max_epi8(_mm256_packs_epi16(p01, p23), lo), hi);
		else
			b = _mm256_min_epu8(_mm256_max_epu8(_mm256_packus_epi16(p01, p23), lo), hi);
		_mm256_storeu_si256((__m256i *)(out + i), _mm256_permutevar8x32_epi32(b, order));
	}
	return i;
}
