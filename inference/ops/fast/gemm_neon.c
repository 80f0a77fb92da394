/* gemm_neon.c — the int16 GEMM of gemm.h with NEON, for arm64 (every CPU has it) and 32-bit ARM
 * (called only when HWCAP_NEON says the CPU has it; built with -mfpu=neon). For one k pair, a
 * weight vector holds 4 channels' pairs {w[c][2kp], w[c][2kp+1]} and the activation pair is
 * duplicated across it, so vmlal_s16 on the low and high halves accumulates the exact int32
 * products into lanes that each sum a subset of one output's terms (bounded as gemm.h argues);
 * one pairwise add per 4 channels at the end adds each lane pair into the output.
 * Micro-tile: 2 rows × TILE_CH channels. AArch64 has 32 vector registers: 16 channels, so 16
 * accumulators, 4 weight vectors and 2 activation vectors (22). AArch32 has 16 quad registers:
 * 8 channels (half a packed block per pass), 8 accumulators + 2 weights + 2 activations (12),
 * which keeps the loop free of spills. CPUs with the dot-product instructions (A76) run conv
 * through gemm_dotprod.c instead; this kernel is for the A53/A72, for ARMv7 NEON (A7/A8/A9/A15)
 * and for the test levels capped below GEMM_ISA_BEST. */
#include <arm_neon.h>
#include <string.h>

#include "inference/ops/fast/gemm.h"

#if defined(__aarch64__)
#define TILE_CH 16
#else
#define TILE_CH 8
#endif
#define TILE_VECS (TILE_CH / 4) /* weight vectors (4 channels' pairs each) per k pair */

static inline int16x8_t dup_pair(const int16_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return vreinterpretq_s16_s32(vdupq_n_s32(v));
}

/* acc + high half of w × high half of x (one smlal2 on AArch64) */
static inline int32x4_t mlal_high(int32x4_t acc, int16x8_t w, int16x8_t x)
{
#if defined(__aarch64__)
	return vmlal_high_s16(acc, w, x);
#else
	return vmlal_s16(acc, vget_high_s16(w), vget_high_s16(x));
#endif
}

/* lanes (c, k even), (c, k odd), (c+1, even), (c+1, odd) of lo, then of hi → c .. c+3 */
static inline int32x4_t pair_sums(int32x4_t lo, int32x4_t hi)
{
#if defined(__aarch64__)
	return vpaddq_s32(lo, hi);
#else
	return vcombine_s32(vpadd_s32(vget_low_s32(lo), vget_high_s32(lo)),
			    vpadd_s32(vget_low_s32(hi), vget_high_s32(hi)));
#endif
}

void gemm_s16_neon(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		   int nblocks, int32_t *c, size_t ldc)
{
	for (int nb = 0; nb < nblocks; nb++) {
		for (int ch0 = 0; ch0 < GEMM_NR; ch0 += TILE_CH) {
			const int16_t *bb = b + (size_t)nb * k_pairs * GEMM_NR * 2 + (size_t)ch0 * 2;
			for (int m = 0; m < rows; m += 2) {
				const int16_t *a0 = a + (size_t)m * lda, *a1 = a0 + lda;
				int32x4_t acc0[2 * TILE_VECS], acc1[2 * TILE_VECS];
				for (int i = 0; i < 2 * TILE_VECS; i++) {
					acc0[i] = vdupq_n_s32(0);
					acc1[i] = vdupq_n_s32(0);
				}
				for (int kp = 0; kp < k_pairs; kp++) {
					const int16_t *bk = bb + (size_t)kp * GEMM_NR * 2;
					const int16x8_t x0 = dup_pair(a0 + 2 * kp), x1 = dup_pair(a1 + 2 * kp);
					for (int i = 0; i < TILE_VECS; i++) {
						const int16x8_t w = vld1q_s16(bk + 8 * i);
						acc0[2 * i] = vmlal_s16(acc0[2 * i], vget_low_s16(w), vget_low_s16(x0));
						acc0[2 * i + 1] = mlal_high(acc0[2 * i + 1], w, x0);
						acc1[2 * i] = vmlal_s16(acc1[2 * i], vget_low_s16(w), vget_low_s16(x1));
						acc1[2 * i + 1] = mlal_high(acc1[2 * i + 1], w, x1);
					}
				}
				int32_t *c0 = c + (size_t)m * ldc + (size_t)nb * GEMM_NR + ch0, *c1 = c0 + ldc;
				for (int i = 0; i < TILE_VECS; i++) {
					vst1q_s32(c0 + 4 * i, pair_sums(acc0[2 * i], acc0[2 * i + 1]));
					vst1q_s32(c1 + 4 * i, pair_sums(acc1[2 * i], acc1[2 * i + 1]));
				}
			}
		}
	}
}
