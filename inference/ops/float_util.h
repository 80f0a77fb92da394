/* float_util.h — what the float32 reference kernels (float_*.c) share: the checks every float
 * prepare starts with and the clamp range of a fused activation. Internal to the kernels.
 *
 * Float kernels follow TensorFlow Lite's reference_ops float loops (same summation order where
 * it is cheap to keep), so results are within float rounding of TFLite's, never bit-exact by
 * contract. Float tensors carry no quantization; a float tensor with one is still computed as
 * plain float (TFLite ignores it there too). */
#ifndef CAMCLASS_INFERENCE_OPS_FLOAT_UTIL_H
#define CAMCLASS_INFERENCE_OPS_FLOAT_UTIL_H

#include <math.h>
#include <stddef.h>

#include "inference/graph.h"

/* t is FLOAT32, else "what has type INT8, expected FLOAT32" (-EINVAL). */
int fu_check_f32(const struct node *n, const struct tensor *t, const char *what, char *err, size_t errlen);
/* Clamp range of a fused activation on float values; -EINVAL (with message) for TANH/SIGN_BIT. */
int fu_activation_range(const struct node *n, enum activation act, float *ret_min, float *ret_max,
			char *err, size_t errlen);
/* The float view of a tensor (arena or aligned constant: the reader checked the alignment). */
static inline float *fu_data(const struct tensor *t)
{
	return (float *)(void *)t->data;
}

static inline float fu_clamp(float v, float lo, float hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* The float kernels, looked up by ops_find_float() (ops.c). */
#endif
