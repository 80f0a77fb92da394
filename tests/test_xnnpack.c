/* test_xnnpack.c — the XNNPACK backend (inference/xnnpack.c) on the shared real models.
 *
 * Every case of ../shared/models/ref/cases.tsv runs through eng_load(backend = xnnpack) and must
 * give the reference top-1 and stay within tolerance of TFLite 2.8's reference kernels
 * (ref_output). The tolerance is TFLite+XNNPACK's own spread: at least 6 LSB, or more on the cases
 * where TFLite with its XNNPACK delegate (xnnpack_output, same library) is itself further from the
 * reference — read from the files, never written down here. As a tighter check, the output must
 * also be within XNN_VS_TFLITE_XNNPACK_LSB of TFLite+XNNPACK's: we build the same XNNPACK
 * subgraphs, so only the non-delegated softmax (TFLite's optimized kernel vs our reference one)
 * and kernel rounding may differ.
 *
 * Built without XNNPACK (make XNNPACK=0), the test checks that asking for the backend fails with
 * a clear message and that `auto` means the builtin kernels; built with it, `auto` means XNNPACK. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/engine.h"
#include "inference/graph.h"
#include "inference/model.h"
#include "inference/plan.h"
#include "inference/xnnpack.h"
#include "tests/testutil.h"

#define MIN_TOLERANCE_LSB 6          /* the figure; the data may demand more, see above */
#define XNN_VS_TFLITE_XNNPACK_LSB 2
#define MAX_CASES 64

struct ref_case {
	char model[128], name[64], input[256], ref[256], xnn[256], out_dtype[16];
	int top1;
};

static int read_cases(struct ref_case *cases, int max)
{
	size_t len;
	char *text = (char *)tu_read_file(tu_model_path("ref/cases.tsv"), &len);
	char *save = NULL, *line;
	int n = 0;
	char *buf = realloc(text, len + 1);
	assert_non_null(buf);
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ref_case c;
		char tflm[256], in_dtype[16];
		if (strncmp(line, "model\t", 6) == 0)
			continue;
		if (sscanf(line, "%127[^\t]\t%63[^\t]\t%255[^\t]\t%255[^\t]\t%255[^\t]\t%255[^\t]\t%15[^\t]\t%15[^\t]\t%d",
			   c.model, c.name, c.input, c.ref, c.xnn, tflm, in_dtype, c.out_dtype, &c.top1) != 9)
			fail_msg("cases.tsv: cannot parse line '%s'", line);
		assert_true(n < max);
		cases[n++] = c;
	}
	free(buf);
	assert_true(n > 0);
	return n;
}

static int value_at(const uint8_t *p, size_t i, bool is_int8)
{
	return is_int8 ? (int)(int8_t)p[i] : (int)p[i];
}

static int max_abs_diff(const uint8_t *a, const uint8_t *b, size_t n, bool is_int8)
{
	int m = 0;
	for (size_t i = 0; i < n; i++) {
		int d = abs(value_at(a, i, is_int8) - value_at(b, i, is_int8));
		m = d > m ? d : m;
	}
	return m;
}

static size_t argmax(const uint8_t *p, size_t n, bool is_int8)
{
	size_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (value_at(p, i, is_int8) > value_at(p, best, is_int8))
			best = i;
	return best;
}

static struct engine *load(const char *model, enum eng_backend backend, int threads)
{
	struct eng_options opt = { .backend = backend, .threads = threads };
	struct engine *e = NULL;
	char err[512] = "";
	int r = eng_load(tu_model_path(model), &opt, &e, err, sizeof(err));
	if (r < 0)
		fail_msg("eng_load %s: %s", model, err);
	return e;
}

/* Runs one input file through e; returns the output (malloc'd) and its size. */
static uint8_t *run_case(struct engine *e, const char *input, size_t *ret_len)
{
	struct eng_tensor_info in, out;
	size_t len;
	uint8_t *data = tu_read_file(tu_model_path(input), &len);
	assert_int_equal(eng_input_info(e, &in), 0);
	assert_int_equal(eng_output_info(e, &out), 0);
	assert_int_equal(len, in.bytes);
	memcpy(eng_input(e), data, len);
	free(data);
	assert_int_equal(eng_invoke(e), 0);
	uint8_t *result = malloc(out.bytes);
	assert_non_null(result);
	memcpy(result, eng_output(e), out.bytes);
	*ret_len = out.bytes;
	return result;
}

static bool seen_before(const struct ref_case *cases, int i)
{
	for (int j = 0; j < i; j++)
		if (strcmp(cases[j].model, cases[i].model) == 0)
			return true;
	return false;
}

static void every_shared_case_matches_the_reference_within_xnnpack_tolerance(void **state)
{
	(void)state;
	static struct ref_case cases[MAX_CASES];
	int n = read_cases(cases, MAX_CASES), passed = 0;

	for (int m = 0; m < n; m++) {
		if (seen_before(cases, m))
			continue;
		int model_diff = 0, model_tflite_diff = 0, model_vs_tflite = 0;
		struct engine *e = load(cases[m].model, ENG_BACKEND_XNNPACK, 1);
		assert_int_equal(eng_backend_used(e), ENG_BACKEND_XNNPACK);
		for (int i = m; i < n; i++) {
			const struct ref_case *c = &cases[i];
			if (strcmp(c->model, cases[m].model) != 0)
				continue;
			bool is_int8 = strcmp(c->out_dtype, "int8") == 0;
			size_t out_len, ref_len, xnn_len;
			uint8_t *out = run_case(e, c->input, &out_len);
			uint8_t *ref = tu_read_file(tu_model_path(c->ref), &ref_len);
			uint8_t *xnn = tu_read_file(tu_model_path(c->xnn), &xnn_len);
			assert_int_equal(out_len, ref_len);
			assert_int_equal(out_len, xnn_len);

			int diff = max_abs_diff(out, ref, out_len, is_int8);
			int tflite_diff = max_abs_diff(xnn, ref, out_len, is_int8);
			int vs_tflite = max_abs_diff(out, xnn, out_len, is_int8);
			int tolerance = tflite_diff > MIN_TOLERANCE_LSB ? tflite_diff : MIN_TOLERANCE_LSB;
			size_t top1 = argmax(out, out_len, is_int8);
			model_diff = diff > model_diff ? diff : model_diff;
			model_tflite_diff = tflite_diff > model_tflite_diff ? tflite_diff : model_tflite_diff;
			model_vs_tflite = vs_tflite > model_vs_tflite ? vs_tflite : model_vs_tflite;
			if ((int)top1 != c->top1 || diff > tolerance || vs_tflite > XNN_VS_TFLITE_XNNPACK_LSB)
				fail_msg("%s %s: top-1 %zu (reference %d), max |diff| %d LSB vs reference (allowed %d), "
					 "%d vs TFLite+XNNPACK (allowed %d)", c->model, c->name, top1, c->top1, diff,
					 tolerance, vs_tflite, XNN_VS_TFLITE_XNNPACK_LSB);
			passed++;
			free(out);
			free(ref);
			free(xnn);
		}
		printf("xnnpack %-36s max |diff| vs reference %d LSB (TFLite+XNNPACK: %d), vs TFLite+XNNPACK %d\n",
		       cases[m].model, model_diff, model_tflite_diff, model_vs_tflite);
		eng_free(e);
	}
	printf("xnnpack: %d of %d shared cases within tolerance\n", passed, n);
}

/* XNNPACK splits work across threads without changing the arithmetic. */
static void two_threads_give_the_same_output_as_one(void **state)
{
	(void)state;
	static const char *const models[][2] = {
		{ "mobilenet_v1_0.25_128_quant.tflite", "ref/mobilenet_v1_0.25_128_quant.cat.in" },
		{ "tf2_mobilenet_v2_1.0_224_ptq.tflite", "ref/tf2_mobilenet_v2_1.0_224_ptq.cat.in" },
	};
	for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
		size_t len1, len2;
		struct engine *one = load(models[m][0], ENG_BACKEND_XNNPACK, 1);
		struct engine *two = load(models[m][0], ENG_BACKEND_XNNPACK, 2);
		uint8_t *a = run_case(one, models[m][1], &len1);
		uint8_t *b = run_case(two, models[m][1], &len2);
		assert_int_equal(len1, len2);
		assert_memory_equal(a, b, len1);
		free(a);
		free(b);
		eng_free(one);
		eng_free(two);
	}
}

static void auto_backend_is_builtin_without_xnnpack(void **state)
{
	(void)state;
	struct engine *e = load("person_detect.tflite", ENG_BACKEND_AUTO, 1);
	assert_int_equal(eng_backend_used(e), ENG_BACKEND_BUILTIN);
	eng_free(e);
}

/* Issue 6: `auto` takes XNNPACK when it is built in. */
static void auto_backend_is_xnnpack_when_built_in(void **state)
{
	(void)state;
	struct engine *e = load("person_detect.tflite", ENG_BACKEND_AUTO, 1);
	assert_int_equal(eng_backend_used(e), ENG_BACKEND_XNNPACK);
	eng_free(e);
}

/* A shared model read and planned the way eng_load does, for the partition tests. */
struct planned {
	uint8_t *buf;
	struct graph g;
	void *arena;
	size_t arena_bytes;
};

static void planned_load(struct planned *p, const char *model)
{
	size_t len;
	char err[512] = "";
	memset(p, 0, sizeof(*p));
	p->buf = tu_read_file(tu_model_path(model), &len);
	if (model_read(p->buf, len, &p->g, err, sizeof(err)) < 0 ||
	    plan_graph(&p->g, (size_t)1 << 30, &p->arena, &p->arena_bytes, err, sizeof(err)) < 0)
		fail_msg("loading %s: %s", model, err);
}

static void planned_free(struct planned *p)
{
	free(p->arena);
	model_free_graph(&p->g);
	free(p->buf);
}

/* The partition: everything but the ops XNNPACK lacks (quantized softmax, u8<->s8 conversion)
 * goes into one subgraph on TF2's per-channel MobileNetV2, which has them only at its ends. */
static void partition_leaves_only_softmax_and_quantize_to_builtin(void **state)
{
	(void)state;
	struct planned p;
	struct xnnpack_delegate *d = NULL;
	char err[512] = "";
	int builtin_only = 0, delegated = -1, runtimes = -1;

	planned_load(&p, "tf2_mobilenet_v2_1.0_224_ptq.tflite");
	struct graph *g = &p.g;
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == OP_SOFTMAX || g->nodes[i].op == OP_QUANTIZE)
			builtin_only++;
	assert_true(builtin_only > 0);
	if (xnnpack_delegate_create(g, 1, &d, err, sizeof(err)) < 0)
		fail_msg("xnnpack_delegate_create: %s", err);
	xnnpack_delegate_stats(d, &delegated, &runtimes);
	assert_int_equal(delegated, g->nnodes - builtin_only);
	assert_int_equal(runtimes, 1);
	for (int i = 0; i < g->nnodes; i++)
		assert_int_equal(xnnpack_delegate_covers(d, i), g->nodes[i].op != OP_SOFTMAX && g->nodes[i].op != OP_QUANTIZE);
	xnnpack_delegate_free(d);
	planned_free(&p);
}

/* A run XNNPACK refuses when its runtime is created stays on the builtin kernels, and the rest of
 * the model still goes to XNNPACK. Made here by shrinking the output scale of person_detect's
 * first operator until the requantization scale is far beyond what XNNPACK accepts (< 256). */
static void a_run_xnnpack_refuses_stays_builtin(void **state)
{
	(void)state;
	struct planned p;
	struct xnnpack_delegate *d = NULL;
	char err[512] = "";
	int delegated_before, runtimes_before, delegated_after, runtimes_after, next = -1;

	planned_load(&p, "person_detect.tflite");
	struct graph *g = &p.g;
	if (xnnpack_delegate_create(g, 1, &d, err, sizeof(err)) < 0)
		fail_msg("xnnpack_delegate_create: %s", err);
	xnnpack_delegate_stats(d, &delegated_before, &runtimes_before);
	assert_int_equal(xnnpack_delegate_run(d, g, 0, &next), 1);
	xnnpack_delegate_free(d);
	assert_true(runtimes_before >= 2);

	struct tensor *out0 = &g->tensors[g->nodes[0].outputs[0]];
	out0->scale = out0->scales[0] = out0->scale * 1e-6f;
	if (xnnpack_delegate_create(g, 1, &d, err, sizeof(err)) < 0)
		fail_msg("xnnpack_delegate_create after the change: %s", err);
	xnnpack_delegate_stats(d, &delegated_after, &runtimes_after);
	assert_int_equal(runtimes_after, runtimes_before - 1);
	assert_int_equal(delegated_after, delegated_before - next);
	assert_int_equal(xnnpack_delegate_run(d, g, 0, &next), 0);
	xnnpack_delegate_free(d);
	planned_free(&p);
}

/* A convolution whose output shape is not the one TFLite computes from its input and options is
 * never handed to XNNPACK (which would write the shape it computes into the smaller buffer). */
static void a_conv_with_an_inconsistent_output_shape_stays_builtin(void **state)
{
	(void)state;
	struct planned p;
	struct xnnpack_delegate *d = NULL;
	char err[512] = "";

	planned_load(&p, "person_detect.tflite");
	struct graph *g = &p.g;
	struct tensor *out0 = &g->tensors[g->nodes[0].outputs[0]];
	assert_true(out0->ndim == 4 && out0->dims[1] > 1);
	out0->dims[1] -= 1;
	if (xnnpack_delegate_create(g, 1, &d, err, sizeof(err)) < 0)
		fail_msg("xnnpack_delegate_create: %s", err);
	assert_false(xnnpack_delegate_covers(d, 0));
	xnnpack_delegate_free(d);
	planned_free(&p);
}

/* The tensors an XNNPACK runtime produces and consumes itself live in its workspace only: the
 * planner gives them no arena memory, every other activation keeps a buffer, XNNPACK binds the
 * boundaries once they exist, and the engine's arena shrinks accordingly. */
static void tensors_inside_a_runtime_get_no_arena_memory(void **state)
{
	(void)state;
	size_t len, all_bytes = 0, arena_bytes = 0;
	uint8_t *buf = tu_read_file(tu_model_path("tf2_mobilenet_v2_1.0_224_ptq.tflite"), &len);
	struct graph g;
	void *arena = NULL;
	struct xnnpack_delegate *d = NULL;
	char err[512] = "";
	int internal = 0, next = -1;

	memset(&g, 0, sizeof(g));
	if (model_read(buf, len, &g, err, sizeof(err)) < 0 || plan_order(&g, err, sizeof(err)) < 0)
		fail_msg("loading the graph: %s", err);
	assert_int_equal(plan_arena(&g, NULL, (size_t)1 << 30, &arena, &all_bytes, err, sizeof(err)), 0);
	free(arena);
	for (int t = 0; t < g.ntensors; t++)
		if (!g.tensors[t].is_const)
			g.tensors[t].data = NULL;
	if (xnnpack_delegate_create(&g, 1, &d, err, sizeof(err)) < 0)
		fail_msg("xnnpack_delegate_create: %s", err);

	bool *skip = calloc((size_t)g.ntensors, sizeof(bool));
	assert_non_null(skip);
	for (int t = 0; t < g.ntensors; t++) {
		skip[t] = xnnpack_delegate_tensor_internal(d, t);
		internal += skip[t];
	}
	assert_true(internal > 0);
	for (int k = 0; k < g.ninputs; k++)
		assert_false(skip[g.inputs[k]]);
	for (int k = 0; k < g.noutputs; k++)
		assert_false(skip[g.outputs[k]]);
	for (int i = 0; i < g.nnodes; i++) {
		const struct node *n = &g.nodes[i];
		for (int k = 0; k < n->ninputs + n->noutputs; k++) {
			int t = k < n->ninputs ? n->inputs[k] : n->outputs[k - n->ninputs];
			if (t >= 0 && skip[t] && !xnnpack_delegate_covers(d, i))
				fail_msg("tensor %d marked internal but node %d runs on the builtin kernels", t, i);
		}
	}

	assert_int_equal(plan_arena(&g, skip, (size_t)1 << 30, &arena, &arena_bytes, err, sizeof(err)), 0);
	for (int t = 0; t < g.ntensors; t++)
		if (!g.tensors[t].is_const && (g.tensors[t].data == NULL) != skip[t])
			fail_msg("tensor %d: buffer %p, internal %d", t, g.tensors[t].data, (int)skip[t]);
	assert_true(arena_bytes < all_bytes / 4);
	assert_int_equal(xnnpack_delegate_bind(d, &g, err, sizeof(err)), 0);
	for (int i = 0; i < g.nnodes && next < 0; i++)
		if (xnnpack_delegate_run(d, &g, i, &next) == 1)
			assert_true(next > i);
	assert_true(next > 0);
	xnnpack_delegate_free(d);
	free(skip);
	free(arena);
	model_free_graph(&g);
	free(buf);

	/* The engine plans the same way: its arena is a fraction of the builtin backend's. */
	struct engine *x = load("tf2_mobilenet_v2_1.0_224_ptq.tflite", ENG_BACKEND_XNNPACK, 1);
	struct engine *b = load("tf2_mobilenet_v2_1.0_224_ptq.tflite", ENG_BACKEND_BUILTIN, 1);
	assert_true(eng_arena_bytes(x) < eng_arena_bytes(b) / 4);
	eng_free(x);
	eng_free(b);
}

static void asking_for_xnnpack_fails_cleanly_without_it(void **state)
{
	(void)state;
	struct eng_options opt = { .backend = ENG_BACKEND_XNNPACK, .threads = 1 };
	struct engine *sentinel = (struct engine *)&opt, *e = sentinel;
	char err[512] = "";
	int r = eng_load(tu_model_path("person_detect.tflite"), &opt, &e, err, sizeof(err));
	assert_int_equal(r, -ENOTSUP);
	assert_ptr_equal(e, sentinel);
	if (!strstr(err, "xnnpack"))
		fail_msg("message does not name the backend: '%s'", err);
	printf("refused as expected: %s\n", err);
}

int main(void)
{
	const struct CMUnitTest with_xnnpack[] = {
		cmocka_unit_test(every_shared_case_matches_the_reference_within_xnnpack_tolerance),
		cmocka_unit_test(two_threads_give_the_same_output_as_one),
		cmocka_unit_test(auto_backend_is_xnnpack_when_built_in),
		cmocka_unit_test(partition_leaves_only_softmax_and_quantize_to_builtin),
		cmocka_unit_test(a_run_xnnpack_refuses_stays_builtin),
		cmocka_unit_test(a_conv_with_an_inconsistent_output_shape_stays_builtin),
		cmocka_unit_test(tensors_inside_a_runtime_get_no_arena_memory),
	};
	const struct CMUnitTest without_xnnpack[] = {
		cmocka_unit_test(asking_for_xnnpack_fails_cleanly_without_it),
		cmocka_unit_test(auto_backend_is_builtin_without_xnnpack),
	};
	if (xnnpack_available())
		return cmocka_run_group_tests(with_xnnpack, NULL, NULL);
	return cmocka_run_group_tests(without_xnnpack, NULL, NULL);
}
