/* fgemm.c — packing, the portable float GEMM tile, the tile loop and the run-time choice of
 * kernel (see fgemm.h). The portable tile keeps PORTABLE_MR rows' sums of one channel block in a
 * local array with a fixed-length inner loop over the block, which the compiler vectorizes where
 * the target has SIMD; SIMD tiles live in fgemm_<isa>.c, built only for their architecture. */
#include <stdint.h>
#include <string.h>

#include "inference/ops/fast/fgemm.h"
#include "inference/ops/fast/gemm.h"

#define PORTABLE_MR 4

void fgemm_tile_portable(int rows, int cols, int ntaps, int kc, const float *const *a,
			 const float *b, const float *bias, float act_min, float act_max, float *c,
			 size_t ldc)
{
	float acc[PORTABLE_MR][FGEMM_NR];
	memset(acc, 0, sizeof(acc));
	for (int t = 0; t < ntaps; t++) {
		const float *bt = b + (size_t)t * kc * FGEMM_NR;
		for (int i = 0; i < rows; i++) {
			const float *x = a[(size_t)i * ntaps + t];
			for (int k = 0; k < kc; k++) {
				const float v = x[k];
				const float *bk = bt + (size_t)k * FGEMM_NR;
				for (int j = 0; j < FGEMM_NR; j++)
					acc[i][j] += v * bk[j];
			}
		}
	}
	for (int i = 0; i < rows; i++)
		for (int j = 0; j < cols; j++) {
			const float v = acc[i][j] + bias[j];
			c[(size_t)i * ldc + j] = v < act_min ? act_min : (v > act_max ? act_max : v);
		}
}

struct fgemm_kernel fgemm_select(void)
{
	const enum gemm_isa level = gemm_isa_level();
#if defined(__x86_64__)
	if (level >= GEMM_ISA_BEST && __builtin_cpu_supports("avx512f"))
		return (struct fgemm_kernel){ fgemm_tile_avx512, 12, fgemm_tile2_avx512, 8, "avx512" };
	if (level >= GEMM_ISA_SIMD && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return (struct fgemm_kernel){ fgemm_tile_avx2, 6, NULL, 0, "avx2" };
#endif
#if defined(__aarch64__)
	if (level >= GEMM_ISA_SIMD)
		return (struct fgemm_kernel){ fgemm_tile_neon, 6, NULL, 0, "neon" };
#elif defined(__arm__)
	if (level >= GEMM_ISA_SIMD)
		return (struct fgemm_kernel){ fgemm_tile_neon, 4, NULL, 0, "neon" };
#endif
	(void)level;
	return (struct fgemm_kernel){ fgemm_tile_portable, PORTABLE_MR, NULL, 0, "portable" };
}

size_t fgemm_packed_floats(int out_ch, int k)
{
	if (out_ch <= 0 || k <= 0)
		return 0;
	const size_t nblocks = ((size_t)out_ch + FGEMM_NR - 1) / FGEMM_NR;
	if ((size_t)k > SIZE_MAX / FGEMM_NR / nblocks / sizeof(float))
		return 0;
	return nblocks * (size_t)k * FGEMM_NR;
}

size_t fgemm_bias_floats(int out_ch)
{
	return out_ch <= 0 ? 0 : ((size_t)out_ch + FGEMM_NR - 1) / FGEMM_NR * FGEMM_NR;
}

void fgemm_pack_b(float *dst, const float *w, int out_ch, int k)
{
	const int nblocks = (out_ch + FGEMM_NR - 1) / FGEMM_NR;
	for (int nb = 0; nb < nblocks; nb++)
		for (int kk = 0; kk < k; kk++)
			for (int j = 0; j < FGEMM_NR; j++) {
				const int ch = nb * FGEMM_NR + j;
				dst[((size_t)nb * k + kk) * FGEMM_NR + j] =
					ch < out_ch ? w[(size_t)ch * k + kk] : 0.0f;
			}
}

void fgemm_pack_bias(float *dst, const float *bias, int out_ch)
{
	const size_t n = fgemm_bias_floats(out_ch);
	for (size_t i = 0; i < n; i++)
		dst[i] = bias && i < (size_t)out_ch ? bias[i] : 0.0f;
}

void fgemm_run(const struct fgemm_kernel *kern, int rows, int ntaps, int kc, const float *const *a,
	       const float *packed_b, int out_ch, const float *packed_bias, float act_min,
	       float act_max, float *c, size_t ldc)
{
	const size_t k = (size_t)ntaps * kc, b_next = k * FGEMM_NR;
	for (int nb = 0; nb * FGEMM_NR < out_ch;) {
		const int left = out_ch - nb * FGEMM_NR;
		const float *b = packed_b + (size_t)nb * b_next, *bias = packed_bias + (size_t)nb * FGEMM_NR;
		float *cb = c + (size_t)nb * FGEMM_NR;
		if (kern->tile2 && left > FGEMM_NR) {
			const int cols = left < 2 * FGEMM_NR ? left : 2 * FGEMM_NR;
			for (int m = 0; m < rows; m += kern->mr2)
				kern->tile2(rows - m < kern->mr2 ? rows - m : kern->mr2, cols, ntaps, kc,
					    a + (size_t)m * ntaps, b, b_next, bias, act_min, act_max,
					    cb + (size_t)m * ldc, ldc);
			nb += 2;
			continue;
		}
		const int cols = left < FGEMM_NR ? left : FGEMM_NR;
		for (int m = 0; m < rows; m += kern->mr)
			kern->tile(rows - m < kern->mr ? rows - m : kern->mr, cols, ntaps, kc,
				   a + (size_t)m * ntaps, b, bias, act_min, act_max,
				   cb + (size_t)m * ldc, ldc);
		nb++;
	}
}
