/* fbinary.c — the run-time choice of the same-shape float loop (see fbinary.h). */
#include "inference/ops/fast/fbinary.h"

#include "inference/ops/fast/gemm.h"

bool fbinary_have_avx2(void)
{
#if defined(__x86_64__)
	return gemm_isa_level() >= GEMM_ISA_SIMD && __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}
