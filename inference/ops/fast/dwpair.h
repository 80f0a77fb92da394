/* dwpair.h — a faster per-pixel kernel for the fast DEPTHWISE_CONV_2D path on x86-64: taps taken
 * two at a time with int16 pairwise multiply-adds (vpmaddwd), where dwconv.h's kernel multiplies
 * one tap at a time in int32 (vpmulld, slow and one per tap). On MobileNetV2 the depthwise layers
 * were the largest remaining share of a run once the conv GEMM went 8-bit.
 *
 * Every pixel passes all kh*kw taps: a tap outside the input points at a row filled with the
 * input zero point (depthwise_conv.c), so its (x - x_zp) * w is 0, as the reference skips it.
 * Then the zero point comes out of the loop exactly:
 *     acc[c] = sum_t (x_t[c] - x_zp) * w_t[c] = sum_t x_t[c] * w_t[c] + init[c],
 *     init[c] = -x_zp * sum_t w_t[c]          (dwpair_pack, at prepare),
 * with w = weight minus its zero point. x (a byte read as int8 or uint8) and w (|w| <= 255) are
 * exact int16; a pair's two products add up to at most 2 * 255 * 255, and a whole sum to at most
 * DW_FAST_MAX_TAPS * 255 * 255, far inside int32, so every step is exact and the accumulators
 * equal the reference's.
 *
 * Packed weights: per block of 16 channels and per pair of taps (2p, 2p+1; an odd count pairs the
 * last tap with zero weights), 32 int16 in the order of vpunpcklwd / vpunpckhwd of two 16-channel
 * rows: first channels 0-3 and 8-11 as (w_2p, w_2p+1) pairs, then 4-7 and 12-15. Channels past
 * the last multiple of 16 use the int32 weights the caller keeps (dwconv.h's layout). */
#ifndef CAMCLASS_INFERENCE_OPS_DWPAIR_H
#define CAMCLASS_INFERENCE_OPS_DWPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DWPAIR_BLOCK 16

/* acc[0..channels) for one output pixel. x: `taps` row pointers (each `channels` bytes); wp:
 * dwpair_pack's weights; init: per channel; block b of 16 channels takes the weights and init of
 * block b % wblocks (channels / 16 for a pixel; dwrow.h's rows repeat a shorter pattern); w32:
 * [taps][channels] int32 weights (for the channels past the last block); x_off = -x_zp. */
typedef void (*dwpair_pixel_fn)(int32_t *acc, const uint8_t *const *x, int taps, int channels,
				bool is_signed, const int16_t *wp, const int32_t *init, int wblocks,
				const int32_t *w32, int32_t x_off);

#if defined(__x86_64__)
void dwpair_pixel_avx2(int32_t *acc, const uint8_t *const *x, int taps, int channels,
		       bool is_signed, const int16_t *wp, const int32_t *init, int wblocks,
		       const int32_t *w32, int32_t x_off);
void dwpair_pixel_avx512vnni(int32_t *acc, const uint8_t *const *x, int taps, int channels,
			     bool is_signed, const int16_t *wp, const int32_t *init, int wblocks,
			     const int32_t *w32, int32_t x_off);
#endif

/* The channels [from, channels) past the last whole block, in plain C (the kernels' tail). */
void dwpair_tail(int32_t *acc, const uint8_t *const *x, int taps, int from, int channels,
		 bool is_signed, const int32_t *w32, int32_t x_off);

/* The kernel for this CPU (capped by gemm_set_isa_limit()), or NULL: use dwconv.h's. */
dwpair_pixel_fn dwpair_select(void);

/* int16 elements of packed weights for `taps` taps of `channels` channels. */
size_t dwpair_packed_elems(int taps, int channels);
/* Packs w32 ([taps][channels], weights minus their zero point) into dst and writes
 * ret_init[c] = x_off * sum_t w32[t][c] for every channel. */
void dwpair_pack(int16_t *dst, int32_t *ret_init, const int32_t *w32, int taps, int channels,
		 int32_t x_off);
/* The same for `lanes` lanes whose lane l has the weights of channel l % period (w32 is
 * [taps][period]; dwrow.h's rows of pixels): dwpair_packed_elems(taps, lanes) of dst, `lanes`
 * of ret_init. */
void dwpair_pack_tiled(int16_t *dst, int32_t *ret_init, const int32_t *w32, int taps, int period,
		       int lanes, int32_t x_off);

#endif
