/* gemm8.h — the 8-bit CONV_2D GEMM for x86-64 CPUs with AVX-512 VNNI (vpdpbusd), the x86
 * counterpart of gemm.h's arm64 dot-product GEMM. It shares that GEMM's interface (gemm_dot_fn,
 * gemm_dot_rowsum_fn, the packed layout of gemm_dot_pack_b) so conv.c drives both the same way.
 *
 * Why: the int16 GEMM (gemm_s16_avx512vnni) already runs at the vpdpwssd peak, 32 products per
 * instruction; vpdpbusd takes 64 byte products per instruction, and the activations stay bytes
 * (no widening im2col; 1×1 layers read the input tensor in place).
 *
 * vpdpbusd multiplies an unsigned byte by a signed byte, while both of conv's operands have the
 * same signedness, so one side is moved by 128 and the difference is corrected exactly:
 *   int8  (weights symmetric, w_zp = 0): A = x (signed), B = w + 128 (unsigned):
 *         sum x*(w+128) = sum x*w + 128 * sum x
 *   uint8: A = x (unsigned), B = w - 128 (signed): sum x*(w-128) = sum x*w - 128 * sum x
 * The reference's sum of (x - x_zp)(w - w_zp) is then
 *         D + row_coef * sum_k x + col_corr[ch],   col_corr[ch] = -x_zp * sum_k (w - w_zp),
 * with row_coef = -128 (int8) or 128 - w_zp (uint8): gemm_dot_fn's C with row_corr[m] =
 * row_coef * sum_k A[m][k]. im2col fills the padding with x_zp and the K tail with 0 (B's tail
 * bytes are 0 too), so padded taps contribute (x_zp - x_zp)(w - w_zp) = 0, as the reference skips
 * them. Bounds, for K <= GEMM_DOT_MAX_K = 33025: |D| and every partial sum of it <= 255*128*K
 * < 2^31; |row_coef * sum x| <= 128*255*K < 2^31; |col_corr| <= 255*255*K < 2^31 (gemm.c). The
 * three are added with wrapping 32-bit adds; the true total is the reference accumulator, which
 * fits int32 (conv.c's CONV_MAX_TERMS), so the wrapped sum equals it. */
#ifndef CAMCLASS_INFERENCE_OPS_GEMM8_H
#define CAMCLASS_INFERENCE_OPS_GEMM8_H

#include <stdbool.h>
#include <stdint.h>

#include "inference/ops/fast/gemm.h"

#if defined(__x86_64__)
void gemm8_s8_avx512vnni(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc);
void gemm8_u8_avx512vnni(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc);
void gemm8_rowsum_avx512vnni(int rows, int n, const uint8_t *a, size_t lda, int is_signed,
			     int32_t *ret_sums);
#endif

/* The kernel for this CPU and type (NULL: no AVX-512 VNNI, or the ISA is capped below
 * GEMM_ISA_BEST); ret_rowsum gets its row-sum helper. */
gemm_dot_fn gemm8_select(bool is_signed, gemm_dot_rowsum_fn *ret_rowsum);
/* row_coef above. */
int32_t gemm8_row_coef(bool is_signed, int32_t w_zp);
/* gemm_dot_pack_b's layout and col_corr, with the weight bytes moved by 128 as above
 * (gemm_dot_packed_bytes of dst). */
void gemm8_pack_b(uint8_t *dst, int32_t *ret_col_corr, const uint8_t *w, int is_signed,
		  int32_t x_zp, int32_t w_zp, int out_ch, int k);

#endif
