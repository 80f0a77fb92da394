/* gemm.c — packing, the portable int16 GEMM and the run-time choice of kernel (see gemm.h for
 * why int16 keeps every sum exact). The portable kernel is the plain loop over the packed
 * layout; SIMD kernels live in gemm_<isa>.c, built only for their architecture. 32-bit ARM
 * (Debian armhf) does not promise NEON, so there the NEON kernels run only when the kernel's
 * hwcaps say the CPU has it; everything else is built for the VFPv3-D16 baseline. */
#include <string.h>
#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif
#if defined(__aarch64__) && !defined(HWCAP_ASIMDDP)
#define HWCAP_ASIMDDP (1 << 20)
#endif
#if defined(__arm__) && !defined(HWCAP_ARM_NEON)
#define HWCAP_ARM_NEON (1 << 12)
#endif

#include "inference/ops/fast/gemm.h"

static enum gemm_isa isa_limit = GEMM_ISA_BEST;

void gemm_set_isa_limit(enum gemm_isa limit)
{
	isa_limit = limit;
}

enum gemm_isa gemm_isa_level(void)
{
#if defined(__x86_64__)
	if (isa_limit >= GEMM_ISA_BEST && __builtin_cpu_supports("avx512vnni") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
		return GEMM_ISA_BEST;
	if (isa_limit >= GEMM_ISA_SIMD && __builtin_cpu_supports("avx2"))
		return GEMM_ISA_SIMD;
	if (isa_limit >= GEMM_ISA_BASIC && __builtin_cpu_supports("sse4.1"))
		return GEMM_ISA_BASIC;
#endif
#if defined(__aarch64__)
	/* the dot-product instructions only where the kernel says the CPU has them (not on A53/A72) */
	if (isa_limit >= GEMM_ISA_BEST && (getauxval(AT_HWCAP) & HWCAP_ASIMDDP))
		return GEMM_ISA_BEST;
	/* NEON is part of every arm64 CPU */
	if (isa_limit >= GEMM_ISA_BASIC)
		return isa_limit >= GEMM_ISA_SIMD ? GEMM_ISA_SIMD : GEMM_ISA_BASIC;
#endif
#if defined(__arm__)
	/* NEON only where the kernel says the CPU has it (Debian armhf's baseline has none); no
	 * level above it yet, so BEST runs what SIMD runs */
	if (isa_limit >= GEMM_ISA_BASIC && (getauxval(AT_HWCAP) & HWCAP_ARM_NEON))
		return isa_limit >= GEMM_ISA_SIMD ? GEMM_ISA_SIMD : GEMM_ISA_BASIC;
#endif
	return GEMM_ISA_PORTABLE;
}

gemm_s16_fn gemm_select(void)
{
	const enum gemm_isa level = gemm_isa_level();
#if defined(__x86_64__)
	if (level == GEMM_ISA_BEST)
		return gemm_s16_avx512vnni;
	if (level == GEMM_ISA_SIMD)
		return gemm_s16_avx2;
	if (level == GEMM_ISA_BASIC)
		return gemm_s16_sse41;
#endif
#if defined(__aarch64__) || defined(__arm__)
	if (level >= GEMM_ISA_BASIC)
		return gemm_s16_neon;
#endif
	(void)level;
	return gemm_s16_portable;
}

gemm_dot_fn gemm_dot_select(int is_signed, gemm_dot_rowsum_fn *ret_rowsum)
{
#if defined(__aarch64__)
	if (gemm_isa_level() >= GEMM_ISA_BEST) {
		*ret_rowsum = gemm_dot_rowsum_dotprod;
		return is_signed ? gemm_dot_s8_dotprod : gemm_dot_u8_dotprod;
	}
#endif
	(void)is_signed;
	(void)ret_rowsum;
	return NULL;
}

gemm_widen_fn gemm_widen_select(void)
{
#if defined(__x86_64__)
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return gemm_widen_avx2;
#endif
	return gemm_widen_portable;
}

void gemm_widen_portable(int16_t *dst, const uint8_t *x, int n, int is_signed, int32_t x_zp)
{
	if (is_signed)
		for (int i = 0; i < n; i++)
			dst[i] = (int16_t)((int8_t)x[i] - x_zp);
	else
		for (int i = 0; i < n; i++)
			dst[i] = (int16_t)(x[i] - x_zp);
}

const char *gemm_isa_name(void)
{
	switch (gemm_isa_level()) {
	case GEMM_ISA_BEST:
#if defined(__aarch64__)
		return "dotprod";
#else
		return "avx512vnni";
#endif
	case GEMM_ISA_SIMD:
#if defined(__aarch64__) || defined(__arm__)
		return "neon";
#else
		return "avx2";
#endif
	case GEMM_ISA_BASIC:
#if defined(__aarch64__) || defined(__arm__)
		return "neon";
#else
		return "sse4.1";
#endif
	default:
		return "portable";
	}
}

size_t gemm_packed_bytes(int out_ch, int k)
{
	const size_t nblocks = ((size_t)out_ch + GEMM_NR - 1) / GEMM_NR;
	const size_t k_pairs = ((size_t)k + 1) / 2;
	return nblocks * k_pairs * GEMM_NR * 2 * sizeof(int16_t);
}

void gemm_pack_b(int16_t *dst, const uint8_t *w, int is_signed, int32_t w_zp, int out_ch, int k)
{
	const int nblocks = (out_ch + GEMM_NR - 1) / GEMM_NR, k_pairs = (k + 1) / 2;
	memset(dst, 0, gemm_packed_bytes(out_ch, k));
	for (int nb = 0; nb < nblocks; nb++)
		for (int kp = 0; kp < k_pairs; kp++)
			for (int j = 0; j < GEMM_NR; j++) {
				const int ch = nb * GEMM_NR + j;
				if (ch >= out_ch)
					continue;
				for (int t = 0; t < 2; t++) {
					const int kk = 2 * kp + t;
					if (kk >= k)
						continue;
					const size_t src = (size_t)ch * k + kk;
					const int32_t v = is_signed ? (int32_t)(int8_t)w[src] : (int32_t)w[src];
					/* |v - w_zp| <= 255: exact in int16. */
					dst[(((size_t)nb * k_pairs + kp) * GEMM_NR + j) * 2 + t] = (int16_t)(v - w_zp);
				}
			}
}

size_t gemm_dot_packed_bytes(int out_ch, int k)
{
	const size_t nblocks = ((size_t)out_ch + GEMM_NR - 1) / GEMM_NR;
	const size_t k_quads = ((size_t)k + 3) / 4;
	return nblocks * k_quads * GEMM_NR * 4;
}

void gemm_dot_pack_b(uint8_t *dst, int32_t *ret_col_corr, const uint8_t *w, int is_signed,
		     int32_t x_zp, int32_t w_zp, int out_ch, int k)
{
	const int nblocks = (out_ch + GEMM_NR - 1) / GEMM_NR, k_quads = (k + 3) / 4;
	memset(dst, 0, gemm_dot_packed_bytes(out_ch, k));
	for (int ch = 0; ch < nblocks * GEMM_NR; ch++) {
		if (ch >= out_ch) {
			ret_col_corr[ch] = 0;
			continue;
		}
		const int nb = ch / GEMM_NR, j = ch % GEMM_NR;
		/* |sum (w - w_zp)| <= 255 * k and |x_zp| <= 255: the product is at most
		 * 65025 * GEMM_DOT_MAX_K < 2^31 (conv.c takes the dot path only below that K). */
		int32_t wsum = 0;
		for (int kk = 0; kk < k; kk++) {
			const uint8_t byte = w[(size_t)ch * k + kk];
			wsum += (is_signed ? (int32_t)(int8_t)byte : (int32_t)byte) - w_zp;
			dst[(((size_t)nb * k_quads + kk / 4) * GEMM_NR + j) * 4 + kk % 4] = byte;
		}
		ret_col_corr[ch] = -x_zp * wsum;
	}
}

void gemm_s16_portable(int rows, int k_pairs, const int16_t *a, size_t lda, const int16_t *b,
		       int nblocks, int32_t *c, size_t ldc)
{
	for (int nb = 0; nb < nblocks; nb++) {
		const int16_t *bb = b + (size_t)nb * k_pairs * GEMM_NR * 2;
		for (int m = 0; m < rows; m++) {
			const int16_t *am = a + (size_t)m * lda;
			int32_t acc[GEMM_NR] = { 0 };
			/* Partial sums of exact int32 products, bounded as gemm.h argues. */
			for (int kp = 0; kp < k_pairs; kp++) {
				const int32_t a0 = am[2 * kp], a1 = am[2 * kp + 1];
				const int16_t *bk = bb + (size_t)kp * GEMM_NR * 2;
				for (int j = 0; j < GEMM_NR; j++)
					acc[j] += a0 * bk[2 * j] + a1 * bk[2 * j + 1];
			}
			memcpy(c + (size_t)m * ldc + (size_t)nb * GEMM_NR, acc, sizeof(acc));
		}
	}
}
