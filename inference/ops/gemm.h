/* gemm.h — the int16 GEMM behind the fast CONV_2D path (conv_fast.c), with run-time ISA dispatch.
 *
 * Why int16 and not a u8/s8 dot product with zero-point corrections: the reference sums
 * (x - x_zp) * (w - w_zp) in int32. Both factors lie in [-255, 255], so they fit int16 exactly,
 * and a pairwise multiply-add of int16 (x86 pmaddwd, NEON vmlal_s16) gives exact int32 partial
 * sums: each pair is at most 2 * 65025, and any partial sum is bounded by the sum of all terms'
 * magnitudes, which conv.c's CONV_MAX_TERMS keeps below 2^31. Integer sums are then equal in any
 * order, so every kernel here returns the reference's accumulator bit for bit — without the
 * saturation trap of pmaddubsw or correction terms that would need their own overflow argument.
 *
 * Layout. A (activations, im2col'd by the caller, zero point already subtracted, padding = 0)
 * is rows of k_pairs * 2 int16. B (weights) is packed at prepare into blocks of GEMM_NR output
 * channels: block nb, pair kp holds channels nb*GEMM_NR + j (j < GEMM_NR) as
 * { w[ch][2kp], w[ch][2kp+1] } — one 256-bit vector per 8 channels and k pair. Channels past
 * the real count and the odd K tail are zero. C is int32 rows of nblocks * GEMM_NR. */
#ifndef CAMCLASS_INFERENCE_OPS_GEMM_H
#define CAMCLASS_INFERENCE_OPS_GEMM_H

#include <stddef.h>
#include <stdint.h>

#define GEMM_NR 16 /* output channels per packed block */
#define GEMM_MR 4  /* rows (output pixels) per micro-tile; callers pad M to a multiple */

/* C[m][nb*GEMM_NR + j] = sum_k A[m][k] * B[nb*GEMM_NR + j][k], for m < rows (a multiple of
 * GEMM_MR), nb < nblocks. lda, ldc in elements. */
typedef void (*gemm_s16_fn)(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
			    int nblocks, int32_t *c, size_t ldc);

void gemm_s16_portable(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		       int nblocks, int32_t *c, size_t ldc);
#if defined(__x86_64__)
void gemm_s16_sse41(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		    int nblocks, int32_t *c, size_t ldc);
void gemm_s16_avx2(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		   int nblocks, int32_t *c, size_t ldc);
#endif
#if defined(__x86_64__)
void gemm_s16_avx512vnni(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
			 int nblocks, int32_t *c, size_t ldc);
#endif
#if defined(__aarch64__)
void gemm_s16_neon(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		   int nblocks, int32_t *c, size_t ldc);
#endif

/* dst[i] = x[i] - x_zp as int16 for n 8-bit values (the im2col copy; |x - x_zp| <= 255). */
typedef void (*gemm_widen_fn)(int16_t *dst, const uint8_t *x, int n, int is_signed, int32_t x_zp);
void gemm_widen_portable(int16_t *dst, const uint8_t *x, int n, int is_signed, int32_t x_zp);
#if defined(__x86_64__)
void gemm_widen_avx2(int16_t *dst, const uint8_t *x, int n, int is_signed, int32_t x_zp);
#endif
gemm_widen_fn gemm_widen_select(void);

/* Instruction-set levels the fast kernels may use: plain C; a basic SIMD GEMM (x86-64: SSE4.1,
 * the rest portable; arm64: NEON); the baseline SIMD of the architecture (x86-64: AVX2; arm64:
 * NEON everywhere); the best one (x86-64: AVX-512 VNNI for the GEMM, AVX2 for the rest; arm64:
 * as SIMD — sdot multiplies int8, and x - zp needs 9 bits). */
enum gemm_isa { GEMM_ISA_PORTABLE = 0, GEMM_ISA_BASIC = 1, GEMM_ISA_SIMD = 2, GEMM_ISA_BEST = 3 };

/* The level this CPU supports, capped by gemm_set_isa_limit(). */
enum gemm_isa gemm_isa_level(void);

/* The best kernel this CPU runs, capped by gemm_set_isa_limit(). */
gemm_s16_fn gemm_select(void);
/* Tests: cap the ISA (GEMM_ISA_PORTABLE forces the plain C kernels). Not thread-safe; call
 * before loading models. */
void gemm_set_isa_limit(enum gemm_isa limit);
/* The ISA gemm_select() would use now ("avx512vnni", "avx2", "sse4.1", "neon", "portable"). */
const char *gemm_isa_name(void);

/* Bytes of packed B for out_ch channels of k values. */
size_t gemm_packed_bytes(int out_ch, int k);
/* Packs w (out_ch rows of k 8-bit values, minus w_zp) into dst (gemm_packed_bytes). */
void gemm_pack_b(int16_t *dst, const uint8_t *w, int is_signed, int32_t w_zp, int out_ch, int k);

#endif
