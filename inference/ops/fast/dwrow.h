/* dwrow.h — the fast DEPTHWISE_CONV_2D path for narrow layers (1, 2, 4 or 8 output channels:
 * person_detect's, VWW's and MobileNetV1 0.25's first depthwise layers), a whole output row at a
 * time.
 *
 * Why: the per-pixel kernels (dwconv.h, dwpair.h) vectorize across channels, and 8 channels fill
 * half an AVX2 register of int16 (a quarter of int32), with the per-pixel setup (tap pointers,
 * bounds, a requantization of 8 values) costing more than the 72 multiply-adds. Here the
 * channels of all pixels of an output row are one run of lanes: lane l is pixel l / C, channel
 * l % C. Each input row the layer reads is copied once into per-worker "phase rows": padded with
 * the input zero point on both sides (every pixel is then an interior one), with a depth
 * multiplier above 1 expanded to output channels (x[oc / dm]), and for stride s split into s
 * rows of every s-th pixel (phase ph holds padded pixels ph, ph + s, ph + 2s, ...). Tap (ky, kx)
 * of output pixel ox reads padded pixel ox*s + kx*dil, which is pixel ox + (kx*dil)/s of phase
 * (kx*dil) % s: the same offset for every pixel, so a tap is one contiguous run over the row and
 * dwpair.h's kernel (taps two at a time, vpmaddwd / vpdpwssd) runs the row as one "pixel" of
 * out_w*C channels, with weights packed in the period-C pattern (dwpair_pack_tiled). Taps in the
 * padding read zero-point bytes, so they add 0 as the reference skips them (dwpair.h's argument);
 * the sums are the reference's accumulators exactly. The row is requantized 32 lanes at a time
 * with the per-channel constants repeated in the same pattern (requant_tile.h).
 *
 * Wider layers (whole blocks of 16 channels) take it too: 16 channels at any stride, more at
 * stride 1 with 4 or more pixels a row (dwrow_shape() says why).
 *
 * x86-64 only (it needs dwpair_select()); elsewhere, and for other channel counts, rows longer
 * than DWROW_MAX_LANES or filters over DW_FAST_MAX_TAPS taps, dwrow_bytes() is 0 and
 * depthwise_conv.c keeps its per-pixel path. Memory: one block in the op's params allocation;
 * workers own disjoint scratch (phase rows, their tags, accumulators). */
#ifndef CAMCLASS_INFERENCE_OPS_DWROW_H
#define CAMCLASS_INFERENCE_OPS_DWROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/ops/fast/requant.h"

#define DWROW_MAX_LANES 4096 /* out_w * channels of one row */
#define DWROW_MAX_CH 512     /* channels (a pattern of weights and multipliers per row) */
#define DWROW_RQ_LANES 32    /* lanes requantized per tile row at least (lcm with the channels) */

struct dwrow_geom {
	int batches, in_h, in_w, in_ch, out_h, out_w, ch, kh, kw;
	int stride_h, stride_w, dil_h, dil_w;
};

struct dwrow;

/* Bytes to reserve for the row path of this layer (0: not eligible on this CPU). */
size_t dwrow_bytes(const struct dwrow_geom *geo, int nworkers);
/* Lays the block out in mem (dwrow_bytes of it, any alignment) after the op's requantization
 * is prepared: w32 is [taps][ch] weights minus their zero point; q the op's output stage
 * (padding, offsets, multipliers); bias per channel or NULL. Returns the block. */
struct dwrow *dwrow_init(void *mem, const struct dwrow_geom *geo, int nworkers,
			 const int32_t *w32, const struct ku_conv_stage *q, const int32_t *bias);
/* Before the rows of a run are handed out (on the calling thread): forgets the input rows the
 * workers' scratch holds, which are the last run's. Within a run a worker keeps them across its
 * pieces, so a row is expanded once per worker, not once per piece. */
void dwrow_begin(const struct dwrow *r);
/* Output rows [row0, row1) (row = batch * out_h + oy) on worker `worker`'s scratch, after
 * dwrow_begin() in the same run. */
void dwrow_run(const struct dwrow *r, int worker, int row0, int row1, const uint8_t *in,
	       uint8_t *out, bool is_signed);

#endif
