/* gemm_dotprod.c — the 8-bit GEMM of gemm.h with the ARMv8.2 dot-product instructions (sdot via
 * vdotq_s32 for int8 models, udot via vdotq_u32 for uint8), built with -march=armv8.2-a+dotprod
 * and called only after gemm_isa_level() saw HWCAP_ASIMDDP (Cortex-A76, Pi 5; an A53/A72 would
 * take SIGILL). Each instruction multiplies 4 byte pairs per lane and adds them into the lane:
 * 4× the products per instruction of the int16 vmlal path, and A and B stay bytes.
 *
 * Why the result is the reference's accumulator, exactly. The reference sums, over the K terms
 * of one output, (x - x_zp)(w - w_zp) with w_zp = 0 for int8 (TFLite's int8 kernels ignore the
 * filter zero point). Expanding,
 *     sum (x - x_zp)(w - w_zp) = [sum x*w  -  w_zp * sum x]  +  [-x_zp * sum (w - w_zp)]
 *                                 ^ raw       ^ row_corr[m]      ^ col_corr[ch] (prepare time)
 * Padding: conv.c fills positions outside the input with x_zp, so their (x - x_zp) is 0, as the
 * reference skips them; both raw and sum x see the same x_zp bytes, so the identity holds over
 * all K positions. The K tail up to a multiple of 4 is 0 in A and B: it adds nothing to raw or
 * sum x, and col_corr sums over the real K only. Bounds, with K <= GEMM_DOT_MAX_K = 33025:
 * - uint8: raw is a sum of products in [0, 65025], so every partial sum lies in [0, K*65025]
 *   and K*65025 <= 2147450625 < 2^31: the uint32 lanes read as int32 give the same value.
 *   raw + row_corr = sum x*(w - w_zp) lies in [-K*65025, K*65025]; adding col_corr gives the
 *   reference's sum, which lies there too. No step leaves int32.
 * - int8: products in [-16256, 16384], so |raw| and every partial sum <= K*16384; row_corr = 0;
 *   |col_corr| <= 128 * 128 * K; the final sum <= K*255*128.
 * Micro-tile: 4 rows × 16 channels = 16 accumulators, 4 weight vectors, 4 column corrections and
 * one broadcast activation quad (25 of 32 registers). */
#include <arm_neon.h>
#include <string.h>

#include "inference/ops/fast/gemm.h"

static inline uint8x16_t dup_quad(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return vreinterpretq_u8_u32(vdupq_n_u32(v));
}

static inline int32x4_t dot4(int32x4_t acc, uint8x16_t w, uint8x16_t x, int is_signed)
{
	if (is_signed)
		return vdotq_s32(acc, vreinterpretq_s8_u8(w), vreinterpretq_s8_u8(x));
	return vreinterpretq_s32_u32(vdotq_u32(vreinterpretq_u32_s32(acc), w, x));
}

/* The kernel for one signedness (a constant after inlining). */
static inline __attribute__((always_inline)) void
gemm_dot(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b, int nblocks,
	 const int32_t *row_corr, const int32_t *col_corr, int32_t *c, size_t ldc, int is_signed)
{
	for (int nb = 0; nb < nblocks; nb++) {
		const uint8_t *bb = b + (size_t)nb * k_quads * GEMM_NR * 4;
		int32x4_t cc[4];
		for (int i = 0; i < 4; i++)
			cc[i] = vld1q_s32(col_corr + (size_t)nb * GEMM_NR + 4 * i);
		for (int m = 0; m < rows; m += GEMM_MR) {
			const uint8_t *ar[GEMM_MR];
			int32x4_t acc[GEMM_MR][4];
			for (int r = 0; r < GEMM_MR; r++) {
				ar[r] = a + (size_t)(m + r) * lda;
				for (int i = 0; i < 4; i++)
					acc[r][i] = vdupq_n_s32(0);
			}
			for (int kq = 0; kq < k_quads; kq++) {
				const uint8_t *bk = bb + (size_t)kq * GEMM_NR * 4;
				const uint8x16_t w0 = vld1q_u8(bk), w1 = vld1q_u8(bk + 16);
				const uint8x16_t w2 = vld1q_u8(bk + 32), w3 = vld1q_u8(bk + 48);
				for (int r = 0; r < GEMM_MR; r++) {
					const uint8x16_t x = dup_quad(ar[r] + 4 * kq);
					acc[r][0] = dot4(acc[r][0], w0, x, is_signed);
					acc[r][1] = dot4(acc[r][1], w1, x, is_signed);
					acc[r][2] = dot4(acc[r][2], w2, x, is_signed);
					acc[r][3] = dot4(acc[r][3], w3, x, is_signed);
				}
			}
			for (int r = 0; r < GEMM_MR; r++) {
				/* raw + row_corr first, then col_corr: the order the bounds above assume */
				const int32x4_t rc = vdupq_n_s32(row_corr[m + r]);
				int32_t *cm = c + (size_t)(m + r) * ldc + (size_t)nb * GEMM_NR;
				for (int i = 0; i < 4; i++)
					vst1q_s32(cm + 4 * i, vaddq_s32(vaddq_s32(acc[r][i], rc), cc[i]));
			}
		}
	}
}

void gemm_dot_s8_dotprod(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc)
{
	gemm_dot(rows, k_quads, a, lda, b, nblocks, row_corr, col_corr, c, ldc, 1);
}

void gemm_dot_u8_dotprod(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc)
{
	gemm_dot(rows, k_quads, a, lda, b, nblocks, row_corr, col_corr, c, ldc, 0);
}

/* Row sums with a dot product against ones; |sum| <= 255 * n, far inside int32 for n <= K. */
void gemm_dot_rowsum_dotprod(int rows, int n, const uint8_t *a, size_t lda, int is_signed,
			     int32_t *ret_sums)
{
	const uint8x16_t ones = vdupq_n_u8(1);
	for (int m = 0; m < rows; m++) {
		const uint8_t *am = a + (size_t)m * lda;
		int32x4_t acc = vdupq_n_s32(0);
		int k = 0;
		for (; k + 16 <= n; k += 16)
			acc = dot4(acc, vld1q_u8(am + k), ones, is_signed);
		int32_t sum = vaddvq_s32(acc);
		for (; k < n; k++)
			sum += is_signed ? (int32_t)(int8_t)am[k] : (int32_t)am[k];
		ret_sums[m] = sum;
	}
}
