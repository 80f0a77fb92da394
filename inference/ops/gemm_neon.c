/* gemm_neon.c — the int16 GEMM of gemm.h with NEON (AArch64; every arm64 CPU has it). For one k
 * pair, a weight vector holds 4 channels' pairs {w[c][2kp], w[c][2kp+1]} and the activation pair
 * is duplicated across it, so vmlal_s16 / vmlal_high_s16 accumulate the exact int32 products
 * into lanes that each sum a subset of one output's terms (bounded as gemm.h argues); one
 * vpaddq_s32 per 4 channels at the end adds each lane pair into the output. Micro-tile: 2 rows ×
 * 16 channels = 16 accumulators, 4 weight vectors and 2 activation vectors (22 of 32 registers).
 * CPUs with the dot-product instructions (A76) run conv through gemm_dotprod.c instead, which
 * keeps x and w as bytes and corrects for the zero points; this kernel is for the A53/A72 (and
 * for the test levels capped below GEMM_ISA_BEST). */
#include <arm_neon.h>
#include <string.h>

#include "inference/ops/gemm.h"

static inline int16x8_t dup_pair(const int16_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return vreinterpretq_s16_s32(vdupq_n_s32(v));
}

void gemm_s16_neon(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		   int nblocks, int32_t *c, size_t ldc)
{
	for (int nb = 0; nb < nblocks; nb++) {
		const int16_t *bb = b + (size_t)nb * k_pairs * GEMM_NR * 2;
		for (int m = 0; m < rows; m += 2) {
			const int16_t *a0 = a + (size_t)m * lda, *a1 = a0 + lda;
			int32x4_t acc0[8], acc1[8];
			for (int i = 0; i < 8; i++) {
				acc0[i] = vdupq_n_s32(0);
				acc1[i] = vdupq_n_s32(0);
			}
			for (int kp = 0; kp < k_pairs; kp++) {
				const int16_t *bk = bb + (size_t)kp * GEMM_NR * 2;
				const int16x8_t x0 = dup_pair(a0 + 2 * kp), x1 = dup_pair(a1 + 2 * kp);
				for (int i = 0; i < 4; i++) {
					const int16x8_t w = vld1q_s16(bk + 8 * i);
					acc0[2 * i] = vmlal_s16(acc0[2 * i], vget_low_s16(w), vget_low_s16(x0));
					acc0[2 * i + 1] = vmlal_high_s16(acc0[2 * i + 1], w, x0);
					acc1[2 * i] = vmlal_s16(acc1[2 * i], vget_low_s16(w), vget_low_s16(x1));
					acc1[2 * i + 1] = vmlal_high_s16(acc1[2 * i + 1], w, x1);
				}
			}
			int32_t *c0 = c + (size_t)m * ldc + (size_t)nb * GEMM_NR, *c1 = c0 + ldc;
			for (int i = 0; i < 4; i++) {
				/* lanes (c, k even), (c, k odd), (c+1, even), (c+1, odd) → c, c+1 */
				vst1q_s32(c0 + 4 * i, vpaddq_s32(acc0[2 * i], acc0[2 * i + 1]));
				vst1q_s32(c1 + 4 * i, vpaddq_s32(acc1[2 * i], acc1[2 * i + 1]));
			}
		}
	}
}
