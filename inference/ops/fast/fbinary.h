/* fbinary.h — SIMD loops of the same-shape float ADD/SUB/MUL (float_eltwise.c): y = clamp(a op b)
 * element by element, with the clamp written as the reference's fu_clamp (a NaN stays NaN).
 * One IEEE operation per element, so the result equals the plain C loop's exactly.
 * Reentrant; y may be a or b. */
#ifndef CAMCLASS_INFERENCE_OPS_FBINARY_H
#define CAMCLASS_INFERENCE_OPS_FBINARY_H

#include <stdbool.h>
#include <stddef.h>

/* Elements done (a multiple of the vector width, <= n); the caller does the rest. op is OP_ADD,
 * OP_SUB or OP_MUL (anything else: 0 done). */
#if defined(__x86_64__)
size_t fbinary_same_avx2(int op, const float *a, const float *b, float *y, size_t n, float lo,
			 float hi);
#endif
/* This CPU runs fbinary_same_avx2 and the ISA limit (gemm_set_isa_limit) allows GEMM_ISA_SIMD. */
bool fbinary_have_avx2(void);

#endif
