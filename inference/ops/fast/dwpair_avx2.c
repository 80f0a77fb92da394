/* dwpair_avx2.c — dwpair.h's per-pixel depthwise kernel with AVX2: vpmaddwd multiplies the
 * interleaved int16 tap pairs with the packed weight pairs, vpaddd adds them into the int32
 * accumulators. The kernel itself is dwpair_x86.h, shared with the AVX-512 VNNI build;
 * target("avx2") as in requant_avx2.c. Exactness: dwpair.h. */
#define DWPAIR_TARGET "avx2"
#define DWPAIR_PIXEL dwpair_pixel_avx2
#define DWPAIR_MADD(a, x, w) ((a) = _mm256_add_epi32((a), _mm256_madd_epi16((x), (w))))
#include "inference/ops/fast/dwpair_x86.h"
