/* graph.h — the in-memory form of a loaded model, shared by the model reader (model.c), the
 * planner, the engine and the op kernels (inference/ops/). Not part of the public API: users of
 * the inference module include only inference/engine.h.
 *
 * Ownership: the graph owns every array here. Constant tensor data points into the read-only
 * mmap of the model file (weights are used in place); activation tensors point into the arena,
 * assigned by the planner before the first invoke. Quantization arrays are copied out of the
 * file at load time (the file's vectors need not be aligned), so kernels may read them freely.
 *
 * Thread safety: a graph is used by one thread at a time (the engine's owner). */
#ifndef CAMCLASS_INFERENCE_GRAPH_H
#define CAMCLASS_INFERENCE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRAPH_MAX_DIMS 6
#define GRAPH_MAX_NODE_INPUTS 16 /* CONCATENATION may have many; more is a load error */
#define GRAPH_MAX_NODE_OUTPUTS 4

/* TFLite TensorType values, as stored in the file. */
enum tensor_type {
	TT_FLOAT32 = 0,
	TT_FLOAT16 = 1,
	TT_INT32 = 2,
	TT_UINT8 = 3,
	TT_INT64 = 4,
	TT_STRING = 5,
	TT_BOOL = 6,
	TT_INT16 = 7,
	TT_COMPLEX64 = 8,
	TT_INT8 = 9,
};

/* TFLite BuiltinOperator codes this engine knows (the file's numbering). */
enum builtin_op {
	OP_ADD = 0,
	OP_AVERAGE_POOL_2D = 1,
	OP_CONCATENATION = 2,
	OP_CONV_2D = 3,
	OP_DEPTHWISE_CONV_2D = 4,
	OP_DEQUANTIZE = 6,
	OP_FULLY_CONNECTED = 9,
	OP_LOGISTIC = 14,
	OP_MAX_POOL_2D = 17,
	OP_MUL = 18,
	OP_RELU = 19,
	OP_RELU_N1_TO_1 = 20,
	OP_RELU6 = 21,
	OP_RESHAPE = 22,
	OP_SOFTMAX = 25,
	OP_TANH = 28,
	OP_PAD = 34,
	OP_TRANSPOSE = 39,
	OP_MEAN = 40,
	OP_SUB = 41,
	OP_SQUEEZE = 43,
	OP_STRIDED_SLICE = 45,
	OP_MAXIMUM = 55,
	OP_MINIMUM = 57,
	OP_PADV2 = 60,
	OP_QUANTIZE = 114,
	OP_HARD_SWISH = 117,
	OP_BATCH_MATMUL = 126,
};

/* TFLite Padding and ActivationFunctionType values. */
enum padding { PAD_SAME = 0, PAD_VALID = 1 };
enum activation {
	ACT_NONE = 0,
	ACT_RELU = 1,
	ACT_RELU_N1_TO_1 = 2,
	ACT_RELU6 = 3,
	ACT_TANH = 4,
	ACT_SIGN_BIT = 5,
};

struct tensor {
	enum tensor_type type;
	int ndim;
	int32_t dims[GRAPH_MAX_DIMS];
	size_t bytes;             /* element count × element size, checked against overflow */
	const char *name;         /* NUL-terminated copy, never NULL ("" when absent) */
	bool is_const;            /* has a non-empty buffer in the file */
	bool is_variable;
	uint8_t *data;            /* const: into the mmap (read only!) or owned; else: into the arena */
	void *owned;              /* a constant computed at load (engine_fold.c), freed with the graph */

	/* Quantization. nq == 0: none; 1: per-tensor; > 1: per-channel along quant_axis. */
	int nq;
	float *scales;            /* nq entries */
	int32_t *zero_points;     /* nq entries (stored as int64 in the file; range-checked) */
	int quant_axis;
	float scale;              /* scales[0], or 0 when nq == 0 */
	int32_t zero_point;       /* zero_points[0], or 0 */
};

/* Builtin options, parsed by the model reader for the ops that have them. Fields the file
 * omits hold the flatbuffer schema defaults (0, or 1 for strides/dilations/depth multiplier). */
union op_options {
	struct {
		enum padding padding;
		int stride_w, stride_h, dilation_w, dilation_h;
		enum activation activation;
	} conv;
	struct {
		enum padding padding;
		int stride_w, stride_h, dilation_w, dilation_h, depth_multiplier;
		enum activation activation;
	} depthwise;
	struct {
		enum activation activation;
		int weights_format; /* 0 DEFAULT; anything else is refused at load */
		bool keep_num_dims;
		bool asymmetric_quantize_inputs;
	} fc;
	struct {
		enum padding padding;
		int stride_w, stride_h, filter_w, filter_h;
		enum activation activation;
	} pool;
	struct {
		enum activation activation;
		bool pot_scale_int16;
	} add; /* ADD, SUB and MUL */
	struct {
		bool keep_dims;
	} reducer;
	struct {
		int n; /* -1 when the option is absent (shape comes from the second input) */
		int32_t new_shape[GRAPH_MAX_DIMS];
	} reshape;
	struct {
		int n;
		int32_t dims[GRAPH_MAX_DIMS];
	} squeeze;
	struct {
		float beta;
	} softmax;
	struct {
		int axis;
		enum activation activation;
	} concat;
	struct {
		int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
		bool offset;
	} strided_slice;
	struct {
		bool adj_x, adj_y, asymmetric_quantize_inputs;
	} batch_matmul;
};

struct node {
	int index;                /* operator index in the subgraph, for messages */
	int op;                   /* enum builtin_op value (the larger of the two code fields) */
	int version;
	int ninputs, noutputs;
	int inputs[GRAPH_MAX_NODE_INPUTS];   /* tensor indices; -1 = optional input absent */
	int outputs[GRAPH_MAX_NODE_OUTPUTS];
	union op_options opt;
	void *params;             /* prepared by the kernel's prepare(); freed with free() */
};

struct graph {
	int ntensors;
	struct tensor *tensors;
	int nnodes;
	struct node *nodes;       /* in execution order once the planner ran */
	int ninputs, noutputs;
	int *inputs;              /* subgraph input tensor indices */
	int *outputs;
	const char *name;         /* subgraph or model description, "" if none */
	void *kernel_ctx;         /* per-engine state for kernels (thread pool, …); may be NULL */
};

size_t tensor_type_size(enum tensor_type t); /* 0 for unsupported types */
const char *tensor_type_name(enum tensor_type t);
const char *builtin_op_name(int op);         /* "CONV_2D", …, or "UNKNOWN" */
int tensor_num_elements(const struct tensor *t); /* product of dims (validated to fit) */

#endif
