/* test_capture_classify.c — `camclass classify` end to end (the real binary, real models and
 * photos from ../shared/models): the top-1 answers MANIFEST.md lists, the same answers from
 * JPEG versions of the photos made here at run time (JPEG path with DCT scaling), --json
 * output parsed with jansson, and error exits. Also checks that capture's preprocessing
 * reproduces the shared reference input tensors (ref/NAME.in) made with the same recipe. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <turbojpeg.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "tests/testutil.h"

/* Runs camclass with args (a shell-quoted string built from trusted test paths); returns the
 * exit status and stdout in *out (malloc'd). */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
	char args[8192], cmd[9000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s/camclass classify %s 2>/dev/null", tu_build_dir(), args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
		n += got;
	buf[n] = 0;
	int st = pclose(p);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *m(const char *name)
{
	static char bufs[4][4096];
	static int i;
	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s", tu_model_path(name));
	return bufs[i];
}

/* The first line's class index of text output. */
static long top1(const char *out)
{
	return strtol(out, NULL, 10);
}

static void manifest_top1_on_the_shared_photos(void **state)
{
	(void)state;
	static const struct { const char *model, *labels, *image, *opts; long want; } cases[] = {
		{ "mobilenet_v2_1.0_224_quant.tflite", "imagenet_labels.txt", "images/cat.bmp", "", 286 },
		{ "mobilenet_v2_1.0_224_quant.tflite", "imagenet_labels.txt", "images/grace_hopper.bmp", "", 653 },
		{ "tf2_mobilenet_v2_1.0_224_ptq.tflite", "imagenet_labels.txt", "images/cat.bmp", "", 286 },
		{ "tf2_mobilenet_v2_1.0_224_ptq.tflite", "imagenet_labels.txt", "images/grace_hopper.bmp", "", 653 },
		/* the v1 0.25 reference answer comes with the reference's bilinear resize */
		{ "mobilenet_v1_0.25_128_quant.tflite", "imagenet_labels.txt", "images/cat.bmp",
		  "--resize bilinear", 283 },
		/* "an antialiased (area-like) downscale is what makes vww say person" */
		{ "vww_96_int8.tflite", "vww_labels.txt", "images/grace_hopper.bmp", "--resize area", 1 },
		{ "vww_96_int8.tflite", "vww_labels.txt", "images/cat.bmp", "", 0 },
		{ "pretrainedResnet_quant.tflite", "cifar10_labels.txt", "images/cat.bmp", "", 3 },
		{ "person_detect.tflite", "person_detect_labels.txt", "images/no_person.bmp", "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out;
		int rc = run(&out, "--model '%s' --labels '%s' --top-k 3 %s '%s'", m(cases[i].model),
			     m(cases[i].labels), cases[i].opts, m(cases[i].image));
		if (rc != 0 || top1(out) != cases[i].want)
			fail_msg("%s on %s %s: exit %d, got\n%s\nwant top-1 %ld", cases[i].model,
				 cases[i].image, cases[i].opts, rc, out, cases[i].want);
		assert_int_equal(strchr(out, '\n') - out > 0, 1);
		free(out);
	}
}

/* The photo as a JPEG file in dir (decoded with capture's BMP reader, encoded by TurboJPEG). */
static void make_jpeg(const char *bmp, const char *jpg_path)
{
	size_t len;
	uint8_t *b = tu_read_file(tu_model_path(bmp), &len);
	struct cap_decoder *d;
	struct cap_image img;
	struct cap_prep p = { .target = { .width = 1, .height = 1, .channels = 3 } };
	assert_int_equal(cap_decoder_new(&d), 0);
	assert_int_equal(cap_decode_still(d, b, len, &p, &img), 0);
	assert_int_equal(img.channels, 3);
	uint8_t *jpg = NULL;
	unsigned long jlen = 0;
	tjhandle tj = tjInitCompress();
	assert_int_equal(tjCompress2(tj, img.pixels, img.width, (int)img.stride_bytes, img.height,
				     TJPF_RGB, &jpg, &jlen, TJSAMP_420, 95, 0), 0);
	FILE *f = fopen(jpg_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(jpg, 1, jlen, f), jlen);
	fclose(f);
	tjFree(jpg);
	tjDestroy(tj);
	cap_decoder_free(d);
	free(b);
}

static void jpeg_versions_give_the_same_answers(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), cat[4096], gh[4096], *out;
	snprintf(cat, sizeof(cat), "%s/cat.jpg", dir);
	snprintf(gh, sizeof(gh), "%s/grace hopper.jpeg", dir);
	make_jpeg("images/cat.bmp", cat);
	make_jpeg("images/grace_hopper.bmp", gh);
	/* for 224x224 (crop full): cat 512x341 decodes at 3/4 (384x256), grace_hopper 512x600 at 1/2 */
	int rc = run(&out, "--model '%s' --labels '%s' --top-k 1 '%s' '%s'",
		     m("mobilenet_v2_1.0_224_quant.tflite"), m("imagenet_labels.txt"), cat, gh);
	assert_int_equal(rc, 0);
	char want[8192];
	snprintf(want, sizeof(want), "== %s\n286 ", cat);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "== %s\n653 ", gh);
	assert_non_null(strstr(out, want));
	free(out);
	rc = run(&out, "--model '%s' --labels '%s' --top-k 1 '%s'", m("vww_96_int8.tflite"),
		 m("vww_labels.txt"), gh);
	assert_int_equal(rc, 0);
	assert_int_equal(top1(out), 1);
	free(out);
	tu_rm_rf(dir);
	free(dir);
}

static void json_lines_parse(void **state)
{
	(void)state;
	char *out;
	int rc = run(&out, "--model '%s' --labels '%s' --top-k 3 --json '%s' '%s'",
		     m("mobilenet_v2_1.0_224_quant.tflite"), m("imagenet_labels.txt"),
		     m("images/cat.bmp"), m("images/grace_hopper.bmp"));
	assert_int_equal(rc, 0);
	char *line = out, *nl;
	int lines = 0;
	while ((nl = strchr(line, '\n'))) {
		*nl = 0;
		json_error_t jerr;
		json_t *j = json_loads(line, 0, &jerr);
		if (!j)
			fail_msg("not JSON: %s (%s)", line, jerr.text);
		json_t *labels = json_object_get(j, "labels");
		assert_true(json_is_string(json_object_get(j, "image")));
		assert_int_equal(json_array_size(labels), 3);
		json_t *first = json_array_get(labels, 0);
		long idx = (long)json_integer_value(json_object_get(first, "index"));
		const char *label = json_string_value(json_object_get(first, "label"));
		double score = json_real_value(json_object_get(first, "score"));
		double second = json_real_value(json_object_get(json_array_get(labels, 1), "score"));
		if (lines == 0) {
			assert_int_equal(idx, 286);
			assert_string_equal(label, "Egyptian cat");
		} else {
			assert_int_equal(idx, 653);
			assert_string_equal(label, "military uniform");
		}
		assert_true(score > 0.3 && score <= 1.0 && second <= score);
		json_decref(j);
		lines++;
		line = nl + 1;
	}
	assert_int_equal(lines, 2);
	free(out);
}

static void errors_exit_nonzero(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(run(&out, "--model x.tflite"), 2);   /* no labels, no image */
	free(out);
	assert_int_equal(run(&out, "--model '%s' --labels '%s' --crop sideways '%s'",
			     m("vww_96_int8.tflite"), m("vww_labels.txt"), m("images/cat.bmp")), 2);
	free(out);
	/* labels file with the wrong number of lines */
	assert_int_equal(run(&out, "--model '%s' --labels '%s' '%s'", m("vww_96_int8.tflite"),
			     m("imagenet_labels.txt"), m("images/cat.bmp")), 1);
	free(out);
	/* a missing and a non-image file: the good image is still classified */
	assert_int_equal(run(&out, "--model '%s' --labels '%s' --top-k 1 /nonexistent.jpg '%s' '%s'",
			     m("vww_96_int8.tflite"), m("vww_labels.txt"), m("MANIFEST.md"),
			     m("images/grace_hopper.bmp")), 1);
	assert_non_null(strstr(out, "grace_hopper.bmp\n1 "));
	free(out);
}

/* capture's preprocessing against the shared reference inputs made with the same recipe */
static void reference_input_tensors_are_reproduced(void **state)
{
	(void)state;
	static const struct { const char *image, *ref; struct cap_prep p; double max_mean; int max_abs; } cases[] = {
		{ "images/cat.bmp", "ref/mobilenet_v2_1.0_224_quant.cat.in",
		  { { .width = 224, .height = 224, .channels = 3, .is_int8 = false, .scale = 1.0f / 128, .zero_point = 128, .is_float = false }, CAP_CROP_FULL, CAP_RESIZE_BILINEAR }, 0.6, 1 },
		{ "images/grace_hopper.bmp", "ref/tf2_mobilenet_v2_1.0_224_ptq.grace_hopper.in",
		  { { .width = 224, .height = 224, .channels = 3, .is_int8 = false, .scale = 1.0f / 127.5f, .zero_point = 127, .is_float = false }, CAP_CROP_FULL, CAP_RESIZE_BILINEAR }, 0.6, 1 },
		{ "images/cat.bmp", "ref/mobilenet_v1_0.25_128_quant.cat.in",
		  { { .width = 128, .height = 128, .channels = 3, .is_int8 = false, .scale = 1.0f / 128, .zero_point = 128, .is_float = false }, CAP_CROP_FULL, CAP_RESIZE_BILINEAR }, 0.6, 1 },
		/* the int8 ones used an antialiased resize that is close to, not exactly, a box */
		{ "images/grace_hopper.bmp", "ref/vww_96_int8.grace_hopper.in",
		  { { .width = 96, .height = 96, .channels = 3, .is_int8 = true, .scale = 1.0f / 255, .zero_point = -128, .is_float = false }, CAP_CROP_FULL, CAP_RESIZE_AREA }, 3.0, 60 },
		{ "images/cat.bmp", "ref/pretrainedResnet_quant.cat.in",
		  { { .width = 32, .height = 32, .channels = 3, .is_int8 = true, .scale = 1.0f, .zero_point = -128, .is_float = false }, CAP_CROP_FULL, CAP_RESIZE_AREA }, 3.0, 30 },
	};
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len, ref_len;
		uint8_t *b = tu_read_file(tu_model_path(cases[i].image), &len);
		uint8_t *ref = tu_read_file(tu_model_path(cases[i].ref), &ref_len);
		const struct cap_target *t = &cases[i].p.target;
		assert_int_equal(ref_len, (size_t)t->width * t->height * t->channels);
		uint8_t *got = malloc(ref_len);
		struct cap_image img;
		assert_int_equal(cap_decode_still(d, b, len, &cases[i].p, &img), 0);
		assert_int_equal(cap_preprocess(&img, &cases[i].p, got, ref_len), 0);
		double sum = 0;
		int worst = 0;
		for (size_t k = 0; k < ref_len; k++) {
			int diff = t->is_int8 ? abs((int8_t)got[k] - (int8_t)ref[k]) : abs(got[k] - ref[k]);
			sum += diff;
			worst = diff > worst ? diff : worst;
		}
		print_message("%s: mean |diff| %.2f, max %d\n", cases[i].ref, sum / ref_len, worst);
		assert_true(sum / ref_len <= cases[i].max_mean);
		assert_true(worst <= cases[i].max_abs);
		free(got);
		free(ref);
		free(b);
	}
	cap_decoder_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manifest_top1_on_the_shared_photos),
		cmocka_unit_test(jpeg_versions_give_the_same_answers),
		cmocka_unit_test(json_lines_parse),
		cmocka_unit_test(errors_exit_nonzero),
		cmocka_unit_test(reference_input_tensors_are_reproduced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
