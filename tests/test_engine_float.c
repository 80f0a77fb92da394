/* test_engine_float.c — float32 models against TensorFlow Lite's own numbers: every row of
 * ../shared/models/ref/float_cases.tsv (read at run time) runs through the builtin float kernels
 * (one and two threads) and through the xnnpack backend (when built in); outputs must lie within
 * FLOAT_TOL of `ref_output` (TFLite 2.8 reference float kernels) and of `xnnpack_output`
 * (TFLite + XNNPACK fp32), with the reference top-1. MANIFEST.md gives the tolerance: the two
 * TFLite runs differ by at most 2.3e-6; float kernels may sum in another order. */
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
#include "tests/testutil.h"

#define FLOAT_TOL 1e-5f
#define MAX_ROWS 64
#define MAX_COLS 16

static struct {
	int ncols, nrows;
	char *names[MAX_COLS];
	char *rows[MAX_ROWS][MAX_COLS];
	char *text;
} tsv;

static int col(const char *name)
{
	for (int c = 0; c < tsv.ncols; c++)
		if (strcmp(tsv.names[c], name) == 0)
			return c;
	fail_msg("float_cases.tsv has no column '%s'", name);
	return -1;
}

static int load_tsv(void **state)
{
	(void)state;
	size_t len;
	char path[4096];
	snprintf(path, sizeof(path), "%s/ref/float_cases.tsv", tu_models_dir());
	uint8_t *raw = tu_read_file(path, &len);
	tsv.text = realloc(raw, len + 1);
	assert_non_null(tsv.text);
	tsv.text[len] = 0;
	char *save_line = NULL;
	for (char *line = strtok_r(tsv.text, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
		char *f[MAX_COLS], *save = NULL;
		int n = 0;
		for (char *s = strtok_r(line, "\t", &save); s && n < MAX_COLS; s = strtok_r(NULL, "\t", &save))
			f[n++] = s;
		if (tsv.ncols == 0) {
			memcpy(tsv.names, f, sizeof(char *) * (size_t)n);
			tsv.ncols = n;
			continue;
		}
		assert_int_equal(n, tsv.ncols);
		assert_true(tsv.nrows < MAX_ROWS);
		memcpy(tsv.rows[tsv.nrows++], f, sizeof(char *) * (size_t)n);
	}
	assert_true(tsv.nrows > 0);
	return 0;
}

static int free_tsv(void **state)
{
	(void)state;
	free(tsv.text);
	return 0;
}

static float *read_floats(const char *rel, size_t *ret_n)
{
	char path[4096];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", tu_models_dir(), rel);
	uint8_t *b = tu_read_file(path, &len);
	assert_int_equal(len % 4, 0);
	*ret_n = len / 4;
	return (float *)(void *)b;
}

static void run_cases(enum eng_backend backend, int threads, const char *label)
{
	int c_model = col("model"), c_case = col("case"), c_in = col("input"), c_ref = col("ref_output"),
	    c_xnn = col("xnnpack_output"), c_top1 = col("ref_top1");
	struct eng_options opt = { .backend = backend, .threads = threads };
	char err[512];
	float worst_all = 0.0f;
	for (int r = 0; r < tsv.nrows; r++) {
		char **row = tsv.rows[r];
		struct engine *e;
		struct eng_tensor_info in, out;
		size_t nin, nref, nxnn;
		if (eng_load(tu_model_path(row[c_model]), &opt, &e, err, sizeof(err)) < 0)
			fail_msg("%s: %s", row[c_model], err);
		assert_int_equal(eng_input_info(e, &in), 0);
		assert_int_equal(eng_output_info(e, &out), 0);
		assert_int_equal(in.type, ENG_FLOAT32);
		assert_int_equal(out.type, ENG_FLOAT32);
		float *x = read_floats(row[c_in], &nin), *ref = read_floats(row[c_ref], &nref);
		float *xnn = read_floats(row[c_xnn], &nxnn);
		assert_int_equal(nin * 4, in.bytes);
		assert_int_equal(nref * 4, out.bytes);
		assert_int_equal(nxnn, nref);
		memcpy(eng_input(e), x, in.bytes);
		assert_int_equal(eng_invoke(e), 0);
		float worst = 0.0f;
		size_t top1 = 0;
		for (size_t i = 0; i < nref; i++) {
			float y = eng_output_value(e, i);
			float d = fabsf(y - ref[i]), dx = fabsf(y - xnn[i]);
			worst = d > worst ? d : worst;
			worst = dx > worst ? dx : worst;
			if (y > eng_output_value(e, top1))
				top1 = i;
		}
		if (!(worst <= FLOAT_TOL) || (int)top1 != atoi(row[c_top1]))
			fail_msg("%s: %s %s: off by %g (tolerance %g), top-1 %zu (reference %s)", label, row[c_model],
				 row[c_case], (double)worst, (double)FLOAT_TOL, top1, row[c_top1]);
		worst_all = worst > worst_all ? worst : worst_all;
		free(x);
		free(ref);
		free(xnn);
		eng_free(e);
	}
	printf("%s: %d float cases within %g (worst %g)\n", label, tsv.nrows, (double)FLOAT_TOL, (double)worst_all);
}

static void builtin_float_kernels_match_tflite(void **state)
{
	(void)state;
	run_cases(ENG_BACKEND_BUILTIN, 1, "float-builtin");
}

static void builtin_float_kernels_match_tflite_on_two_threads(void **state)
{
	(void)state;
	run_cases(ENG_BACKEND_BUILTIN, 2, "float-builtin (2 threads)");
}

static void xnnpack_fp32_matches_tflite(void **state)
{
	(void)state;
#ifdef CAMCLASS_HAVE_XNNPACK
	run_cases(ENG_BACKEND_XNNPACK, 1, "float-xnnpack");
	run_cases(ENG_BACKEND_XNNPACK, 2, "float-xnnpack (2 threads)");
#else
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_float_kernels_match_tflite),
		cmocka_unit_test(builtin_float_kernels_match_tflite_on_two_threads),
		cmocka_unit_test(xnnpack_fp32_matches_tflite),
	};
	return cmocka_run_group_tests(tests, load_tsv, free_tsv);
}
