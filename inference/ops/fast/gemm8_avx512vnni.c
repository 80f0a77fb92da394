/* gemm8_avx512vnni.c — gemm8.h's 8-bit GEMM with vpdpbusd: one instruction multiplies 4 bytes
 * of one activation row (broadcast) with the 4 bytes of each of 16 channels (one packed 512-bit
 * vector of block nb, quad kq) and adds the four products into the 16 int32 accumulators.
 * vpdpbusd (not the saturating vpdpbusds) wraps like plain adds, and gemm8.h bounds every
 * partial sum, so the accumulators are exact. Micro-tile: 8 rows × 2 blocks (16 accumulators,
 * each B vector used by 8 rows, each broadcast by 2 blocks), with 4-row and 1-block tails.
 * Which operand is the unsigned one depends on the type (gemm8.h): A for uint8, B for int8.
 * target(...) lets builds that compile every file with one set of flags (the fuzzer's) accept
 * it; it runs only after gemm8_select() saw the features. */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "inference/ops/fast/gemm8.h"

#define VNNI_ISA "avx512f,avx512bw,avx512vl,avx512vnni"
#define VNNI_TARGET __attribute__((target(VNNI_ISA)))
#define VNNI_INLINE static inline __attribute__((target(VNNI_ISA), always_inline))

VNNI_INLINE __m512i bcast4(const uint8_t *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return _mm512_set1_epi32(v);
}

VNNI_INLINE __m512i dot4(bool a_unsigned, __m512i acc, __m512i a, __m512i b)
{
	return a_unsigned ? _mm512_dpbusd_epi32(acc, a, b) : _mm512_dpbusd_epi32(acc, b, a);
}

/* ROWS (4 or 8) rows × NB (1 or 2) blocks starting at row m, block nb. */
VNNI_INLINE void tile(bool a_unsigned, int ROWS, int NB, int m, int nb, int k_quads,
		      const uint8_t *a, size_t lda, const uint8_t *b, const int32_t *row_corr,
		      const int32_t *col_corr, int32_t *c, size_t ldc)
{
	__m512i acc[8][2];
	const uint8_t *ar[8];
	const uint8_t *bb[2];
#pragma GCC unroll 8
	for (int r = 0; r < ROWS; r++) {
		ar[r] = a + (size_t)(m + r) * lda;
#pragma GCC unroll 2
		for (int j = 0; j < NB; j++)
			acc[r][j] = _mm512_setzero_si512();
	}
#pragma GCC unroll 2
	for (int j = 0; j < NB; j++)
		bb[j] = b + (size_t)(nb + j) * k_quads * GEMM_NR * 4;
	for (int kq = 0; kq < k_quads; kq++) {
		__m512i w[2];
#pragma GCC unroll 2
		for (int j = 0; j < NB; j++)
			w[j] = _mm512_loadu_si512(bb[j] + (size_t)kq * GEMM_NR * 4);
#pragma GCC unroll 8
		for (int r = 0; r < ROWS; r++) {
			const __m512i x = bcast4(ar[r] + 4 * (size_t)kq);
#pragma GCC unroll 2
			for (int j = 0; j < NB; j++)
				acc[r][j] = dot4(a_unsigned, acc[r][j], x, w[j]);
		}
	}
#pragma GCC unroll 2
	for (int j = 0; j < NB; j++) {
		const __m512i cc = _mm512_loadu_si512(col_corr + (size_t)(nb + j) * GEMM_NR);
#pragma GCC unroll 8
		for (int r = 0; r < ROWS; r++) {
			const __m512i v = _mm512_add_epi32(_mm512_add_epi32(acc[r][j], cc),
							   _mm512_set1_epi32(row_corr[m + r]));
			_mm512_storeu_si512(c + (size_t)(m + r) * ldc + (size_t)(nb + j) * GEMM_NR, v);
		}
	}
}

VNNI_INLINE void gemm8(bool a_unsigned, int rows, int k_quads, const uint8_t *a, size_t lda,
		       const uint8_t *b, int nblocks, const int32_t *row_corr, const int32_t *col_corr,
		       int32_t *c, size_t ldc)
{
	int nb = 0;
	for (; nb + 2 <= nblocks; nb += 2) {
		int m = 0;
		for (; m + 8 <= rows; m += 8)
			tile(a_unsigned, 8, 2, m, nb, k_quads, a, lda, b, row_corr, col_corr, c, ldc);
		for (; m < rows; m += GEMM_MR)
			tile(a_unsigned, 4, 2, m, nb, k_quads, a, lda, b, row_corr, col_corr, c, ldc);
	}
	if (nb < nblocks) {
		int m = 0;
		for (; m + 8 <= rows; m += 8)
			tile(a_unsigned, 8, 1, m, nb, k_quads, a, lda, b, row_corr, col_corr, c, ldc);
		for (; m < rows; m += GEMM_MR)
			tile(a_unsigned, 4, 1, m, nb, k_quads, a, lda, b, row_corr, col_corr, c, ldc);
	}
}

VNNI_TARGET
void gemm8_s8_avx512vnni(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc)
{
	gemm8(false, rows, k_quads, a, lda, b, nblocks, row_corr, col_corr, c, ldc);
}

VNNI_TARGET
void gemm8_u8_avx512vnni(int rows, int k_quads, const uint8_t *a, size_t lda, const uint8_t *b,
			 int nblocks, const int32_t *row_corr, const int32_t *col_corr, int32_t *c,
			 size_t ldc)
{
	gemm8(true, rows, k_quads, a, lda, b, nblocks, row_corr, col_corr, c, ldc);
}

/* Lane r of the result: the sum of v[r]'s 16 lanes, for r < 16. Pairs of rows are interleaved
 * and added (32-bit, then 64-bit unpacks), leaving per 128-bit block the partial sums of 4 rows
 * in row order; two rounds of block shuffles add the 4 blocks. 45 instructions for 16 rows,
 * where reducing each row on its own took about 9 per row. */
VNNI_INLINE __m512i hsum16(const __m512i *v)
{
	__m512i s[8], t[4];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		s[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
					_mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
		t[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(s[2 * i], s[2 * i + 1]),
					_mm512_unpackhi_epi64(s[2 * i], s[2 * i + 1]));
	const __m512i x01 = _mm512_add_epi32(_mm512_shuffle_i32x4(t[0], t[1], 0x88),
					     _mm512_shuffle_i32x4(t[0], t[1], 0xdd));
	const __m512i x23 = _mm512_add_epi32(_mm512_shuffle_i32x4(t[2], t[3], 0x88),
					     _mm512_shuffle_i32x4(t[2], t[3], 0xdd));
	return _mm512_add_epi32(_mm512_shuffle_i32x4(x01, x23, 0x88),
				_mm512_shuffle_i32x4(x01, x23, 0xdd));
}

/* Byte sums with vpdpbusd against ones (each lane adds 4 bytes; at most 255 * n in total, and
 * n <= 4 * GEMM_DOT_MAX_K keeps that far inside int32), 16 rows at a time (hsum16), the rest
 * one by one. */
VNNI_TARGET
void gemm8_rowsum_avx512vnni(int rows, int n, const uint8_t *a, size_t lda, int is_signed,
			     int32_t *ret_sums)
{
	const __m512i ones = _mm512_set1_epi8(1);
	int m = 0;
	for (; m + 16 <= rows; m += 16) {
		__m512i acc[16];
#pragma GCC unroll 16
		for (int r = 0; r < 16; r++)
			acc[r] = _mm512_setzero_si512();
		for (int i = 0; i < n; i += 64) {
			const __mmask64 keep = n - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1;
#pragma GCC unroll 16
			for (int r = 0; r < 16; r++) {
				const __m512i v = _mm512_maskz_loadu_epi8(keep, a + (size_t)(m + r) * lda + i);
				acc[r] = is_signed ? _mm512_dpbusd_epi32(acc[r], ones, v)
						   : _mm512_dpbusd_epi32(acc[r], v, ones);
			}
		}
		_mm512_storeu_si512(ret_sums + m, hsum16(acc));
	}
	for (; m < rows; m++) {
		const uint8_t *row = a + (size_t)m * lda;
		__m512i acc = _mm512_setzero_si512();
		for (int i = 0; i < n; i += 64) {
			const __mmask64 keep = n - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1;
			const __m512i v = _mm512_maskz_loadu_epi8(keep, row + i);
			acc = is_signed ? _mm512_dpbusd_epi32(acc, ones, v) : _mm512_dpbusd_epi32(acc, v, ones);
		}
		ret_sums[m] = _mm512_reduce_add_epi32(acc);
	}
}
