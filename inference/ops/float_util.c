/* float_util.c — see float_util.h. */
#include "inference/ops/float_util.h"

#include "inference/ops/kernel_util.h"
#include "inference/quant.h"

int fu_check_f32(const struct node *n, const struct tensor *t, const char *what, char *err, size_t errlen)
{
	if (t->type != TT_FLOAT32)
		return ku_fail(err, errlen, n, "%s has type %s, expected FLOAT32", what, tensor_type_name(t->type));
	return 0;
}

int fu_activation_range(const struct node *n, enum activation act, float *ret_min, float *ret_max,
			char *err, size_t errlen)
{
	float lo = -INFINITY, hi = INFINITY;
	switch (act) {
	case ACT_NONE: break;
	case ACT_RELU: lo = 0.0f; break;
	case ACT_RELU6: lo = 0.0f; hi = 6.0f; break;
	case ACT_RELU_N1_TO_1: lo = -1.0f; hi = 1.0f; break;
	default:
		return ku_fail(err, errlen, n, "unsupported fused activation %s", q_activation_name(act));
	}
	*ret_min = lo;
	*ret_max = hi;
	return 0;
}
