/* test_daemon_state.c — the debounced classification state end to end (issue #19): real
 * build/camclassd, a file-source clip of 4 cat frames then 4 grace_hopper frames (looping), the
 * real MobileNet v1 0.25 (small: one thread keeps up with 8 fps on a loaded machine). The expectations are computed here from the top labels the client sees, not
 * taken from the daemon: whenever the last N results agree on a label the state is that label;
 * the state never moves on a result that does not complete such a run; every move is announced
 * by one state_changed event (state, previous, score, since) matching the results; status shows
 * the state; on_change subscriptions follow the state; rate-limited frames are counted apart;
 * [model] roi shows in status and follows a reload; camera events carry device and
 * reason/format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "tests/daemon_harness.h"

#define START_TIMEOUT_MS 60000
#define DEBOUNCE 3
#ifdef CAMCLASS_HAVE_XNNPACK
#define BACKEND "xnnpack"
#else
#define BACKEND "builtin"
#endif

static void write_ini(struct harness *h, const char *model, int debounce, double rate,
		      const char *roi)
{
	h_write(h->ini,
		"[camera]\nsource = file\nfile = %s\nfps = 8\n"
		"[model]\npath = %s\nlabels = %s\nbackend = " BACKEND "\nthreads = 1\nroi = %s\n"
		"[classify]\ntop_k = 1\nthreshold = 0.05\ndebounce = %d\nrate = %g\n"
		"[socket]\npath = %s\n",
		h->frames, model, tu_model_path("imagenet_labels.txt"), roi, debounce, rate, h->sock);
}

static void start(struct harness *h, int debounce, double rate)
{
	static const char *const photos[] = {
		"images/cat.bmp", "images/cat.bmp", "images/cat.bmp", "images/cat.bmp",
		"images/grace_hopper.bmp", "images/grace_hopper.bmp", "images/grace_hopper.bmp",
		"images/grace_hopper.bmp",
	};
	char model[4200];
	h_setup(h);
	h_make_frames(h, "frames", photos, 8);
	snprintf(model, sizeof(model), "%s", tu_model_path("mobilenet_v1_0.25_128_quant.tflite"));
	write_ini(h, model, debounce, rate, "0,0,1,1");
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));
}

static void stop(struct harness *h)
{
	assert_true(h_alive(h));
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 30000), 0);
}

static struct cli_conn *subscribe(struct harness *h, bool on_change)
{
	struct cli_conn *c;
	json_t *msg;
	assert_int_equal(cli_connect(h->sock, &c), 0);
	assert_int_equal(cli_read_msg(c, 5000, &msg, NULL, NULL), 0);
	json_decref(msg);
	json_t *f = json_pack("{s:b}", "on_change", on_change);
	assert_int_equal(cli_request(c, "subscribe", f, 5000, &msg), 0);
	json_decref(f);
	json_decref(msg);
	return c;
}

static const char *str(const json_t *msg, const char *key)
{
	const char *s = json_string_value(json_object_get(msg, key));
	return s ? s : "";
}

static const char *top_label(const json_t *result)
{
	json_t *labels = json_object_get(result, "labels");
	return json_array_size(labels) ? str(json_array_get(labels, 0), "label") : "unknown";
}

static void state_moves_after_n_agreeing_results_and_is_announced(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	start(h, DEBOUNCE, 0);
	struct cli_conn *c = subscribe(h, false);
	char recent[DEBOUNCE][64] = { "", "", "" };
	char prev_state[64] = "";
	json_t *pending_event = NULL;
	int results = 0, moves = 0;
	char seen[2][64] = { "", "" }; /* two different labels held as the state */
	double end = tu_now_ms() + 60000;
	while ((moves < 4 || results < 40) && tu_now_ms() < end) {
		json_t *msg;
		assert_int_equal(cli_read_msg(c, 30000, &msg, NULL, NULL), 0);
		if (strcmp(str(msg, "type"), "event") == 0 && strcmp(str(msg, "event"), "state_changed") == 0) {
			assert_null(pending_event); /* one event per move */
			pending_event = msg;
			continue;
		}
		if (strcmp(str(msg, "type"), "result") != 0) {
			json_decref(msg);
			continue;
		}
		assert_null(json_object_get(msg, "dropped"));
		results++;
		memmove(recent[0], recent[1], sizeof(recent[0]) * (DEBOUNCE - 1));
		snprintf(recent[DEBOUNCE - 1], sizeof(recent[0]), "%s", top_label(msg));
		bool run = true;
		for (int i = 1; i < DEBOUNCE; i++)
			run = run && recent[0][0] && strcmp(recent[i], recent[0]) == 0;
		const char *st = str(msg, "state");
		assert_true(json_is_number(json_object_get(msg, "state_since")));
		if (run && strcmp(st, recent[0]) != 0)
			fail_msg("result %d: the last %d results say %s but state is %s", results,
				 DEBOUNCE, recent[0], st);
		/* judged once this client saw a full run's worth (earlier results it never saw
		 * may have completed the first one) */
		if (prev_state[0] && strcmp(prev_state, st) != 0) {
			if (!run && results >= DEBOUNCE)
				fail_msg("state moved from %s to %s on a flicker", prev_state, st);
			moves++;
		}
		if (pending_event) {
			/* the event follows the result that made the move */
			assert_string_equal(str(pending_event, "state"), st);
			assert_true(fabs(json_number_value(json_object_get(pending_event, "since")) -
					 json_number_value(json_object_get(msg, "state_since"))) < 0.01);
			assert_true(json_is_number(json_object_get(pending_event, "score")));
			assert_true(json_is_string(json_object_get(pending_event, "previous")));
			json_decref(pending_event);
			pending_event = NULL;
		}
		if (strcmp(st, "unknown") != 0 && !seen[0][0])
			snprintf(seen[0], sizeof(seen[0]), "%s", st);
		else if (strcmp(st, "unknown") != 0 && strcmp(st, seen[0]) != 0)
			snprintf(seen[1], sizeof(seen[1]), "%s", st);
		snprintf(prev_state, sizeof(prev_state), "%s", st);
		json_decref(msg);
	}
	json_decref(pending_event);
	if (moves < 4 || !seen[1][0])
		fail_msg("%d moves in %d results (states seen: '%s', '%s')", moves, results, seen[0],
			 seen[1]);
	json_t *status;
	assert_int_equal(cli_request(c, "status", NULL, 5000, &status), 0);
	assert_true(json_is_string(json_object_get(status, "state")));
	assert_true(json_is_number(json_object_get(status, "state_since")));
	json_decref(status);
	cli_close(c);
	stop(h);
}

static void on_change_subscription_follows_the_state(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	start(h, DEBOUNCE, 0);
	struct cli_conn *c = subscribe(h, true);
	char last[64] = "";
	int results = 0;
	while (results < 4) {
		json_t *msg;
		assert_int_equal(cli_read_msg(c, 30000, &msg, NULL, NULL), 0);
		if (strcmp(str(msg, "type"), "result") == 0) {
			const char *st = str(msg, "state");
			if (strcmp(st, last) == 0)
				fail_msg("on_change pushed state %s twice in a row", st);
			snprintf(last, sizeof(last), "%s", st);
			results++;
		}
		json_decref(msg);
	}
	cli_close(c);
	stop(h);
}

static void rate_limited_frames_are_counted_apart(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	start(h, 1, 0.5);
	struct cli_conn *c = subscribe(h, false);
	int results = 0;
	while (results < 3) {
		json_t *msg;
		assert_int_equal(cli_read_msg(c, 30000, &msg, NULL, NULL), 0);
		if (strcmp(str(msg, "type"), "result") == 0) {
			/* debounce = 1: the state is every result's top label */
			assert_string_equal(str(msg, "state"), top_label(msg));
			results++;
		}
		json_decref(msg);
	}
	json_t *status;
	assert_int_equal(cli_request(c, "status", NULL, 5000, &status), 0);
	json_t *limited = json_object_get(status, "frames_rate_limited");
	assert_true(json_is_integer(limited));
	/* 8 fps in, one result every 2 s out: unless one inference took 2 s, frames were
	 * limited by the rate */
	assert_true(json_integer_value(limited) > 0);
	assert_true(json_is_integer(json_object_get(status, "frames_skipped")));
	json_decref(status);
	cli_close(c);
	stop(h);
}

static void roi_is_in_status_and_follows_a_reload(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	char model[4200];
	json_t *status;
	start(h, DEBOUNCE, 0);
	struct cli_conn *c = subscribe(h, false);
	assert_int_equal(cli_request(c, "status", NULL, 5000, &status), 0);
	json_t *roi = json_object_get(status, "roi");
	assert_int_equal(json_array_size(roi), 4);
	assert_true(json_number_value(json_array_get(roi, 2)) == 1.0);
	json_decref(status);
	snprintf(model, sizeof(model), "%s", tu_model_path("mobilenet_v1_0.25_128_quant.tflite"));
	write_ini(h, model, DEBOUNCE, 0, "0.25, 0, 0.5, 1");
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 10000));
	assert_true(h_wait_notify(h, "READY=1", 20000));
	assert_int_equal(cli_request(c, "status", NULL, 5000, &status), 0);
	roi = json_object_get(status, "roi");
	assert_true(json_number_value(json_array_get(roi, 0)) == 0.25);
	assert_true(json_number_value(json_array_get(roi, 2)) == 0.5);
	json_decref(status);
	/* results keep coming from the region */
	int results = 0;
	while (results < 3) {
		json_t *msg;
		assert_int_equal(cli_read_msg(c, 30000, &msg, NULL, NULL), 0);
		results += strcmp(str(msg, "type"), "result") == 0;
		json_decref(msg);
	}
	cli_close(c);
	stop(h);
}

/* Reads until an event named `name` arrives (results and other events skipped). */
static json_t *wait_event(struct cli_conn *c, const char *name)
{
	double end = tu_now_ms() + 30000;
	while (tu_now_ms() < end) {
		json_t *msg;
		assert_int_equal(cli_read_msg(c, 30000, &msg, NULL, NULL), 0);
		if (strcmp(str(msg, "type"), "event") == 0 && strcmp(str(msg, "event"), name) == 0)
			return msg;
		json_decref(msg);
	}
	fail_msg("no %s event", name);
	return NULL;
}

static void camera_events_name_the_device_and_why(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	char away[sizeof(h->frames) + 8];
	start(h, DEBOUNCE, 0);
	struct cli_conn *c = subscribe(h, false);
	/* a camera that streamed (one result first: a source that fails before its first frame is
	 * a start-up configuration error, which stops the daemon by design) loses its folder like
	 * a camera its cable, and finds it again */
	for (bool streamed = false; !streamed;) {
		json_t *msg;
		assert_int_equal(cli_read_msg(c, 30000, &msg, NULL, NULL), 0);
		streamed = strcmp(str(msg, "type"), "result") == 0;
		json_decref(msg);
	}
	snprintf(away, sizeof(away), "%.*s.away", (int)strnlen(h->frames, sizeof(h->frames) - 1),
		 h->frames);
	assert_int_equal(rename(h->frames, away), 0);
	json_t *ev = wait_event(c, "camera_disconnected");
	assert_string_equal(str(ev, "device"), h->frames);
	assert_true(strlen(str(ev, "reason")) > 0);
	json_decref(ev);
	assert_int_equal(rename(away, h->frames), 0);
	ev = wait_event(c, "camera_connected");
	assert_string_equal(str(ev, "device"), h->frames);
	assert_non_null(strstr(str(ev, "format"), "x"));
	json_decref(ev);
	cli_close(c);
	stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(state_moves_after_n_agreeing_results_and_is_announced, harness_teardown),
		cmocka_unit_test_teardown(on_change_subscription_follows_the_state, harness_teardown),
		cmocka_unit_test_teardown(rate_limited_frames_are_counted_apart, harness_teardown),
		cmocka_unit_test_teardown(roi_is_in_status_and_follows_a_reload, harness_teardown),
		cmocka_unit_test_teardown(camera_events_name_the_device_and_why, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
