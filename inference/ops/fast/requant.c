/* requant.c — the portable output stage of requant.h and its dispatch. */
#include "inference/ops/fast/requant.h"

#include "inference/ops/fast/gemm.h"
#include "inference/ops/kernel_util.h"
#include "inference/quant.h"

void requant_row_portable(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
			  uint8_t *out)
{
	for (int c = 0; c < n; c++) {
		int32_t v = acc[c];
		if (rq->bias)
			v = (int32_t)((uint32_t)v + (uint32_t)rq->bias[c]);
		v = q_mul_by_quantized_multiplier(v, rq->multiplier[c], rq->shift[c]);
		v = q_clamp(v + rq->output_offset, rq->act_min, rq->act_max);
		ku_store8(is_signed, out, (size_t)c, v);
	}
}

requant_row_fn requant_select(void)
{
#if defined(__x86_64__)
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return requant_row_avx2;
#endif
#if defined(__aarch64__) || defined(__arm__)
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return requant_row_neon;
#endif
	return requant_row_portable;
}
