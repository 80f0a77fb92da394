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
#include "inference/model_reader.h"

#define MODEL_SCHEMA_VERSION 3
#define MODEL_MAX_TENSORS (1 << 16)
#define MODEL_MAX_OPERATORS (1 << 16)
#define OP_CUSTOM 32

static const char *op_label(int op)
{
	const char *name = model_op_name(op);
	return name ? name : "UNKNOWN";
}

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
		rc = model_read_tensor(r, (int)i, &tt, &r->g.tensors[i]);
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
