/* engine_info.c — what callers ask about a loaded engine: its input and output tensors (with the
 * 8-bit quantization a float input is turned into), dequantized outputs, the operator list for
 * model-info, and the names of backends and types. Kept apart from engine.c, which loads and
 * runs: nothing here allocates or changes the engine. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "inference/engine.h"
#include "inference/engine_state.h"
#include "inference/graph.h"
#include "inference/metadata.h"
#include "inference/xnnpack.h"

static bool is_q8_per_tensor(const struct tensor *t)
{
	return (t->type == TT_UINT8 || t->type == TT_INT8) && t->nq == 1 && t->scale > 0.0f;
}

/* The per-tensor 8-bit tensor a float32 tensor is quantized into, when exactly one operator reads
 * it and that operator is such a QUANTIZE; else NULL. */
static const struct tensor *quantized_by(const struct graph *g, int ti)
{
	const struct tensor *q = NULL;
	int readers = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const struct node *n = &g->nodes[i];
		for (int k = 0; k < n->ninputs; k++) {
			if (n->inputs[k] != ti)
				continue;
			readers++;
			if (n->op == OP_QUANTIZE && n->noutputs == 1 && n->outputs[0] >= 0 &&
			    n->outputs[0] < g->ntensors)
				q = &g->tensors[n->outputs[0]];
		}
	}
	return readers == 1 && q && is_q8_per_tensor(q) ? q : NULL;
}

static int fill_info(const struct graph *g, int ti, struct eng_tensor_info *ret)
{
	const struct tensor *t = &g->tensors[ti];
	struct eng_tensor_info info = { 0 };
	switch (t->type) {
	case TT_UINT8: info.type = ENG_UINT8; break;
	case TT_INT8: info.type = ENG_INT8; break;
	case TT_INT32: info.type = ENG_INT32; break;
	case TT_FLOAT32: info.type = ENG_FLOAT32; break;
	default: return -ENOTSUP; /* the reader refuses other types */
	}
	info.ndim = t->ndim;
	for (int d = 0; d < t->ndim && d < ENG_MAX_DIMS; d++)
		info.dims[d] = t->dims[d];
	info.bytes = t->bytes;
	info.scale = t->scale;
	info.zero_point = t->zero_point;
	info.name = t->name;
	const struct tensor *q = t->type == TT_FLOAT32 ? quantized_by(g, ti) : t;
	info.quantized_type = ENG_FLOAT32;
	if (q && (q->type == TT_UINT8 || q->type == TT_INT8)) {
		info.quantized_type = q->type == TT_INT8 ? ENG_INT8 : ENG_UINT8;
		info.quantized_scale = q->scale;
		info.quantized_zero_point = q->zero_point;
	}
	info.channels_first = t->ndim == 4 && (t->dims[1] == 1 || t->dims[1] == 3) && t->dims[3] != 1 &&
			      t->dims[3] != 3;
	*ret = info;
	return 0;
}

int eng_input_info(const struct engine *e, struct eng_tensor_info *ret_info)
{
	return fill_info(&e->g, e->input, ret_info);
}

int eng_output_info(const struct engine *e, struct eng_tensor_info *ret_info)
{
	return fill_info(&e->g, e->output, ret_info);
}

void *eng_input(struct engine *e)
{
	return e->g.tensors[e->input].data;
}

const void *eng_output(const struct engine *e)
{
	return e->g.tensors[e->output].data;
}

const char *eng_invoke_error(const struct engine *e)
{
	const char *msg = xnnpack_delegate_error(e->xnn);
	return msg ? msg : "";
}

size_t eng_arena_bytes(const struct engine *e)
{
	return e->arena_bytes;
}

enum eng_backend eng_backend_used(const struct engine *e)
{
	return e->backend;
}

const char *eng_backend_name(enum eng_backend b)
{
	switch (b) {
	case ENG_BACKEND_AUTO: return "auto";
	case ENG_BACKEND_BUILTIN: return "builtin";
	case ENG_BACKEND_XNNPACK: return "xnnpack";
	default: return "unknown";
	}
}

int eng_backend_from_name(const char *name)
{
	if (strcmp(name, "auto") == 0)
		return ENG_BACKEND_AUTO;
	if (strcmp(name, "builtin") == 0)
		return ENG_BACKEND_BUILTIN;
	if (strcmp(name, "xnnpack") == 0)
		return ENG_BACKEND_XNNPACK;
	return -EINVAL;
}

const char *eng_dtype_name(enum eng_dtype t)
{
	switch (t) {
	case ENG_UINT8: return "uint8";
	case ENG_INT8: return "int8";
	case ENG_INT32: return "int32";
	case ENG_FLOAT32: return "float32";
	default: return "unknown";
	}
}

size_t eng_output_count(const struct engine *e)
{
	const struct tensor *t = &e->g.tensors[e->output];
	return t->bytes / tensor_type_size(t->type);
}

float eng_output_value(const struct engine *e, size_t i)
{
	const struct tensor *t = &e->g.tensors[e->output];
	float q;
	if (i >= eng_output_count(e))
		return 0.0f;
	switch (t->type) {
	case TT_UINT8: q = (float)t->data[i]; break;
	case TT_INT8: q = (float)(int8_t)t->data[i]; break;
	case TT_INT32: {
		int32_t v;
		memcpy(&v, t->data + i * 4, 4);
		q = (float)v;
		break;
	}
	case TT_FLOAT32: {
		float v;
		memcpy(&v, t->data + i * 4, 4);
		return v;
	}
	default:
		return 0.0f;
	}
	if (t->nq == 0)
		return q;
	return t->scale * (q - (float)t->zero_point);
}

int eng_op_count(const struct engine *e)
{
	return e->g.nnodes;
}

int eng_op_info(const struct engine *e, int i, const char **ret_name, int *ret_version)
{
	if (i < 0 || i >= e->g.nnodes)
		return -EINVAL;
	*ret_name = builtin_op_name(e->g.nodes[i].op);
	*ret_version = e->g.nodes[i].version;
	return 0;
}

int eng_tensor_count(const struct engine *e)
{
	return e->g.ntensors;
}

int eng_threads(const struct engine *e)
{
	return e->threads;
}

void eng_dequantized_weights(const struct engine *e, int *ret_fp16, int *ret_int8)
{
	*ret_fp16 = e->folded_fp16;
	*ret_int8 = e->folded_int8;
}

const struct eng_metadata *eng_metadata(const struct engine *e)
{
	return &e->meta;
}

int eng_associated_file(const struct engine *e, const char *name, char **ret_data, size_t *ret_len,
			char *err, size_t errlen)
{
	return md_associated_file(e->file, e->file_len, name, ret_data, ret_len, err, errlen);
}

/* The node writing tensor t, or NULL for inputs and constants. */
static const struct node *producer(const struct graph *g, int t)
{
	for (int i = 0; i < g->nnodes; i++)
		for (int k = 0; k < g->nodes[i].noutputs; k++)
			if (g->nodes[i].outputs[k] == t)
				return &g->nodes[i];
	return NULL;
}

int eng_output_is_probabilities(const struct engine *e)
{
	int t = e->output;
	for (int steps = 0; steps < e->g.nnodes; steps++) {
		const struct node *n = producer(&e->g, t);
		if (!n)
			return 0;
		switch (n->op) {
		case OP_SOFTMAX:
		case OP_LOGISTIC:
			return 1;
		case OP_RESHAPE:
		case OP_SQUEEZE:
		case OP_QUANTIZE:
		case OP_DEQUANTIZE:
			if (n->ninputs < 1 || n->inputs[0] < 0)
				return 0;
			t = n->inputs[0];
			break;
		default:
			return 0;
		}
	}
	return 0;
}

int eng_input_transpose_folded(const struct engine *e)
{
	return e->folded_input_transpose;
}
