/* requant_neon.c — requant.h's output stage with NEON (AArch64, and AArch32 when HWCAP_NEON says
 * so; every intrinsic here exists in both), 8 channels at a time, equal to the portable one:
 * - vqrdmulhq_s32 computes floor((2ab + 2^31) / 2^32) = floor((ab + 2^30) / 2^31), which is
 *   exactly gemmlowp's SaturatingRoundingDoublingHighMul for either sign (see requant_avx2.c);
 *   its one saturating case (both INT32_MIN) cannot occur, multipliers being non-negative;
 * - vrshlq_s32 by -e rounds half up; RoundingDivideByPOT rounds half away from zero, so negative
 *   values are first lowered by one (the fix-up TFLite's NEON kernels use; the saturating add
 *   leaves INT32_MIN, which divides exactly, unchanged);
 * - left shifts (vshlq_s32) and the bias add wrap like the reference's unsigned arithmetic. */
#include <arm_neon.h>

#include "inference/ops/fast/requant.h"

static inline int32x4_t requant4(const struct requant *rq, const int32_t *acc, int c,
				 int32x4_t out_off, int32x4_t lo, int32x4_t hi)
{
	int32x4_t v = vld1q_s32(acc + c);
	if (rq->bias)
		v = vaddq_s32(v, vld1q_s32(rq->bias + c));
	const int32x4_t shift = vld1q_s32((const int32_t *)rq->shift + c);
	const int32x4_t zero = vdupq_n_s32(0);
	const int32x4_t left = vmaxq_s32(shift, zero), right = vminq_s32(shift, zero);
	v = vshlq_s32(v, left);
	v = vqrdmulhq_s32(v, vld1q_s32(rq->multiplier + c));
	v = vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31));
	v = vrshlq_s32(v, right);
	return vminq_s32(vmaxq_s32(vaddq_s32(v, out_off), lo), hi);
}

void requant_row_neon(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
		      uint8_t *out)
{
	const int32x4_t out_off = vdupq_n_s32(rq->output_offset);
	const int32x4_t lo = vdupq_n_s32(rq->act_min), hi = vdupq_n_s32(rq->act_max);
	int c = 0;
	for (; c + 8 <= n; c += 8) {
		const int32x4_t v0 = requant4(rq, acc, c, out_off, lo, hi);
		const int32x4_t v1 = requant4(rq, acc, c + 4, out_off, lo, hi);
		/* low byte of each lane: the reference's 8-bit store after the clamp */
		const int16x8_t v16 = vcombine_s16(vmovn_s32(v0), vmovn_s32(v1));
		vst1_u8(out + c, vreinterpret_u8_s8(vmovn_s16(v16)));
	}
	if (c < n) {
		const struct requant tail = requant_from(rq, c);
		requant_row_portable(&tail, acc + c, n - c, is_signed, out + c);
	}
}
