/* conv_im2col.h — the im2col of the fast CONV_2D path (conv_fast.c): for a tile of output pixels,
 * one row of A per pixel with its receptive field in filter order (ky, kx, input channel).
 * int16 rows (the int16 GEMM): x minus the input zero point, 0 in the padding. Byte rows (the
 * 8-bit GEMMs): x itself, the input zero point in the padding (so x - x_zp = 0 there, as the
 * reference skips it, and row sums see the same bytes the dot products do), every byte XORed
 * with `flip` (0x80: x + 128 for int8, conv_fast.c's conv_dot_select). Rows past `rows` up to
 * `rows_padded` and the K tail are 0. Called by each worker on its own scratch; reads the input
 * tensor only. */
#ifndef CAMCLASS_INFERENCE_OPS_CONV_IM2COL_H
#define CAMCLASS_INFERENCE_OPS_CONV_IM2COL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"
#include "inference/ops/fast/gemm.h"

/* Filter heights up to this take the byte path's row-at-a-time gather (every shared model's);
 * taller ones (and dilation in x) the generic loop, which does not flip. */
#define CONV_IM2COL_MAX_KH 16

struct conv_im2col {
	const struct tensor *in;   /* the layer's input, NHWC */
	int kh, kw, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w, out_h, out_w;
	int k;                     /* values of a receptive field: kh * kw * in_ch */
	size_t lda;                /* elements per row of A (k rounded up) */
	bool bytes;                /* byte rows, else int16 */
	uint8_t flip;              /* byte rows: XORed into every byte but the K tail */
	int32_t x_off;             /* -input zero point */
	gemm_widen_fn widen;       /* int16 rows */
};

/* Rows of A for output pixels [pix0, pix0 + rows) into a (rows_padded rows of lda elements). */
void conv_im2col(const struct conv_im2col *c, int pix0, int rows, int rows_padded, void *a);

#endif
