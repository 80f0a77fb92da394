/* test_retrain.c — head retraining (inference/retrain.h): the embedding finder on every shared
 * model, its refusals (float base, no head, unknown --embedding name), the engine's probe, the
 * softmax-regression fit, and the writer: a written model loads in our engine on both backends
 * with no special casing, computes byte for byte the base's embedding, and its scores follow
 * the float head it was made from. The Python reader's view of the same files is checked by
 * tests/suite-retrain.sh. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/engine.h"
#include "inference/fbb.h"
#include "inference/retrain.h"
#include "tests/testutil.h"

static struct rt_base *open_base(const char *name, const char *embedding)
{
	char err[512] = "";
	struct rt_base *b = NULL;
	int r = rt_base_open(tu_model_path(name), embedding, &b, err, sizeof(err));
	if (r < 0)
		fail_msg("%s: %s", name, err);
	return b;
}

/* Published architectures: the features their classifiers read. */
static void finder_picks_the_classifier_input(void **state)
{
	(void)state;
	static const struct { const char *model; int depth; const char *kind; int classes; } cases[] = {
		{ "mobilenet_v2_1.0_224_quant.tflite", 1280, "1x1 CONV_2D", 1001 },
		{ "tf2_mobilenet_v2_1.0_224_ptq.tflite", 1280, "1x1 CONV_2D", 1001 },
		{ "mobilenet_v1_0.25_128_quant.tflite", 256, "1x1 CONV_2D", 1001 },
		{ "vww_96_int8.tflite", 256, "FULLY_CONNECTED", 2 },
		{ "pretrainedResnet_quant.tflite", 64, "FULLY_CONNECTED", 10 },
		{ "person_detect.tflite", 256, "1x1 CONV_2D", 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rt_base *b = open_base(cases[i].model, NULL);
		const struct rt_embedding *e = rt_base_embedding(b);
		if (e->depth != cases[i].depth || e->base_classes != cases[i].classes ||
		    strncmp(e->head, cases[i].kind, strlen(cases[i].kind)) != 0)
			fail_msg("%s: embedding '%s' depth %d head '%s'", cases[i].model, e->name, e->depth, e->head);
		rt_base_free(b);
	}
}

static void expect_error(const char *path, const char *embedding, int code, const char *needle)
{
	char err[512] = "";
	struct rt_base *b = NULL;
	int r = rt_base_open(path, embedding, &b, err, sizeof(err));
	if (r != code || !strstr(err, needle))
		fail_msg("%s: got %d '%s', expected %d with '%s'", path, r, err, code, needle);
	assert_null(b);
}

/* A model whose output is an average pool of the input: nothing to call a classifier. */
static char *write_headless(const char *dir)
{
	struct fbb fb, *b = &fb;
	fbb_init(b);
	const int32_t in_dims[4] = { 1, 4, 4, 1 }, out_dims[4] = { 1, 1, 1, 1 }, io_in[1] = { 0 }, io_out[1] = { 1 };
	struct fbb_ref tens[2];
	for (int t = 0; t < 2; t++) {
		float s = 0.5f;
		int64_t z = 0;
		struct fbb_ref sv = fbb_vector(b, &s, 1, 4, 4), zv = fbb_vector(b, &z, 1, 8, 8);
		fbb_table_start(b);
		fbb_add_ref(b, 2, sv);
		fbb_add_ref(b, 3, zv);
		struct fbb_ref q = fbb_table_end(b);
		struct fbb_ref shape = fbb_vector_i32(b, t ? out_dims : in_dims, 4);
		struct fbb_ref name = fbb_string(b, t ? "pooled" : "image", t ? 6 : 5);
		fbb_table_start(b);
		fbb_add_ref(b, 0, shape);
		fbb_add_i8(b, 1, 9, 0); /* INT8 */
		fbb_add_ref(b, 3, name);
		fbb_add_ref(b, 4, q);
		tens[t] = fbb_table_end(b);
	}
	struct fbb_ref iv = fbb_vector_i32(b, io_in, 1), ov = fbb_vector_i32(b, io_out, 1);
	fbb_table_start(b); /* Pool2DOptions: VALID, stride 1, filter 4x4 */
	fbb_add_i8(b, 0, 1, 0);
	fbb_add_i32(b, 1, 1, 0);
	fbb_add_i32(b, 2, 1, 0);
	fbb_add_i32(b, 3, 4, 0);
	fbb_add_i32(b, 4, 4, 0);
	struct fbb_ref popt = fbb_table_end(b);
	struct fbb_ref oi = fbb_vector_i32(b, io_in, 1), oo = fbb_vector_i32(b, io_out, 1);
	fbb_table_start(b);
	fbb_add_ref(b, 1, oi);
	fbb_add_ref(b, 2, oo);
	fbb_add_u8(b, 3, 5, 0);
	fbb_add_ref(b, 4, popt);
	struct fbb_ref op = fbb_table_end(b);
	struct fbb_ref tv = fbb_vector_refs(b, tens, 2), opv = fbb_vector_refs(b, &op, 1);
	fbb_table_start(b);
	fbb_add_ref(b, 0, tv);
	fbb_add_ref(b, 1, iv);
	fbb_add_ref(b, 2, ov);
	fbb_add_ref(b, 3, opv);
	struct fbb_ref sg = fbb_table_end(b);
	fbb_table_start(b);
	fbb_add_i8(b, 0, 1, 0);
	fbb_add_i32(b, 2, 2, 1);
	fbb_add_i32(b, 3, 1, 0);
	struct fbb_ref code = fbb_table_end(b);
	fbb_table_start(b);
	struct fbb_ref buf0 = fbb_table_end(b);
	struct fbb_ref sgv = fbb_vector_refs(b, &sg, 1), cv = fbb_vector_refs(b, &code, 1);
	struct fbb_ref bv = fbb_vector_refs(b, &buf0, 1);
	fbb_table_start(b);
	fbb_add_u32(b, 0, 3, 0);
	fbb_add_ref(b, 1, cv);
	fbb_add_ref(b, 2, sgv);
	fbb_add_ref(b, 4, bv);
	struct fbb_ref root = fbb_table_end(b);
	uint8_t *bytes;
	size_t len;
	assert_int_equal(fbb_finish(b, root, "TFL3", &bytes, &len), 0);
	char *path = malloc(strlen(dir) + 32);
	assert_non_null(path);
	sprintf(path, "%s/headless.tflite", dir);
	char err[256];
	assert_int_equal(rt_write_file(path, bytes, len, err, sizeof(err)), 0);
	free(bytes);
	/* the builder's output is a model our engine runs: the refusal below is about the head */
	struct engine *e;
	struct eng_options opt = { .backend = ENG_BACKEND_BUILTIN, .threads = 1 };
	if (eng_load(path, &opt, &e, err, sizeof(err)) < 0)
		fail_msg("headless model does not load: %s", err);
	eng_free(e);
	return path;
}

static void finder_refuses_what_it_cannot_retrain(void **state)
{
	(void)state;
	expect_error(tu_model_path("pretrainedResnet.tflite"), NULL, -ENOTSUP, "float");
	expect_error(tu_model_path("vww_96_int8.tflite"), "no_such_tensor", -EINVAL, "no tensor named 'no_such_tensor'");
	char *dir = tu_tmpdir();
	char *path = write_headless(dir);
	expect_error(path, NULL, -ENOTSUP, "no recognisable classifier head: the output comes from AVERAGE_POOL_2D");
	free(path);
	tu_rm_rf(dir);
	free(dir);
}

/* Two Gaussian blobs per class in 3 dimensions: the fit separates them. */
static void fit_separates_classes_and_is_deterministic(void **state)
{
	(void)state;
	enum { N = 120, D = 3, K = 3 };
	static float x[N * D];
	static int y[N];
	uint64_t rng = 42;
	for (int i = 0; i < N; i++) {
		y[i] = i % K;
		for (int j = 0; j < D; j++)
			x[i * D + j] = (j == y[i] ? 3.0f : 0.0f) + (float)tu_rand_in(&rng, -100, 100) / 100.0f;
	}
	struct rt_fit_options opt = { .l2 = 0.01, .iterations = 200 };
	struct rt_head h1, h2;
	char err[256];
	assert_int_equal(rt_fit(x, y, N, K, D, &opt, &h1, err, sizeof(err)), 0);
	assert_int_equal(rt_fit(x, y, N, K, D, &opt, &h2, err, sizeof(err)), 0);
	int right = 0;
	for (int i = 0; i < N; i++)
		right += rt_head_predict(&h1, x + i * D) == y[i];
	assert_true(right >= N - 2);
	assert_memory_equal(h1.weights, h2.weights, sizeof(float) * K * D);
	assert_true(h1.logit_min < h1.logit_max);
	rt_head_free(&h1);
	rt_head_free(&h2);
	int one_class[N] = { 0 };
	assert_int_equal(rt_fit(x, one_class, N, K, D, &opt, &h1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "class 1 has no training sample"));
}

/* Embeddings of random inputs through the base (probe), a random head on them, the written
 * model checked against both. */
static void written_model_runs_the_base_and_the_head(const char *model, enum eng_backend backend)
{
	enum { N = 12, K = 3 };
	char err[512] = "";
	struct rt_base *b = open_base(model, NULL);
	const struct rt_embedding *emb = rt_base_embedding(b);
	struct eng_options opt = { .backend = backend, .threads = 1, .probe_tensor = emb->name };
	struct engine *base, *out;
	if (eng_load(tu_model_path(model), &opt, &base, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	struct eng_tensor_info in, pi;
	assert_int_equal(eng_input_info(base, &in), 0);
	assert_int_equal(eng_probe_info(base, &pi), 0);
	assert_int_equal((int)pi.bytes, emb->depth);
	uint8_t *inputs = malloc(N * in.bytes), *embs = malloc((size_t)N * emb->depth);
	float *x = malloc(sizeof(float) * N * emb->depth);
	assert_true(inputs && embs && x);
	uint64_t rng = 7;
	for (size_t i = 0; i < N * in.bytes; i++)
		inputs[i] = (uint8_t)tu_rand(&rng);
	for (int i = 0; i < N; i++) {
		memcpy(eng_input(base), inputs + i * in.bytes, in.bytes);
		assert_int_equal(eng_invoke(base), 0);
		memcpy(embs + (size_t)i * emb->depth, eng_probe(base), emb->depth);
		for (int j = 0; j < emb->depth; j++) {
			int q = emb->type == ENG_INT8 ? (int8_t)embs[(size_t)i * emb->depth + j] : embs[(size_t)i * emb->depth + j];
			x[(size_t)i * emb->depth + j] = emb->scale * (float)(q - emb->zero_point);
		}
	}
	/* A random head with logits of a few units: the writer's quantization is what is checked
	 * here (rt_fit on noise embeddings would give an ill-conditioned head; the fit's accuracy
	 * on real images is suite-retrain.sh's job). */
	struct rt_head h = { .classes = K, .depth = emb->depth };
	h.weights = malloc(sizeof(float) * K * emb->depth);
	h.bias = malloc(sizeof(float) * K);
	assert_true(h.weights && h.bias);
	double rms = 0;
	for (int j = 0; j < N * emb->depth; j++)
		rms += (double)x[j] * x[j];
	rms = sqrt(rms / (N * emb->depth));
	float a = (float)(3.0 / (sqrt((double)emb->depth) * (rms > 0 ? rms : 1)));
	for (int j = 0; j < K * emb->depth; j++)
		h.weights[j] = a * (float)tu_rand_in(&rng, -1000, 1000) / 1000.0f;
	h.logit_min = INFINITY;
	h.logit_max = -INFINITY;
	for (int k = 0; k < K; k++) {
		h.bias[k] = (float)(k - 1) * 0.5f;
		for (int i = 0; i < N; i++) {
			float l = h.bias[k];
			for (int j = 0; j < emb->depth; j++)
				l += h.weights[(size_t)k * emb->depth + j] * x[(size_t)i * emb->depth + j];
			h.logit_min = fminf(h.logit_min, l);
			h.logit_max = fmaxf(h.logit_max, l);
		}
	}
	const char *labels[K] = { "alpha", "beta", "gamma" };
	uint8_t *bytes;
	size_t len;
	if (rt_write(b, &h, labels, "test", &bytes, &len, err, sizeof(err)) < 0)
		fail_msg("%s: %s", model, err);
	if (eng_load_memory(bytes, len, "written", &opt, &out, err, sizeof(err)) < 0)
		fail_msg("%s: written model: %s", model, err);
	struct eng_tensor_info in2, out_base, out2;
	assert_int_equal(eng_input_info(out, &in2), 0);
	assert_int_equal(eng_output_info(base, &out_base), 0);
	assert_int_equal(eng_output_info(out, &out2), 0);
	assert_int_equal(in2.type, in.type);
	assert_int_equal(in2.bytes, in.bytes);
	assert_int_equal(out2.type, out_base.type); /* the base's output convention */
	assert_int_equal((int)eng_output_count(out), K);
	for (int i = 0; i < N; i++) {
		memcpy(eng_input(out), inputs + i * in.bytes, in.bytes);
		assert_int_equal(eng_invoke(out), 0);
		if (memcmp(eng_probe(out), embs + (size_t)i * emb->depth, emb->depth) != 0)
			fail_msg("%s: input %d: the written body computes another embedding", model, i);
		const float *xi = x + (size_t)i * emb->depth;
		double logits[K], m = -INFINITY, sum = 0;
		for (int k = 0; k < K; k++) {
			logits[k] = h.bias[k];
			for (int j = 0; j < emb->depth; j++)
				logits[k] += (double)h.weights[(size_t)k * emb->depth + j] * xi[j];
			m = fmax(m, logits[k]);
		}
		for (int k = 0; k < K; k++)
			sum += exp(logits[k] - m);
		for (int k = 0; k < K; k++) {
			double want = exp(logits[k] - m) / sum, got = eng_output_value(out, (size_t)k);
			if (fabs(want - got) > 0.05)
				fail_msg("%s: input %d class %d: score %.3f, float head says %.3f", model, i, k, got, want);
		}
	}
	eng_free(out);
	free(bytes);
	rt_head_free(&h);
	eng_free(base);
	free(inputs);
	free(embs);
	free(x);
	rt_base_free(b);
}

static void written_models_load_and_agree_builtin(void **state)
{
	(void)state;
	written_model_runs_the_base_and_the_head("vww_96_int8.tflite", ENG_BACKEND_BUILTIN);
	written_model_runs_the_base_and_the_head("mobilenet_v1_0.25_128_quant.tflite", ENG_BACKEND_BUILTIN);
	written_model_runs_the_base_and_the_head("tf2_mobilenet_v2_1.0_224_ptq.tflite", ENG_BACKEND_BUILTIN);
	written_model_runs_the_base_and_the_head("pretrainedResnet_quant.tflite", ENG_BACKEND_BUILTIN);
}

static void written_models_load_and_agree_xnnpack(void **state)
{
	(void)state;
	written_model_runs_the_base_and_the_head("vww_96_int8.tflite", ENG_BACKEND_XNNPACK);
	written_model_runs_the_base_and_the_head("mobilenet_v1_0.25_128_quant.tflite", ENG_BACKEND_XNNPACK);
	written_model_runs_the_base_and_the_head("person_detect.tflite", ENG_BACKEND_XNNPACK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finder_picks_the_classifier_input),
		cmocka_unit_test(finder_refuses_what_it_cannot_retrain),
		cmocka_unit_test(fit_separates_classes_and_is_deterministic),
		cmocka_unit_test(written_models_load_and_agree_builtin),
		cmocka_unit_test(written_models_load_and_agree_xnnpack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
