/* test_metadata.c — TFLite metadata (inference/metadata.c through engine.h): the shared
 * MobileNets carry a ModelMetadata block (name, description, input normalization, the output's
 * labels file) and their labels in an appended zip; the ResNet8 files carry none. The labels
 * read from the model must equal the shared imagenet_labels.txt byte for byte. A truncated or
 * damaged zip gives an error naming the file, never a crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inference/engine.h"
#include "tests/testutil.h"

static struct engine *load(const char *name)
{
	struct eng_options opt = { .backend = ENG_BACKEND_BUILTIN, .threads = 1 };
	struct engine *e = NULL;
	char err[512];
	if (eng_load(tu_model_path(name), &opt, &e, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return e;
}

static void mobilenets_describe_themselves(void **state)
{
	(void)state;
	const char *models[] = { "mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v2_1.0_224_quant.tflite",
				 "tf2_mobilenet_v2_1.0_224_ptq.tflite" };
	size_t want_len;
	char path[4096];
	snprintf(path, sizeof(path), "%s/imagenet_labels.txt", tu_models_dir());
	uint8_t *want = tu_read_file(path, &want_len);
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		struct engine *e = load(models[i]);
		const struct eng_metadata *md = eng_metadata(e);
		assert_true(md->present);
		assert_string_equal(md->error, "");
		assert_string_equal(md->name, "ImageClassifier");
		assert_non_null(strstr(md->description, "most prominent object"));
		assert_string_equal(md->labels_file, "imagenet_labels.txt");
		assert_int_equal(md->norm_count, 1);
		assert_true(md->mean[0] == 127.5f && md->std[0] == 127.5f);
		assert_true(md->min_runtime_version[0] == '1');
		assert_true(eng_output_is_probabilities(e));
		char *data = NULL, err[256];
		size_t len = 0;
		assert_int_equal(eng_associated_file(e, md->labels_file, &data, &len, err, sizeof(err)), 0);
		assert_int_equal(len, want_len);
		assert_memory_equal(data, want, len);
		assert_int_equal(data[len], 0);
		free(data);
		assert_int_equal(eng_associated_file(e, "nope.txt", &data, &len, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, "nope.txt: not among the model's associated files"));
		eng_free(e);
	}
	free(want);
}

static void models_without_metadata_say_so(void **state)
{
	(void)state;
	struct engine *e = load("pretrainedResnet.tflite");
	const struct eng_metadata *md = eng_metadata(e);
	char *data = NULL, err[256];
	size_t len;
	assert_false(md->present);
	assert_string_equal(md->labels_file, "");
	assert_int_equal(md->norm_count, 0);
	assert_int_equal(eng_associated_file(e, "labels.txt", &data, &len, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no zip archive appended"));
	assert_true(eng_output_is_probabilities(e));
	eng_free(e);
}

/* The MobileNet file with its zip damaged: cut in the middle of the archive, or with the
 * member's bytes flipped (the CRC check must catch it). Metadata itself is still read. */
static void damaged_archives_are_errors(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = tu_read_file(tu_model_path("mobilenet_v1_0.25_128_quant.tflite"), &len);
	struct eng_options opt = { .backend = ENG_BACKEND_BUILTIN, .threads = 1 };
	struct engine *e;
	char err[512], *data = NULL;
	size_t n;
	/* the last 22 bytes are the end-of-central-directory record: drop part of it */
	assert_int_equal(eng_load_memory(buf, len - 10, "cut.tflite", &opt, &e, err, sizeof(err)), 0);
	assert_true(eng_metadata(e)->present);
	assert_true(eng_associated_file(e, "imagenet_labels.txt", &data, &n, err, sizeof(err)) < 0);
	eng_free(e);
	/* flip bytes inside the stored labels text ("tench" is near its start) */
	uint8_t *p = memmem(buf, len, "tench", 5);
	assert_non_null(p);
	p[0] ^= 0x20;
	assert_int_equal(eng_load_memory(buf, len, "flipped.tflite", &opt, &e, err, sizeof(err)), 0);
	int rc = eng_associated_file(e, "imagenet_labels.txt", &data, &n, err, sizeof(err));
	if (rc == 0) { /* a stored (uncompressed) member whose CRC libzip checks at the end */
		free(data);
		fail_msg("a corrupted member was read without error");
	}
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(err, "imagenet_labels.txt: "));
	eng_free(e);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mobilenets_describe_themselves),
		cmocka_unit_test(models_without_metadata_say_so),
		cmocka_unit_test(damaged_archives_are_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
