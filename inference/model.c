/* model.c — TFLite flatbuffer → struct graph. See model.h for the contract.
 *
 * Built as one pass over the schema, top-down (model, buffers, operator codes, the subgraph's
 * tensors, operators, inputs/outputs), each step validating what it copies before anything later
 * relies on it. Field ids below are the declaration order in schema.fbs (a union takes two ids:
 * its type then its value). Options of the ops the engine knows are parsed here so that kernels
 * never see the file. The first error found is reported, naming the table and index. */
#include "inference/model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inference/fbs.h"
#include "inference/model_options.h"
#include "lib/errbuf.h"

#define MODEL_SCHEMA_VERSION 3
#define MODEL_MAX_TENSORS (1 << 16)
#define MODEL_MAX_OPERATORS (1 << 16)
#define OP_CUSTOM 32

struct buffer_ref {
	const uint8_t *data;
	size_t len;
};

struct opcode {
	int op;
	int version;
	const char *custom_name; /* into the file; NULL for builtins */
};

struct reader {
	struct fbs fb;
	char *err;
	size_t errlen;
	struct buffer_ref *buffers;
	uint32_t nbuffers;
	struct opcode *opcodes;
	uint32_t nopcodes;
	struct graph g;
};

static const char *op_label(int op)
{
	const char *name = model_op_name(op);
	return name ? name : "UNKNOWN";
}

static int failf(struct reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(struct reader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vsetf(r->err, r->errlen, code, fmt, ap);
	va_end(ap);
	return code;
}

/* A failed fbs_* call: "corrupt model: <where>: <why> (byte N)". */
static int corrupt(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int corrupt(struct reader *r, const char *fmt, ...)
{
	char where[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	return failf(r, -EBADMSG, "corrupt model: %s: %s (byte %zu)", where,
		     r->fb.why ? r->fb.why : "invalid", r->fb.why_pos);
}

#define FB(call, ...)                                    \
	do {                                             \
		if ((call) < 0)                          \
			return corrupt(r, __VA_ARGS__);  \
	} while (0)

static int read_buffers(struct reader *r, const struct fbs_table *model)
{
	struct fbs_vec v;
	FB(fbs_vector(model, 4, 4, &v), "model buffers");
	r->nbuffers = v.n;
	r->buffers = calloc(v.n ? v.n : 1, sizeof(*r->buffers));
	if (!r->buffers)
		return failf(r, -ENOMEM, "out of memory for %u buffers", v.n);
	for (uint32_t i = 0; i < v.n; i++) {
		struct fbs_table b;
		struct fbs_vec data;
		uint64_t off, size;
		FB(fbs_vec_table(&v, i, &b), "buffer %u", i);
		FB(fbs_vector(&b, 0, 1, &data), "buffer %u data", i);
		FB(fbs_u64(&b, 1, 0, &off), "buffer %u offset", i);
		FB(fbs_u64(&b, 2, 0, &size), "buffer %u size", i);
		if (data.n > 0) {
			r->buffers[i].data = fbs_vec_data(&data);
			r->buffers[i].len = data.n;
		} else if (off > 1) {
			/* >2 GB layout: data outside the flatbuffer, offset from the file start */
			if (off > r->fb.len || size > r->fb.len - off)
				return failf(r, -EBADMSG,
					     "corrupt model: buffer %u: offset %llu size %llu outside the file (%zu bytes)",
					     i, (unsigned long long)off, (unsigned long long)size, r->fb.len);
			r->buffers[i].data = r->fb.buf + off;
			r->buffers[i].len = (size_t)size;
		}
	}
	return 0;
}

static int read_opcodes(struct reader *r, const struct fbs_table *model)
{
	struct fbs_vec v;
	FB(fbs_vector(model, 1, 4, &v), "model operator_codes");
	r->nopcodes = v.n;
	r->opcodes = calloc(v.n ? v.n : 1, sizeof(*r->opcodes));
	if (!r->opcodes)
		return failf(r, -ENOMEM, "out of memory for %u operator codes", v.n);
	for (uint32_t i = 0; i < v.n; i++) {
		struct fbs_table c;
		int8_t deprecated_code;
		int32_t code, version;
		const char *custom;
		size_t custom_len;
		FB(fbs_vec_table(&v, i, &c), "operator code %u", i);
		FB(fbs_i8(&c, 0, 0, &deprecated_code), "operator code %u deprecated_builtin_code", i);
		FB(fbs_string(&c, 1, &custom, &custom_len), "operator code %u custom_code", i);
		FB(fbs_i32(&c, 2, 1, &version), "operator code %u version", i);
		FB(fbs_i32(&c, 3, 0, &code), "operator code %u builtin_code", i);
		/* Older files only fill the byte-sized deprecated field (person_detect does). */
		int op = code > deprecated_code ? code : deprecated_code;
		if (op < 0)
			return failf(r, -EBADMSG, "corrupt model: operator code %u: negative builtin code %d", i, op);
		if (version < 1)
			return failf(r, -EBADMSG, "corrupt model: operator code %u: version %d", i, (int)version);
		r->opcodes[i].op = op;
		r->opcodes[i].version = version;
		r->opcodes[i].custom_name = custom;
		(void)custom_len;
	}
	return 0;
}

static int read_shape(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t,
		      uint64_t *ret_elems)
{
	struct fbs_vec shape, sig;
	uint64_t elems = 1;
	FB(fbs_vector(tt, 0, 4, &shape), "tensor %d shape", i);
	FB(fbs_vector(tt, 7, 4, &sig), "tensor %d shape_signature", i);
	if (shape.n > GRAPH_MAX_DIMS)
		return failf(r, -ENOTSUP, "tensor %d '%s': %u dimensions, at most %d supported", i, t->name,
			     shape.n, GRAPH_MAX_DIMS);
	t->ndim = (int)shape.n;
	for (uint32_t d = 0; d < shape.n; d++) {
		int32_t dim = fbs_vec_i32(&shape, d);
		if (dim < 0)
			return failf(r, -ENOTSUP, "tensor %d '%s': dynamic shape (dimension %u is %d)", i,
				     t->name, d, (int)dim);
		t->dims[d] = dim;
		/* elems <= 2^30 before this step and dim < 2^31: no 64-bit overflow */
		elems *= (uint64_t)dim;
		if (elems > MODEL_MAX_TENSOR_BYTES)
			return failf(r, -ENOTSUP, "tensor %d '%s': shape has too many elements (limit %zu)", i,
				     t->name, MODEL_MAX_TENSOR_BYTES);
	}
	/* An unknown batch (Keras models say [-1, H, W, C]) runs as the stored batch, as TFLite
	 * does without a resize; any other unknown dimension would need shape inference. */
	for (uint32_t d = 0; d < sig.n; d++) {
		int32_t s = fbs_vec_i32(&sig, d);
		if (s < 0 && !(d == 0 && t->ndim > 0 && t->dims[0] == 1))
			return failf(r, -ENOTSUP,
				     "tensor %d '%s': dynamic shape (shape_signature dimension %u is %d); "
				     "convert with a fixed input shape", i, t->name, d, (int)s);
	}
	*ret_elems = elems;
	return 0;
}

static int zero_point_ok(enum tensor_type type, int64_t zp)
{
	switch (type) {
	case TT_INT8:
		return zp >= -128 && zp <= 127;
	case TT_UINT8:
		return zp >= 0 && zp <= 255;
	default:
		return zp >= INT32_MIN && zp <= INT32_MAX;
	}
}

static int read_quantization(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t)
{
	struct fbs_table q;
	struct fbs_vec scale, zp;
	bool present;
	uint8_t details_type;
	int32_t axis;
	FB(fbs_table(tt, 4, &q, &present), "tensor %d quantization", i);
	if (!present)
		return 0;
	FB(fbs_vector(&q, 2, 4, &scale), "tensor %d quantization scale", i);
	FB(fbs_vector(&q, 3, 8, &zp), "tensor %d quantization zero_point", i);
	FB(fbs_u8(&q, 4, 0, &details_type), "tensor %d quantization details", i);
	FB(fbs_i32(&q, 6, 0, &axis), "tensor %d quantized_dimension", i);
	if (details_type != 0)
		return failf(r, -ENOTSUP, "tensor %d '%s': custom quantization is not supported", i, t->name);
	if (scale.n == 0)
		return 0;
	if (zp.n != scale.n)
		return failf(r, -EBADMSG, "tensor %d '%s': %u scales but %u zero points", i, t->name,
			     scale.n, zp.n);
	/* Some converters (person_detect) label 1-D per-channel biases with the filter's axis 3:
	 * the only axis a 1-D tensor has is 0, so read it as that. */
	if (scale.n > 1 && t->ndim == 1 && axis >= 1)
		axis = 0;
	if (scale.n > 1 && (axis < 0 || axis >= t->ndim || (uint32_t)t->dims[axis] != scale.n))
		return failf(r, -EBADMSG,
			     "tensor %d '%s': %u per-channel scales do not match quantized_dimension %d of a %d-D tensor",
			     i, t->name, scale.n, (int)axis, t->ndim);
	t->scales = malloc(scale.n * sizeof(float));
	t->zero_points = malloc(scale.n * sizeof(int32_t));
	if (!t->scales || !t->zero_points)
		return failf(r, -ENOMEM, "out of memory for quantization of tensor %d", i);
	for (uint32_t c = 0; c < scale.n; c++) {
		float s = fbs_vec_f32(&scale, c);
		int64_t z = fbs_vec_i64(&zp, c);
		if (!isfinite(s) || s < 0)
			return failf(r, -EBADMSG, "tensor %d '%s': invalid scale %g at channel %u", i, t->name,
				     (double)s, c);
		if (!zero_point_ok(t->type, z))
			return failf(r, -EBADMSG, "tensor %d '%s': zero point %lld out of range for %s", i,
				     t->name, (long long)z, tensor_type_name(t->type));
		t->scales[c] = s;
		t->zero_points[c] = (int32_t)z;
	}
	t->nq = (int)scale.n;
	t->quant_axis = axis;
	t->scale = t->scales[0];
	t->zero_point = t->zero_points[0];
	return 0;
}

/* Types the reader copies; which ones an op accepts is its kernel's business (FLOAT16 weights
 * are dequantized at load, INT16 activations are refused by name, INT64 paddings are read). */
static bool type_supported(int8_t type)
{
	return type == TT_FLOAT32 || type == TT_INT32 || type == TT_UINT8 || type == TT_INT8 ||
	       type == TT_FLOAT16 || type == TT_INT16 || type == TT_INT64 || type == TT_BOOL;
}

static int read_tensor(struct reader *r, int i, const struct fbs_table *tt, struct tensor *t)
{
	const char *name;
	size_t name_len;
	int8_t type;
	uint32_t buffer;
	bool is_variable, has_sparsity;
	struct fbs_table sparsity;
	uint64_t elems = 0;
	int rc;

	FB(fbs_string(tt, 3, &name, &name_len), "tensor %d name", i);
	t->name = strndup(name ? name : "", name_len);
	if (!t->name)
		return failf(r, -ENOMEM, "out of memory for tensor names");
	FB(fbs_i8(tt, 1, TT_FLOAT32, &type), "tensor %d type", i);
	FB(fbs_u32(tt, 2, 0, &buffer), "tensor %d buffer", i);
	FB(fbs_bool(tt, 5, false, &is_variable), "tensor %d is_variable", i);
	FB(fbs_table(tt, 6, &sparsity, &has_sparsity), "tensor %d sparsity", i);
	if (!type_supported(type))
		return failf(r, -ENOTSUP, "tensor %d '%s': type %s (%d) is not supported (INT8, UINT8, INT16, INT32, INT64, BOOL, FLOAT16, FLOAT32 are)",
			     i, t->name, tensor_type_name((enum tensor_type)type), type);
	t->type = (enum tensor_type)type;
	if (is_variable)
		return failf(r, -ENOTSUP, "tensor %d '%s': variable tensors are not supported", i, t->name);
	if (has_sparsity)
		return failf(r, -ENOTSUP, "tensor %d '%s': sparse tensors are not supported", i, t->name);
	rc = read_shape(r, i, tt, t, &elems);
	if (rc < 0)
		return rc;
	t->bytes = (size_t)elems * tensor_type_size(t->type);
	if (t->bytes > MODEL_MAX_TENSOR_BYTES)
		return failf(r, -ENOTSUP, "tensor %d '%s': %zu bytes, limit %zu", i, t->name, t->bytes,
			     MODEL_MAX_TENSOR_BYTES);
	rc = read_quantization(r, i, tt, t);
	if (rc < 0)
		return rc;
	if (buffer >= r->nbuffers)
		return failf(r, -EBADMSG, "tensor %d '%s': buffer index %u out of range (%u buffers)", i,
			     t->name, buffer, r->nbuffers);
	if (r->buffers[buffer].len > 0) {
		const uint8_t *data = r->buffers[buffer].data;
		if (r->buffers[buffer].len != t->bytes)
			return failf(r, -EBADMSG, "tensor %d '%s': buffer %u has %zu bytes, the shape needs %zu",
				     i, t->name, buffer, r->buffers[buffer].len, t->bytes);
		if ((uintptr_t)data % tensor_type_size(t->type) != 0)
			return failf(r, -EBADMSG, "tensor %d '%s': constant data in buffer %u is misaligned", i,
				     t->name, buffer);
		t->is_const = true;
		t->data = (uint8_t *)data; /* read only: the mapping is PROT_READ */
	}
	return 0;
}

static int read_index_list(struct reader *r, const struct fbs_table *sg, int id, const char *what,
			   int **ret_list, int *ret_n)
{
	struct fbs_vec v;
	FB(fbs_vector(sg, id, 4, &v), "subgraph %s", what);
	if (v.n == 0)
		return failf(r, -ENOTSUP, "model has no %s", what);
	if (v.n > MODEL_MAX_TENSORS)
		return failf(r, -ENOTSUP, "model has %u %s", v.n, what);
	int *list = malloc(v.n * sizeof(int));
	if (!list)
		return failf(r, -ENOMEM, "out of memory for %s", what);
	for (uint32_t k = 0; k < v.n; k++) {
		int32_t t = fbs_vec_i32(&v, k);
		if (t < 0 || t >= r->g.ntensors) {
			free(list);
			return failf(r, -EBADMSG, "subgraph %s %u: tensor index %d out of range (%d tensors)",
				     what, k, (int)t, r->g.ntensors);
		}
		list[k] = t;
	}
	*ret_list = list;
	*ret_n = (int)v.n;
	return 0;
}

static int read_operator(struct reader *r, int i, const struct fbs_table *ot, struct node *n)
{
	uint32_t opcode_index;
	struct fbs_vec in, out;
	const struct opcode *code;
	FB(fbs_u32(ot, 0, 0, &opcode_index), "operator %d opcode_index", i);
	FB(fbs_vector(ot, 1, 4, &in), "operator %d inputs", i);
	FB(fbs_vector(ot, 2, 4, &out), "operator %d outputs", i);
	if (opcode_index >= r->nopcodes)
		return failf(r, -EBADMSG, "operator %d: opcode index %u out of range (%u operator codes)", i,
			     opcode_index, r->nopcodes);
	code = &r->opcodes[opcode_index];
	if (code->op == OP_CUSTOM || code->custom_name)
		return failf(r, -ENOTSUP, "operator %d: custom op '%s' is not supported", i,
			     code->custom_name ? code->custom_name : "");
	n->index = i;
	n->op = code->op;
	n->version = code->version;
	if (in.n > GRAPH_MAX_NODE_INPUTS || out.n > GRAPH_MAX_NODE_OUTPUTS)
		return failf(r, -ENOTSUP, "operator %d (%s): %u inputs and %u outputs, at most %d and %d supported",
			     i, op_label(n->op), in.n, out.n, GRAPH_MAX_NODE_INPUTS, GRAPH_MAX_NODE_OUTPUTS);
	n->ninputs = (int)in.n;
	n->noutputs = (int)out.n;
	for (uint32_t k = 0; k < in.n; k++) {
		int32_t t = fbs_vec_i32(&in, k);
		if (t < -1 || t >= r->g.ntensors)
			return failf(r, -EBADMSG, "operator %d (%s): input %u refers to tensor %d (%d tensors)", i,
				     op_label(n->op), k, (int)t, r->g.ntensors);
		n->inputs[k] = t;
	}
	for (uint32_t k = 0; k < out.n; k++) {
		int32_t t = fbs_vec_i32(&out, k);
		if (t < 0 || t >= r->g.ntensors)
			return failf(r, -EBADMSG, "operator %d (%s): output %u refers to tensor %d (%d tensors)", i,
				     op_label(n->op), k, (int)t, r->g.ntensors);
		n->outputs[k] = t;
	}
	return model_read_options(&r->fb, ot, n, r->err, r->errlen);
}

static int read_subgraph(struct reader *r, const struct fbs_table *sg)
{
	struct fbs_vec tensors, ops;
	const char *name;
	size_t name_len;
	int rc;

	FB(fbs_vector(sg, 0, 4, &tensors), "subgraph tensors");
	FB(fbs_vector(sg, 3, 4, &ops), "subgraph operators");
	FB(fbs_string(sg, 4, &name, &name_len), "subgraph name");
	if (tensors.n > MODEL_MAX_TENSORS || ops.n > MODEL_MAX_OPERATORS)
		return failf(r, -ENOTSUP, "model has %u tensors and %u operators, limits are %d and %d",
			     tensors.n, ops.n, MODEL_MAX_TENSORS, MODEL_MAX_OPERATORS);
	r->g.name = strndup(name ? name : "", name_len);
	r->g.tensors = calloc(tensors.n ? tensors.n : 1, sizeof(struct tensor));
	r->g.nodes = calloc(ops.n ? ops.n : 1, sizeof(struct node));
	if (!r->g.name || !r->g.tensors || !r->g.nodes)
		return failf(r, -ENOMEM, "out of memory for %u tensors", tensors.n);
	for (uint32_t i = 0; i < tensors.n; i++) {
		struct fbs_table tt;
		FB(fbs_vec_table(&tensors, i, &tt), "tensor %u", i);
		r->g.ntensors = (int)i + 1; /* so model_free_graph frees what was copied so far */
		rc = read_tensor(r, (int)i, &tt, &r->g.tensors[i]);
		if (rc < 0)
			return rc;
	}
	r->g.ntensors = (int)tensors.n;
	rc = read_index_list(r, sg, 1, "inputs", &r->g.inputs, &r->g.ninputs);
	if (rc < 0)
		return rc;
	rc = read_index_list(r, sg, 2, "outputs", &r->g.outputs, &r->g.noutputs);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < ops.n; i++) {
		struct fbs_table ot;
		FB(fbs_vec_table(&ops, i, &ot), "operator %u", i);
		rc = read_operator(r, (int)i, &ot, &r->g.nodes[i]);
		if (rc < 0)
			return rc;
		r->g.nnodes = (int)i + 1;
	}
	return 0;
}

static int read_model(struct reader *r)
{
	struct fbs_table model, sg;
	struct fbs_vec subgraphs;
	uint32_t version;
	int rc;

	if (fbs_root(&r->fb, "TFL3", &model) < 0) {
		if (r->fb.why_pos == 4)
			return failf(r, -EBADMSG, "not a TFLite model (file identifier is not TFL3)");
		return corrupt(r, "model root");
	}
	FB(fbs_u32(&model, 0, 0, &version), "model version");
	if (version != MODEL_SCHEMA_VERSION)
		return failf(r, -ENOTSUP, "TFLite schema version %u is not supported (expected %d)", version,
			     MODEL_SCHEMA_VERSION);
	FB(fbs_vector(&model, 2, 4, &subgraphs), "model subgraphs");
	if (subgraphs.n != 1)
		return failf(r, -ENOTSUP, "model has %u subgraphs; only single-subgraph models are supported",
			     subgraphs.n);
	rc = read_buffers(r, &model);
	if (rc < 0)
		return rc;
	rc = read_opcodes(r, &model);
	if (rc < 0)
		return rc;
	FB(fbs_vec_table(&subgraphs, 0, &sg), "subgraph 0");
	return read_subgraph(r, &sg);
}

int model_read(const uint8_t *buf, size_t len, struct graph *ret_graph, char *err, size_t errlen)
{
	struct reader r = { .fb = { .buf = buf, .len = len }, .err = err, .errlen = errlen };
	int rc = read_model(&r);
	free(r.buffers);
	free(r.opcodes);
	if (rc < 0) {
		model_free_graph(&r.g);
		return rc;
	}
	*ret_graph = r.g;
	return 0;
}

void model_free_graph(struct graph *g)
{
	for (int i = 0; g->tensors && i < g->ntensors; i++) {
		free((char *)g->tensors[i].name);
		free(g->tensors[i].scales);
		free(g->tensors[i].zero_points);
		free(g->tensors[i].owned);
	}
	for (int i = 0; g->nodes && i < g->nnodes; i++)
		free(g->nodes[i].params);
	free(g->tensors);
	free(g->nodes);
	free(g->inputs);
	free(g->outputs);
	free((char *)g->name);
	memset(g, 0, sizeof(*g));
}
