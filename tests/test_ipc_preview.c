/* test_ipc_preview.c — the snapshot request's view/size fields and the `preview` request, over
 * real sockets with the server of tests/ipc_harness.h: fields reach the hook and come back in
 * the reply, bad fields are bad_request, preview frames reach watchers with their bytes intact,
 * the daemon is told the highest rate anyone watches at (0 when nobody does), and a client that
 * does not read skips frames instead of piling them up. No assertion depends on timing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "ipc/wire.h"
#include "ipc/server.h"
#include "tests/testutil.h"
#include "tests/ipc_harness.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void wait_max_fps(struct harness *h, double want)
{
	for (int i = 0; i < 500 && h->preview_max_fps != want; i++)
		sleep_ms(10);
	assert_true(h->preview_max_fps == want);
}

static void snapshot_passes_view_and_size_and_reports_them(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	stop_loop(h);
	h->jpeg_len = 1000;
	h->jpeg = calloc(1, h->jpeg_len);
	start_loop(h);
	json_t *m = request(c, "snapshot", "{\"view\":\"model\",\"max_width\":320,\"scale\":0.5}");
	assert_string_equal(type_of(m), "snapshot");
	assert_int_equal(h->last_snapshot_req.view_model, 1);
	assert_int_equal(h->last_snapshot_req.max_width, 320);
	assert_true(h->last_snapshot_req.scale == 0.5);
	assert_string_equal(json_string_value(json_object_get(m, "view")), "model");
	assert_int_equal(json_integer_value(json_object_get(m, "width")), 640);
	assert_int_equal(json_integer_value(json_object_get(m, "height")), 480);
	json_decref(m);
	m = request(c, "snapshot", NULL);
	assert_int_equal(h->last_snapshot_req.view_model, 0);
	assert_int_equal(h->last_snapshot_req.max_width, 0);
	assert_true(h->last_snapshot_req.scale == 0);
	assert_string_equal(json_string_value(json_object_get(m, "view")), "camera");
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void view_and_preview_fields_are_checked(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	static const struct { const char *cmd, *fields; } bad[] = {
		{ "snapshot", "{\"view\":\"side\"}" },   { "snapshot", "{\"view\":1}" },
		{ "snapshot", "{\"max_width\":15}" },    { "snapshot", "{\"max_width\":8193}" },
		{ "snapshot", "{\"max_width\":\"320\"}" }, { "snapshot", "{\"max_width\":320.5}" },
		{ "snapshot", "{\"scale\":0}" },         { "snapshot", "{\"scale\":1.5}" },
		{ "snapshot", "{\"fps\":5}" },           { "latest", "{\"view\":\"model\"}" },
		{ "status", "{\"max_width\":320}" },     { "preview", NULL },
		{ "preview", "{\"fps\":-1}" },           { "preview", "{\"fps\":31}" },
		{ "preview", "{\"fps\":\"5\"}" },        { "preview", "{\"fps\":5,\"view\":\"model\"}" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *m = request(c, bad[i].cmd, bad[i].fields);
		if (!code_of(m) || strcmp(code_of(m), "bad_request") != 0)
			fail_msg("%s %s: %s", bad[i].cmd, bad[i].fields, type_of(m));
		json_decref(m);
	}
	assert_int_equal(h->preview_changes, 0);
	cli_close(c);
	harness_close(h);
}

/* Publishes a preview frame of n bytes, each byte derived from tag. */
static void publish_preview(struct harness *h, uint8_t tag, size_t n, uint64_t seq)
{
	struct srv_snapshot s = { .len = n, .width = 64, .height = 48, .seq = seq };
	s.jpeg = malloc(n);
	assert_non_null(s.jpeg);
	for (size_t i = 0; i < n; i++)
		s.jpeg[i] = (uint8_t)(tag + i * 7);
	srv_publish_preview(h->srv, &s);
	assert_null(s.jpeg);
}

/* The next preview message; checks its bytes match what publish_preview made for tag. */
static json_t *expect_preview(struct cli_conn *c, uint8_t tag, size_t n)
{
	json_t *m;
	do {
		m = read_msg(c);
		if (strcmp(type_of(m), "preview") == 0)
			break;
		json_decref(m);
	} while (1);
	json_t *data = json_object_get(m, "data");
	uint8_t *bytes;
	size_t len;
	assert_int_equal(wire_base64_decode(json_string_value(data), json_string_length(data),
					     &bytes, &len), 0);
	assert_int_equal(len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(bytes[i], (uint8_t)(tag + i * 7));
	free(bytes);
	assert_int_equal(json_integer_value(json_object_get(m, "width")), 64);
	assert_int_equal(json_integer_value(json_object_get(m, "height")), 48);
	assert_string_equal(json_string_value(json_object_get(m, "format")), "jpeg");
	return m;
}

static void preview_frames_reach_watchers_and_the_daemon_knows_the_rate(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *a = connect_hello(h), *b = connect_hello(h);
	publish_preview(h, 1, 100, 1); /* nobody watches: sent to no one */
	json_t *m = request(a, "preview", "{\"fps\":30}");
	assert_string_equal(type_of(m), "preview_started");
	assert_true(json_real_value(json_object_get(m, "fps")) == 30);
	json_decref(m);
	wait_max_fps(h, 30);
	m = request(b, "preview", "{\"fps\":2.5}");
	assert_string_equal(type_of(m), "preview_started");
	json_decref(m);
	assert_true(h->preview_max_fps == 30);

	publish_preview(h, 10, 5000, 7);
	m = expect_preview(a, 10, 5000);
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), 7);
	json_decref(m);
	json_decref(expect_preview(b, 10, 5000));
	sleep_ms(60); /* > a's period (33 ms), < b's (400 ms) */
	publish_preview(h, 20, 3000, 8);
	json_decref(expect_preview(a, 20, 3000));

	m = request(a, "preview", "{\"fps\":0}");
	assert_string_equal(type_of(m), "preview_stopped");
	json_decref(m);
	wait_max_fps(h, 2.5);
	cli_close(b); /* a watcher that leaves counts as stopped */
	wait_max_fps(h, 0);
	/* a no longer watches: the next thing it reads is the reply to ping, not a frame */
	publish_preview(h, 30, 100, 9);
	m = request(a, "ping", NULL);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
	const char *line;
	size_t len;
	assert_int_equal(cli_read_line(a, 200, &line, &len), -ETIMEDOUT);
	cli_close(a);
	harness_close(h);
}

static void a_reader_that_does_not_read_skips_frames(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *slow = connect_hello(h), *fast = connect_hello(h);
	json_decref(request(slow, "preview", "{\"fps\":30}"));
	json_decref(request(fast, "preview", "{\"fps\":30}"));
	wait_max_fps(h, 30);
	const size_t n = 150000; /* ~200 KB of base64 a frame */
	for (int i = 0; i < 12; i++) {
		publish_preview(h, (uint8_t)i, n, (uint64_t)i + 1);
		json_decref(expect_preview(fast, (uint8_t)i, n)); /* fast keeps up with every one */
		sleep_ms(40);
	}
	struct srv_stats st = stats(h);
	/* the slow one holds at most its droppable budget plus the one frame that crossed it */
	assert_true(st.queued_bytes_max_client <= SRV_CLIENT_RESULT_QUEUE_BYTES + 2 * n + 4096);
	/* it gets what was queued, then a frame that says how many it skipped */
	int got = 0;
	json_int_t skipped = 0;
	json_t *m;
	while (cli_read_msg(slow, 500, &m, NULL, NULL) == 0) {
		got += strcmp(type_of(m), "preview") == 0;
		json_decref(m);
	}
	publish_preview(h, 99, n, 99);
	m = expect_preview(slow, 99, n);
	got++;
	skipped = json_integer_value(json_object_get(m, "skipped"));
	json_decref(m);
	assert_true(got < 12);
	assert_int_equal(got + skipped, 13);
	cli_close(slow);
	cli_close(fast);
	harness_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snapshot_passes_view_and_size_and_reports_them),
		cmocka_unit_test(view_and_preview_fields_are_checked),
		cmocka_unit_test(preview_frames_reach_watchers_and_the_daemon_knows_the_rate),
		cmocka_unit_test(a_reader_that_does_not_read_skips_frames),
	};
	return cmocka_run_group_tests_name("ipc_preview", tests, NULL, NULL);
}
