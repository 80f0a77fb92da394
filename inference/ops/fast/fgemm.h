/* fgemm.h — the float32 GEMM behind CONV_2D and FULLY_CONNECTED on float tensors (float_conv.c,
 * float_fc.c), with run-time ISA dispatch like the int16 GEMM (gemm.h).
 *
 * It is an "indirect" GEMM: row m of A is not one contiguous run but ntaps pointers, each to kc
 * contiguous floats (a conv's window cell — the input channels of one input pixel — or a whole
 * window row, or a shared zero run for a tap in the padding). So a conv needs no im2col copy — the caller fills a small
 * pointer table per block of output pixels — and a plain GEMM (1×1 conv, FULLY_CONNECTED) is the
 * case ntaps = 1. B (the weights) is packed once at prepare into blocks of FGEMM_NR output
 * channels: block nb, term k (= tap * kc + channel) holds channels nb*FGEMM_NR + j as FGEMM_NR
 * consecutive floats; channels past out_ch are zero.
 *
 * Results: every output is the sum of its terms in the reference order (taps, then channels),
 * padding cells included as exact zero terms, then + bias, then clamped. The x86-64 and arm64
 * SIMD kernels use fused multiply-add, so a term's product is not rounded before it is added:
 * the results differ from the plain C loop by float rounding only (float_cases.tsv and
 * suite-models allow for it; armhf NEON rounds as the C loop but flushes denormals).
 *
 * Threads: everything here is reentrant; kernels write only the c rows they are given. */
#ifndef CAMCLASS_INFERENCE_OPS_FGEMM_H
#define CAMCLASS_INFERENCE_OPS_FGEMM_H

#include <stddef.h>

#define FGEMM_NR 16     /* output channels per packed block */
#define FGEMM_MAX_MR 12 /* the largest row tile of any kernel */

/* One tile: for i < rows (1..mr of the kernel) and j < cols (1..FGEMM_NR),
 *   c[i*ldc + j] = clamp(sum_t sum_k a[i*ntaps + t][k] * b[(t*kc + k)*FGEMM_NR + j] + bias[j])
 * with bias[0..FGEMM_NR) always readable (zero-padded). */
typedef void (*fgemm_tile_fn)(int rows, int cols, int ntaps, int kc, const float *const *a,
			      const float *b, const float *bias, float act_min, float act_max,
			      float *c, size_t ldc);

/* Two blocks at once: for cols of 17..2*FGEMM_NR, block 0 at b and block 1 at b + b_next. */
typedef void (*fgemm_tile2_fn)(int rows, int cols, int ntaps, int kc, const float *const *a,
			       const float *b, size_t b_next, const float *bias, float act_min,
			       float act_max, float *c, size_t ldc);

struct fgemm_kernel {
	fgemm_tile_fn tile;
	int mr;              /* rows per tile */
	fgemm_tile2_fn tile2; /* NULL: blocks one at a time */
	int mr2;             /* rows per tile2 tile */
	const char *name;    /* "avx512", "avx2", "neon", "portable" */
};

void fgemm_tile_portable(int rows, int cols, int ntaps, int kc, const float *const *a,
			 const float *b, const float *bias, float act_min, float act_max, float *c,
			 size_t ldc);
#if defined(__x86_64__)
void fgemm_tile_avx2(int rows, int cols, int ntaps, int kc, const float *const *a, const float *b,
		     const float *bias, float act_min, float act_max, float *c, size_t ldc);
void fgemm_tile_avx512(int rows, int cols, int ntaps, int kc, const float *const *a,
		       const float *b, const float *bias, float act_min, float act_max, float *c,
		       size_t ldc);
void fgemm_tile2_avx512(int rows, int cols, int ntaps, int kc, const float *const *a,
			const float *b, size_t b_next, const float *bias, float act_min,
			float act_max, float *c, size_t ldc);
#endif
#if defined(__aarch64__) || defined(__arm__)
void fgemm_tile_neon(int rows, int cols, int ntaps, int kc, const float *const *a, const float *b,
		     const float *bias, float act_min, float act_max, float *c, size_t ldc);
#endif

/* The best kernel for this CPU under gemm_set_isa_limit() (gemm.h's levels: PORTABLE is the plain
 * C loop; x86-64 SIMD needs AVX2+FMA, BEST adds AVX-512F; ARM SIMD is NEON as for the int GEMM). */
struct fgemm_kernel fgemm_select(void);

/* Floats of packed B (and of padded bias) for out_ch channels of k terms; 0 on overflow. */
size_t fgemm_packed_floats(int out_ch, int k);
size_t fgemm_bias_floats(int out_ch);
/* Packs w (out_ch rows of k floats) into dst (fgemm_packed_floats). */
void fgemm_pack_b(float *dst, const float *w, int out_ch, int k);
/* dst (fgemm_bias_floats): bias[0..out_ch) or zeros (bias NULL), zero-padded. */
void fgemm_pack_bias(float *dst, const float *bias, int out_ch);

/* c rows m < rows (ldc floats apart, out_ch written per row) for every block of channels, tile
 * by tile with kern (two blocks at a time where it has tile2 and two are left). a holds
 * rows * ntaps pointers. */
void fgemm_run(const struct fgemm_kernel *kern, int rows, int ntaps, int kc, const float *const *a,
	       const float *packed_b, int out_ch, const float *packed_bias, float act_min,
	       float act_max, float *c, size_t ldc);

#endif
