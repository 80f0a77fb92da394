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
 * On arm64 CPUs with the dot-product instructions (ARMv8.2 dotprod: Cortex-A76, Pi 5) conv.c uses
 * the 8-bit GEMM at the end of this header instead, which keeps x and w as bytes and corrects for
 * the zero points afterwards (see gemm_dotprod.c for the exactness argument).
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
#if defined(__aarch64__) || defined(__arm__)
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
 * the 8-bit sdot/udot GEMM for CONV_2D when getauxval(AT_HWCAP) has HWCAP_ASIMDDP, NEON for the
 * rest — without the hwcap, arm64 stops at SIMD). 32-bit ARM: NEON for BASIC and up when
 * AT_HWCAP has HWCAP_NEON (BEST adds nothing there), else portable at every level. */
enum gemm_isa { GEMM_ISA_PORTABLE = 0, GEMM_ISA_BASIC = 1, GEMM_ISA_SIMD = 2, GEMM_ISA_BEST = 3 };

/* The level this CPU supports, capped by gemm_set_isa_limit(). */
enum gemm_isa gemm_isa_level(void);

/* The best kernel this CPU runs, capped by gemm_set_isa_limit(). */
gemm_s16_fn gemm_select(void);
/* Tests: cap the ISA (GEMM_ISA_PORTABLE forces the plain C kernels). Not thread-safe; call
 * before loading models. */
void gemm_set_isa_limit(enum gemm_isa limit);
/* The ISA of the best conv GEMM now ("avx512vnni", "avx2", "sse4.1", "dotprod", "neon",
 * "portable"). */
const char *gemm_isa_name(void);

/* Bytes of packed B for out_ch channels of k values. */
size_t gemm_packed_bytes(int out_ch, int k);
/* Packs w (out_ch rows of k 8-bit values, minus w_zp) into dst (gemm_packed_bytes). */
void gemm_pack_b(int16_t *dst, const uint8_t *w, int is_signed, int32_t w_zp, int out_ch, int k);

/* The 8-bit dot-product GEMM (arm64 dotprod). A is rows of k_quads * 4 bytes (the raw x values,
 * the caller's padding filled with the x zero point, the K tail up to a multiple of 4 with 0). B
 * is packed by gemm_dot_pack_b into blocks of GEMM_NR channels: block nb, quad kq holds channels
 * nb*GEMM_NR + j as the 4 bytes w[ch][4kq .. 4kq+3] (raw w; channels past out_ch and the K tail
 * are 0). The kernel stores
 *     C[m][nb*GEMM_NR + j] = sum_k A[m][k] * B[ch][k] + row_corr[m] + col_corr[nb*GEMM_NR + j]
 * with the bytes read as int8 (vdotq_s32) or uint8 (vdotq_u32). With row_corr[m] = -w_zp * sum_k
 * A[m][k] and col_corr[ch] = -x_zp * sum_k (B[ch][k] - w_zp) over the real K, that is the
 * reference's sum of (x - x_zp)(w - w_zp); gemm_dotprod.c bounds every step. */
typedef void (*gemm_dot_fn)(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			    int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			    size_t ldc);
/* Sums of rows 8-bit values (int8 or uint8) of n bytes each: ret_sums[m] = sum_k a[m][k]. */
typedef void (*gemm_dot_rowsum_fn)(int rows, int n, const uint8_t *a, size_t lda, int is_signed,
				   int32_t *ret_sums);
#if defined(__aarch64__)
void gemm_dot_s8_dotprod(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc);
void gemm_dot_u8_dotprod(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc);
void gemm_dot_rowsum_dotprod(int rows, int n, const uint8_t *a, size_t lda, int is_signed,
			     int32_t *ret_sums);
#endif
/* Largest K the dot path takes: every partial sum is bounded by K * 255 * 255 (uint8; int8 by
 * K * 255 * 128), and 33025 * 65025 = 2147450625 < 2^31. conv.c's CONV_MAX_TERMS is the same. */
#define GEMM_DOT_MAX_K 33025
/* The dot kernel for this CPU and type (NULL: none — no dotprod, or the ISA is capped below
 * GEMM_ISA_BEST); ret_rowsum gets its row-sum helper. */
gemm_dot_fn gemm_dot_select(int is_signed, gemm_dot_rowsum_fn *ret_rowsum);
/* Bytes of dot-packed B for out_ch channels of k values (K rounded up to a multiple of 4). */
size_t gemm_dot_packed_bytes(int out_ch, int k);
/* Packs w (out_ch rows of k bytes) into dst (gemm_dot_packed_bytes) and writes
 * ret_col_corr[ch] = -x_zp * sum_k (w[ch][k] - w_zp) for ch < nblocks * GEMM_NR (0 past out_ch). */
void gemm_dot_pack_b(uint8_t *dst, int32_t *ret_col_corr, const uint8_t *w, int is_signed,
		     int32_t x_zp, int32_t w_zp, int out_ch, int k);

#endif
