/* requant.h — the output stage of CONV_2D / DEPTHWISE_CONV_2D fast paths: int32 accumulators →
 * + bias (int32 wrap, as TFLite) → MultiplyByQuantizedMultiplier per channel → + output zero
 * point → clamp → 8-bit store. The same steps, in the same order, as the reference loops in
 * conv.c and depthwise_conv.c, with quant.h's exact helpers; requant_row() picks a SIMD version
 * (requant_avx2.c, requant_neon.c) when the CPU has one, which tests compare against the portable one. */
#ifndef CAMCLASS_INFERENCE_OPS_REQUANT_H
#define CAMCLASS_INFERENCE_OPS_REQUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "inference/ops/kernel_util.h"

struct requant {
	const int32_t *bias;        /* per channel, or NULL */
	const int32_t *multiplier;  /* per channel */
	const int *shift;           /* per channel */
	int32_t output_offset, act_min, act_max;
};

/* The requantization of a conv's output stage (bias: per channel or NULL). */
static inline struct requant requant_of(const struct ku_conv_stage *q, const int32_t *bias)
{
	return (struct requant){
		.bias = bias, .multiplier = q->multiplier, .shift = q->shift,
		.output_offset = q->output_offset, .act_min = q->act_min, .act_max = q->act_max,
	};
}

/* The same requantization starting at channel `from` (for the tail a SIMD loop leaves). */
static inline struct requant requant_from(const struct requant *rq, int from)
{
	struct requant t = *rq;
	if (t.bias)
		t.bias += from;
	t.multiplier += from;
	t.shift += from;
	return t;
}

void requant_row_portable(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
			  uint8_t *out);
#if defined(__x86_64__)
void requant_row_avx2(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
		      uint8_t *out);
#endif
#if defined(__aarch64__) || defined(__arm__)
void requant_row_neon(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
		      uint8_t *out);
#endif
/* Channels [0, n) of one output pixel. */
typedef void (*requant_row_fn)(const struct requant *rq, const int32_t *acc, int n, bool is_signed,
			       uint8_t *out);
/* The best version for this CPU, capped by gemm_set_isa_limit() like the GEMM kernels. */
requant_row_fn requant_select(void);

#endif
