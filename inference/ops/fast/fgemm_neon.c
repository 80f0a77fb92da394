/* fgemm_neon.c — the float GEMM tile of fgemm.h with NEON. AArch64 (32 vector registers): 6 rows
 * × 16 channels = 24 accumulators, 4 weight vectors and a broadcast activation, with fused
 * multiply-add. 32-bit ARM (16 quad registers, called only when HWCAP_NEON says the CPU has it;
 * built with -mfpu=neon, which has no fused multiply-add): 4 rows × 8 channels = 8 accumulators
 * per pass, two passes per 16-channel block, with vmlaq (multiply, round, add, as the plain C
 * loop; ARMv7 NEON flushes denormals to zero, a difference far below the float tolerance). Each
 * accumulator lane adds its terms in the reference order. A tile of fewer rows repeats the last
 * row's pointers (the extra sums are dropped); a block of fewer channels is stored through a
 * small buffer. */
#include <arm_neon.h>
#include <string.h>

#include "inference/ops/fast/fgemm.h"

#if defined(__aarch64__)
#define MR 6
#define PASS_CH 16
#define MADD(acc, a, b) vfmaq_f32(acc, a, b)
#else
#define MR 4
#define PASS_CH 8
#define MADD(acc, a, b) vmlaq_f32(acc, a, b)
#endif
#define PASS_VECS (PASS_CH / 4)

void fgemm_tile_neon(int rows, int cols, int ntaps, int kc, const float *const *a, const float *b,
		     const float *bias, float act_min, float act_max, float *c, size_t ldc)
{
	const float32x4_t lo = vdupq_n_f32(act_min), hi = vdupq_n_f32(act_max);
	for (int h = 0; h < FGEMM_NR && h < cols; h += PASS_CH) {
		float32x4_t acc[MR][PASS_VECS];
#pragma GCC unroll 8
		for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
			for (int v = 0; v < PASS_VECS; v++)
				acc[i][v] = vdupq_n_f32(0.0f);
		for (int t = 0; t < ntaps; t++) {
			const float *x[MR];
			x[0] = a[t];
#pragma GCC unroll 8
			for (int i = 1; i < MR; i++)
				x[i] = i < rows ? a[(size_t)i * ntaps + t] : x[i - 1];
			const float *bk = b + (size_t)t * kc * FGEMM_NR + h;
			for (int k = 0; k < kc; k++, bk += FGEMM_NR) {
				float32x4_t w[PASS_VECS];
#pragma GCC unroll 4
				for (int v = 0; v < PASS_VECS; v++)
					w[v] = vld1q_f32(bk + 4 * v);
#pragma GCC unroll 8
				for (int i = 0; i < MR; i++) {
					const float32x4_t xv = vld1q_dup_f32(x[i] + k);
#pragma GCC unroll 4
					for (int v = 0; v < PASS_VECS; v++)
						acc[i][v] = MADD(acc[i][v], xv, w[v]);
				}
			}
		}
		const int ncols = cols - h < PASS_CH ? cols - h : PASS_CH;
		for (int i = 0; i < rows && i < MR; i++) {
			float out[PASS_CH];
#pragma GCC unroll 4
			for (int v = 0; v < PASS_VECS; v++) {
				const float32x4_t s = vaddq_f32(acc[i][v], vld1q_f32(bias + h + 4 * v));
				vst1q_f32(out + 4 * v, vminq_f32(hi, vmaxq_f32(lo, s)));
			}
			memcpy(c + (size_t)i * ldc + h, out, (size_t)ncols * sizeof(float));
		}
	}
}
