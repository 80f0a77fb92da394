/* dwconv.h — the per-pixel kernel of the fast DEPTHWISE_CONV_2D path (depth multiplier 1):
 * acc[c] = sum over the pixel's in-bounds taps t of (x_t[c] + x_off) * w_t[c], with the weights
 * minus their zero point widened to int32 at prepare. Every product is at most 255 * 255 and a
 * pixel has at most DW_FAST_MAX_TAPS of them, so the int32 sums are exact in any order and equal
 * the reference's accumulators. Portable, AVX2 and NEON versions, chosen like the GEMM (gemm.h). */
#ifndef CAMCLASS_INFERENCE_OPS_DWCONV_H
#define CAMCLASS_INFERENCE_OPS_DWCONV_H

#include <stdbool.h>
#include <stdint.h>

#define DW_FAST_MAX_TAPS 64 /* larger filters take the reference loops */

typedef void (*dw_pixel_fn)(int32_t *acc, const uint8_t *const *x, const int32_t *const *w,
			    int ntaps, int channels, bool is_signed, int32_t x_off);

void dw_pixel_portable(int32_t *acc, const uint8_t *const *x, const int32_t *const *w, int ntaps,
		       int channels, bool is_signed, int32_t x_off);
#if defined(__x86_64__)
void dw_pixel_avx2(int32_t *acc, const uint8_t *const *x, const int32_t *const *w, int ntaps,
		   int channels, bool is_signed, int32_t x_off);
#endif
#if defined(__aarch64__) || defined(__arm__)
void dw_pixel_neon(int32_t *acc, const uint8_t *const *x, const int32_t *const *w, int ntaps,
		   int channels, bool is_signed, int32_t x_off);
#endif
dw_pixel_fn dw_pixel_select(void);

#endif
