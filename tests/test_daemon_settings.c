/* test_daemon_settings.c — where [classify] top_k and threshold act, end to end (real
 * build/camclassd, file source replaying the shared cat photo, the real MobileNetV2 with its
 * 1001 classes, a client over the socket).
 *
 * They are the server's defaults for clients that choose nothing, and nothing else: a client
 * may ask for more labels than the configured top_k (up to the protocol's 20), and a reload
 * that changes the defaults reaches subscribers that use them at once, while a subscriber that
 * chose its own keeps it. Both used to be broken (postprocessing cut every result to the
 * configured top_k and threshold, and the server copied the defaults into each subscriber). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "tests/daemon_harness.h"

#define START_TIMEOUT_MS 60000
#define RESULT_TIMEOUT_MS 30000
#define FPS 4
#ifdef CAMCLASS_HAVE_XNNPACK
#define BACKEND "xnnpack"   /* quick even under ASan on a busy machine */
#else
#define BACKEND "builtin"
#endif

static void write_config(struct harness *h, int top_k, double threshold)
{
	char model_path[4200];
	snprintf(model_path, sizeof(model_path), "%s", tu_model_path("mobilenet_v2_1.0_224_quant.tflite"));
	h_write(h->ini,
		"[camera]\nsource = file\nfile = %s\nfps = %d\n"
		"[model]\npath = %s\nlabels = %s\nbackend = " BACKEND "\n"
		"[classify]\ntop_k = %d\nthreshold = %g\n"
		"[socket]\npath = %s\n",
		h->frames, FPS, model_path, tu_model_path("imagenet_labels.txt"), top_k, threshold,
		h->sock);
}

static void start(struct harness *h, int top_k, double threshold)
{
	static const char *const photos[] = { "images/cat.bmp" };
	h_setup(h);
	h_make_frames(h, "frames", photos, 1);
	write_config(h, top_k, threshold);
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));
}

static void stop(struct harness *h)
{
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 15000), 0);
}

static const char *type_of(const json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "type"));
	return t ? t : "";
}

/* Connects, reads the hello and subscribes with `fields` (NULL: none); returns the connection
 * and checks the "subscribed" reply's effective settings. */
static struct cli_conn *subscribe(struct harness *h, const char *fields, int want_top_k,
				  double want_threshold)
{
	struct cli_conn *c;
	json_t *msg, *extra = fields ? json_loads(fields, 0, NULL) : NULL;
	assert_int_equal(cli_connect(h->sock, &c), 0);
	assert_int_equal(cli_read_msg(c, 5000, &msg, NULL, NULL), 0);
	assert_string_equal(type_of(msg), "hello");
	json_decref(msg);
	assert_int_equal(cli_request(c, "subscribe", extra, 5000, &msg), 0);
	json_decref(extra);
	assert_string_equal(type_of(msg), "subscribed");
	assert_int_equal(json_integer_value(json_object_get(msg, "top_k")), want_top_k);
	assert_float_equal(json_number_value(json_object_get(msg, "threshold")), want_threshold, 1e-9);
	json_decref(msg);
	return c;
}

/* The label count of the next pushed result (other messages skipped); -1 on timeout. */
static int next_result_labels(struct cli_conn *c, int timeout_ms)
{
	double end = tu_now_ms() + timeout_ms;
	while (tu_now_ms() < end) {
		json_t *msg;
		if (cli_read_msg(c, (int)(end - tu_now_ms()) + 1, &msg, NULL, NULL) < 0)
			return -1;
		if (strcmp(type_of(msg), "result") == 0) {
			json_t *labels = json_object_get(msg, "labels");
			int n = json_is_array(labels) ? (int)json_array_size(labels) : -1;
			/* sorted best first: what the server kept is a prefix of the ranking */
			for (size_t i = 1; labels && i < json_array_size(labels); i++)
				assert_true(json_number_value(json_object_get(json_array_get(labels, i - 1), "score")) >=
					    json_number_value(json_object_get(json_array_get(labels, i), "score")));
			json_decref(msg);
			return n;
		}
		json_decref(msg);
	}
	return -1;
}

/* Configured top_k = 5; a client asking for 10 gets 10, one asking for nothing gets 5. */
static void a_client_may_ask_for_more_labels_than_the_configured_top_k(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	start(h, 5, 0.0);
	struct cli_conn *ten = subscribe(h, "{\"top_k\": 10}", 10, 0.0);
	struct cli_conn *deflt = subscribe(h, NULL, 5, 0.0);
	struct cli_conn *twenty = subscribe(h, "{\"top_k\": 20}", 20, 0.0);
	assert_int_equal(next_result_labels(ten, RESULT_TIMEOUT_MS), 10);
	assert_int_equal(next_result_labels(deflt, RESULT_TIMEOUT_MS), 5);
	assert_int_equal(next_result_labels(twenty, RESULT_TIMEOUT_MS), 20);
	cli_close(ten);
	cli_close(deflt);
	cli_close(twenty);
	stop(h);
}

/* Threshold 1.0 hides every score (a uint8 softmax peaks at 255/256); a reload to 0 must reach
 * the subscriber that uses the default, and must not touch the one that chose 1.0 itself. */
static void a_reload_lowering_the_threshold_reaches_default_subscribers(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	start(h, 5, 1.0);
	struct cli_conn *deflt = subscribe(h, NULL, 5, 1.0);
	struct cli_conn *own = subscribe(h, "{\"threshold\": 1.0}", 5, 1.0);
	assert_int_equal(next_result_labels(deflt, RESULT_TIMEOUT_MS), 0);
	assert_int_equal(next_result_labels(own, RESULT_TIMEOUT_MS), 0);

	write_config(h, 5, 0.0);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 5000));
	assert_true(h_wait_notify(h, "READY=1", 30000));
	assert_true(h_alive(h));
	assert_non_null(strstr(h_log(h), "configuration reloaded"));
	/* results already queued before the reload may still come with the old default */
	int n = 0;
	double end = tu_now_ms() + RESULT_TIMEOUT_MS;
	while (n == 0 && tu_now_ms() < end)
		n = next_result_labels(deflt, RESULT_TIMEOUT_MS);
	if (n != 5)
		fail_msg("after the reload to threshold 0 the default subscriber got %d labels; log:\n%s",
			 n, h_log(h));
	/* the one with its own threshold: a result produced after the reload still shows nothing */
	for (int i = 0; i < 3; i++)
		assert_int_equal(next_result_labels(own, RESULT_TIMEOUT_MS), 0);
	cli_close(deflt);
	cli_close(own);
	stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_client_may_ask_for_more_labels_than_the_configured_top_k,
					  harness_teardown),
		cmocka_unit_test_teardown(a_reload_lowering_the_threshold_reaches_default_subscribers,
					  harness_teardown),
	};
	return cmocka_run_group_tests_name("daemon_settings", tests, NULL, NULL);
}
