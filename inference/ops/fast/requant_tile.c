/* requant_tile.c — the choice of tile output stage (requant_tile.h). Kept apart from requant.c
 * so each ISA's tile kernel can be added without touching the row kernels' dispatch. */
#include "inference/ops/fast/requant_tile.h"

#include "inference/ops/fast/gemm.h"

requant_tile_fn requant_tile_select(void)
{
#if defined(__x86_64__)
	if (gemm_isa_level() >= GEMM_ISA_SIMD)
		return requant_tile_avx2;
#endif
	return NULL;
}
