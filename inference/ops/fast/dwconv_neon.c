/* dwconv_neon.c — dwconv.h's per-pixel kernel with NEON (AArch64, and AArch32 when HWCAP_NEON
 * says so): 8 channels per step, input bytes widened to int16 with the offset added
 * (|x - zp| <= 255), then vmlal_s16 against the weights narrowed back to int16 (|w - zp| <= 255
 * too) into two int32x4 accumulators held across the taps. Products and sums are exact (dwconv.h); the channel tail is portable. */
#include <arm_neon.h>

#include "inference/ops/fast/dwconv.h"

void dw_pixel_neon(int32_t *acc, const uint8_t *const *x, const int32_t *const *w, int ntaps,
		   int channels, bool is_signed, int32_t x_off)
{
	const int16x8_t off = vdupq_n_s16((int16_t)x_off);
	int c = 0;
	for (; c + 8 <= channels; c += 8) {
		int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
		for (int t = 0; t < ntaps; t++) {
			const uint8x8_t b = vld1_u8(x[t] + c);
			const int16x8_t xv = vaddq_s16(is_signed ? vmovl_s8(vreinterpret_s8_u8(b))
								 : vreinterpretq_s16_u16(vmovl_u8(b)),
						       off);
			const int16x4_t w0 = vmovn_s32(vld1q_s32(w[t] + c));
			const int16x4_t w1 = vmovn_s32(vld1q_s32(w[t] + c + 4));
			a0 = vmlal_s16(a0, vget_low_s16(xv), w0);
			a1 = vmlal_s16(a1, vget_high_s16(xv), w1);
		}
		vst1q_s32(acc + c, a0);
		vst1q_s32(acc + c + 4, a1);
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
