/* dwpair_avx512vnni.c — dwpair_avx2.c's kernel on CPUs with AVX-512 VNNI: the same 256-bit
 * unpacked pairs and packed weights (dwpair_x86.h), but vpdpwssd multiplies the pairs and adds
 * them into the accumulator in one instruction (vpmaddwd + vpaddd in the AVX2 kernel). vpdpwssd
 * (not the saturating vpdpwssds) wraps like vpaddd, and dwpair.h bounds every sum far inside
 * int32, so the result is the same. Chosen at the best ISA level (dwpair_select); target(...) as
 * in gemm_avx512vnni.c. */
#define DWPAIR_TARGET "avx2,avx512f,avx512vl,avx512vnni"
#define DWPAIR_PIXEL dwpair_pixel_avx512vnni
#define DWPAIR_MADD(a, x, w) ((a) = _mm256_dpwssd_epi32((a), (x), (w)))
#include "inference/ops/fast/dwpair_x86.h"
