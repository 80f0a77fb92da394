/* add_simd.h — the SIMD loop of ADD's same-shape fast path (add.c), split out so the ISA file
 * stays a leaf: add_same_<isa>() handles a prefix of whole vectors and returns its length, add.c
 * finishes the tail with its scalar steps. Both compute TFLite 2.8's quantized add exactly
 * (add.c's header): per input (x + offset) << 20 scaled by its multiplier, the two summed, the
 * sum scaled by the output multiplier, plus the output zero point, clamped. */
#ifndef CAMCLASS_INFERENCE_OPS_ADD_SIMD_H
#define CAMCLASS_INFERENCE_OPS_ADD_SIMD_H

#include <stdbool.h>
#include <stdint.h>

/* The quantities of add.c's formula (multipliers in [2^30, 2^31) or 0, shifts <= 0). */
struct add_simd {
	int32_t in1_offset, in2_offset, out_offset;
	int32_t in1_multiplier, in2_multiplier, out_multiplier;
	int in1_shift, in2_shift, out_shift;
	int32_t act_min, act_max;
	bool is_signed;
};

struct graph;
struct node;
struct tensor;

/* ADD's quantities for inputs a, b and output out with the node's fused activation (add.c):
 * each input scaled by (its scale / twice the larger one) after a << 20, the sum by (twice the
 * larger scale / (2^20 · out scale)), as TFLite's ADD and SUB prepare them. SUB (sub_minmax.c)
 * uses them with s1 − s2. 0, or a negative errno with err naming the node. */
int add_quant_prepare(const struct node *n, const struct tensor *a, const struct tensor *b,
		      const struct tensor *out, struct add_simd *q, char *err, size_t errlen);

/* out[i] for i below the returned count (a multiple of 32, at most n). */
#if defined(__x86_64__)
int add_same_avx2(const struct add_simd *p, const uint8_t *a, const uint8_t *b, int n,
		  uint8_t *out);
#endif

#endif
