/* test_model.c — inference/model.c (reader), inference/plan.c (planner) and eng_load()'s
 * refusals, fed hostile models: truncated at every length, offsets and lengths past the end,
 * huge dimensions, dangling or cyclic tensor references, wrong buffer sizes, unsupported
 * ops/types/shapes, two subgraphs. Each must come back as an error whose message names the
 * problem — never a crash (run this under ASan: make SANITIZE=1).
 *
 * Small models are built here by a tiny FlatBuffer writer (independent of the reader: it lays
 * tables out front to back and patches offsets), from a spec that each test mutates; real
 * models from ../shared/models are mutated in place through a separate, unchecked navigator
 * that is only ever pointed at known-good files. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/engine.h"
#include "inference/graph.h"
#include "inference/model.h"
#include "inference/plan.h"
#include "tests/testutil.h"

/* ---- a minimal FlatBuffer writer -------------------------------------------------------- */

struct fbb {
	uint8_t *p;
	size_t len, cap;
};

static size_t fbb_reserve(struct fbb *b, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memset(b->p + b->len, 0, n);
	b->len += n;
	return b->len - n;
}

static void fbb_pad_to(struct fbb *b, size_t extra, size_t align)
{
	while ((b->len + extra) % align)
		fbb_reserve(b, 1);
}

static void w16(struct fbb *b, size_t pos, uint16_t v) { b->p[pos] = (uint8_t)v; b->p[pos + 1] = (uint8_t)(v >> 8); }
static void w32(struct fbb *b, size_t pos, uint32_t v) { w16(b, pos, (uint16_t)v); w16(b, pos + 2, (uint16_t)(v >> 16)); }
static void w64(struct fbb *b, size_t pos, uint64_t v) { w32(b, pos, (uint32_t)v); w32(b, pos + 4, (uint32_t)(v >> 32)); }
static void patch(struct fbb *b, size_t slot, size_t target) { w32(b, slot, (uint32_t)(target - slot)); }

#define REF 0 /* field size 0: a uoffset, patched later through slot[id] */
struct fld {
	int id, size;
	uint64_t val;
};

/* Writes vtable then table; slot[id] receives the position of each REF field. */
static size_t fbb_table(struct fbb *b, int n, const struct fld *f, size_t slot[16])
{
	int maxid = -1;
	size_t off[16] = { 0 }, end = 4;
	for (int i = 0; i < n; i++)
		maxid = f[i].id > maxid ? f[i].id : maxid;
	fbb_pad_to(b, 0, 2);
	size_t vt = fbb_reserve(b, 4 + 2 * (size_t)(maxid + 1));
	for (int i = 0; i < n; i++) {
		size_t sz = f[i].size ? (size_t)f[i].size : 4;
		end = (end + sz - 1) / sz * sz;
		off[i] = end;
		end += sz;
	}
	fbb_pad_to(b, 0, 8);
	size_t t = fbb_reserve(b, end);
	w32(b, t, (uint32_t)(t - vt));
	w16(b, vt, (uint16_t)(4 + 2 * (maxid + 1)));
	w16(b, vt + 2, (uint16_t)end);
	for (int i = 0; i < n; i++) {
		w16(b, vt + 4 + 2 * (size_t)f[i].id, (uint16_t)off[i]);
		switch (f[i].size) {
		case REF: slot[f[i].id] = t + off[i]; break;
		case 1: b->p[t + off[i]] = (uint8_t)f[i].val; break;
		case 4: w32(b, t + off[i], (uint32_t)f[i].val); break;
		case 8: w64(b, t + off[i], f[i].val); break;
		}
	}
	return t;
}

/* A vector of n elements of es bytes (little-endian host data), aligned for its elements. */
static size_t fbb_vec(struct fbb *b, uint32_t n, size_t es, const void *data, size_t align)
{
	fbb_pad_to(b, 4, align);
	size_t pos = fbb_reserve(b, 4 + n * es);
	w32(b, pos, n);
	if (n && data)
		memcpy(b->p + pos + 4, data, n * es);
	return pos;
}

static size_t fbb_str(struct fbb *b, const char *s)
{
	fbb_pad_to(b, 0, 4);
	size_t n = strlen(s), pos = fbb_reserve(b, 4 + n + 1);
	w32(b, pos, (uint32_t)n);
	memcpy(b->p + pos + 4, s, n);
	return pos;
}

/* ---- a model spec and its serialisation -------------------------------------------------- */

struct t_tensor {
	int type;
	int ndim;
	int32_t dims[8];
	uint32_t buffer;
	const char *name;
	int nq;
	float scales[4];
	int64_t zps[4];
	int qdim;
	int nsig;
	int32_t sig[8];
};

struct t_op {
	uint32_t opcode;
	int nin, nout;
	int32_t in[20], out[4];
	int opt_type;
	int nopt;
	struct fld opt[8];
};

struct t_opcode {
	int dep, code, version;
	const char *custom;
};

struct t_buffer {
	uint32_t len;
	uint8_t data[64];
	uint64_t offset, size;
};

struct t_model {
	uint32_t version;
	int nsub;
	int ncodes, nbuf, nt, nops, nin, nout;
	struct t_opcode codes[4];
	struct t_buffer bufs[4];
	struct t_tensor t[8];
	struct t_op ops[4];
	int32_t in[2], out[2];
};

static void put_tensor(struct fbb *b, size_t slot, const struct t_tensor *t)
{
	size_t s[16] = { 0 }, q[16] = { 0 };
	struct fld f[8];
	int n = 0;
	f[n++] = (struct fld){ 0, REF, 0 };
	f[n++] = (struct fld){ 1, 1, (uint64_t)t->type };
	f[n++] = (struct fld){ 2, 4, t->buffer };
	f[n++] = (struct fld){ 3, REF, 0 };
	if (t->nq)
		f[n++] = (struct fld){ 4, REF, 0 };
	if (t->nsig)
		f[n++] = (struct fld){ 7, REF, 0 };
	patch(b, slot, fbb_table(b, n, f, s));
	patch(b, s[0], fbb_vec(b, (uint32_t)t->ndim, 4, t->dims, 4));
	patch(b, s[3], fbb_str(b, t->name ? t->name : ""));
	if (t->nsig)
		patch(b, s[7], fbb_vec(b, (uint32_t)t->nsig, 4, t->sig, 4));
	if (t->nq) {
		struct fld qf[] = { { 2, REF, 0 }, { 3, REF, 0 }, { 6, 4, (uint64_t)t->qdim } };
		patch(b, s[4], fbb_table(b, 3, qf, q));
		patch(b, q[2], fbb_vec(b, (uint32_t)t->nq, 4, t->scales, 4));
		patch(b, q[3], fbb_vec(b, (uint32_t)t->nq, 8, t->zps, 8));
	}
}

static void put_op(struct fbb *b, size_t slot, const struct t_op *o)
{
	size_t s[16] = { 0 }, os[16] = { 0 };
	struct fld f[] = { { 0, 4, o->opcode }, { 1, REF, 0 }, { 2, REF, 0 }, { 3, 1, (uint64_t)o->opt_type },
			   { 4, REF, 0 } };
	patch(b, slot, fbb_table(b, o->opt_type ? 5 : 4, f, s));
	patch(b, s[1], fbb_vec(b, (uint32_t)o->nin, 4, o->in, 4));
	patch(b, s[2], fbb_vec(b, (uint32_t)o->nout, 4, o->out, 4));
	if (o->opt_type)
		patch(b, s[4], fbb_table(b, o->nopt, o->opt, os));
}

static size_t put_offsets(struct fbb *b, size_t slot, uint32_t n)
{
	size_t v = fbb_vec(b, n, 4, NULL, 4);
	patch(b, slot, v);
	return v + 4;
}

static uint8_t *build(const struct t_model *m, size_t *ret_len)
{
	struct fbb b = { 0 };
	size_t ms[16] = { 0 }, v;
	fbb_reserve(&b, 8);
	memcpy(b.p + 4, "TFL3", 4);
	struct fld mf[] = { { 0, 4, m->version }, { 1, REF, 0 }, { 2, REF, 0 }, { 4, REF, 0 } };
	patch(&b, 0, fbb_table(&b, 4, mf, ms));

	v = put_offsets(&b, ms[1], (uint32_t)m->ncodes);
	for (int i = 0; i < m->ncodes; i++) {
		const struct t_opcode *c = &m->codes[i];
		size_t s[16] = { 0 };
		struct fld f[] = { { 0, 1, (uint64_t)c->dep }, { 2, 4, (uint64_t)c->version },
				   { 3, 4, (uint64_t)c->code }, { 1, REF, 0 } };
		patch(&b, v + 4 * (size_t)i, fbb_table(&b, c->custom ? 4 : 3, f, s));
		if (c->custom)
			patch(&b, s[1], fbb_str(&b, c->custom));
	}
	size_t sv = put_offsets(&b, ms[2], (uint32_t)m->nsub);
	for (int k = 0; k < m->nsub; k++) {
		size_t s[16] = { 0 };
		struct fld f[] = { { 0, REF, 0 }, { 1, REF, 0 }, { 2, REF, 0 }, { 3, REF, 0 }, { 4, REF, 0 } };
		patch(&b, sv + 4 * (size_t)k, fbb_table(&b, 5, f, s));
		v = put_offsets(&b, s[0], (uint32_t)m->nt);
		for (int i = 0; i < m->nt; i++)
			put_tensor(&b, v + 4 * (size_t)i, &m->t[i]);
		patch(&b, s[1], fbb_vec(&b, (uint32_t)m->nin, 4, m->in, 4));
		patch(&b, s[2], fbb_vec(&b, (uint32_t)m->nout, 4, m->out, 4));
		v = put_offsets(&b, s[3], (uint32_t)m->nops);
		for (int i = 0; i < m->nops; i++)
			put_op(&b, v + 4 * (size_t)i, &m->ops[i]);
		patch(&b, s[4], fbb_str(&b, "main"));
	}
	v = put_offsets(&b, ms[4], (uint32_t)m->nbuf);
	for (int i = 0; i < m->nbuf; i++) {
		const struct t_buffer *bu = &m->bufs[i];
		size_t s[16] = { 0 };
		struct fld f[3];
		int n = 0;
		if (bu->len)
			f[n++] = (struct fld){ 0, REF, 0 };
		if (bu->offset)
			f[n++] = (struct fld){ 1, 8, bu->offset };
		if (bu->size)
			f[n++] = (struct fld){ 2, 8, bu->size };
		patch(&b, v + 4 * (size_t)i, fbb_table(&b, n, f, s));
		if (bu->len)
			patch(&b, s[0], fbb_vec(&b, bu->len, 1, bu->data, 16));
	}
	*ret_len = b.len;
	return b.p;
}

/* The base model: a 4-input, 2-class int8 classifier, FULLY_CONNECTED then SOFTMAX.
 * Tensors: 0 input [1,4], 1 weights [2,4] (buffer 1), 2 bias [2] int32 (buffer 2),
 * 3 logits [1,2], 4 probabilities [1,2]. */
static struct t_model tiny(void)
{
	struct t_model m = {
		.version = 3, .nsub = 1, .ncodes = 2, .nbuf = 3, .nt = 5, .nops = 2, .nin = 1, .nout = 1,
		.codes = { { .dep = OP_FULLY_CONNECTED, .code = OP_FULLY_CONNECTED, .version = 4 },
			   { .dep = OP_SOFTMAX, .code = 0, .version = 2 } },
		.bufs = { { 0 }, { .len = 8, .data = { 1, 2, 3, 4, (uint8_t)-1, (uint8_t)-2, (uint8_t)-3, (uint8_t)-4 } },
			  { .len = 8, .data = { 10, 0, 0, 0, 0xf6, 0xff, 0xff, 0xff } } },
		.t = {
			{ .type = TT_INT8, .ndim = 2, .dims = { 1, 4 }, .name = "input", .nq = 1,
			  .scales = { 0.5f }, .zps = { -1 }, .nsig = 2, .sig = { -1, 4 } },
			{ .type = TT_INT8, .ndim = 2, .dims = { 2, 4 }, .buffer = 1, .name = "weights", .nq = 1,
			  .scales = { 0.25f }, .zps = { 0 } },
			{ .type = TT_INT32, .ndim = 1, .dims = { 2 }, .buffer = 2, .name = "bias", .nq = 1,
			  .scales = { 0.125f }, .zps = { 0 } },
			{ .type = TT_INT8, .ndim = 2, .dims = { 1, 2 }, .name = "logits", .nq = 1,
			  .scales = { 0.1f }, .zps = { 3 } },
			{ .type = TT_INT8, .ndim = 2, .dims = { 1, 2 }, .name = "probs", .nq = 1,
			  .scales = { 1.0f / 256 }, .zps = { -128 } },
		},
		.ops = {
			{ .opcode = 0, .nin = 3, .in = { 0, 1, 2 }, .nout = 1, .out = { 3 }, .opt_type = 8,
			  .nopt = 1, .opt = { { 0, 1, ACT_RELU } } },
			{ .opcode = 1, .nin = 1, .in = { 3 }, .nout = 1, .out = { 4 }, .opt_type = 9,
			  .nopt = 1, .opt = { { 0, 4, 0x3f800000 /* 1.0f */ } } },
		},
		.in = { 0 }, .out = { 4 },
	};
	return m;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static char err[512];

/* Reads buf through an exact-size copy (so ASan sees any read past its end). */
static int read_copy(const uint8_t *buf, size_t len, struct graph *g)
{
	uint8_t *copy = aligned_alloc(64, len ? (len + 63) / 64 * 64 : 64);
	assert_non_null(copy);
	memcpy(copy, buf, len);
	err[0] = 0;
	int rc = model_read(copy, len, g, err, sizeof(err));
	if (rc == 0)
		model_free_graph(g);
	free(copy);
	return rc;
}

static void expect_read_error(const struct t_model *m, int code, const char *needle)
{
	size_t len;
	struct graph g;
	uint8_t *buf = build(m, &len);
	int rc = read_copy(buf, len, &g);
	free(buf);
	if (rc != code || !strstr(err, needle))
		fail_msg("expected error %d containing \"%s\", got %d: \"%s\"", code, needle, rc, err);
}

/* Reads and plans m; returns the planner's result (err holds its message). */
static int plan_model(const struct t_model *m)
{
	size_t len, arena_bytes;
	struct graph g;
	void *arena = NULL;
	uint8_t *buf = build(m, &len);
	int rc = model_read(buf, len, &g, err, sizeof(err));
	assert_int_equal(rc, 0);
	rc = plan_graph(&g, (size_t)1 << 30, &arena, &arena_bytes, err, sizeof(err));
	free(arena);
	model_free_graph(&g);
	free(buf);
	return rc;
}

static int load_model(const struct t_model *m, struct engine **ret)
{
	size_t len;
	uint8_t *buf = build(m, &len);
	err[0] = 0;
	/* the builtin engine: these tests are about reading and planning, not backend choice */
	static const struct eng_options builtin = { .backend = ENG_BACKEND_BUILTIN, .threads = 1 };
	int rc = eng_load_memory(buf, len, "tiny.tflite", &builtin, ret, err, sizeof(err));
	free(buf);
	return rc;
}

static void expect_load_error(const struct t_model *m, const char *needle)
{
	struct engine *e = NULL;
	int rc = load_model(m, &e);
	if (rc == 0)
		eng_free(e);
	if (rc >= 0 || !strstr(err, needle))
		fail_msg("expected a load error containing \"%s\", got %d: \"%s\"", needle, rc, err);
}

/* Unchecked navigation of known-good real models, to mutate them precisely. */
static uint32_t r32(const uint8_t *b, size_t pos) { return b[pos] | b[pos + 1] << 8 | b[pos + 2] << 16 | (uint32_t)b[pos + 3] << 24; }
static size_t deref(const uint8_t *b, size_t pos) { return pos + r32(b, pos); }
static size_t field_at(const uint8_t *b, size_t table, int id)
{
	size_t vt = (size_t)((int64_t)table - (int32_t)r32(b, table));
	size_t vt_len = b[vt] | b[vt + 1] << 8, slot = vt + 4 + 2 * (size_t)id;
	assert_true(slot + 2 <= vt_len + vt);
	size_t off = b[slot] | b[slot + 1] << 8;
	assert_true(off != 0);
	return table + off;
}
static size_t subgraph0(const uint8_t *b) { return deref(b, deref(b, field_at(b, deref(b, 0), 2)) + 4); }
static size_t tensor_table(const uint8_t *b, int k) { return deref(b, deref(b, field_at(b, subgraph0(b), 0)) + 4 + 4 * (size_t)k); }

/* ---- tests: the base model is valid -------------------------------------------------------- */

static void tiny_model_reads_as_specified(void **state)
{
	(void)state;
	struct t_model m = tiny();
	size_t len;
	struct graph g;
	/* per-channel weights and bias, the bias labelled with the filter's axis 3 (person_detect) */
	m.t[1].nq = m.t[2].nq = 2;
	m.t[1].scales[1] = 0.125f;
	m.t[2].scales[1] = 0.0625f;
	m.t[2].qdim = 3;
	uint8_t *buf = build(&m, &len);
	assert_int_equal(model_read(buf, len, &g, err, sizeof(err)), 0);
	assert_int_equal(g.ntensors, 5);
	assert_int_equal(g.nnodes, 2);
	assert_int_equal(g.nodes[0].op, OP_FULLY_CONNECTED);
	assert_int_equal(g.nodes[0].version, 4);
	assert_int_equal(g.nodes[1].op, OP_SOFTMAX); /* only in deprecated_builtin_code */
	assert_int_equal(g.nodes[0].opt.fc.activation, ACT_RELU);
	assert_true(g.nodes[1].opt.softmax.beta == 1.0f);
	assert_string_equal(g.tensors[1].name, "weights");
	assert_true(g.tensors[1].is_const);
	assert_memory_equal(g.tensors[1].data, m.bufs[1].data, 8);
	assert_int_equal(g.tensors[1].bytes, 8);
	assert_int_equal(g.tensors[2].bytes, 8);
	assert_int_equal(g.tensors[1].nq, 2);
	assert_true(g.tensors[1].scales[1] == 0.125f);
	assert_int_equal(g.tensors[2].quant_axis, 0); /* a 1-D bias labelled axis 3 reads as axis 0 */
	assert_int_equal(g.tensors[0].zero_point, -1);
	assert_int_equal(g.tensors[0].dims[0], 1); /* unknown batch in shape_signature runs as 1 */
	assert_false(g.tensors[3].is_const);
	model_free_graph(&g);
	free(buf);
}

static void tiny_model_plans_in_order_with_aligned_arena(void **state)
{
	(void)state;
	struct t_model m = tiny();
	size_t len, arena_bytes;
	struct graph g;
	void *arena;
	/* file order reversed: the planner must restore the dataflow order */
	struct t_op tmp = m.ops[0];
	m.ops[0] = m.ops[1];
	m.ops[1] = tmp;
	uint8_t *buf = build(&m, &len);
	assert_int_equal(model_read(buf, len, &g, err, sizeof(err)), 0);
	assert_int_equal(plan_graph(&g, (size_t)1 << 30, &arena, &arena_bytes, err, sizeof(err)), 0);
	assert_int_equal(g.nodes[0].op, OP_FULLY_CONNECTED);
	assert_int_equal(g.nodes[0].index, 1);
	assert_int_equal(g.nodes[1].op, OP_SOFTMAX);
	for (int t = 0; t < g.ntensors; t++) {
		assert_non_null(g.tensors[t].data);
		if (!g.tensors[t].is_const) {
			assert_true((uint8_t *)g.tensors[t].data >= (uint8_t *)arena);
			assert_true((uint8_t *)g.tensors[t].data + g.tensors[t].bytes <= (uint8_t *)arena + arena_bytes);
			assert_int_equal((uintptr_t)g.tensors[t].data % PLAN_ALIGN, 0);
		}
	}
	/* input, logits and probs are all live while SOFTMAX runs (the input lives throughout) */
	assert_int_equal(arena_bytes, 3 * PLAN_ALIGN);
	free(arena);
	model_free_graph(&g);
	free(buf);
}

/* plan_arena() gives no memory to the tensors it is told to skip (the XNNPACK backend's
 * runtime-internal ones), but always to the graph's input and output. */
static void skipped_tensors_get_no_arena_memory_but_graph_inputs_and_outputs_do(void **state)
{
	(void)state;
	struct t_model m = tiny();
	size_t len, arena_bytes;
	struct graph g;
	void *arena;
	bool skip[5] = { true, true, true, true, true };
	uint8_t *buf = build(&m, &len);
	assert_int_equal(model_read(buf, len, &g, err, sizeof(err)), 0);
	assert_int_equal(g.ntensors, 5);
	assert_int_equal(plan_order(&g, err, sizeof(err)), 0);
	assert_int_equal(plan_arena(&g, skip, (size_t)1 << 30, &arena, &arena_bytes, err, sizeof(err)), 0);
	assert_non_null(g.tensors[0].data);  /* input */
	assert_null(g.tensors[3].data);      /* logits: between the two operators */
	assert_non_null(g.tensors[4].data);  /* probs: the output */
	assert_non_null(g.tensors[1].data);  /* constants keep pointing into the file */
	assert_int_equal(arena_bytes, 2 * PLAN_ALIGN);
	free(arena);
	model_free_graph(&g);
	free(buf);
}

/* ---- tests: corrupt files ------------------------------------------------------------------- */

static void every_prefix_of_tiny_model_is_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	size_t len;
	struct graph g;
	uint8_t *buf = build(&m, &len);
	assert_int_equal(read_copy(buf, len, &g), 0);
	for (size_t n = 0; n < len; n++) {
		int rc = read_copy(buf, n, &g);
		if (rc >= 0 || !err[0])
			fail_msg("prefix of %zu/%zu bytes: rc %d, err \"%s\"", n, len, rc, err);
	}
	free(buf);
}

static void sampled_prefixes_of_real_model_are_refused(void **state)
{
	(void)state;
	size_t len;
	struct graph g;
	uint8_t *buf = tu_read_file(tu_model_path("person_detect.tflite"), &len);
	assert_int_equal(read_copy(buf, len, &g), 0);
	for (size_t n = 0; n < len; n += n < 4096 ? 61 : 4999) {
		int rc = read_copy(buf, n, &g);
		if (rc >= 0 || (!strstr(err, "corrupt model") && !strstr(err, "not a TFLite")))
			fail_msg("prefix of %zu/%zu bytes: rc %d, err \"%s\"", n, len, rc, err);
	}
	assert_true(read_copy(buf, len - 1, &g) < 0);
	free(buf);
}

static void wrong_identifier_is_not_a_tflite_model(void **state)
{
	(void)state;
	size_t len;
	struct graph g;
	struct t_model m = tiny();
	uint8_t *buf = build(&m, &len);
	memcpy(buf + 4, "GGUF", 4);
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "not a TFLite model"));
	free(buf);
}

static void offsets_and_lengths_past_the_end_are_refused(void **state)
{
	(void)state;
	size_t len;
	struct graph g;
	uint8_t *orig = tu_read_file(tu_model_path("person_detect.tflite"), &len);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);

	memcpy(buf, orig, len); /* root offset */
	w32(&(struct fbb){ .p = buf }, 0, (uint32_t)len + 100);
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "model root"));

	memcpy(buf, orig, len); /* the tensors vector's offset points beyond the file */
	size_t slot = field_at(buf, subgraph0(buf), 0);
	w32(&(struct fbb){ .p = buf }, slot, (uint32_t)(len - slot + 16));
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "subgraph tensors: offset points past the end"));

	memcpy(buf, orig, len); /* the tensors vector claims 2^31 - 1 elements */
	w32(&(struct fbb){ .p = buf }, deref(buf, slot), 0x7fffffff);
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "vector runs past the end"));

	memcpy(buf, orig, len); /* tensor 5's shape vector claims 2^32 - 1 elements */
	size_t shape = deref(buf, field_at(buf, tensor_table(buf, 5), 0));
	w32(&(struct fbb){ .p = buf }, shape, 0xffffffff);
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "tensor 5 shape: vector runs past the end"));

	memcpy(buf, orig, len); /* tensor 7's vtable lies before the file start */
	w32(&(struct fbb){ .p = buf }, tensor_table(buf, 7), 0x7ffffff0);
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "tensor 7: vtable outside the file"));

	memcpy(buf, orig, len); /* tensor 3's name loses its terminator at the end of the file */
	size_t name = deref(buf, field_at(buf, tensor_table(buf, 3), 3));
	w32(&(struct fbb){ .p = buf }, name, (uint32_t)(len - name - 4));
	assert_int_equal(read_copy(buf, len, &g), -EBADMSG);
	assert_non_null(strstr(err, "tensor 3 name"));
	free(buf);
	free(orig);
}

/* ---- tests: shapes, types, quantization ---------------------------------------------------- */

static void huge_dimensions_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.t[3] = (struct t_tensor){ .type = TT_INT8, .ndim = 4, .dims = { 65536, 65536, 65536, 65536 }, .name = "big" };
	expect_read_error(&m, -ENOTSUP, "tensor 3 'big': shape has too many elements");
	m.t[3].ndim = 2;
	m.t[3].dims[0] = m.t[3].dims[1] = INT32_MAX; /* product overflows 32 and fits 64 bits */
	expect_read_error(&m, -ENOTSUP, "too many elements");
	m.t[3].ndim = 7;
	expect_read_error(&m, -ENOTSUP, "7 dimensions, at most 6");
}

static void dynamic_shapes_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.t[0].sig[1] = -1;
	expect_read_error(&m, -ENOTSUP, "tensor 0 'input': dynamic shape (shape_signature dimension 1 is -1)");
	m = tiny();
	m.t[3].dims[1] = -1;
	expect_read_error(&m, -ENOTSUP, "tensor 3 'logits': dynamic shape");
}

static void unsupported_tensor_types_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.t[3].type = TT_STRING;
	expect_read_error(&m, -ENOTSUP, "tensor 3 'logits': type STRING (5) is not supported");
	m.t[3].type = 42;
	expect_read_error(&m, -ENOTSUP, "type UNKNOWN_TYPE (42)");
}

static void inconsistent_quantization_is_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.t[1].nq = 3; /* 3 scales along axis 0 of a [2,4] tensor */
	m.t[1].zps[1] = m.t[1].zps[2] = 0;
	expect_read_error(&m, -EBADMSG, "tensor 1 'weights': 3 per-channel scales do not match");
	m = tiny();
	m.t[0].zps[0] = 200;
	expect_read_error(&m, -EBADMSG, "tensor 0 'input': zero point 200 out of range for INT8");
	m = tiny();
	m.t[3].scales[0] = -1.0f;
	expect_read_error(&m, -EBADMSG, "tensor 3 'logits': invalid scale");
}

/* ---- tests: buffers ------------------------------------------------------------------------- */

static void wrong_buffer_size_is_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.bufs[1].len = 7;
	expect_read_error(&m, -EBADMSG, "tensor 1 'weights': buffer 1 has 7 bytes, the shape needs 8");
	m = tiny();
	m.t[2].buffer = 9;
	expect_read_error(&m, -EBADMSG, "tensor 2 'bias': buffer index 9 out of range (3 buffers)");
}

static void buffers_outside_the_flatbuffer_are_bounds_checked(void **state)
{
	(void)state;
	struct t_model m = tiny();
	size_t len;
	struct graph g;
	/* >2 GB layout: weights stored at an offset from the file start; point it at the bias
	 * buffer's bytes (known position: the last 8 bytes of the file), 8 bytes */
	m.bufs[1].len = 0;
	m.bufs[1].size = 8;
	m.bufs[1].offset = 1; /* placeholder, real value patched below once the size is known */
	uint8_t *buf = build(&m, &len);
	free(buf);
	m.bufs[1].offset = len - 8;
	buf = build(&m, &len);
	assert_int_equal(model_read(buf, len, &g, err, sizeof(err)), 0);
	assert_ptr_equal(g.tensors[1].data, buf + len - 8);
	model_free_graph(&g);
	free(buf);
	m.bufs[1].offset = len - 4;
	expect_read_error(&m, -EBADMSG, "buffer 1: offset");
	m.bufs[1].offset = UINT64_MAX - 4;
	expect_read_error(&m, -EBADMSG, "outside the file");
}

/* ---- tests: graph structure ----------------------------------------------------------------- */

static void dangling_tensor_indices_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.ops[1].in[0] = 99;
	expect_read_error(&m, -EBADMSG, "operator 1 (SOFTMAX): input 0 refers to tensor 99 (5 tensors)");
	m = tiny();
	m.ops[0].out[0] = -1;
	expect_read_error(&m, -EBADMSG, "operator 0 (FULLY_CONNECTED): output 0 refers to tensor -1");
	m = tiny();
	m.out[0] = 5;
	expect_read_error(&m, -EBADMSG, "subgraph outputs 0: tensor index 5 out of range");
	m = tiny();
	m.ops[0].opcode = 7;
	expect_read_error(&m, -EBADMSG, "operator 0: opcode index 7 out of range");
	m = tiny();
	m.ops[0].nin = 17;
	expect_read_error(&m, -ENOTSUP, "17 inputs");
}

static void tensors_read_before_written_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.ops[0] = m.ops[1]; /* only SOFTMAX is left: nothing writes the logits it reads */
	m.nops = 1;
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "operator 0 (SOFTMAX): input tensor 3 'logits' is never written"));
	m = tiny();
	m.nops = 1; /* only FULLY_CONNECTED is left: nothing writes the graph output */
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "graph output tensor 4 'probs' is never written"));
	m = tiny();
	m.ops[1].out[0] = 4;
	m.ops[0].out[0] = 4;
	m.ops[1].in[0] = 0;
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "tensor 4 'probs' is written by operator 0 and operator 1"));
	m = tiny();
	m.ops[0].out[0] = 2;
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "operator 0 (FULLY_CONNECTED): output tensor 2 'bias' is a constant"));
	m = tiny();
	m.ops[1].out[0] = 0;
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "operator 1 (SOFTMAX): output tensor 0 'input' is a graph input"));
}

static void cycles_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.ops[1].in[0] = 4; /* SOFTMAX reads its own output */
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "operator 1 (SOFTMAX): reads its own output tensor 4 'probs' (cycle)"));
	m = tiny(); /* FC reads SOFTMAX's output, SOFTMAX reads FC's */
	m.ops[0].in[0] = 4;
	assert_int_equal(plan_model(&m), -EINVAL);
	assert_non_null(strstr(err, "operators form a cycle"));
}

static void two_subgraphs_and_no_io_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.nsub = 2;
	expect_read_error(&m, -ENOTSUP, "model has 2 subgraphs; only single-subgraph models are supported");
	m.nsub = 0;
	expect_read_error(&m, -ENOTSUP, "model has 0 subgraphs");
	m = tiny();
	m.nin = 0;
	expect_read_error(&m, -ENOTSUP, "model has no inputs");
	m = tiny();
	m.nout = 0;
	expect_read_error(&m, -ENOTSUP, "model has no outputs");
	m = tiny();
	m.version = 2;
	expect_read_error(&m, -ENOTSUP, "schema version 2 is not supported");
}

static void custom_and_malformed_options_are_refused(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.codes[1] = (struct t_opcode){ .dep = 32, .code = 32, .version = 1, .custom = "TFLite_Detection_PostProcess" };
	expect_read_error(&m, -ENOTSUP, "operator 1: custom op 'TFLite_Detection_PostProcess' is not supported");
	m = tiny();
	m.ops[0].opt_type = 1; /* Conv2DOptions on a FULLY_CONNECTED */
	expect_read_error(&m, -EBADMSG, "operator 0 (FULLY_CONNECTED): builtin options of union type 1, expected 8");
	m = tiny();
	m.ops[0].opt[0].val = 9;
	expect_read_error(&m, -EBADMSG, "fused activation 9 unknown");
}

/* ---- tests: engine-level refusals --------------------------------------------------------- */

static void unsupported_ops_are_named_with_version_and_index(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.codes[1] = (struct t_opcode){ .dep = 23, .code = 23, .version = 1 }; /* RESIZE_BILINEAR */
	m.ops[1].opt_type = 0;
	expect_load_error(&m, "tiny.tflite: unsupported: RESIZE_BILINEAR v1 ×1");
	m.codes[1] = (struct t_opcode){ .dep = 127, .code = 4000, .version = 1 };
	expect_load_error(&m, "tiny.tflite: unsupported: builtin code 4000 v1 ×1");
	m = tiny();
	m.codes[0].version = 99;
	expect_load_error(&m, "tiny.tflite: unsupported: FULLY_CONNECTED v99 ×1 (newer than this engine implements)");
}

/* Every unsupported op in one message, each kind once with its count, in order of first use. */
static void all_unsupported_ops_are_listed_at_once(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.codes[0] = (struct t_opcode){ .dep = 23, .code = 23, .version = 3 }; /* RESIZE_BILINEAR */
	m.codes[1] = (struct t_opcode){ .dep = 36, .code = 36, .version = 1 }; /* GATHER */
	m.ops[0].opt_type = 0;
	m.ops[1].opt_type = 0;
	m.ops[m.nops] = m.ops[1];
	m.ops[m.nops].in[0] = 4;
	m.ops[m.nops].out[0] = 5;
	m.t[5] = m.t[4];
	m.t[5].name = "out2";
	m.nt = 6;
	m.out[0] = 5;
	m.nops++;
	expect_load_error(&m, "tiny.tflite: unsupported: RESIZE_BILINEAR v3 ×1, GATHER v1 ×2");
}

/* What is not an image classifier is named as such, before any op is looked at. */
static void non_classifiers_are_named(void **state)
{
	(void)state;
	struct t_model m = tiny();
	m.in[1] = 3;
	m.nin = 2;
	expect_load_error(&m, "tiny.tflite: not an image classifier camclassd can run: it has 2 inputs and 1 outputs");
	m = tiny();
	m.codes[1] = (struct t_opcode){ .dep = 44, .code = 44, .version = 1 };
	m.ops[1].opt_type = 0;
	expect_load_error(&m, "operator 1 is UNIDIRECTIONAL_SEQUENCE_LSTM, a sequence/text model op");
	m = tiny();
	m.t[3].type = TT_INT16;
	m.t[3].zps[0] = 0;
	expect_load_error(&m, "int16 activations (tensor 3 'logits', the 16x8 quantization recipe) are not supported");
}

/* The tiny classifier in float32: FULLY_CONNECTED (float weights and bias) + SOFTMAX, checked
 * against the same arithmetic done here. */
static void float_models_load_and_run(void **state)
{
	(void)state;
	struct t_model m = tiny();
	const float w[8] = { 0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.5f, 0.0f, -2.0f }, bias[2] = { 0.1f, -0.2f };
	memcpy(m.bufs[1].data, w, sizeof(w));
	m.bufs[1].len = sizeof(w);
	memcpy(m.bufs[2].data, bias, sizeof(bias));
	for (int t = 0; t < 5; t++) {
		m.t[t].type = TT_FLOAT32;
		m.t[t].nq = 0;
	}
	m.ops[0].opt[0].val = ACT_NONE;
	struct engine *e = NULL;
	if (load_model(&m, &e) < 0)
		fail_msg("load: %s", err);
	const float x[4] = { 1.0f, 2.0f, -3.0f, 0.5f };
	memcpy(eng_input(e), x, sizeof(x));
	assert_int_equal(eng_invoke(e), 0);
	float logit[2], sum = 0.0f;
	for (int u = 0; u < 2; u++) {
		logit[u] = bias[u];
		for (int d = 0; d < 4; d++)
			logit[u] += x[d] * w[u * 4 + d];
	}
	float mx = fmaxf(logit[0], logit[1]);
	for (int u = 0; u < 2; u++)
		sum += expf(logit[u] - mx);
	for (int u = 0; u < 2; u++)
		assert_float_equal(eng_output_value(e, (size_t)u), expf(logit[u] - mx) / sum, 1e-6);
	eng_free(e);
}

static void tiny_model_loads_and_runs(void **state)
{
	(void)state;
	struct t_model m = tiny();
	struct engine *e = NULL;
	struct eng_tensor_info in, out;
	int rc = load_model(&m, &e);
	if (rc < 0)
		fail_msg("load: %s", err);
	assert_int_equal(eng_input_info(e, &in), 0);
	assert_int_equal(eng_output_info(e, &out), 0);
	assert_int_equal(in.type, ENG_INT8);
	assert_int_equal(in.ndim, 2);
	assert_int_equal(in.dims[1], 4);
	assert_int_equal(in.bytes, 4);
	assert_true(in.scale == 0.5f);
	assert_int_equal(in.zero_point, -1);
	assert_string_equal(out.name, "probs");
	assert_int_equal(eng_output_count(e), 2);
	assert_int_equal(eng_op_count(e), 2);
	assert_int_equal(eng_tensor_count(e), 5);
	assert_int_equal(eng_backend_used(e), ENG_BACKEND_BUILTIN);
	int8_t x[4] = { 5, -3, 7, 1 };
	memcpy(eng_input(e), x, 4);
	assert_int_equal(eng_invoke(e), 0);
	/* softmax: two probabilities that sum to 1 within the output's quantization */
	float p0 = eng_output_value(e, 0), p1 = eng_output_value(e, 1);
	assert_true(p0 >= 0 && p1 >= 0);
	assert_true(p0 + p1 > 0.98f && p0 + p1 < 1.02f);
	assert_memory_equal(eng_input(e), x, 4); /* the input survives an invoke */
	eng_free(e);
}

/* The converter's default full-integer recipe: a float32 input read by QUANTIZE. The input's
 * effective quantization is the QUANTIZE output's, and feeding scale·(q − zp) as floats gives
 * exactly the outputs of the int8-input model fed q. */
static void float_input_exposes_its_quantize_and_matches_the_int8_model(void **state)
{
	(void)state;
	struct t_model m8 = tiny(), mf = tiny();
	struct engine *e8 = NULL, *ef = NULL;
	struct eng_tensor_info in8, inf;
	mf.codes[mf.ncodes++] = (struct t_opcode){ .dep = OP_QUANTIZE, .code = OP_QUANTIZE, .version = 1 };
	mf.t[mf.nt] = (struct t_tensor){ .type = TT_FLOAT32, .ndim = 2, .dims = { 1, 4 }, .name = "input_f" };
	mf.ops[mf.nops++] = (struct t_op){ .opcode = 2, .nin = 1, .in = { mf.nt }, .nout = 1, .out = { 0 } };
	mf.in[0] = mf.nt++;
	if (load_model(&m8, &e8) < 0 || load_model(&mf, &ef) < 0)
		fail_msg("load: %s", err);
	assert_int_equal(eng_input_info(e8, &in8), 0);
	assert_int_equal(eng_input_info(ef, &inf), 0);
	assert_int_equal(in8.quantized_type, ENG_INT8);
	assert_true(in8.quantized_scale == in8.scale && in8.quantized_zero_point == in8.zero_point);
	assert_int_equal(inf.type, ENG_FLOAT32);
	assert_int_equal(inf.bytes, 16);
	assert_true(inf.scale == 0.0f);
	assert_int_equal(inf.quantized_type, ENG_INT8);
	assert_true(inf.quantized_scale == 0.5f);       /* tiny()'s "input" tensor */
	assert_int_equal(inf.quantized_zero_point, -1);
	const int8_t q[][4] = { { 5, -3, 7, 1 }, { -128, 127, 0, -1 }, { 100, -100, 50, -50 } };
	for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
		float x[4];
		for (int i = 0; i < 4; i++)
			x[i] = inf.quantized_scale * (float)(q[k][i] - inf.quantized_zero_point);
		memcpy(eng_input(e8), q[k], 4);
		memcpy(eng_input(ef), x, sizeof(x));
		assert_int_equal(eng_invoke(e8), 0);
		assert_int_equal(eng_invoke(ef), 0);
		assert_memory_equal(eng_output(ef), eng_output(e8), 2);
	}
	eng_free(e8);
	eng_free(ef);
}

static void bad_options_and_missing_files_are_refused(void **state)
{
	(void)state;
	struct engine *e = NULL;
	struct eng_options opt = { .backend = ENG_BACKEND_BUILTIN, .threads = 0 };
	assert_true(eng_load(tu_model_path("person_detect.tflite"), &opt, &e, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "threads must be at least 1"));
	opt.threads = 1;
	assert_int_equal(eng_load("/nonexistent/model.tflite", &opt, &e, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/model.tflite: cannot open"));
	assert_int_equal(eng_backend_from_name("builtin"), ENG_BACKEND_BUILTIN);
	assert_int_equal(eng_backend_from_name("gpu"), -EINVAL);
}

/* ---- tests: planner on real models -------------------------------------------------------- */

/* Independently of plan.c: in execution order, every input is ready before use, and no two
 * tensors that are live at the same step share a byte of the arena. */
static void real_model_plans_never_overlap_live_tensors(void **state)
{
	(void)state;
	static const char *const models[] = { "person_detect.tflite", "pretrainedResnet_quant.tflite",
					      "mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite" };
	for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++) {
		size_t len, arena_bytes, sum = 0;
		struct graph g;
		void *arena;
		uint8_t *buf = tu_read_file(tu_model_path(models[k]), &len);
		assert_int_equal(model_read(buf, len, &g, err, sizeof(err)), 0);
		assert_int_equal(plan_graph(&g, (size_t)1 << 30, &arena, &arena_bytes, err, sizeof(err)), 0);
		int *first = calloc((size_t)g.ntensors, sizeof(int)), *last = calloc((size_t)g.ntensors, sizeof(int));
		assert_true(first && last);
		for (int t = 0; t < g.ntensors; t++) {
			first[t] = g.tensors[t].is_const ? -2 : INT32_MAX;
			last[t] = -1;
			if (!g.tensors[t].is_const)
				sum += g.tensors[t].bytes;
		}
		first[g.inputs[0]] = -1;
		last[g.inputs[0]] = g.nnodes;
		for (int s = 0; s < g.nnodes; s++) {
			for (int i = 0; i < g.nodes[s].ninputs; i++) {
				int t = g.nodes[s].inputs[i];
				if (t < 0 || g.tensors[t].is_const)
					continue;
				assert_true(first[t] < s);
				if (last[t] < s)
					last[t] = s;
			}
			for (int o = 0; o < g.nodes[s].noutputs; o++) {
				first[g.nodes[s].outputs[o]] = s;
				if (last[g.nodes[s].outputs[o]] < s)
					last[g.nodes[s].outputs[o]] = s;
			}
		}
		last[g.outputs[0]] = g.nnodes;
		for (int a = 0; a < g.ntensors; a++)
			for (int b = a + 1; b < g.ntensors; b++) {
				if (g.tensors[a].is_const || g.tensors[b].is_const || first[a] > last[b] || first[b] > last[a])
					continue;
				const uint8_t *pa = g.tensors[a].data, *pb = g.tensors[b].data;
				if (pa < pb + g.tensors[b].bytes && pb < pa + g.tensors[a].bytes)
					fail_msg("%s: live tensors %d and %d overlap", models[k], a, b);
			}
		assert_true(arena_bytes < sum); /* memory is actually reused */
		free(first);
		free(last);
		free(arena);
		model_free_graph(&g);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tiny_model_reads_as_specified),
		cmocka_unit_test(tiny_model_plans_in_order_with_aligned_arena),
		cmocka_unit_test(skipped_tensors_get_no_arena_memory_but_graph_inputs_and_outputs_do),
		cmocka_unit_test(every_prefix_of_tiny_model_is_refused),
		cmocka_unit_test(sampled_prefixes_of_real_model_are_refused),
		cmocka_unit_test(wrong_identifier_is_not_a_tflite_model),
		cmocka_unit_test(offsets_and_lengths_past_the_end_are_refused),
		cmocka_unit_test(huge_dimensions_are_refused),
		cmocka_unit_test(dynamic_shapes_are_refused),
		cmocka_unit_test(unsupported_tensor_types_are_refused),
		cmocka_unit_test(inconsistent_quantization_is_refused),
		cmocka_unit_test(wrong_buffer_size_is_refused),
		cmocka_unit_test(buffers_outside_the_flatbuffer_are_bounds_checked),
		cmocka_unit_test(dangling_tensor_indices_are_refused),
		cmocka_unit_test(tensors_read_before_written_are_refused),
		cmocka_unit_test(cycles_are_refused),
		cmocka_unit_test(two_subgraphs_and_no_io_are_refused),
		cmocka_unit_test(custom_and_malformed_options_are_refused),
		cmocka_unit_test(unsupported_ops_are_named_with_version_and_index),
		cmocka_unit_test(all_unsupported_ops_are_listed_at_once),
		cmocka_unit_test(non_classifiers_are_named),
		cmocka_unit_test(float_models_load_and_run),
		cmocka_unit_test(float_input_exposes_its_quantize_and_matches_the_int8_model),
		cmocka_unit_test(tiny_model_loads_and_runs),
		cmocka_unit_test(bad_options_and_missing_files_are_refused),
		cmocka_unit_test(real_model_plans_never_overlap_live_tensors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
