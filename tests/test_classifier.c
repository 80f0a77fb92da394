/* test_classifier.c — daemon/classifier.c, labels.c and rank.c: the one classifier the daemon
 * and `camclass classify` share. Labels file forms, the ranking against a full sort (also for
 * k beyond the protocol's 20, ties and NaN), load errors that name the file, and a real photo
 * through every step (decode, prepare, run) giving the MANIFEST's answer. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/classifier.h"
#include "daemon/roi.h"
#include "tests/testutil.h"

static void labels_from_the_shared_imagenet_file(void **state)
{
	(void)state;
	struct labels l;
	char err[512];
	assert_int_equal(labels_load(tu_model_path("imagenet_labels.txt"), &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 1001);
	assert_string_equal(l.names[0], "background");
	assert_string_equal(l.names[286], "Egyptian cat");
	assert_string_equal(l.names[653], "military uniform");
	labels_free(&l);
}

static void labels_keep_empty_lines_and_strip_crlf(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[4200], err[512];
	struct labels l;
	snprintf(path, sizeof(path), "%s/l.txt", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("zero\r\n\ntwo", f);
	fclose(f);
	assert_int_equal(labels_load(path, &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.names[0], "zero");
	assert_string_equal(l.names[1], "");
	assert_string_equal(l.names[2], "two");
	labels_free(&l);

	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(labels_load(path, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no labels"));
	snprintf(path, sizeof(path), "%s/missing.txt", dir);
	assert_int_equal(labels_load(path, &l, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	tu_rm_rf(dir);
	free(dir);
}

struct ref_item {
	float score;
	uint32_t index;
};

static int ref_cmp(const void *pa, const void *pb)
{
	const struct ref_item *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return a->index < b->index ? -1 : 1;
}

static void top_k_matches_a_full_sort_for_any_k(void **state)
{
	(void)state;
	enum { N = 1001 };
	static float scores[N];
	static struct ref_item ref[N];
	static struct clf_rank got[N + 5];
	static const size_t ks[] = { 1, 2, 5, 20, 21, 100, 1000, N, N + 5 };
	uint64_t rng = 11;
	for (int round = 0; round < 40; round++) {
		size_t k = ks[round % (sizeof(ks) / sizeof(ks[0]))];
		float min_score = round % 4 == 0 ? -INFINITY : (float)(round % 5) * 0.2f;
		for (int i = 0; i < N; i++) /* coarse values, so ties happen */
			scores[i] = (float)tu_rand_in(&rng, 0, 63) / 63.0f;
		size_t n_ref = 0;
		for (int i = 0; i < N; i++)
			if (scores[i] >= min_score)
				ref[n_ref++] = (struct ref_item){ scores[i], (uint32_t)i };
		qsort(ref, n_ref, sizeof(ref[0]), ref_cmp);
		size_t want = n_ref < k ? n_ref : k;
		assert_int_equal(clf_top_k(scores, N, k, min_score, got), want);
		for (size_t i = 0; i < want; i++) {
			assert_int_equal(got[i].index, ref[i].index);
			assert_true(got[i].score == ref[i].score);
		}
	}
}

static void top_k_skips_nan_and_handles_empty_input(void **state)
{
	(void)state;
	const float scores[4] = { 0.5f, NAN, 0.9f, 0.5f };
	struct clf_rank got[4];
	assert_int_equal(clf_top_k(scores, 4, 4, -INFINITY, got), 3);
	assert_int_equal(got[0].index, 2);
	assert_int_equal(got[1].index, 0); /* tie: lower class first */
	assert_int_equal(got[2].index, 3);
	assert_int_equal(clf_top_k(scores, 0, 4, -INFINITY, got), 0);
	assert_int_equal(clf_top_k(scores, 4, 0, -INFINITY, got), 0);
}

static struct clf_options options(const char *model, const char *labels)
{
	return (struct clf_options){ .model_path = model, .labels_path = labels,
				     .backend = ENG_BACKEND_BUILTIN, .threads = 1,
				     .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA };
}

static void load_errors_name_the_file(void **state)
{
	(void)state;
	char err[512], model[4096], labels[4096];
	struct classifier *c = NULL;
	snprintf(model, sizeof(model), "%s", tu_model_path("vww_96_int8.tflite"));
	snprintf(labels, sizeof(labels), "%s", tu_model_path("imagenet_labels.txt"));
	struct clf_options o = options(model, labels);
	assert_int_equal(clf_load(&o, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, "imagenet_labels.txt has 1001 labels but"));
	assert_non_null(strstr(err, "vww_96_int8.tflite has 2 outputs"));

	o.labels_path = "/nonexistent/labels.txt";
	assert_int_equal(clf_load(&o, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/labels.txt"));

	o = options("/nonexistent/model.tflite", labels);
	assert_true(clf_load(&o, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/model.tflite"));
	assert_null(c);
}

/* The steps the daemon runs on a frame, on a shared photo: MANIFEST.md says 653 "military
 * uniform" for grace_hopper on MobileNet v2. */
static void a_photo_through_every_step(void **state)
{
	(void)state;
	char err[512], model[4096], labels[4096];
	struct classifier *c;
	struct cap_image img;
	struct clf_rank top[3];
	size_t bytes;
	snprintf(model, sizeof(model), "%s", tu_model_path("mobilenet_v2_1.0_224_quant.tflite"));
	snprintf(labels, sizeof(labels), "%s", tu_model_path("imagenet_labels.txt"));
	struct clf_options o = options(model, labels);
	if (clf_load(&o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(clf_name(c), "mobilenet_v2_1.0_224_quant");
	assert_int_equal(clf_class_count(c), 1001);
	assert_string_equal(clf_labels(c)[286], "Egyptian cat");
	assert_int_equal(clf_input(c)->dims[1], 224);
	assert_int_equal(clf_prep(c)->target.width, 224);
	assert_int_equal(clf_prep(c)->target.channels, 3);

	uint8_t *data = tu_read_file(tu_model_path("images/grace_hopper.bmp"), &bytes);
	assert_non_null(data);
	assert_int_equal(clf_decode_still(c, data, bytes, &img), 0);
	free(data);
	assert_int_equal(clf_prepare(c, &img), 0);
	assert_int_equal(clf_run(c), 0);
	assert_string_equal(clf_run_error(c), "");
	assert_int_equal(clf_top_k(clf_scores(c), clf_class_count(c), 3, -INFINITY, top), 3);
	assert_int_equal(top[0].index, 653);
	assert_true(top[0].score >= top[1].score && top[1].score >= top[2].score);
	float sum = 0;
	for (size_t i = 0; i < clf_class_count(c); i++)
		sum += clf_scores(c)[i];
	assert_float_equal(sum, 1.0, 0.05); /* softmax output, dequantized */
	clf_free(c);
}

/* Labels from the model's own metadata when none are given (the official MobileNets carry
 * imagenet_labels.txt in an appended zip); an explicit file wins; a model without any names
 * what to do, and a count mismatch names both counts and where the labels came from. */
static void labels_inside_the_model(void **state)
{
	(void)state;
	char err[512], model[4096], labels[4096];
	struct classifier *c = NULL;
	snprintf(model, sizeof(model), "%s", tu_model_path("mobilenet_v1_0.25_128_quant.tflite"));
	struct clf_options o = options(model, NULL);
	if (clf_load(&o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(clf_class_count(c), 1001);
	assert_string_equal(clf_labels(c)[0], "background");
	assert_string_equal(clf_labels(c)[286], "Egyptian cat");
	assert_non_null(strstr(clf_labels_source(c), "mobilenet_v1_0.25_128_quant.tflite:imagenet_labels.txt"));
	assert_string_equal(clf_input_desc(c), "uint8, pixel as is");
	clf_free(c);

	/* explicit wins, even over a model that has labels */
	snprintf(labels, sizeof(labels), "%s", tu_model_path("cifar10_labels.txt"));
	o.labels_path = labels;
	assert_int_equal(clf_load(&o, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cifar10_labels.txt has 10 labels but"));
	assert_non_null(strstr(err, "has 1001 outputs"));

	/* no labels given, none inside: the fallback file, else a message */
	snprintf(model, sizeof(model), "%s", tu_model_path("pretrainedResnet_quant.tflite"));
	o = options(model, "");
	assert_int_equal(clf_load(&o, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "pretrainedResnet_quant.tflite carries no labels file"));
	o.labels_fallback_path = labels;
	if (clf_load(&o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(clf_labels(c)[3], "cat");
	clf_free(c);
}

/* A float32 model (ResNet8, trained on 0..255 pixels): input_mean 0 / input_std 1 gives the
 * cat photo its reference class; scores are its softmax; output = logits softmaxes them again
 * (still summing to 1, flatter), and the -1..1 default is what the description says. */
static void float_model_normalization_and_output(void **state)
{
	(void)state;
	char err[512], model[4096], labels[4096];
	struct classifier *c = NULL;
	struct cap_image img;
	struct clf_rank top[1];
	size_t bytes;
	snprintf(model, sizeof(model), "%s", tu_model_path("pretrainedResnet.tflite"));
	snprintf(labels, sizeof(labels), "%s", tu_model_path("cifar10_labels.txt"));
	uint8_t *data = tu_read_file(tu_model_path("images/cat.bmp"), &bytes);
	struct clf_options o = options(model, labels);
	o.io = (struct model_io_settings){ .input_mean = 0, .input_std = 1, .output = MODEL_OUTPUT_AUTO };
	float first = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (clf_load(&o, &c, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_true(clf_prep(c)->target.normalize);
		assert_string_equal(clf_input_desc(c), "float32, (pixel - 0) / 1 from input_mean/input_std");
		assert_int_equal(clf_decode_still(c, data, bytes, &img), 0);
		assert_int_equal(clf_prepare(c, &img), 0);
		assert_int_equal(clf_run(c), 0);
		assert_int_equal(clf_top_k(clf_scores(c), clf_class_count(c), 1, -INFINITY, top), 1);
		assert_int_equal(top[0].index, 3);
		float sum = 0;
		for (size_t i = 0; i < clf_class_count(c); i++)
			sum += clf_scores(c)[i];
		assert_float_equal(sum, 1.0, 1e-4);
		if (pass == 0)
			first = top[0].score;
		else
			assert_true(top[0].score < first); /* a softmax of probabilities is flatter */
		clf_free(c);
		o.io.output = MODEL_OUTPUT_LOGITS;
	}
	o.io = (struct model_io_settings){ .input_mean = NAN, .input_std = NAN };
	if (clf_load(&o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_non_null(strstr(clf_input_desc(c), "(pixel - 127.5) / 127.5 default"));
	clf_free(c);
	o.io.input_mean = 3;
	assert_int_equal(clf_load(&o, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "input_mean and input_std must be set together"));
	free(data);
}

/* What the classify thread does with a YUYV or NV12 frame (clf_prepare_frame on the roi's
 * rectangle) fills the input tensor exactly as decoding the frame, cutting the roi's view and
 * preparing it do — on an RGB model (center crop) and a grey one. */
static void a_yuv_frame_prepares_as_its_decoded_picture(void **state)
{
	(void)state;
	static const char *const models[][2] = { { "mobilenet_v2_1.0_224_quant.tflite", "imagenet_labels.txt" },
						  { "person_detect.tflite", "person_detect_labels.txt" } };
	static const struct roi rois[] = { { 0, 0, 1, 1 }, { 0.3, 0.1, 0.55, 0.77 } };
	enum { W = 161, H = 121 };
	static uint8_t frame_bytes[(W + 1) * 2 * H];
	srand(3);
	for (size_t i = 0; i < sizeof(frame_bytes); i++)
		frame_bytes[i] = (uint8_t)rand();
	for (size_t m = 0; m < 2; m++) {
		char err[512], model[4096], labels[4096];
		struct classifier *c;
		snprintf(model, sizeof(model), "%s", tu_model_path(models[m][0]));
		snprintf(labels, sizeof(labels), "%s", tu_model_path(models[m][1]));
		struct clf_options o = options(model, labels);
		o.crop = CAP_CROP_CENTER;
		if (clf_load(&o, &c, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		const size_t n = clf_input(c)->bytes;
		uint8_t *got = malloc(n);
		assert_non_null(got);
		for (int f = 0; f < 2; f++)
			for (size_t k = 0; k < 2; k++) {
				const struct cap_frame fr = {
					.data = frame_bytes, .bytes = sizeof(frame_bytes),
					.format = f ? CAP_FMT_NV12 : CAP_FMT_YUYV, .width = W, .height = H,
					.stride_bytes = f ? W + 1 : (W + 1) * 2,
				};
				const struct cap_rect rect = roi_rect(&rois[k], W, H);
				assert_int_equal(clf_prepare_frame(c, &fr, &rect), 0);
				memcpy(got, clf_input_tensor(c), n);
				struct cap_image img;
				assert_int_equal(clf_decode_frame(c, &fr, &img), 0);
				const struct cap_image view = roi_view(&img, &rois[k]);
				assert_int_equal(clf_prepare(c, &view), 0);
				assert_memory_equal(got, clf_input_tensor(c), n);
			}
		free(got);
		clf_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(labels_from_the_shared_imagenet_file),
		cmocka_unit_test(labels_keep_empty_lines_and_strip_crlf),
		cmocka_unit_test(top_k_matches_a_full_sort_for_any_k),
		cmocka_unit_test(top_k_skips_nan_and_handles_empty_input),
		cmocka_unit_test(load_errors_name_the_file),
		cmocka_unit_test(a_photo_through_every_step),
		cmocka_unit_test(a_yuv_frame_prepares_as_its_decoded_picture),
		cmocka_unit_test(labels_inside_the_model),
		cmocka_unit_test(float_model_normalization_and_output),
	};
	return cmocka_run_group_tests_name("classifier", tests, NULL, NULL);
}
