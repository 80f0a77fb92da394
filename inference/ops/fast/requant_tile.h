/* requant_tile.h — requant.h's output stage over a tile of rows × channels at once, for the fast
 * CONV_2D and DEPTHWISE_CONV_2D paths, which finish a whole GEMM tile (or a few depthwise pixels)
 * in one go.
 *
 * Why a second entry point: the row kernels re-derive the per-channel constants (left and right
 * shift, rounding mask and threshold, the odd lanes' multiplier) for every output pixel, and
 * with 16-32 channels per pixel that setup was as much work as the arithmetic (requant_row_avx2
 * took ~30 % of a MobileNetV2 run). A tile kernel derives them once per block of channels and
 * reuses them for every row, and packs 32 results to bytes at a time. The arithmetic is the
 * same as requant_row_portable()'s, value for value (test_ops_fast compares them).
 *
 * CPUs without a tile kernel get NULL from requant_tile_select(); requant_tile_run() then runs
 * the row kernel once per row, so callers need one call either way. */
#ifndef CAMCLASS_INFERENCE_OPS_REQUANT_TILE_H
#define CAMCLASS_INFERENCE_OPS_REQUANT_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/ops/fast/requant.h"

/* Rows [0, rows) of channels [0, n): acc[r * ld_acc + c] → out[r * ld_out + c], with rq's
 * per-channel arrays indexed by c. */
typedef void (*requant_tile_fn)(const struct requant *rq, const int32_t *acc, size_t ld_acc,
				int rows, int n, bool is_signed, uint8_t *out, size_t ld_out);

#if defined(__x86_64__)
void requant_tile_avx2(const struct requant *rq, const int32_t *acc, size_t ld_acc, int rows,
		       int n, bool is_signed, uint8_t *out, size_t ld_out);
#endif

/* The tile kernel for this CPU (capped by gemm_set_isa_limit() like the others), or NULL. */
requant_tile_fn requant_tile_select(void);

static inline void requant_tile_run(requant_tile_fn tile, requant_row_fn row,
				    const struct requant *rq, const int32_t *acc, size_t ld_acc,
				    int rows, int n, bool is_signed, uint8_t *out, size_t ld_out)
{
	if (tile) {
		tile(rq, acc, ld_acc, rows, n, is_signed, out, ld_out);
		return;
	}
	for (int r = 0; r < rows; r++)
		row(rq, acc + (size_t)r * ld_acc, n, is_signed, out + (size_t)r * ld_out);
}

#endif
