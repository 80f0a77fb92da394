/* quantize_simd.h — the SIMD loop of QUANTIZE's float32 → 8-bit path (quantize.c), split out so
 * the ISA file stays a leaf: each quantize_f32_<isa>() handles a prefix of whole vectors and
 * returns its length, quantize.c does the rest with the scalar loop. Equal to that loop value
 * for value, NaN and infinities included (test_ops_quantize). */
#ifndef CAMCLASS_INFERENCE_OPS_QUANTIZE_SIMD_H
#define CAMCLASS_INFERENCE_OPS_QUANTIZE_SIMD_H

#include <stdbool.h>
#include <stdint.h>

/* out[i] = clamp((int32)clamp(roundf(in[i] / scale), -2^30, 2^30) + zp, qmin, qmax) as a byte,
 * for i below the returned count (a multiple of 32, at most n). */
#if defined(__x86_64__)
int quantize_f32_avx2(const float *in, int n, float scale, int32_t zp, int32_t qmin, int32_t qmax,
		      bool is_signed, uint8_t *out);
#endif

#endif
