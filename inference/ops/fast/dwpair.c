/* dwpair.c — packing and the run-time choice of dwpair.h's kernel. Only x86-64 has one: on arm64
 * dwconv.h's NEON kernel already multiplies int16 lanes, so the pairing would buy little there. */
#include "inference/ops/fast/dwpair.h"

#include <string.h>

#include "inference/ops/fast/gemm.h"

dwpair_pixel_fn dwpair_select(void)
{
#if defined(__x86_64__)
	if (gemm_isa_level() >= GEMM_ISA_BEST)
		return dwpair_pixel_avx512vnni;
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return dwpair_pixel_avx2;
#endif
	return NULL;
}

void dwpair_tail(int32_t *acc, const uint8_t *const *x, int taps, int from, int channels,
		 bool is_signed, const int32_t *w32, int32_t x_off)
{
	for (int c = from; c < channels; c++) {
		int32_t sum = 0;
		for (int t = 0; t < taps; t++) {
			const int32_t xv = is_signed ? (int32_t)(int8_t)x[t][c] : (int32_t)x[t][c];
			sum += (xv + x_off) * w32[(size_t)t * channels + c];
		}
		acc[c] = sum;
	}
}

size_t dwpair_packed_elems(int taps, int channels)
{
	const size_t blocks = (size_t)channels / DWPAIR_BLOCK, pairs = ((size_t)taps + 1) / 2;
	return blocks * pairs * 2 * DWPAIR_BLOCK;
}

/* Position of channel j (< 16) of a block inside the 32 int16 of one pair: the low unpack holds
 * channels 0-3 and 8-11, the high one 4-7 and 12-15, each 128-bit lane 4 channels × 2 taps. */
static size_t pair_slot(int j)
{
	const int half = (j / 4) % 2;           /* 0: low unpack, 1: high unpack */
	const int lane = j / 8, within = j % 4;
	return (size_t)half * DWPAIR_BLOCK + (size_t)lane * 8 + (size_t)within * 2;
}

void dwpair_pack_tiled(int16_t *dst, int32_t *ret_init, const int32_t *w32, int taps, int period,
		       int lanes, int32_t x_off)
{
	const int blocks = lanes / DWPAIR_BLOCK, pairs = (taps + 1) / 2;
	memset(dst, 0, dwpair_packed_elems(taps, lanes) * sizeof(*dst));
	for (int b = 0; b < blocks; b++)
		for (int p = 0; p < pairs; p++) {
			int16_t *out = dst + ((size_t)b * pairs + p) * 2 * DWPAIR_BLOCK;
			for (int j = 0; j < DWPAIR_BLOCK; j++) {
				const int c = (b * DWPAIR_BLOCK + j) % period;
				const size_t at = pair_slot(j);
				/* |w| <= 255: exact in int16 */
				out[at] = (int16_t)w32[(size_t)(2 * p) * period + c];
				if (2 * p + 1 < taps)
					out[at + 1] = (int16_t)w32[(size_t)(2 * p + 1) * period + c];
			}
		}
	for (int l = 0; l < lanes; l++) {
		int32_t sum = 0; /* |sum| <= DW_FAST_MAX_TAPS * 255, times |x_off| <= 255: int32 */
		for (int t = 0; t < taps; t++)
			sum += w32[(size_t)t * period + l % period];
		ret_init[l] = x_off * sum;
	}
}

void dwpair_pack(int16_t *dst, int32_t *ret_init, const int32_t *w32, int taps, int channels,
		 int32_t x_off)
{
	dwpair_pack_tiled(dst, ret_init, w32, taps, channels, channels, x_off);
}
