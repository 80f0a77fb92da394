/* gemm8.c — packing and the run-time choice of the x86 8-bit GEMM (gemm8.h). The packing reuses
 * gemm_dot_pack_b's layout and zero-point column sums and only moves the weight bytes by 128, so
 * the arm64 and x86 8-bit paths cannot drift apart in layout. */
#include "inference/ops/fast/gemm8.h"

#include <stddef.h>

gemm_dot_fn gemm8_select(bool is_signed, gemm_dot_rowsum_fn *ret_rowsum)
{
#if defined(__x86_64__)
	if (gemm_isa_level() >= GEMM_ISA_BEST) {
		*ret_rowsum = gemm8_rowsum_avx512vnni;
		return is_signed ? gemm8_s8_avx512vnni : gemm8_u8_avx512vnni;
	}
#endif
	(void)is_signed;
	(void)ret_rowsum;
	return NULL;
}

int32_t gemm8_row_coef(bool is_signed, int32_t w_zp)
{
	return is_signed ? -128 : 128 - w_zp;
}

void gemm8_pack_b(uint8_t *dst, int32_t *ret_col_corr, const uint8_t *w, int is_signed,
		  int32_t x_zp, int32_t w_zp, int out_ch, int k)
{
	gemm_dot_pack_b(dst, ret_col_corr, w, is_signed, x_zp, w_zp, out_ch, k);
	/* int8 w + 128 and uint8 w - 128 are both the byte with its top bit flipped. The K tail and
	 * the channels past out_ch become 0x80 as well: the tail meets A's zero bytes, and those
	 * channels' sums are never read. */
	const size_t bytes = gemm_dot_packed_bytes(out_ch, k);
	for (size_t i = 0; i < bytes; i++)
		dst[i] ^= 0x80;
}
