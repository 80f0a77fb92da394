/* kernel_util.h — small checks and shape arithmetic shared by the op kernels in inference/ops/
 * (internal to the kernels; the interface to the rest of the engine is ops.h).
 *
 * Every prepare() starts with the same questions — how many inputs, which types, how many dims,
 * is the quantization there — and must answer them with a message naming the op and the tensor.
 * These helpers keep those messages uniform ("filter has 3 dims, expected 4"; the engine puts
 * "operator 12 (CONV_2D v3): " in front, so the op is named once) and the
 * kernels short. Padding and output-size arithmetic follows TFLite's ComputePadding /
 * ComputeOutSize (kernels/padding.h) exactly. */
#ifndef CAMCLASS_INFERENCE_OPS_KERNEL_UTIL_H
#define CAMCLASS_INFERENCE_OPS_KERNEL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"
#include "inference/quant.h"

/* Writes the message into err (no op name: the engine prefixes the operator) and returns -EINVAL. */
int ku_fail(char *err, size_t errlen, const struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Input i of n, or NULL when absent (index -1) or i is out of range. */
struct tensor *ku_in(struct graph *g, const struct node *n, int i);
struct tensor *ku_out(struct graph *g, const struct node *n, int i);

/* Input count within [min, max] (absent optional inputs count), exactly one output, and every
 * input below min present. */
int ku_check_arity(const struct node *n, int min_inputs, int max_inputs, char *err, size_t errlen);

/* t is INT8 or UINT8 and has per-tensor quantization with a positive finite scale and a zero
 * point inside the type's range. ku_check_q8_weights also accepts per-channel quantization (the
 * caller checks the channel count and axis). */
int ku_check_q8(const struct node *n, const struct tensor *t, const char *what, char *err,
		size_t errlen);
int ku_check_q8_weights(const struct node *n, const struct tensor *t, const char *what, char *err,
			size_t errlen);
int ku_check_ndim(const struct node *n, const struct tensor *t, const char *what, int ndim,
		  char *err, size_t errlen);
int ku_check_same_type(const struct node *n, const struct tensor *a, const char *what_a,
		       const struct tensor *b, const char *what_b, char *err, size_t errlen);
/* Output dims equal to the expected ones, else "output shape [1,2] differs from computed [1,3]". */
int ku_check_out_shape(const struct node *n, const struct tensor *out, int ndim,
		       const int32_t *dims, char *err, size_t errlen);
/* The tensor data is not written by anyone (a constant): needed for weights read at prepare. */
int ku_check_const(const struct node *n, const struct tensor *t, const char *what, char *err,
		   size_t errlen);

/* CONV_2D / DEPTHWISE_CONV_2D weights: filter scales positive, one per output channel (along
 * quant_axis) or one in all; int8 filters symmetric (zero point 0), uint8 filters per-tensor;
 * bias absent or a constant INT32 vector of out_ch values. */
int ku_check_conv_weights(const struct node *n, const struct tensor *in,
			  const struct tensor *filter, const struct tensor *bias, int out_ch, int quant_axis, char *err,
			  size_t errlen);
/* Per-output-channel multipliers as TFLite 2.8's PopulateConvolutionQuantizationParams derives
 * them: int8 in double per channel (input_scale * filter_scale[c] / output_scale); uint8 from the
 * float product input_scale * filter_scale (GetQuantizedConvolutionMultipler) — the two differ in
 * the last bit on real models. */
int ku_conv_multipliers(const struct node *n, const struct tensor *in, const struct tensor *filter,
			const struct tensor *out, int out_ch, int32_t *ret_multiplier, int *ret_shift,
			char *err, size_t errlen);

/* The output stage CONV_2D and DEPTHWISE_CONV_2D share: everything between the int32
 * accumulator and the stored byte, fixed at prepare. multiplier and shift point to out_ch
 * elements of the caller's params allocation. */
struct ku_conv_stage {
	int pad_h, pad_w;
	int32_t input_offset;   /* -input zero point */
	int32_t filter_offset;  /* -filter zero point (uint8 only; int8 weights are symmetric) */
	int32_t output_offset;  /* +output zero point */
	int32_t act_min, act_max;
	int32_t *multiplier;    /* per output channel (same value repeated for per-tensor) */
	int *shift;
};

/* Fills st (its multiplier and shift arrays already pointing to out_ch elements) for a
 * windowed op: ku_conv_multipliers, the fused activation's clamp range, TFLite's padding for the
 * output size out has (checked against the op's padding by the caller), and the zero-point offsets. On failure err names the problem. */
int ku_conv_stage_prepare(const struct node *n, const struct tensor *in, const struct tensor *filter,
			  const struct tensor *out, int out_ch, enum activation act, int stride_h,
			  int stride_w, int dil_h, int dil_w, struct ku_conv_stage *st, char *err,
			  size_t errlen);

/* One output value of channel oc from its accumulator: bias added in int32 (wrapping like
 * TFLite, never seen in practice), TFLite's MultiplyByQuantizedMultiplier, the output zero point,
 * the activation clamp. The reference loops' tail; the fast paths' requant kernels compute the
 * same. */
static inline int32_t ku_conv_stage_out(const struct ku_conv_stage *st, const int32_t *bias, int oc,
					int32_t acc)
{
	if (bias)
		acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
	acc = q_mul_by_quantized_multiplier(acc, st->multiplier[oc], st->shift[oc]);
	return q_clamp(acc + st->output_offset, st->act_min, st->act_max);
}

bool ku_same_shape(const struct tensor *a, const struct tensor *b);

/* TFLite ComputeOutSize / ComputePadding. stride, dilation >= 1 (checked by the caller). */
int ku_out_size(enum padding padding, int in_size, int filter_size, int stride, int dilation);
int ku_padding(int stride, int dilation, int in_size, int filter_size, int out_size);

/* Element i of an 8-bit tensor as int32, and the store back, whichever the signedness. */
static inline int32_t ku_load8(bool is_signed, const uint8_t *data, size_t i)
{
	return is_signed ? (int32_t)((const int8_t *)data)[i] : (int32_t)data[i];
}

static inline void ku_store8(bool is_signed, uint8_t *data, size_t i, int32_t v)
{
	if (is_signed)
		((int8_t *)data)[i] = (int8_t)v;
	else
		data[i] = (uint8_t)v;
}

/* Dot products of 8-bit rows with zero-point offsets, the inner loop of CONV_2D and
 * FULLY_CONNECTED: sum of (w + w_off) * (x + x_off). Typed per signedness, and written as blocks
 * of KU_BLOCK with a fixed-length inner loop (plus a scalar tail): at -O2 GCC vectorizes only
 * loops whose trip count it knows, clang vectorizes either way. Integer sums are exact in any
 * order, so the blocking cannot change a result. The caller bounds n so the int32 sum cannot
 * overflow (each term's magnitude is at most 255 * 255). */
#define KU_BLOCK 16

static inline int32_t ku_dot_s8(const int8_t *x, const int8_t *w, int n, int32_t x_off,
				int32_t w_off)
{
	int32_t acc = 0;
	int i = 0;
	for (; i + KU_BLOCK <= n; i += KU_BLOCK) {
		int32_t part = 0;
		for (int j = 0; j < KU_BLOCK; j++)
			part += ((int32_t)w[i + j] + w_off) * ((int32_t)x[i + j] + x_off);
		acc += part;
	}
	for (; i < n; i++)
		acc += ((int32_t)w[i] + w_off) * ((int32_t)x[i] + x_off);
	return acc;
}

static inline int32_t ku_dot_u8(const uint8_t *x, const uint8_t *w, int n, int32_t x_off,
				int32_t w_off)
{
	int32_t acc = 0;
	int i = 0;
	for (; i + KU_BLOCK <= n; i += KU_BLOCK) {
		int32_t part = 0;
		for (int j = 0; j < KU_BLOCK; j++)
			part += ((int32_t)w[i + j] + w_off) * ((int32_t)x[i + j] + x_off);
		acc += part;
	}
	for (; i < n; i++)
		acc += ((int32_t)w[i] + w_off) * ((int32_t)x[i] + x_off);
	return acc;
}

/* Two-input broadcasting (numpy rules, right-aligned): the output dims and, for each input,
 * element strides over those dims (0 where the input has size 1 or lacks the dim). */
struct ku_bcast {
	bool same_shape;
	int ndim;
	int32_t dims[GRAPH_MAX_DIMS];
	int32_t stride_a[GRAPH_MAX_DIMS], stride_b[GRAPH_MAX_DIMS];
};
int ku_broadcast(const struct tensor *a, const struct tensor *b, struct ku_bcast *ret);

/* What every op with constant weights checks first (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED): 2 or 3 inputs (bias optional: *ret_bias may be NULL), 8-bit quantized input,
 * filter and output of one type, a constant filter of filter_ndim dimensions. */
int ku_take_weighted(struct graph *g, struct node *n, int filter_ndim, struct tensor **ret_in,
		     struct tensor **ret_filter, struct tensor **ret_bias, struct tensor **ret_out,
		     char *err, size_t errlen);

/* The common prepare of windowed ops with constant weights (CONV_2D, DEPTHWISE_CONV_2D): 2 or
 * 3 inputs (bias optional: *ret_bias may be NULL), 8-bit quantized 4-D input, filter and output
 * of one type, a constant filter, a known padding, strides and dilations >= 1. Writes the
 * tensors on success; on failure err names the problem. */
int ku_prepare_weighted(struct graph *g, struct node *n, enum padding padding, int stride_h,
			int stride_w, int dil_h, int dil_w, struct tensor **ret_in,
			struct tensor **ret_filter, struct tensor **ret_bias, struct tensor **ret_out,
			char *err, size_t errlen);

/* Steps a broadcast walk to the next output element: idx holds the output coordinates, *ia and
 * *ib the element offsets in the two inputs. */
static inline void ku_bcast_next(const struct ku_bcast *bc, int *idx, size_t *ia, size_t *ib)
{
	for (int d = bc->ndim - 1; d >= 0; d--) {
		*ia += bc->stride_a[d];
		*ib += bc->stride_b[d];
		if (++idx[d] < bc->dims[d])
			return;
		*ia -= (size_t)bc->stride_a[d] * bc->dims[d];
		*ib -= (size_t)bc->stride_b[d] * bc->dims[d];
		idx[d] = 0;
	}
}

/* One output and min_inputs..max_inputs inputs (ku_check_arity), input 0 and output 0 present:
 * the first check of every one-input op, whatever its types (DEQUANTIZE, QUANTIZE, RESHAPE). */
int ku_take_io(struct graph *g, struct node *n, int min_inputs, int max_inputs,
	       struct tensor **ret_in, struct tensor **ret_out, char *err, size_t errlen);

/* What every one-input 8-bit op checks first: one input, 8-bit quantized input and output of
 * one type (shapes are the op's business). */
int ku_take_unary(struct graph *g, struct node *n, struct tensor **ret_in, struct tensor **ret_out,
		  char *err, size_t errlen);

/* The common prepare of one-input element-wise ops (RELU, HARD_SWISH, LOGISTIC, …): 8-bit
 * quantized input and output of one type and one shape. */
int ku_prepare_unary(struct graph *g, struct node *n, struct tensor **ret_in, struct tensor **ret_out,
		     char *err, size_t errlen);

/* The common prepare of two-input element-wise ops (ADD, MUL): two 8-bit quantized inputs and
 * an output of one type, broadcastable input shapes, and the output shape they give. Writes the
 * tensors and the broadcast on success; on failure err names the problem. */
int ku_prepare_binary(struct graph *g, struct node *n, struct tensor **ret_a, struct tensor **ret_b,
		      struct tensor **ret_out, struct ku_bcast *ret_bc, char *err, size_t errlen);

#endif
