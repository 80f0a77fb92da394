/* test_config.c — daemon/config.c: every default, every key's effect, every class of error,
 * each error naming "FILE:LINE: [section] key". Files are written to a private temp dir. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "ipc/server.h"
#include "tests/testutil.h"

static char *tmp_dir;
static char ini_path[4096];
static char err[CONFIG_ERR_MAX];

static int setup(void **state)
{
	(void)state;
	tmp_dir = tu_tmpdir();
	snprintf(ini_path, sizeof(ini_path), "%s/test.ini", tmp_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(tmp_dir);
	free(tmp_dir);
	return 0;
}

/* Loads text; on success returns 0 and fills *c. */
static int load_text(const char *text, struct config *c)
{
	tu_write_text(ini_path, text);
	return config_load(ini_path, c, err, sizeof(err));
}

/* Asserts that text is rejected with "<ini_path>:<line>: <where>" and the reason fragment. */
static void expect_error(const char *text, int line, const char *where, const char *reason)
{
	struct config c = { 0 };
	char want[4300];
	int r = load_text(text, &c);
	if (r == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(r, -EINVAL);
	snprintf(want, sizeof(want), "%s:%d: %s", ini_path, line, where);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error '%s' does not start with '%s'", err, want);
	if (reason && !strstr(err, reason))
		fail_msg("error '%s' lacks '%s'", err, reason);
	assert_null(c.path); /* *ret untouched */
}

/* [teach]: any key turns teaching on; ranges checked with FILE:LINE errors. */
static void teach_section_keys_and_ranges(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(load_text("[teach]\ndir = /srv/teach\nbase = /srv/base.tflite\nmax_samples_per_label = 50\n"
				   "max_disk_mb = 10\n", &c), 0);
	assert_true(c.teach.enabled);
	assert_string_equal(c.teach.dir, "/srv/teach");
	assert_string_equal(c.teach.base, "/srv/base.tflite");
	assert_int_equal(c.teach.max_samples_per_label, 50);
	assert_int_equal(c.teach.max_disk_mb, 10);
	config_free(&c);
	assert_int_equal(load_text("[log]\nlevel = info\n", &c), 0);
	assert_false(c.teach.enabled);
	config_free(&c);
	expect_error("[teach]\nmax_samples_per_label = 1\n", 2, "[teach] max_samples_per_label: ", NULL);
	expect_error("[teach]\nmax_disk_mb = 0\n", 2, "[teach] max_disk_mb: ", NULL);
	expect_error("[teach]\nmax_disk_mb = 100001\n", 2, "[teach] max_disk_mb: ", NULL);
	expect_error("[teach]\ndir = /x\nlimit = 3\n", 3, "[teach] limit: ", "unknown key");
}

static void defaults_are_documented_values(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(config_defaults(&c), 0);
	assert_null(c.path);
	assert_int_equal(c.camera.source, CAP_SOURCE_V4L2);
	assert_string_equal(c.camera.device, "/dev/video0");
	assert_string_equal(c.camera.file, "");
	assert_int_equal(c.camera.format, CAP_FMT_AUTO);
	assert_int_equal(c.camera.width, 640);
	assert_int_equal(c.camera.height, 480);
	assert_int_equal(c.camera.fps, 15);
	assert_int_equal(c.camera.n_controls, 0);
	assert_string_equal(c.model.path, "/etc/camclassd/model.tflite");
	assert_string_equal(c.model.labels, ""); /* the model's own labels, else /etc/camclassd/labels.txt */
	assert_int_equal(c.model.backend, ENG_BACKEND_AUTO);
	assert_int_equal(c.model.threads, 1);
	assert_int_equal(c.model.resize, CAP_RESIZE_AREA);
	assert_int_equal(c.model.crop, CAP_CROP_CENTER);
	assert_int_equal(c.classify.mode, CONFIG_MODE_CONTINUOUS);
	assert_true(c.classify.rate == 0.0);
	assert_int_equal(c.classify.top_k, 5);
	assert_true(c.classify.threshold == 0.1);
	assert_true(c.classify.smoothing == 0.0);
	assert_string_equal(c.socket.path, "/run/camclassd/camclassd.sock");
	assert_int_equal(c.socket.mode, 0660);
	assert_string_equal(c.socket.group, "");
	assert_int_equal(c.socket.max_clients, 64);
	assert_int_equal(c.log.level, LOG_INFO);
	assert_false(c.teach.enabled);
	assert_string_equal(c.teach.dir, "/var/lib/camclassd/teach");
	assert_string_equal(c.teach.base, "");
	assert_int_equal(c.teach.max_samples_per_label, 200);
	assert_int_equal(c.teach.max_disk_mb, 200);
	config_free(&c);
	config_free(&c); /* idempotent */
}

static void empty_file_gives_defaults(void **state)
{
	(void)state;
	struct config c, d;
	assert_int_equal(load_text("; nothing here\n# nor here\n\n", &c), 0);
	assert_int_equal(config_defaults(&d), 0);
	assert_string_equal(c.path, ini_path);
	assert_int_equal(c.camera.width, d.camera.width);
	assert_string_equal(c.socket.path, d.socket.path);
	assert_int_equal(c.classify.top_k, d.classify.top_k);
	config_free(&c);
	config_free(&d);
}

static void every_key_takes_effect(void **state)
{
	(void)state;
	struct config c;
	int r = load_text("[camera]\n"
			  "source = file\n"
			  "device = /dev/video7\n"
			  "file = /srv/frames\n"
			  "format = yuyv\n"
			  "width = 1280\n"
			  "height = 720\n"
			  "fps = 7\n"
			  "control.brightness = -12\n"
			  "control.exposure_time_absolute = 250\n"
			  "[model]\n"
			  "path = /m/net.tflite\n"
			  "labels = /m/labels.txt\n"
			  "backend = xnnpack\n"
			  "threads = 4\n"
			  "resize = bilinear\n"
			  "crop = full\n"
			  "input_mean = 123.5\n"
			  "input_std = 58.25\n"
			  "output = logits\n"
			  "[classify]\n"
			  "mode = on_demand\n"
			  "rate = 2.5\n"
			  "top_k = 3\n"
			  "threshold = 0.25\n"
			  "smoothing = 0.6\n"
			  "[socket]\n"
			  "path = /tmp/x/cc.sock\n"
			  "mode = 0600\n"
			  "group = video\n"
			  "max_clients = 8\n"
			  "[log]\n"
			  "level = debug\n",
			  &c);
	if (r != 0)
		fail_msg("%s", err);
	assert_int_equal(c.camera.source, CAP_SOURCE_FILE);
	assert_string_equal(c.camera.device, "/dev/video7");
	assert_string_equal(c.camera.file, "/srv/frames");
	assert_int_equal(c.camera.format, CAP_FMT_YUYV);
	assert_int_equal(c.camera.width, 1280);
	assert_int_equal(c.camera.height, 720);
	assert_int_equal(c.camera.fps, 7);
	assert_int_equal(c.camera.n_controls, 2);
	assert_string_equal(c.camera.controls[0].name, "brightness");
	assert_int_equal(c.camera.controls[0].value, -12);
	assert_string_equal(c.camera.controls[1].name, "exposure_time_absolute");
	assert_int_equal(c.camera.controls[1].value, 250);
	assert_string_equal(c.model.path, "/m/net.tflite");
	assert_string_equal(c.model.labels, "/m/labels.txt");
	assert_int_equal(c.model.backend, ENG_BACKEND_XNNPACK);
	assert_int_equal(c.model.threads, 4);
	assert_int_equal(c.model.resize, CAP_RESIZE_BILINEAR);
	assert_int_equal(c.model.crop, CAP_CROP_FULL);
	assert_true(c.model.input_mean == 123.5);
	assert_true(c.model.input_std == 58.25);
	assert_int_equal(c.model.output, MODEL_OUTPUT_LOGITS);
	assert_int_equal(c.classify.mode, CONFIG_MODE_ON_DEMAND);
	assert_true(c.classify.rate == 2.5);
	assert_int_equal(c.classify.top_k, 3);
	assert_true(c.classify.threshold == 0.25);
	assert_true(c.classify.smoothing == 0.6);
	assert_string_equal(c.socket.path, "/tmp/x/cc.sock");
	assert_int_equal(c.socket.mode, 0600);
	assert_string_equal(c.socket.group, "video");
	assert_int_equal(c.socket.max_clients, 8);
	assert_int_equal(c.log.level, LOG_DEBUG);
	config_free(&c);
}

/* The float-input keys: unset is NAN (the model's metadata or -1..1 decide), bounds named with
 * FILE:LINE; labels may be empty (the labels inside the model). */
static void float_input_keys_and_empty_labels(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(load_text("[model]\nlabels =\ninput_mean = -1\n", &c), 0);
	assert_string_equal(c.model.labels, "");
	assert_true(c.model.input_mean == -1.0);
	assert_true(isnan(c.model.input_std));
	assert_int_equal(c.model.output, MODEL_OUTPUT_AUTO);
	config_free(&c);
	assert_int_equal(config_defaults(&c), 0);
	assert_true(isnan(c.model.input_mean) && isnan(c.model.input_std));
	config_free(&c);
	expect_error("[model]\ninput_std = 0\n", 2, "[model] input_std: ", "out of range");
	expect_error("[model]\n\ninput_std = -2\n", 3, "[model] input_std: ", "out of range");
	expect_error("[model]\ninput_mean = 70000\n", 2, "[model] input_mean: ", "out of range");
	expect_error("[model]\ninput_mean = nan\n", 2, "[model] input_mean: ", "not a number");
	expect_error("[model]\noutput = softmax\n", 2, "[model] output: ", "softmax");
}

static void every_choice_is_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t off;
		int want;
	} cases[] = {
#define C(sec, key, val, member, want) \
	{ "[" sec "]\n" key " = " val "\n", offsetof(struct config, member), want }
		C("camera", "source", "v4l2", camera.source, CAP_SOURCE_V4L2),
		C("camera", "format", "auto", camera.format, CAP_FMT_AUTO),
		C("camera", "format", "mjpeg", camera.format, CAP_FMT_MJPEG),
		C("camera", "format", "yuyv", camera.format, CAP_FMT_YUYV),
		C("camera", "format", "grey", camera.format, CAP_FMT_GREY),
		C("camera", "format", "rgb24", camera.format, CAP_FMT_RGB24),
		C("camera", "format", "nv12", camera.format, CAP_FMT_NV12),
		C("model", "backend", "auto", model.backend, ENG_BACKEND_AUTO),
		C("model", "backend", "builtin", model.backend, ENG_BACKEND_BUILTIN),
		C("model", "resize", "area", model.resize, CAP_RESIZE_AREA),
		C("model", "crop", "center", model.crop, CAP_CROP_CENTER),
		C("model", "output", "auto", model.output, MODEL_OUTPUT_AUTO),
		C("model", "output", "probabilities", model.output, MODEL_OUTPUT_PROBABILITIES),
		C("classify", "mode", "continuous", classify.mode, CONFIG_MODE_CONTINUOUS),
		C("log", "level", "info", log.level, LOG_INFO),
		C("log", "level", "warning", log.level, LOG_WARNING),
		C("log", "level", "error", log.level, LOG_ERR),
#undef C
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		if (load_text(cases[i].text, &c) != 0)
			fail_msg("%s: %s", cases[i].text, err);
		assert_int_equal(*(int *)((char *)&c + cases[i].off), cases[i].want);
		config_free(&c);
	}
	assert_string_equal(cap_format_name(CAP_FMT_NV12), "nv12");
	assert_string_equal(config_mode_name(CONFIG_MODE_ON_DEMAND), "on_demand");
	assert_string_equal(eng_backend_name(ENG_BACKEND_BUILTIN), "builtin");
	assert_string_equal(cap_source_kind_name(CAP_SOURCE_FILE), "file");
	assert_string_equal(cap_resize_name(CAP_RESIZE_BILINEAR), "bilinear");
	assert_string_equal(cap_crop_name(CAP_CROP_FULL), "full");
}

static void bounds_are_inclusive_where_documented(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(load_text("[camera]\nwidth = 16\nheight = 8192\nfps = 240\n"
				   "[model]\nthreads = 64\n"
				   "[classify]\ntop_k = 1\nthreshold = 1\nrate = 0\nsmoothing = 0.99\n"
				   "[socket]\nmax_clients = 4096\nmode = 0777\n",
				   &c),
			 0);
	assert_int_equal(c.camera.width, 16);
	assert_int_equal(c.camera.height, 8192);
	assert_int_equal(c.camera.fps, 240);
	assert_int_equal(c.model.threads, 64);
	assert_int_equal(c.socket.mode, 0777);
	config_free(&c);
	assert_int_equal(load_text("[classify]\ntop_k = 20\nthreshold = 0\n[socket]\nmax_clients = 1\n"
				   "mode = 0600\n",
				   &c),
			 0);
	assert_int_equal(c.classify.top_k, WIRE_MAX_LABELS);
	assert_int_equal(c.socket.max_clients, 1);
	assert_int_equal(c.socket.mode, 0600);
	config_free(&c);
}

static void socket_mode_must_let_the_owner_read_and_write(void **state)
{
	(void)state;
	expect_error("[socket]\nmode = 0\n", 2, "[socket] mode: ", "does not give the owner read and write");
	expect_error("[socket]\nmode = 0460\n", 2, "[socket] mode: ", "does not give the owner read and write");
}

static void values_with_inline_comments_and_indentation(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(load_text("[camera]\n  width = 320 ; narrow\n\theight=240\n", &c), 0);
	assert_int_equal(c.camera.width, 320);
	assert_int_equal(c.camera.height, 240);
	config_free(&c);
}

static void unknown_section_names_line(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = 320\n[kamera]\nheight = 2\n", 3, "[kamera]: ", "unknown section");
	/* an empty unknown section is still reported */
	expect_error("[log]\nlevel = info\n\n[extra]\n", 4, "[extra]: ", "unknown section");
}

static void unknown_key_names_line(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = 320\ncolour = red\n", 3, "[camera] colour: ", "unknown key");
	expect_error("[model]\nwidth = 320\n", 2, "[model] width: ", "unknown key");
}

static void key_outside_section(void **state)
{
	(void)state;
	expect_error("width = 320\n", 1, "width: ", "outside");
}

static void bad_numbers(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = abc\n", 2, "[camera] width: ", "not an integer");
	expect_error("[camera]\nheight = 480px\n", 2, "[camera] height: ", "not an integer");
	expect_error("[camera]\nwidth = 6.4e2\n", 2, "[camera] width: ", "not an integer");
	expect_error("[camera]\nwidth =\n", 2, "[camera] width: ", "not an integer");
	expect_error("[camera]\nfps = 15fps\n", 2, "[camera] fps: ", "not an integer");
	expect_error("[camera]\nfps = 7.5\n", 2, "[camera] fps: ", "not an integer");
	expect_error("[classify]\nsmoothing = nan\n", 2, "[classify] smoothing: ", "not a number");
	expect_error("[classify]\nrate = inf\n", 2, "[classify] rate: ", "not a number");
	expect_error("[classify]\nthreshold = 0.5.1\n", 2, "[classify] threshold: ", "not a number");
	expect_error("[socket]\nmode = 0x1ff\n", 2, "[socket] mode: ", "not an octal");
	expect_error("[socket]\nmode = 0689\n", 2, "[socket] mode: ", "not an octal");
	expect_error("[socket]\nmax_clients = 1 2\n", 2, "[socket] max_clients: ", "not an integer");
	expect_error("[camera]\ncontrol.gain = loud\n", 2, "[camera] control.gain: ", "not an integer");
	expect_error("[camera]\ncontrol.gain = 12abc\n", 2, "[camera] control.gain: ", "not an integer");
}

static void overflow_is_out_of_range(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = 99999999999999999999999\n", 2, "[camera] width: ", "out of range");
	expect_error("[camera]\nwidth = 4294967936\n", 2, "[camera] width: ", "out of range");
	expect_error("[classify]\nrate = 1e999\n", 2, "[classify] rate: ", NULL);
	expect_error("[camera]\ncontrol.gain = 99999999999999999999999\n", 2, "[camera] control.gain: ",
		     "not an integer");
	expect_error("[socket]\nmode = 77777777777777777777777\n", 2, "[socket] mode: ", "out of range");
}

static void out_of_range_for_each_bounded_key(void **state)
{
	(void)state;
	static const struct {
		const char *sec, *key, *value;
	} cases[] = {
		{ "camera", "width", "15" },       { "camera", "width", "8193" },
		{ "camera", "height", "0" },       { "camera", "height", "-480" },
		{ "camera", "height", "8193" },    { "camera", "fps", "0" },
		{ "camera", "fps", "-1" },         { "camera", "fps", "241" },
		{ "model", "threads", "0" },       { "model", "threads", "65" },
		{ "classify", "rate", "-0.1" },    { "classify", "rate", "1001" },
		{ "classify", "top_k", "0" },      { "classify", "top_k", "21" },
		{ "classify", "threshold", "-0.01" }, { "classify", "threshold", "1.01" },
		{ "classify", "smoothing", "-0.5" },  { "classify", "smoothing", "1" },
		{ "socket", "max_clients", "0" },  { "socket", "max_clients", "4097" },
		{ "socket", "mode", "1000" },      { "socket", "mode", "01777" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], where[128];
		snprintf(text, sizeof(text), "; comment\n[%s]\n%s = %s\n", cases[i].sec, cases[i].key,
			 cases[i].value);
		snprintf(where, sizeof(where), "[%s] %s: %s is out of range", cases[i].sec,
			 cases[i].key, cases[i].value);
		expect_error(text, 3, where, NULL);
	}
}

static void bad_choice_for_each_enum_key(void **state)
{
	(void)state;
	expect_error("[camera]\nsource = usb\n", 2, "[camera] source: ", "'usb' is not one of v4l2|file");
	expect_error("[camera]\nformat = h264\n", 2, "[camera] format: ",
		     "not one of auto|mjpeg|yuyv|grey|rgb24|nv12");
	expect_error("[model]\nbackend = gpu\n", 2, "[model] backend: ", "not one of auto|builtin|xnnpack");
	expect_error("[model]\nresize = nearest\n", 2, "[model] resize: ", "not one of area|bilinear");
	expect_error("[model]\ncrop = top\n", 2, "[model] crop: ", "not one of center|full");
	expect_error("[classify]\nmode = sometimes\n", 2, "[classify] mode: ",
		     "not one of continuous|on_demand");
	expect_error("[log]\nlevel = loud\n", 2, "[log] level: ", "not one of debug|info|warning|error");
	expect_error("[log]\nlevel = notice\n", 2, "[log] level: ", NULL);
	expect_error("[camera]\nformat = MJPEG\n", 2, "[camera] format: ", NULL);
}

static void duplicate_keys(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = 320\nheight = 240\nwidth = 640\n", 4, "[camera] width: ",
		     "duplicate key (first set on line 2)");
	/* a section that appears twice does not make a key settable twice */
	expect_error("[log]\nlevel = info\n[camera]\n[log]\nlevel = debug\n", 5, "[log] level: ",
		     "duplicate");
	expect_error("[camera]\ncontrol.gain = 1\ncontrol.gain = 2\n", 3, "[camera] control.gain: ",
		     "duplicate");
}

static void syntax_errors_from_inih(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = 320\nthis is not ini\n", 3, "syntax error", NULL);
	expect_error("[camera\nwidth = 320\n", 1, "syntax error", NULL);
	/* the first error wins, whichever kind it is */
	expect_error("[camera]\nwidth = 1\nbroken\n", 2, "[camera] width: ", NULL);
	expect_error("[camera]\nbroken\nwidth = 1\n", 2, "syntax error", NULL);
}

static void long_lines_and_nul_bytes(void **state)
{
	(void)state;
	char text[1024];
	char path[600];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	snprintf(text, sizeof(text), "[model]\npath = %s\n", path);
	expect_error(text, 2, "line too long", NULL);

	FILE *f = fopen(ini_path, "w");
	assert_non_null(f);
	fwrite("[log]\nlevel = in\0fo\n", 1, 20, f);
	fclose(f);
	struct config c;
	assert_int_equal(config_load(ini_path, &c, err, sizeof(err)), -EINVAL);
	char want[4200];
	snprintf(want, sizeof(want), "%s:2: NUL byte", ini_path);
	assert_non_null(strstr(err, want));
}

static void string_keys_are_checked(void **state)
{
	(void)state;
	expect_error("[socket]\npath = relative.sock\n", 2, "[socket] path: ", "absolute");
	char text[400], longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[120] = 0;
	snprintf(text, sizeof(text), "[socket]\npath = %s\n", longp);
	expect_error(text, 2, "[socket] path: ", "too long for a Unix socket");
	expect_error("[model]\npath =\n", 2, "[model] path: ", "must not be empty");
	expect_error("[camera]\ndevice =\n", 2, "[camera] device: ", "must not be empty");
	/* group may be empty: keep the daemon's own group */
	struct config c;
	assert_int_equal(load_text("[socket]\ngroup =\n", &c), 0);
	assert_string_equal(c.socket.group, "");
	config_free(&c);
}

static void file_source_needs_a_file(void **state)
{
	(void)state;
	expect_error("[log]\nlevel = info\n[camera]\nsource = file\n", 4, "[camera] source: ",
		     "needs [camera] file");
}

static void control_names_and_count(void **state)
{
	(void)state;
	expect_error("[camera]\ncontrol. = 1\n", 2, "[camera] control.: ", "control name");
	expect_error("[camera]\ncontrol.Gain = 1\n", 2, "[camera] control.Gain: ", "control name");
	char text[4096] = "[camera]\n";
	for (int i = 0; i <= CAP_MAX_CONTROLS; i++) {
		char line[64];
		snprintf(line, sizeof(line), "control.c%d = %d\n", i, i);
		strcat(text, line);
	}
	char where[64];
	snprintf(where, sizeof(where), "[camera] control.c%d: ", CAP_MAX_CONTROLS);
	expect_error(text, CAP_MAX_CONTROLS + 2, where, "too many controls");
}

static void debounce_defaults_to_three_and_is_bounded(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(config_defaults(&c), 0);
	assert_int_equal(c.classify.debounce, 3);
	config_free(&c);
	assert_int_equal(load_text("[classify]\ndebounce = 1\n", &c), 0);
	assert_int_equal(c.classify.debounce, 1);
	config_free(&c);
	assert_int_equal(load_text("[classify]\ndebounce = 1000\n", &c), 0);
	config_free(&c);
	expect_error("[classify]\ndebounce = 0\n", 2, "[classify] debounce: 0 is out of range", NULL);
	expect_error("[classify]\ndebounce = 1001\n", 2, "[classify] debounce: ", "out of range");
	expect_error("[classify]\ndebounce = 2.5\n", 2, "[classify] debounce: ", "not an integer");
}

static void roi_is_four_fractions_inside_the_frame(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(config_defaults(&c), 0);
	assert_true(roi_is_full(&c.model.roi));
	config_free(&c);
	assert_int_equal(load_text("[model]\nroi = 0.25, 0.1, 0.5, 0.9\n", &c), 0);
	assert_true(c.model.roi.x == 0.25 && c.model.roi.y == 0.1 && c.model.roi.w == 0.5 &&
		    c.model.roi.h == 0.9);
	config_free(&c);
	expect_error("[model]\nroi = 0.5,0.5,0.6,0.5\n", 2, "[model] roi: ", "leaves the frame");
	expect_error("[model]\nroi = 0,0,1\n", 2, "[model] roi: ", "is not x,y,w,h");
	expect_error("[model]\nroi = 0,0,0,1\n", 2, "[model] roi: ", "must be");
}

static void mqtt_defaults_are_documented_values(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(config_defaults(&c), 0);
	assert_string_equal(c.mqtt.host, "localhost");
	assert_int_equal(c.mqtt.port, 1883);
	assert_string_equal(c.mqtt.username, "");
	assert_string_equal(c.mqtt.password_file, "");
	assert_string_equal(c.mqtt.tls_ca, "");
	assert_string_equal(c.mqtt.client_id, "");    /* camclass-mqtt: camclassd-<hostname> */
	assert_string_equal(c.mqtt.topic_prefix, ""); /* camclass-mqtt: camclassd/<hostname> */
	assert_int_equal(c.mqtt.discovery, 1);
	assert_string_equal(c.mqtt.discovery_prefix, "homeassistant");
	assert_int_equal(c.mqtt.qos, 1);
	assert_int_equal(c.mqtt.publish, CONFIG_MQTT_PUBLISH_STATE);
	assert_true(c.mqtt.max_rate > 0);
	assert_string_equal(c.mqtt.binary_labels, "");
	assert_int_equal(c.mqtt.allow_commands, 0);
	config_free(&c);
}

static void every_mqtt_key_takes_effect(void **state)
{
	(void)state;
	struct config c;
	int r = load_text("[mqtt]\n"
			  "host = broker.lan\n"
			  "port = 8883\n"
			  "username = cam\n"
			  "password_file = /etc/camclassd/mqtt.pass\n"
			  "tls_ca = /etc/ssl/ca.pem\n"
			  "tls_cert = /etc/ssl/c.pem\n"
			  "tls_key = /etc/ssl/c.key\n"
			  "client_id = cam-front\n"
			  "topic_prefix = house/cams/front\n"
			  "discovery = no\n"
			  "discovery_prefix = ha\n"
			  "qos = 2\n"
			  "publish = results\n"
			  "max_rate = 0.5\n"
			  "binary_labels = person, cat\n"
			  "allow_commands = yes\n",
			  &c);
	if (r)
		fail_msg("%s", err);
	assert_string_equal(c.mqtt.host, "broker.lan");
	assert_int_equal(c.mqtt.port, 8883);
	assert_string_equal(c.mqtt.username, "cam");
	assert_string_equal(c.mqtt.password_file, "/etc/camclassd/mqtt.pass");
	assert_string_equal(c.mqtt.tls_ca, "/etc/ssl/ca.pem");
	assert_string_equal(c.mqtt.tls_cert, "/etc/ssl/c.pem");
	assert_string_equal(c.mqtt.tls_key, "/etc/ssl/c.key");
	assert_string_equal(c.mqtt.client_id, "cam-front");
	assert_string_equal(c.mqtt.topic_prefix, "house/cams/front");
	assert_int_equal(c.mqtt.discovery, 0);
	assert_string_equal(c.mqtt.discovery_prefix, "ha");
	assert_int_equal(c.mqtt.qos, 2);
	assert_int_equal(c.mqtt.publish, CONFIG_MQTT_PUBLISH_RESULTS);
	assert_true(c.mqtt.max_rate == 0.5);
	assert_string_equal(c.mqtt.binary_labels, "person, cat");
	assert_int_equal(c.mqtt.allow_commands, 1);
	config_free(&c);
}

static void mqtt_bad_values_name_the_line(void **state)
{
	(void)state;
	expect_error("[mqtt]\nport = 0\n", 2, "[mqtt] port: 0 is out of range", NULL);
	expect_error("[mqtt]\nport = 65536\n", 2, "[mqtt] port: 65536 is out of range", NULL);
	expect_error("[mqtt]\nqos = 3\n", 2, "[mqtt] qos: 3 is out of range", NULL);
	expect_error("[mqtt]\nmax_rate = 0\n", 2, "[mqtt] max_rate: 0 is out of range", NULL);
	expect_error("[mqtt]\npublish = always\n", 2, "[mqtt] publish: ", "not one of state|results");
	expect_error("[mqtt]\ndiscovery = true\n", 2, "[mqtt] discovery: ", "not one of no|yes");
	expect_error("[mqtt]\nallow_commands = 1\n", 2, "[mqtt] allow_commands: ", "no|yes");
	expect_error("[mqtt]\nhost = two words\n", 2, "[mqtt] host: ", "one word");
	expect_error("[mqtt]\nhost =\n", 2, "[mqtt] host: ", "one word");
	expect_error("[mqtt]\ndiscovery_prefix =\n", 2, "[mqtt] discovery_prefix: ", "not a topic");
	/* empty client_id/topic_prefix/username: the documented defaults */
	struct config c;
	assert_int_equal(load_text("[mqtt]\nclient_id =\ntopic_prefix =\nusername =\n", &c), 0);
	assert_string_equal(c.mqtt.client_id, "");
	assert_string_equal(c.mqtt.topic_prefix, "");
	config_free(&c);
	expect_error("[mqtt]\ntopic_prefix = cams/#\n", 2, "[mqtt] topic_prefix: ", "not a topic");
	expect_error("[mqtt]\ntopic_prefix = /cams\n", 2, "[mqtt] topic_prefix: ", "not a topic");
	expect_error("[mqtt]\ntopic_prefix = cams//x\n", 2, "[mqtt] topic_prefix: ", "not a topic");
	expect_error("[mqtt]\ndiscovery_prefix = ha/+\n", 2, "[mqtt] discovery_prefix: ", NULL);
	expect_error("[mqtt]\npassword = secret\n", 2, "[mqtt] password: ", "unknown key");
	expect_error("[mqtt]\nbinary_labels = cat,,dog\n", 2, "[mqtt] binary_labels: ", "empty");
	expect_error("[mqtt]\nbinary_labels = cat,\n", 2, "[mqtt] binary_labels: ", "empty");
	expect_error("[mqtt]\nbinary_labels = it's\n", 2, "[mqtt] binary_labels: ", "quote");
	expect_error("[mqtt]\nbinary_labels = {x}\n", 2, "[mqtt] binary_labels: ", "brace");
}

static void mqtt_key_combinations(void **state)
{
	(void)state;
	expect_error("[mqtt]\nport = 1884\npassword_file = /p\n", 3, "[mqtt] password_file: ",
		     "needs [mqtt] username");
	expect_error("[mqtt]\ntls_ca = /ca\ntls_cert = /c\n", 3, "[mqtt] tls_cert: ",
		     "tls_cert and tls_key go together");
	expect_error("[mqtt]\ntls_key = /k\n", 2, "[mqtt] tls_key: ", "go together");
	expect_error("[mqtt]\ntls_cert = /c\ntls_key = /k\n", 2, "[mqtt] tls_cert: ",
		     "needs [mqtt] tls_ca");
}

static void binary_labels_split_and_trim(void **state)
{
	(void)state;
	char labels[CONFIG_MQTT_MAX_BINARY_LABELS][CONFIG_MQTT_LABEL_MAX];
	char why[160];
	assert_int_equal(config_mqtt_split_labels("", labels, 4, why, sizeof(why)), 0);
	assert_int_equal(config_mqtt_split_labels(" person ,tabby cat,\tdog", labels, 4, why,
						  sizeof(why)),
			 3);
	assert_string_equal(labels[0], "person");
	assert_string_equal(labels[1], "tabby cat");
	assert_string_equal(labels[2], "dog");
	assert_int_equal(config_mqtt_split_labels("a,b,c", labels, 2, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "more than 2"));
	char longl[CONFIG_MQTT_LABEL_MAX + 2];
	memset(longl, 'x', sizeof(longl) - 1);
	longl[sizeof(longl) - 1] = 0;
	assert_int_equal(config_mqtt_split_labels(longl, labels, 4, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than"));
}

static void missing_and_unreadable_files_name_the_path(void **state)
{
	(void)state;
	struct config c = { 0 };
	char path[4200], want[4300];
	snprintf(path, sizeof(path), "%s/does-not-exist.ini", tmp_dir);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, want);
	assert_null(c.path);

	assert_int_equal(config_load(tmp_dir, &c, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmp_dir);
	assert_string_equal(err, want);
}

static void web_section_keys_take_effect(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(config_defaults(&c), 0);
	assert_string_equal(c.web.listen, "127.0.0.1:8080");
	assert_int_equal(c.web.auth, CONFIG_WEB_AUTH_NONE);
	assert_string_equal(c.web.auth_file, "");
	assert_int_equal(c.web.allow_teach, 0);
	assert_int_equal(c.web.max_connections, 128);
	assert_int_equal(c.web.stream_fps, 5);
	config_free(&c);
	assert_int_equal(load_text("[web]\nlisten = [::1]:0\nauth = htpasswd\nauth_file = /etc/x\n"
				   "allow_teach = yes\nmax_connections = 1024\nstream_fps = 30\n",
				   &c),
			 0);
	assert_string_equal(c.web.listen, "[::1]:0");
	assert_int_equal(c.web.auth, CONFIG_WEB_AUTH_HTPASSWD);
	assert_string_equal(c.web.auth_file, "/etc/x");
	assert_int_equal(c.web.allow_teach, 1);
	assert_int_equal(c.web.max_connections, 1024);
	assert_int_equal(c.web.stream_fps, 30);
	config_free(&c);
	assert_int_equal(load_text("[web]\nlisten = 192.168.1.5:65535\nauth = token\n"
				   "auth_file = /t\nallow_teach = no\n", &c),
			 0);
	assert_int_equal(c.web.auth, CONFIG_WEB_AUTH_TOKEN);
	assert_int_equal(c.web.allow_teach, 0);
	config_free(&c);
}

static void web_section_errors_name_the_line(void **state)
{
	(void)state;
	const char *bad_listen[] = { "localhost:8080", "127.0.0.1", "127.0.0.1:65536",
				     "127.0.0.1:-1", "127.0.0.1:+80", "::1:8080", "[::1]8080",
				     "[127.0.0.1]:80", "[::1]:", ":80", "1.2.3.4:80x" };
	for (size_t i = 0; i < sizeof(bad_listen) / sizeof(bad_listen[0]); i++) {
		char text[200];
		snprintf(text, sizeof(text), "[web]\nauth = none\nlisten = %s\n", bad_listen[i]);
		expect_error(text, 3, "[web] listen: ", "is not ADDRESS:PORT");
	}
	expect_error("[web]\n\nauth = token\n", 3, "[web] auth: ", "needs [web] auth_file");
	expect_error("[web]\nauth = basic\n", 2, "[web] auth: ", "not one of none|token|htpasswd");
	expect_error("[web]\nallow_teach = 1\n", 2, "[web] allow_teach: ", "not one of no|yes");
	expect_error("[web]\nauth_file =\n", 2, "[web] auth_file: ", "must not be empty");
	expect_error("[web]\nmax_connections = 0\n", 2, "[web] max_connections: ", "out of range");
	expect_error("[web]\nstream_fps = 31\n", 2, "[web] stream_fps: ", "out of range");
	expect_error("[web]\nport = 80\n", 2, "[web] port: ", "unknown key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_documented_values),
		cmocka_unit_test(empty_file_gives_defaults),
		cmocka_unit_test(every_key_takes_effect),
		cmocka_unit_test(every_choice_is_accepted),
		cmocka_unit_test(float_input_keys_and_empty_labels),
		cmocka_unit_test(bounds_are_inclusive_where_documented),
		cmocka_unit_test(socket_mode_must_let_the_owner_read_and_write),
		cmocka_unit_test(values_with_inline_comments_and_indentation),
		cmocka_unit_test(unknown_section_names_line),
		cmocka_unit_test(unknown_key_names_line),
		cmocka_unit_test(key_outside_section),
		cmocka_unit_test(bad_numbers),
		cmocka_unit_test(overflow_is_out_of_range),
		cmocka_unit_test(out_of_range_for_each_bounded_key),
		cmocka_unit_test(bad_choice_for_each_enum_key),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(syntax_errors_from_inih),
		cmocka_unit_test(long_lines_and_nul_bytes),
		cmocka_unit_test(string_keys_are_checked),
		cmocka_unit_test(file_source_needs_a_file),
		cmocka_unit_test(control_names_and_count),
		cmocka_unit_test(missing_and_unreadable_files_name_the_path),
		cmocka_unit_test(teach_section_keys_and_ranges),
		cmocka_unit_test(web_section_keys_take_effect),
		cmocka_unit_test(web_section_errors_name_the_line),
		cmocka_unit_test(debounce_defaults_to_three_and_is_bounded),
		cmocka_unit_test(roi_is_four_fractions_inside_the_frame),
		cmocka_unit_test(mqtt_defaults_are_documented_values),
		cmocka_unit_test(every_mqtt_key_takes_effect),
		cmocka_unit_test(mqtt_bad_values_name_the_line),
		cmocka_unit_test(mqtt_key_combinations),
		cmocka_unit_test(binary_labels_split_and_trim),
	};
	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
