/* dwconv.c — portable per-pixel depthwise kernel and dispatch (see dwconv.h). */
#include "inference/ops/fast/dwconv.h"

#include "inference/ops/fast/gemm.h"

void dw_pixel_portable(int32_t *acc, const uint8_t *const *x, const int32_t *const *w, int ntaps,
		       int channels, bool is_signed, int32_t x_off)
{
	for (int c = 0; c < channels; c++)
		acc[c] = 0;
	for (int t = 0; t < ntaps; t++) {
		const int32_t *wt = w[t];
		if (is_signed) {
			const int8_t *xt = (const int8_t *)x[t];
			for (int c = 0; c < channels; c++)
				acc[c] += ((int32_t)xt[c] + x_off) * wt[c];
		} else {
			const uint8_t *xt = x[t];
			for (int c = 0; c < channels; c++)
				acc[c] += ((int32_t)xt[c] + x_off) * wt[c];
		}
	}
}

dw_pixel_fn dw_pixel_select(void)
{
#if defined(__x86_64__)
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return dw_pixel_avx2;
#endif
#if defined(__aarch64__) || defined(__arm__)
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return dw_pixel_neon;
#endif
	return dw_pixel_portable;
}
