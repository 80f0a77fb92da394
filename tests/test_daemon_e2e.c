/* test_daemon_e2e.c — the product end to end: real build/camclassd, file source replaying the
 * shared cat and grace_hopper photos (encoded to JPEG at test time), the real MobileNetV2 model,
 * a real client over the socket. Expected labels are the ones the model's publishers document
 * (../shared/models/MANIFEST.md): cat → 286 "Egyptian cat", grace_hopper → 653 "military
 * uniform". Covers subscribe, latest, classify, snapshot, status, on-demand stop/start with
 * ~0 CPU while idle, a model swap by SIGHUP under a live subscription, and a broken reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "ipc/protocol.h"
#include "tests/daemon_harness.h"

#define START_TIMEOUT_MS 60000
#define CAT 286
#define UNIFORM 653
#define FPS 4
/* XNNPACK when built in: ~50x faster than the built-in kernels, which keeps these tests quick
 * and their classify requests far inside the server's 10 s answer time even under ASan/TSan on
 * a busy machine. The built-in engine is what test_daemon_lifecycle runs. */
#ifdef CAMCLASS_HAVE_XNNPACK
#define BACKEND "xnnpack"
#else
#define BACKEND "builtin"
#endif

static void write_config_full(struct harness *h, const char *model, const char *mode, int fps,
			      double rate)
{
	char model_path[4200];
	snprintf(model_path, sizeof(model_path), "%s", tu_model_path(model));
	h_write(h->ini,
		"[camera]\nsource = file\nfile = %s\nfps = %d\n"
		"[model]\npath = %s\nlabels = %s\nbackend = " BACKEND "\n"
		"[classify]\nmode = %s\ntop_k = 3\nthreshold = 0.05\nrate = %g\n"
		"[socket]\npath = %s\n",
		h->frames, fps, model_path, tu_model_path("imagenet_labels.txt"), mode, rate, h->sock);
}

static void write_config(struct harness *h, const char *model, const char *mode)
{
	write_config_full(h, model, mode, FPS, 0);
}

static void start(struct harness *h, const char *model, const char *mode)
{
	static const char *const photos[] = { "images/cat.bmp", "images/grace_hopper.bmp" };
	h_setup(h);
	h_make_frames(h, "frames", photos, 2);
	write_config(h, model, mode);
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));
}

static void stop(struct harness *h)
{
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 15000), 0);
}

static struct cli_conn *connect_and_hello(struct harness *h, json_t **ret_hello)
{
	struct cli_conn *c;
	json_t *hello;
	assert_int_equal(cli_connect(h->sock, &c), 0);
	assert_int_equal(cli_read_msg(c, 5000, &hello, NULL, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(hello, "type")), "hello");
	if (ret_hello)
		*ret_hello = hello;
	else
		json_decref(hello);
	return c;
}

static const char *type_of(const json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "type"));
	return t ? t : "";
}

static json_int_t top1(const json_t *result)
{
	json_t *labels = json_object_get(result, "labels");
	if (json_array_size(labels) == 0)
		return -1;
	return json_integer_value(json_object_get(json_array_get(labels, 0), "index"));
}

static double top1_score(const json_t *result)
{
	json_t *first = json_array_get(json_object_get(result, "labels"), 0);
	return json_number_value(json_object_get(first, "score"));
}

/* Reads pushed messages until a result with top-1 `want` arrives; skips other types. */
static json_t *wait_result_with_top1(struct cli_conn *c, json_int_t want, int timeout_ms)
{
	double end = tu_now_ms() + timeout_ms;
	while (tu_now_ms() < end) {
		json_t *msg;
		int r = cli_read_msg(c, (int)(end - tu_now_ms()) + 1, &msg, NULL, NULL);
		if (r == -ETIMEDOUT)
			break;
		assert_int_equal(r, 0);
		if (strcmp(type_of(msg), "result") == 0 && top1(msg) == want)
			return msg;
		json_decref(msg);
	}
	fail_msg("no result with top-1 %lld within %d ms", (long long)want, timeout_ms);
	return NULL;
}

static double unix_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void subscriber_gets_documented_labels(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	json_t *hello, *reply, *res;
	start(h, "mobilenet_v2_1.0_224_quant.tflite", "continuous");
	struct cli_conn *c = connect_and_hello(h, &hello);
	assert_string_equal(json_string_value(json_object_get(hello, "model")),
			    "mobilenet_v2_1.0_224_quant");
	assert_int_equal(json_integer_value(json_object_get(hello, "labels")), 1001);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(hello, "input_shape"), 1)), 224);
	json_decref(hello);

	assert_int_equal(cli_request(c, "subscribe", NULL, 5000, &reply), 0);
	assert_string_equal(type_of(reply), "subscribed");
	json_decref(reply);
	res = wait_result_with_top1(c, CAT, 60000);
	json_t *first = json_array_get(json_object_get(res, "labels"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "label")), "Egyptian cat");
	double score = json_real_value(json_object_get(first, "score"));
	assert_true(score > 0.05 && score <= 1.0);
	json_t *lat = json_object_get(res, "latency_ms");
	double c2r = json_number_value(json_object_get(lat, "capture_to_result"));
	double inf = json_number_value(json_object_get(lat, "inference"));
	assert_true(inf > 0 && c2r >= inf);
	double frame_ts = json_number_value(json_object_get(res, "frame_ts"));
	assert_true(fabs(frame_ts - unix_now_s()) < 30);
	json_decref(res);
	res = wait_result_with_top1(c, UNIFORM, 60000);
	first = json_array_get(json_object_get(res, "labels"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "label")), "military uniform");
	json_decref(res);

	/* STATUS= tells the operator the same thing */
	assert_true(h_wait_notify(h, "last: ", 10000));
	assert_true(strstr(h->notes, "STATUS=streaming") != NULL);
	assert_true(strstr(h->notes, "last: Egyptian cat") || strstr(h->notes, "last: military uniform"));
	cli_close(c);
	stop(h);
}

/* A snapshot's JPEG, decoded to RGB (caller frees *ret_pix); returns its seq. */
static json_int_t snapshot_rgb(struct cli_conn *c, const char *view, uint8_t **ret_pix, int *ret_w,
			       int *ret_h)
{
	json_t *reply, *fields = view ? json_pack("{s:s}", "view", view) : NULL;
	assert_int_equal(cli_request(c, "snapshot", fields, 5000, &reply), 0);
	json_decref(fields);
	assert_string_equal(type_of(reply), "snapshot");
	const char *b64 = json_string_value(json_object_get(reply, "data"));
	assert_non_null(b64);
	uint8_t *jpeg;
	size_t jlen;
	assert_int_equal(wire_base64_decode(b64, strlen(b64), &jpeg, &jlen), 0);
	assert_int_equal((json_int_t)jlen, json_integer_value(json_object_get(reply, "bytes")));
	tjhandle tj = tjInitDecompress();
	int sub, cs;
	assert_int_equal(tjDecompressHeader3(tj, jpeg, jlen, ret_w, ret_h, &sub, &cs), 0);
	*ret_pix = malloc((size_t)*ret_w * (size_t)*ret_h * 3);
	assert_non_null(*ret_pix);
	assert_int_equal(tjDecompress2(tj, jpeg, jlen, *ret_pix, *ret_w, 0, *ret_h, TJPF_RGB, 0), 0);
	tjDestroy(tj);
	free(jpeg);
	json_int_t seq = json_integer_value(json_object_get(reply, "seq"));
	json_decref(reply);
	return seq;
}

/* "view":"model" is the classifier's picture: the same frame as the camera snapshot of that
 * result, smaller (DCT-scaled, at least the model's 224 on its short side), and equal to the
 * camera picture box-averaged to its size within JPEG noise. The daemon decodes it again from
 * the kept frame on request; a wrong frame or wrong scaling fails here. */
static void model_view_snapshot_is_the_classified_picture(struct cli_conn *c)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		uint8_t *cam, *mod;
		int cw, ch, mw, mh;
		json_int_t s1 = snapshot_rgb(c, NULL, &cam, &cw, &ch);
		json_int_t s2 = snapshot_rgb(c, "model", &mod, &mw, &mh);
		if (s1 != s2) { /* a new result came in between: try again */
			free(cam);
			free(mod);
			continue;
		}
		assert_true(mw <= cw && mh <= ch && (mw < mh ? mw : mh) >= 224);
		/* DCT scaling is by M/8 (rounded up), the same factor on both axes */
		assert_true(abs(mw * ch - mh * cw) <= cw + ch);
		double diff = 0;
		for (int y = 0; y < mh; y++)
			for (int x = 0; x < mw; x++) {
				const int x0 = x * cw / mw, x1 = (x + 1) * cw / mw > x0 ? (x + 1) * cw / mw : x0 + 1;
				const int y0 = y * ch / mh, y1 = (y + 1) * ch / mh > y0 ? (y + 1) * ch / mh : y0 + 1;
				for (int k = 0; k < 3; k++) {
					int sum = 0;
					for (int yy = y0; yy < y1; yy++)
						for (int xx = x0; xx < x1; xx++)
							sum += cam[((size_t)yy * cw + (size_t)xx) * 3 + k];
					diff += fabs((double)sum / ((x1 - x0) * (y1 - y0)) -
						     mod[((size_t)y * mw + x) * 3 + k]);
				}
			}
		diff /= (double)mw * mh * 3;
		print_message("model view %dx%d of the camera's %dx%d: mean difference %.2f\n", mw, mh,
			      cw, ch, diff);
		free(cam);
		free(mod);
		if (diff > 6)
			fail_msg("model view differs from the camera frame by %.2f per sample", diff);
		return;
	}
	fail_msg("no two snapshots of the same result in 50 tries");
}

static void latest_classify_snapshot_status(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	json_t *reply;
	start(h, "mobilenet_v2_1.0_224_quant.tflite", "continuous");
	struct cli_conn *c = connect_and_hello(h, NULL);

	/* classify: answered by a frame captured after the request */
	double asked = unix_now_s();
	assert_int_equal(cli_request(c, "classify", NULL, 20000, &reply), 0);
	assert_string_equal(type_of(reply), "result");
	assert_true(json_number_value(json_object_get(reply, "frame_ts")) >= asked - 0.05);
	json_int_t t = top1(reply);
	assert_true(t == CAT || t == UNIFORM);
	json_int_t seq = json_integer_value(json_object_get(reply, "seq"));
	json_decref(reply);

	assert_int_equal(cli_request(c, "latest", NULL, 5000, &reply), 0);
	assert_string_equal(type_of(reply), "result");
	assert_true(json_integer_value(json_object_get(reply, "seq")) >= seq);
	t = top1(reply);
	assert_true(t == CAT || t == UNIFORM);
	json_decref(reply);

	/* snapshot: the camera's picture as a JPEG at least the model's size */
	uint8_t *pix;
	int w, hgt;
	assert_true(snapshot_rgb(c, NULL, &pix, &w, &hgt) >= seq);
	assert_true(w >= 224 && hgt >= 224);
	free(pix);
	model_view_snapshot_is_the_classified_picture(c);

	sleep(4); /* rates are measured over 3 s windows */
	assert_int_equal(cli_request(c, "status", NULL, 5000, &reply), 0);
	assert_string_equal(type_of(reply), "status");
	assert_string_equal(json_string_value(json_object_get(reply, "camera")), "streaming");
	assert_string_equal(json_string_value(json_object_get(reply, "model")),
			    "mobilenet_v2_1.0_224_quant");
	assert_string_equal(json_string_value(json_object_get(reply, "backend")), BACKEND);
	double fps_in = json_number_value(json_object_get(reply, "fps_in"));
	if (fps_in < FPS * 0.5 || fps_in > FPS * 1.5)
		fail_msg("fps_in %.2f, configured %d", fps_in, FPS);
	double fps_out = json_number_value(json_object_get(reply, "fps_out"));
	assert_true(fps_out > 0 && fps_out <= fps_in + 0.5);
	assert_int_equal(json_integer_value(json_object_get(reply, "frames_corrupt")), 0);
	json_t *lat = json_object_get(reply, "latency_ms");
	double p50 = json_number_value(json_object_get(json_object_get(lat, "inference"), "p50"));
	double p99 = json_number_value(json_object_get(json_object_get(lat, "inference"), "p99"));
	assert_true(p50 > 0 && p99 >= p50);
	assert_true(json_number_value(json_object_get(reply, "uptime_s")) >= 4);
	json_decref(reply);
	cli_close(c);
	stop(h);
}

/* user+system CPU time of the daemon in clock ticks */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	assert_non_null(p);
	long utime = 0, stime = 0;
	/* fields after the command: state(3) … utime(14) stime(15) */
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime,
				&stime),
			 2);
	return utime + stime;
}

static const char *camera_state(struct cli_conn *c)
{
	static char state[64];
	json_t *reply;
	assert_int_equal(cli_request(c, "status", NULL, 5000, &reply), 0);
	snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(reply, "camera")));
	json_decref(reply);
	return state;
}

static void on_demand_stops_and_restarts_capture(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	json_t *reply;
	start(h, "mobilenet_v2_1.0_224_quant.tflite", "on_demand");
	struct cli_conn *c = connect_and_hello(h, NULL);
	assert_string_equal(camera_state(c), "stopped");

	/* idle: no frames, ~0 CPU */
	long before = cpu_ticks(h->pid);
	sleep(2);
	long used = cpu_ticks(h->pid) - before;
	if (used > 10) /* 10 ticks = 0.1 s of CPU in 2 s */
		fail_msg("idle daemon used %ld ticks in 2 s", used);

	/* a classify request starts the camera and is answered from a fresh frame */
	double asked = unix_now_s();
	assert_int_equal(cli_request(c, "classify", NULL, 30000, &reply), 0);
	assert_string_equal(type_of(reply), "result");
	assert_true(json_number_value(json_object_get(reply, "frame_ts")) >= asked - 0.05);
	json_int_t t = top1(reply);
	assert_true(t == CAT || t == UNIFORM);
	json_decref(reply);

	/* nobody waiting any more: the camera goes back to stopped */
	double end = tu_now_ms() + 5000;
	while (strcmp(camera_state(c), "stopped") != 0 && tu_now_ms() < end)
		usleep(100000);
	assert_string_equal(camera_state(c), "stopped");
	assert_non_null(strstr(h_log(h), "camera stopped (no demand)"));

	/* a subscriber keeps it running until it leaves */
	struct cli_conn *sub = connect_and_hello(h, NULL);
	assert_int_equal(cli_request(sub, "subscribe", NULL, 5000, &reply), 0);
	json_decref(reply);
	reply = wait_result_with_top1(sub, CAT, 60000);
	json_decref(reply);
	assert_string_equal(camera_state(c), "streaming");
	cli_close(sub);
	end = tu_now_ms() + 5000;
	while (strcmp(camera_state(c), "stopped") != 0 && tu_now_ms() < end)
		usleep(100000);
	assert_string_equal(camera_state(c), "stopped");
	cli_close(c);
	stop(h);
}

static void sighup_swaps_model_under_a_live_subscription(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	json_t *reply, *msg;
	start(h, "mobilenet_v2_1.0_224_quant.tflite", "continuous");
	struct cli_conn *c = connect_and_hello(h, NULL);
	assert_int_equal(cli_request(c, "subscribe", NULL, 5000, &reply), 0);
	json_decref(reply);
	msg = wait_result_with_top1(c, CAT, 60000);
	double old_cat_score = top1_score(msg);
	json_decref(msg);

	/* broken file: nothing changes, the subscription keeps delivering */
	h_write(h->ini, "[model]\npath = %s\nbackend = tpu\n", h->frames);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 5000));
	assert_true(h_wait_notify(h, "READY=1", 10000));
	msg = wait_result_with_top1(c, UNIFORM, 60000);
	json_decref(msg);
	assert_non_null(strstr(h_log(h), "[model] backend: 'tpu' is not one of"));

	/* a different model: loaded on the side, swapped, announced, and results continue */
	write_config(h, "tf2_mobilenet_v2_1.0_224_ptq.tflite", "continuous");
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	double end = tu_now_ms() + 30000;
	bool announced = false;
	while (!announced && tu_now_ms() < end) {
		assert_int_equal(cli_read_msg(c, (int)(end - tu_now_ms()) + 1, &msg, NULL, NULL), 0);
		if (strcmp(type_of(msg), "event") == 0 &&
		    strcmp(json_string_value(json_object_get(msg, "event")), "model_reloaded") == 0) {
			assert_string_equal(json_string_value(json_object_get(msg, "model")),
					    "tf2_mobilenet_v2_1.0_224_ptq");
			announced = true;
		}
		json_decref(msg);
	}
	assert_true(announced);
	/* the new model also says cat (documented), with its own score: results come from it.
	 * (On grace_hopper it is torn between mortarboard and military uniform with centre crop,
	 * so that photo is not used to tell the models apart.) */
	msg = wait_result_with_top1(c, CAT, 60000);
	double new_cat_score = top1_score(msg);
	json_decref(msg);
	if (new_cat_score == old_cat_score)
		fail_msg("same cat score %.6f before and after the swap", new_cat_score);
	assert_int_equal(cli_request(c, "status", NULL, 5000, &reply), 0);
	assert_string_equal(json_string_value(json_object_get(reply, "model")),
			    "tf2_mobilenet_v2_1.0_224_ptq");
	json_decref(reply);
	assert_true(h_alive(h));
	cli_close(c);
	stop(h);
}

/* A damaged frame (here: a JPEG cut in half) is skipped and counted; the log says so once per
 * run of bad frames, not once per frame; good frames keep being classified. */
static void corrupt_frames_are_counted_and_logged_once_per_burst(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	static const char *const photos[] = { "images/cat.bmp" };
	char *good, *bad;
	h_setup(h);
	h_make_frames(h, "frames", photos, 1);
	assert_true(asprintf(&good, "%s/00-cat.bmp.jpg", h->frames) > 0);
	size_t len;
	uint8_t *jpeg = tu_read_file(good, &len);
	for (int i = 1; i <= 2; i++) {
		assert_true(asprintf(&bad, "%s/%02d-broken.jpg", h->frames, i) > 0);
		FILE *f = fopen(bad, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(jpeg, 1, len / 2, f), len / 2);
		assert_int_equal(fclose(f), 0);
		free(bad);
	}
	free(jpeg);
	free(good);
	write_config_full(h, "mobilenet_v2_1.0_224_quant.tflite", "continuous", 8, 0);
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));

	struct cli_conn *c = connect_and_hello(h, NULL);
	json_t *reply;
	assert_int_equal(cli_request(c, "subscribe", NULL, 5000, &reply), 0);
	json_decref(reply);
	/* three passes over the folder: good, bad, bad, good, bad, bad, … */
	json_decref(wait_result_with_top1(c, CAT, 20000));
	double end = tu_now_ms() + 20000;
	json_int_t corrupt = 0;
	while (tu_now_ms() < end && corrupt < 6) {
		json_decref(wait_result_with_top1(c, CAT, 20000));
		struct cli_conn *q = connect_and_hello(h, NULL);
		assert_int_equal(cli_request(q, "status", NULL, 5000, &reply), 0);
		corrupt = json_integer_value(json_object_get(reply, "frames_corrupt"));
		json_decref(reply);
		cli_close(q);
	}
	assert_true(corrupt >= 6);
	int warnings = 0;
	for (const char *p = h_log(h); (p = strstr(p, "skipped: ")); p++)
		warnings++;
	assert_true(warnings >= 1);
	assert_true(warnings < corrupt); /* two bad frames in a row make one line */
	assert_non_null(strstr(h_log(h), "frames decode again after"));
	cli_close(c);
	stop(h);
}

static void status_rates(struct cli_conn *c, double *ret_in, double *ret_out)
{
	json_t *reply;
	assert_int_equal(cli_request(c, "status", NULL, 5000, &reply), 0);
	*ret_in = json_number_value(json_object_get(reply, "fps_in"));
	*ret_out = json_number_value(json_object_get(reply, "fps_out"));
	json_decref(reply);
}

/* Polls status until fps_in and fps_out are both within bounds (each is measured over a 3 s
 * window): a loaded 2-core machine (TSan, parallel builds) may miss one window, so the bounds
 * stay as they are and the deadline is generous (issue #13, item 8). Fails with the last
 * values seen. */
static void wait_rates(struct harness *h, struct cli_conn *c, double in_lo, double in_hi,
		       double out_lo, double out_hi, const char *what)
{
	double fin = 0, fout = 0, deadline = tu_now_ms() + 60000;
	for (;;) {
		status_rates(c, &fin, &fout);
		if (fin >= in_lo && fin <= in_hi && fout >= out_lo && fout <= out_hi)
			return;
		if (tu_now_ms() > deadline)
			fail_msg("%s: fps_in %.2f (want %.1f..%.1f) fps_out %.2f (want %.1f..%.1f) for 60 s",
				 what, fin, in_lo, in_hi, fout, out_lo, out_hi);
		h_wait_notify(h, NULL, 500);    /* also keeps the notify socket drained */
	}
}

static void rate_limit_and_camera_reopen_on_reload(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	static const char *const photos[] = { "images/cat.bmp", "images/grace_hopper.bmp" };
	h_setup(h);
	h_make_frames(h, "frames", photos, 2);
	write_config_full(h, "mobilenet_v2_1.0_224_quant.tflite", "continuous", 8, 1.0);
	h_start(h, 0);
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	struct cli_conn *c = connect_and_hello(h, NULL);
	sleep(4); /* a full 3 s rate window first */
	wait_rates(h, c, 8 * 0.5, 8 * 1.5, 0.3, 1.5, "rate = 1 at 8 fps");

	/* new camera settings reopen the camera; the rate limit goes away */
	write_config_full(h, "mobilenet_v2_1.0_224_quant.tflite", "continuous", 3, 0);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 5000));
	assert_true(h_wait_notify(h, "READY=1", 10000));
	sleep(4);
	wait_rates(h, c, 3 * 0.5, 3 * 1.5, 1.5, 1e9, "after reload to 3 fps, rate 0");
	assert_non_null(strstr(h_log(h), "camera settings changed: reopening"));
	cli_close(c);
	stop(h);
}

/* The daemon with [model] labels left out: the MobileNet's own labels (TFLite metadata, the
 * zip appended to the model) name the classes; the log says where they came from. Then a
 * float32 model (ResNet8, 0..255 inputs: input_mean 0, input_std 1) with its labels file: the
 * cat photo is "cat". */
static void labels_inside_the_model_and_a_float_model(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	static const char *const photos[] = { "images/cat.bmp" };
	char model_path[4200];
	json_t *reply, *res;
	h_setup(h);
	h_make_frames(h, "frames", photos, 1);
	snprintf(model_path, sizeof(model_path), "%s", tu_model_path("mobilenet_v2_1.0_224_quant.tflite"));
	h_write(h->ini,
		"[camera]\nsource = file\nfile = %s\nfps = %d\n"
		"[model]\npath = %s\nbackend = " BACKEND "\n"
		"[classify]\ntop_k = 3\nthreshold = 0.05\n"
		"[socket]\npath = %s\n",
		h->frames, FPS, model_path, h->sock);
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));
	struct cli_conn *c = connect_and_hello(h, NULL);
	assert_int_equal(cli_request(c, "subscribe", NULL, 5000, &reply), 0);
	json_decref(reply);
	res = wait_result_with_top1(c, CAT, 60000);
	json_t *first = json_array_get(json_object_get(res, "labels"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "label")), "Egyptian cat");
	json_decref(res);
	cli_close(c);
	assert_non_null(strstr(h_log(h), "mobilenet_v2_1.0_224_quant.tflite:imagenet_labels.txt"));
	stop(h);
	h_teardown(h);
	memset(h, 0, sizeof(*h));

	h_setup(h);
	h_make_frames(h, "frames", photos, 1);
	snprintf(model_path, sizeof(model_path), "%s", tu_model_path("pretrainedResnet.tflite"));
	char labels[4200];
	snprintf(labels, sizeof(labels), "%s", tu_model_path("cifar10_labels.txt"));
	h_write(h->ini,
		"[camera]\nsource = file\nfile = %s\nfps = %d\n"
		"[model]\npath = %s\nlabels = %s\nbackend = " BACKEND "\ninput_mean = 0\ninput_std = 1\n"
		"[classify]\ntop_k = 3\nthreshold = 0.05\n"
		"[socket]\npath = %s\n",
		h->frames, FPS, model_path, labels, h->sock);
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));
	c = connect_and_hello(h, NULL);
	assert_int_equal(cli_request(c, "subscribe", NULL, 5000, &reply), 0);
	json_decref(reply);
	res = wait_result_with_top1(c, 3, 60000);
	first = json_array_get(json_object_get(res, "labels"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "label")), "cat");
	json_decref(res);
	cli_close(c);
	assert_non_null(strstr(h_log(h), "float32, (pixel - 0) / 1 from input_mean/input_std"));
	stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(subscriber_gets_documented_labels, harness_teardown),
		cmocka_unit_test_teardown(corrupt_frames_are_counted_and_logged_once_per_burst, harness_teardown),
		cmocka_unit_test_teardown(latest_classify_snapshot_status, harness_teardown),
		cmocka_unit_test_teardown(on_demand_stops_and_restarts_capture, harness_teardown),
		cmocka_unit_test_teardown(sighup_swaps_model_under_a_live_subscription, harness_teardown),
		cmocka_unit_test_teardown(rate_limit_and_camera_reopen_on_reload, harness_teardown),
		cmocka_unit_test_teardown(labels_inside_the_model_and_a_float_model, harness_teardown),
	};
	return cmocka_run_group_tests_name("daemon_e2e", tests, NULL, NULL);
}
