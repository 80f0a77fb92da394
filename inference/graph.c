/* graph.c — small facts about tensor types and op names, used by reader, kernels and tools. */
#include "inference/graph.h"

size_t tensor_type_size(enum tensor_type t)
{
	switch (t) {
	case TT_FLOAT32:
	case TT_INT32:
		return 4;
	case TT_UINT8:
	case TT_INT8:
	case TT_BOOL:
		return 1;
	case TT_INT16:
	case TT_FLOAT16:
		return 2;
	case TT_INT64:
		return 8;
	default:
		return 0;
	}
}

const char *tensor_type_name(enum tensor_type t)
{
	static const char *const names[] = {
		"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64", "INT8",
	};
	if ((int)t >= 0 && (size_t)t < sizeof(names) / sizeof(names[0]))
		return names[t];
	return "UNKNOWN_TYPE";
}

const char *builtin_op_name(int op)
{
	switch (op) {
	case OP_ADD: return "ADD";
	case OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
	case OP_CONCATENATION: return "CONCATENATION";
	case OP_CONV_2D: return "CONV_2D";
	case OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
	case OP_DEQUANTIZE: return "DEQUANTIZE";
	case OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
	case OP_LOGISTIC: return "LOGISTIC";
	case OP_MAX_POOL_2D: return "MAX_POOL_2D";
	case OP_MUL: return "MUL";
	case OP_RELU: return "RELU";
	case OP_RELU6: return "RELU6";
	case OP_RESHAPE: return "RESHAPE";
	case OP_SOFTMAX: return "SOFTMAX";
	case OP_PAD: return "PAD";
	case OP_MEAN: return "MEAN";
	case OP_SQUEEZE: return "SQUEEZE";
	case OP_QUANTIZE: return "QUANTIZE";
	case OP_HARD_SWISH: return "HARD_SWISH";
	case OP_RELU_N1_TO_1: return "RELU_N1_TO_1";
	case OP_TANH: return "TANH";
	case OP_TRANSPOSE: return "TRANSPOSE";
	case OP_SUB: return "SUB";
	case OP_STRIDED_SLICE: return "STRIDED_SLICE";
	case OP_MAXIMUM: return "MAXIMUM";
	case OP_MINIMUM: return "MINIMUM";
	case OP_PADV2: return "PADV2";
	case OP_BATCH_MATMUL: return "BATCH_MATMUL";
	default: return "UNKNOWN";
	}
}

int tensor_num_elements(const struct tensor *t)
{
	long long n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= t->dims[i];
	return (int)n;
}
