/* ops.c — the registry of op kernels: builtin op code → kernel. A plain table, so adding an op
 * is one line here plus its file; the engine asks ops_find() while loading a model. */
#include <stddef.h>

#include "inference/ops/ops.h"

extern const struct op_kernel op_add, op_average_pool_2d, op_concatenation, op_conv_2d,
	op_depthwise_conv_2d, op_dequantize, op_fully_connected, op_hard_swish, op_logistic,
	op_max_pool_2d, op_mean, op_mul, op_pad, op_quantize, op_relu, op_relu6, op_reshape, op_softmax,
	op_squeeze;

static const struct op_kernel *const kernels[] = {
	&op_add, &op_average_pool_2d, &op_concatenation, &op_conv_2d, &op_depthwise_conv_2d,
	&op_dequantize, &op_fully_connected, &op_hard_swish, &op_logistic, &op_max_pool_2d,
	&op_mean, &op_mul, &op_pad, &op_quantize, &op_relu, &op_relu6, &op_reshape, &op_softmax,
	&op_squeeze,
};

const struct op_kernel *ops_find(int op)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (kernels[i]->op == op)
			return kernels[i];
	return NULL;
}

static bool fast_kernels = true;

void ops_set_fast_kernels(bool enabled)
{
	fast_kernels = enabled;
}

bool ops_fast_kernels(void)
{
	return fast_kernels;
}
