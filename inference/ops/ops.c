/* ops.c — the registry of op kernels: builtin op code → kernel, one table for the 8-bit kernels
 * and one for the float32 ones. Plain tables, so adding an op is one line here plus its file;
 * the engine asks ops_find_for() while loading a model. */
#include <stddef.h>

#include "inference/ops/ops.h"

extern const struct op_kernel op_add, op_average_pool_2d, op_concatenation, op_conv_2d,
	op_depthwise_conv_2d, op_dequantize, op_fully_connected, op_hard_swish, op_logistic,
	op_max_pool_2d, op_mean, op_mul, op_pad, op_quantize, op_relu, op_relu6, op_reshape, op_softmax,
	op_squeeze, op_padv2, op_transpose, op_strided_slice, op_sub, op_maximum, op_minimum,
	op_batch_matmul;
/* float32 kernels (float_*.c); shape ops and PAD are the same kernels for every type */
extern const struct op_kernel op_float_conv_2d, op_float_depthwise_conv_2d, op_float_fully_connected,
	op_float_relu, op_float_relu6, op_float_relu_n1_to_1, op_float_hard_swish, op_float_logistic,
	op_float_tanh, op_float_add, op_float_sub, op_float_mul, op_float_maximum, op_float_minimum,
	op_float_average_pool_2d, op_float_max_pool_2d, op_float_mean, op_float_softmax;

static const struct op_kernel *const kernels[] = {
	&op_add, &op_average_pool_2d, &op_concatenation, &op_conv_2d, &op_depthwise_conv_2d,
	&op_dequantize, &op_fully_connected, &op_hard_swish, &op_logistic, &op_max_pool_2d,
	&op_mean, &op_mul, &op_pad, &op_quantize, &op_relu, &op_relu6, &op_reshape, &op_softmax,
	&op_squeeze, &op_padv2, &op_transpose, &op_strided_slice, &op_sub, &op_maximum, &op_minimum,
	&op_batch_matmul,
};

static const struct op_kernel *const float_kernels[] = {
	&op_float_conv_2d, &op_float_depthwise_conv_2d, &op_float_fully_connected, &op_float_relu,
	&op_float_relu6, &op_float_relu_n1_to_1, &op_float_hard_swish, &op_float_logistic, &op_float_tanh,
	&op_float_add, &op_float_sub, &op_float_mul, &op_float_maximum, &op_float_minimum,
	&op_float_average_pool_2d, &op_float_max_pool_2d, &op_float_mean, &op_float_softmax,
	&op_concatenation, &op_pad, &op_padv2, &op_reshape, &op_squeeze, &op_transpose, &op_strided_slice,
	&op_batch_matmul,
};

const struct op_kernel *ops_find(int op)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (kernels[i]->op == op)
			return kernels[i];
	return NULL;
}

const struct op_kernel *ops_find_float(int op)
{
	for (size_t i = 0; i < sizeof(float_kernels) / sizeof(float_kernels[0]); i++)
		if (float_kernels[i]->op == op)
			return float_kernels[i];
	return NULL;
}

/* A node computes in float when a tensor it reads or writes is float32, except the two ops that
 * cross between float and 8-bit (their own kernels handle both sides). */
bool ops_node_is_float(const struct graph *g, const struct node *n)
{
	if (n->op == OP_QUANTIZE || n->op == OP_DEQUANTIZE)
		return false;
	for (int k = 0; k < n->ninputs + n->noutputs; k++) {
		int t = k < n->ninputs ? n->inputs[k] : n->outputs[k - n->ninputs];
		if (t >= 0 && t < g->ntensors && g->tensors[t].type == TT_FLOAT32)
			return true;
	}
	return false;
}

const struct op_kernel *ops_find_for(const struct graph *g, const struct node *n)
{
	return ops_node_is_float(g, n) ? ops_find_float(n->op) : ops_find(n->op);
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
