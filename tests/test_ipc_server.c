/* test_ipc_server.c — the real server over real sockets: every command end to end, bad input
 * (malformed lines, a 1 MiB line, binary garbage, half lines), many subscribers with one that
 * never reads, max_clients, the per-client hard cap, and 10 000 connect/disconnect cycles.
 * The server runs in the harness of tests/ipc_harness.h; assertions use the server's own
 * counters (srv_get_stats), never timing. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "ipc/protocol.h"
#include "ipc/server.h"
#include "ipc/server_internal.h" /* SRV_MAILBOX_RESULTS */
#include "tests/testutil.h"
#include "tests/ipc_harness.h"

static void hello_describes_model_and_camera(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c;
	assert_int_equal(cli_connect(h->path, &c), 0);
	json_t *hello = read_msg(c);
	assert_string_equal(type_of(hello), "hello");
	assert_int_equal(json_integer_value(json_object_get(hello, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(hello, "model")),
			    "mobilenet_v1_1.0_224_quant");
	json_t *want_shape = json_pack("[i,i,i,i]", 1, 224, 224, 3);
	assert_true(json_equal(json_object_get(hello, "input_shape"), want_shape));
	assert_int_equal(json_integer_value(json_object_get(hello, "labels")), N_LABELS);
	assert_string_equal(json_string_value(json_object_get(hello, "camera")), "streaming");
	json_decref(want_shape);
	json_decref(hello);
	cli_close(c);
	harness_close(h);
}

static void ping_echoes_ids_of_every_type(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	static const char *ids[] = { "1", "\"abc\"", "null", "[1,2]", "{\"k\":false}", "2.5" };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char line[64];
		int n = snprintf(line, sizeof(line), "{\"cmd\":\"ping\",\"id\":%s}\n", ids[i]);
		assert_int_equal(cli_send_raw(c, line, (size_t)n), 0);
		json_t *pong = read_msg(c), *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
		assert_string_equal(type_of(pong), "pong");
		assert_true(json_equal(json_object_get(pong, "id"), want));
		json_decref(want);
		json_decref(pong);
	}
	/* without an id the reply has none */
	assert_int_equal(send_line(c, "{\"cmd\":\"ping\"}\n"), 0);
	json_t *pong = read_msg(c);
	assert_null(json_object_get(pong, "id"));
	json_decref(pong);
	cli_close(c);
	harness_close(h);
}

static void status_reports_daemon_fields_and_clients(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *a = connect_hello(h), *b = connect_hello(h);
	json_decref(request(b, "subscribe", NULL));
	json_t *st = request(a, "status", NULL);
	assert_string_equal(type_of(st), "status");
	assert_int_equal(json_integer_value(json_object_get(st, "clients")), 2);
	assert_int_equal(json_integer_value(json_object_get(st, "subscribers")), 1);
	assert_string_equal(json_string_value(json_object_get(st, "camera")), "streaming");
	assert_string_equal(json_string_value(json_object_get(st, "device")), "/dev/video0");
	assert_string_equal(json_string_value(json_object_get(st, "format")), "MJPG 640x480");
	assert_string_equal(json_string_value(json_object_get(st, "backend")), "reference");
	assert_true(json_number_value(json_object_get(st, "fps_out")) == 12.5);
	assert_int_equal(json_integer_value(json_object_get(st, "frames_skipped")), 17);
	assert_int_equal(json_integer_value(json_object_get(st, "frames_corrupt")), 2);
	assert_int_equal(json_integer_value(json_object_get(st, "threads")), 2);
	json_t *inf = json_object_get(json_object_get(st, "latency_ms"), "inference");
	assert_true(json_number_value(json_object_get(inf, "p50")) == 31.25);
	assert_true(json_number_value(json_object_get(inf, "p99")) == 40.5);
	assert_true(json_number_value(json_object_get(st, "uptime_s")) == 12.5);
	json_decref(st);
	cli_close(a);
	cli_close(b);
	harness_close(h);
}

static void latest_answers_with_the_last_result(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	json_t *m = request(c, "latest", NULL);
	assert_string_equal(type_of(m), "error");
	assert_string_equal(code_of(m), "no_result");
	json_decref(m);

	struct srv_result r = make_result(41, 1, 8);
	publish(h, &r);
	m = request(c, "latest", NULL);
	assert_string_equal(type_of(m), "result");
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), 41);
	json_t *labels = json_object_get(m, "labels");
	assert_int_equal(json_array_size(labels), 5); /* the configured default top_k */
	json_t *first = json_array_get(labels, 0);
	assert_int_equal(json_integer_value(json_object_get(first, "index")), 1);
	assert_string_equal(json_string_value(json_object_get(first, "label")), h->label_store[1]);
	assert_true(json_real_value(json_object_get(first, "score")) == 0.5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(labels, 1), "label")),
			    "label 2");
	json_decref(m);

	/* per-request filter: scores are 0.5, 0.25, 0.125, ... */
	m = request(c, "latest", "{\"top_k\":20,\"threshold\":0.1}");
	assert_int_equal(json_array_size(json_object_get(m, "labels")), 3);
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void subscribers_get_filtered_results_until_unsubscribe(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	json_t *m = request(c, "subscribe", "{\"top_k\":2,\"threshold\":0.2}");
	assert_string_equal(type_of(m), "subscribed");
	assert_int_equal(json_integer_value(json_object_get(m, "top_k")), 2);
	json_decref(m);
	struct srv_stats st;
	WAIT_FOR(h, st, h->demand_subscribers == 1);

	for (uint64_t seq = 1; seq <= 3; seq++) {
		struct srv_result r = make_result(seq, (uint32_t)seq * 10, 6);
		publish(h, &r);
		m = read_msg(c);
		assert_string_equal(type_of(m), "result");
		assert_int_equal(json_integer_value(json_object_get(m, "seq")), seq);
		json_t *labels = json_object_get(m, "labels");
		assert_int_equal(json_array_size(labels), 2); /* 0.5 and 0.25 pass 0.2 */
		assert_int_equal(json_integer_value(json_object_get(json_array_get(labels, 0), "index")),
				 seq * 10);
		assert_null(json_object_get(m, "dropped"));
		json_decref(m);
	}
	m = request(c, "unsubscribe", NULL);
	assert_string_equal(type_of(m), "unsubscribed");
	json_decref(m);
	WAIT_FOR(h, st, h->demand_subscribers == 0);
	struct srv_result r = make_result(4, 0, 3);
	publish(h, &r);
	/* the next thing on the wire is the pong, not a result */
	assert_int_equal(send_line(c, "{\"cmd\":\"ping\"}\n"), 0);
	m = read_msg(c);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void on_change_sends_only_new_top_labels(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	json_decref(request(c, "subscribe", "{\"on_change\":true}"));
	static const uint32_t tops[] = { 5, 5, 7, 7, 7, 5 };
	for (uint64_t i = 0; i < 6; i++) {
		struct srv_result r = make_result(i + 1, tops[i], 3);
		publish(h, &r);
	}
	assert_int_equal(send_line(c, "{\"cmd\":\"ping\"}\n"), 0);
	static const int want_seq[] = { 1, 3, 6 };
	for (int i = 0; i < 3; i++) {
		json_t *m = read_msg(c);
		assert_string_equal(type_of(m), "result");
		assert_int_equal(json_integer_value(json_object_get(m, "seq")), want_seq[i]);
		json_decref(m);
	}
	json_t *m = read_msg(c);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void classify_waits_for_a_frame_captured_after_the_request(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	struct srv_result old = make_result(1, 3, 3); /* its frame predates the request */
	assert_int_equal(send_line(c, "{\"cmd\":\"classify\",\"id\":\"c1\",\"top_k\":1}\n"), 0);
	struct srv_stats st;
	WAIT_FOR(h, st, st.classify_pending == 1);
	assert_int_equal(h->classify_calls, 1);
	assert_int_equal(h->demand_waits, 1);
	publish(h, &old);
	struct srv_result fresh = make_result(2, 4, 3);
	publish(h, &fresh);
	json_t *m = read_msg(c);
	assert_string_equal(type_of(m), "result");
	assert_string_equal(json_string_value(json_object_get(m, "id")), "c1");
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), 2);
	assert_int_equal(json_array_size(json_object_get(m, "labels")), 1);
	json_decref(m);
	WAIT_FOR(h, st, st.classify_pending == 0 && h->demand_waits == 0);

	/* nothing published: the request times out (classify_timeout_ms = 300) */
	m = request(c, "classify", NULL);
	assert_string_equal(type_of(m), "error");
	assert_string_equal(code_of(m), "timeout");
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void snapshot_returns_the_jpeg_in_base64(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	json_t *m = request(c, "snapshot", NULL);
	assert_string_equal(code_of(m), "no_result");
	json_decref(m);

	stop_loop(h); /* the hooks read h->jpeg on the loop thread */
	h->jpeg_len = 100001;
	h->jpeg = malloc(h->jpeg_len);
	for (size_t i = 0; i < h->jpeg_len; i++)
		h->jpeg[i] = (uint8_t)(i * 131 + (i >> 8));
	start_loop(h);
	m = request(c, "snapshot", NULL);
	assert_string_equal(type_of(m), "snapshot");
	assert_string_equal(json_string_value(json_object_get(m, "format")), "jpeg");
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), 99);
	assert_int_equal(json_integer_value(json_object_get(m, "bytes")), h->jpeg_len);
	json_t *data = json_object_get(m, "data");
	uint8_t *bytes;
	size_t len;
	assert_int_equal(wire_base64_decode(json_string_value(data), json_string_length(data),
					     &bytes, &len), 0);
	assert_int_equal(len, h->jpeg_len);
	assert_memory_equal(bytes, h->jpeg, len);
	free(bytes);
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void events_reach_every_client(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *a = connect_hello(h), *b = connect_hello(h);
	json_decref(request(a, "subscribe", NULL));
	struct srv_stats st;
	WAIT_FOR(h, st, st.clients == 2);
	assert_int_equal(srv_publish_event(h->srv, "camera_disconnected",
					   json_pack("{s:s}", "device", "/dev/video0")), 0);
	assert_int_equal(srv_publish_event(h->srv, "camera_connected", NULL), 0);
	struct cli_conn *both[] = { a, b };
	for (int i = 0; i < 2; i++) {
		json_t *m = read_msg(both[i]);
		assert_string_equal(type_of(m), "event");
		assert_string_equal(json_string_value(json_object_get(m, "event")), "camera_disconnected");
		assert_string_equal(json_string_value(json_object_get(m, "device")), "/dev/video0");
		json_decref(m);
		m = read_msg(both[i]);
		assert_string_equal(json_string_value(json_object_get(m, "event")), "camera_connected");
		json_decref(m);
	}
	cli_close(a);
	cli_close(b);
	harness_close(h);
}

static void model_reload_switches_label_names(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	json_decref(request(c, "subscribe", "{\"top_k\":1}"));
	struct srv_result old = make_result(1, 3, 1);
	publish(h, &old);
	json_decref(read_msg(c));
	stop_loop(h); /* srv_set_labels belongs to the main-loop thread */
	set_labels(h, "new");
	start_loop(h);
	/* the old model's result is not renamed with the new labels */
	json_t *latest = request(c, "latest", NULL);
	assert_string_equal(code_of(latest), "no_result");
	json_decref(latest);
	assert_int_equal(srv_publish_event(h->srv, "model_reloaded",
					   json_pack("{s:s}", "model", "other.tflite")), 0);
	struct srv_result r = make_result(1, 9, 1);
	publish(h, &r);
	json_t *m = read_msg(c);
	assert_string_equal(json_string_value(json_object_get(m, "event")), "model_reloaded");
	json_decref(m);
	m = read_msg(c);
	json_t *first = json_array_get(json_object_get(m, "labels"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "label")), "new 9");
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void malformed_lines_get_errors_and_the_connection_stays(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	static const struct {
		const char *line, *code;
		const char *id;
	} cases[] = {
		{ "{\"cmd\":\"ping\"\n", "bad_request", NULL },
		{ "[1,2,3]\n", "bad_request", NULL },
		{ "{\"cmd\":\"dance\",\"id\":5}\n", "unknown_cmd", "5" },
		{ "{\"cmd\":\"subscribe\",\"top_k\":\"many\",\"id\":\"x\"}\n", "bad_request", "\"x\"" },
		{ "{\"cmd\":\"subscribe\",\"threshold\":2}\n", "bad_request", NULL },
		{ "{\"cmd\":true}\r\n", "bad_request", NULL },
		/* jansson's error text quotes these bytes; the reply must still be valid JSON */
		{ "{\"cmd\":\"nope\",\"id\":\"\\u0\xd0\x9a\xc6\xdd]\n", "bad_request", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cli_send_raw(c, cases[i].line, strlen(cases[i].line)), 0);
		json_t *m = read_msg(c);
		assert_string_equal(type_of(m), "error");
		assert_string_equal(code_of(m), cases[i].code);
		assert_true(json_is_string(json_object_get(m, "message")));
		if (cases[i].id) {
			json_t *want = json_loads(cases[i].id, JSON_DECODE_ANY, NULL);
			assert_true(json_equal(json_object_get(m, "id"), want));
			json_decref(want);
		}
		json_decref(m);
	}
	json_t *m = request(c, "ping", NULL);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void a_1mib_line_gets_too_long_and_is_closed(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	size_t len = 1024 * 1024;
	char *line = malloc(len + 1);
	memset(line, 'a', len);
	memcpy(line, "{\"cmd\":\"ping\",\"pad\":\"", 21);
	line[len - 2] = '"';
	line[len - 1] = '}';
	line[len] = '\n';
	/* the server stops reading after 64 KiB, so the write may fail with EPIPE/ECONNRESET */
	int r = cli_send_raw(c, line, len + 1);
	assert_true(r == 0 || r == -EPIPE || r == -ECONNRESET);
	json_t *m = read_msg(c);
	assert_string_equal(code_of(m), "too_long");
	json_decref(m);
	expect_eof(c);
	cli_close(c);

	/* exactly 64 KiB is still a line */
	c = connect_hello(h);
	len = WIRE_MAX_REQUEST_BYTES;
	memset(line, ' ', len);
	memcpy(line, "{\"cmd\":\"ping\"}", 14);
	line[len] = '\n';
	assert_int_equal(cli_send_raw(c, line, len + 1), 0);
	m = read_msg(c);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
	free(line);
	cli_close(c);
	struct srv_stats st;
	WAIT_FOR(h, st, st.clients == 0);
	harness_close(h);
}

static void binary_garbage_gets_errors_not_a_crash(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	uint8_t garbage[8192];
	uint32_t x = 0x12345678;
	unsigned lines = 0;
	for (size_t i = 0; i < sizeof(garbage); i++) {
		x = x * 1664525u + 1013904223u;
		garbage[i] = (uint8_t)(x >> 24);
	}
	garbage[sizeof(garbage) - 1] = '\n';
	for (size_t start = 0, i = 0; i < sizeof(garbage); i++) {
		if (garbage[i] != '\n')
			continue;
		size_t len = i - start;
		if (len > 0 && garbage[i - 1] == '\r')
			len--;
		lines += len > 0;
		start = i + 1;
	}
	assert_int_equal(cli_send_raw(c, garbage, sizeof(garbage)), 0);
	assert_int_equal(send_line(c, "{\"cmd\":\"ping\",\"id\":\"after\"}\n"), 0);
	unsigned errors = 0;
	for (;;) {
		json_t *m = read_msg(c);
		if (strcmp(type_of(m), "pong") == 0) {
			assert_string_equal(json_string_value(json_object_get(m, "id")), "after");
			json_decref(m);
			break;
		}
		assert_string_equal(type_of(m), "error");
		errors++;
		json_decref(m);
	}
	/* one error per non-empty garbage line (none of them is a valid request) */
	assert_true(lines > 10);
	assert_int_equal(errors, lines);
	cli_close(c);
	harness_close(h);
}

static void half_lines_are_joined(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *c = connect_hello(h);
	const char *req = "{\"cmd\":\"ping\",\"id\":\"split\"}\n{\"cmd\":\"ping\",\"id\":2}\n";
	for (const char *p = req; *p; p++) {
		assert_int_equal(cli_send_raw(c, p, 1), 0);
		if (p - req == 10) {
			/* let the server see the partial line before the rest arrives */
			struct srv_stats st;
			WAIT_FOR(h, st, st.clients == 1);
			usleep(20000);
		}
	}
	json_t *m = read_msg(c);
	assert_string_equal(json_string_value(json_object_get(m, "id")), "split");
	json_decref(m);
	m = read_msg(c);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 2);
	json_decref(m);
	cli_close(c);
	harness_close(h);
}

static void max_clients_answers_busy(void **state)
{
	(void)state;
	struct harness *h = harness_open(2);
	struct cli_conn *a = connect_hello(h), *b = connect_hello(h), *c;
	assert_int_equal(cli_connect(h->path, &c), 0);
	json_t *m = read_msg(c);
	assert_string_equal(code_of(m), "busy");
	json_decref(m);
	expect_eof(c);
	cli_close(c);
	struct srv_stats st;
	WAIT_FOR(h, st, st.connections_refused_busy == 1);
	/* a freed slot is usable again */
	cli_close(a);
	WAIT_FOR(h, st, st.clients == 1);
	c = connect_hello(h);
	cli_close(c);
	cli_close(b);
	harness_close(h);
}

static void unread_replies_beyond_the_hard_cap_disconnect(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	h->jpeg_len = 512 * 1024;
	h->jpeg = calloc(1, h->jpeg_len);
	struct cli_conn *c = connect_hello(h), *other = connect_hello(h);
	/* 16 snapshots of ~700 KB each, never read: more than SRV_CLIENT_HARD_CAP_BYTES */
	for (int i = 0; i < 16; i++) {
		int r = send_line(c, "{\"cmd\":\"snapshot\"}\n");
		assert_true(r == 0 || r == -EPIPE || r == -ECONNRESET);
	}
	struct srv_stats st;
	WAIT_FOR(h, st, st.clients_killed == 1 && st.clients == 1);
	/* what was pending stayed within the cap plus one snapshot line */
	assert_true(st.queued_bytes_max_client < SRV_CLIENT_HARD_CAP_BYTES + 800 * 1024);
	/* the other client was not affected */
	json_t *m = request(other, "ping", NULL);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);

	/* one reply bigger than the cap still reaches a client that reads */
	free(h->jpeg);
	h->jpeg_len = SRV_CLIENT_HARD_CAP_BYTES + 12345;
	h->jpeg = calloc(1, h->jpeg_len);
	m = request(other, "snapshot", NULL);
	assert_string_equal(type_of(m), "snapshot");
	assert_int_equal(json_integer_value(json_object_get(m, "bytes")), h->jpeg_len);
	json_decref(m);
	assert_int_equal(stats(h).clients_killed, 1);
	cli_close(c);
	cli_close(other);
	harness_close(h);
}

#define N_SUBSCRIBERS 256
#define N_RESULTS 240
/* Long label names make the stalled client's top-20 results ~4 KB, so 240 of them overflow the
 * kernel socket buffer plus its 256 KiB queue; the readers take top-1 results (~300 B). */
#define LONG_LABEL_PREFIX "a label name long enough to make results big, as label files " \
	"with synonyms (\"tabby, tabby cat, domestic cat, house cat\") do in practice, ....."

/* Reads whatever is available on every reader; checks each result's seq. */
static void drain_readers(int *fds, char **bufs, size_t *lens, uint64_t *next_seq, int n)
{
	for (int i = 0; i < n; i++) {
		for (;;) {
			ssize_t got = recv(fds[i], bufs[i] + lens[i], 65536 - lens[i], MSG_DONTWAIT);
			if (got < 0 && errno == EAGAIN)
				break;
			assert_true(got > 0);
			lens[i] += (size_t)got;
			char *nl;
			while ((nl = memchr(bufs[i], '\n', lens[i]))) {
				json_t *m = json_loadb(bufs[i], (size_t)(nl - bufs[i]), 0, NULL);
				assert_non_null(m);
				if (strcmp(type_of(m), "result") == 0) {
					assert_int_equal(json_integer_value(json_object_get(m, "seq")),
							 next_seq[i]);
					assert_null(json_object_get(m, "dropped"));
					next_seq[i]++;
				}
				json_decref(m);
				size_t used = (size_t)(nl - bufs[i]) + 1;
				memmove(bufs[i], nl + 1, lens[i] - used);
				lens[i] -= used;
			}
		}
	}
}

static void many_subscribers_get_everything_while_a_stalled_one_drops(void **state)
{
	(void)state;
	struct harness *h = harness_open(N_SUBSCRIBERS + 8);
	stop_loop(h);
	set_labels(h, LONG_LABEL_PREFIX);
	start_loop(h);
	static struct cli_conn *subs[N_SUBSCRIBERS];
	static int fds[N_SUBSCRIBERS];
	static char *bufs[N_SUBSCRIBERS];
	static size_t lens[N_SUBSCRIBERS];
	static uint64_t next_seq[N_SUBSCRIBERS];
	/* subscribed first, the stalled client is served last, after the readers' 12 distinct
	 * filters have filled the server's per-result line cache: its lines are built alone */
	struct cli_conn *stalled = connect_hello(h);
	json_decref(request(stalled, "subscribe", "{\"top_k\":20}"));
	for (int i = 0; i < N_SUBSCRIBERS; i++) {
		char fields[64];
		snprintf(fields, sizeof(fields), "{\"top_k\":1,\"threshold\":0.%02d}", i % 12);
		subs[i] = connect_hello(h);
		json_decref(request(subs[i], "subscribe", fields));
		fds[i] = cli_fd(subs[i]);
		bufs[i] = malloc(65536);
		lens[i] = 0;
		next_seq[i] = 1;
	}
	struct srv_stats st;
	WAIT_FOR(h, st, st.subscribers == N_SUBSCRIBERS + 1);

	/* publish in batches no larger than the mailbox, so none is overwritten */
	for (uint64_t seq = 1; seq <= N_RESULTS;) {
		uint64_t want = stats(h).results_published;
		for (int i = 0; i < SRV_MAILBOX_RESULTS && seq <= N_RESULTS; i++, seq++, want++) {
			struct srv_result r = make_result(seq, (uint32_t)seq, WIRE_MAX_LABELS);
			srv_publish_result(h->srv, &r);
		}
		WAIT_FOR(h, st, st.results_published == want);
		drain_readers(fds, bufs, lens, next_seq, N_SUBSCRIBERS);
	}
	assert_int_equal(stats(h).mailbox_overwritten, 0);
	/* every reader saw every result, in order, with nothing dropped */
	for (int tries = 0; tries < 1000; tries++) {
		int behind = 0;
		for (int i = 0; i < N_SUBSCRIBERS; i++)
			behind += next_seq[i] != N_RESULTS + 1;
		if (!behind)
			break;
		usleep(1000);
		drain_readers(fds, bufs, lens, next_seq, N_SUBSCRIBERS);
	}
	for (int i = 0; i < N_SUBSCRIBERS; i++)
		assert_int_equal(next_seq[i], N_RESULTS + 1);

	/* the stalled client lost its oldest results, and its queue stayed bounded */
	st = stats(h);
	assert_true(st.results_dropped > 0);
	assert_true(st.queued_bytes_max_client <= SRV_CLIENT_RESULT_QUEUE_BYTES + 4096);
	assert_true(st.queued_bytes_total <= SRV_CLIENT_RESULT_QUEUE_BYTES);
	assert_int_equal(st.clients_killed, 0);

	/* now it reads: results in increasing order, and received + reported drops = all */
	uint64_t received = 0, dropped = 0, last_seq = 0;
	assert_int_equal(send_line(stalled, "{\"cmd\":\"ping\"}\n"), 0);
	for (;;) {
		json_t *m = read_msg(stalled);
		if (strcmp(type_of(m), "pong") == 0) {
			json_decref(m);
			break;
		}
		assert_string_equal(type_of(m), "result");
		uint64_t seq = (uint64_t)json_integer_value(json_object_get(m, "seq"));
		uint64_t d = (uint64_t)json_integer_value(json_object_get(m, "dropped"));
		/* "dropped" counts exactly the results missing before this one */
		assert_int_equal(seq, last_seq + 1 + d);
		dropped += d;
		received++;
		last_seq = seq;
		json_decref(m);
	}
	assert_int_equal(last_seq, N_RESULTS);
	assert_int_equal(received + dropped, N_RESULTS);
	assert_int_equal(dropped, st.results_dropped);
	for (int i = 0; i < N_SUBSCRIBERS; i++) {
		cli_close(subs[i]);
		free(bufs[i]);
	}
	cli_close(stalled);
	harness_close(h);
}

static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int highest = -1;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (atoi(e->d_name) > highest && atoi(e->d_name) != dirfd(d))
			highest = atoi(e->d_name);
	closedir(d);
	return highest;
}

static void out_of_fds_pauses_accepting_until_a_client_leaves(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct rlimit saved, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	/* fill the gaps below the highest open fd, then allow exactly three more fds: a client,
	 * its server side, a second client — no fourth for accepting that one */
	int fillers[1024], n_fillers = 0, highest = highest_fd();
	for (;;) {
		int fd = dup(0);
		assert_true(fd >= 0 && n_fillers < 1024);
		if (fd > highest) {
			close(fd);
			break;
		}
		fillers[n_fillers++] = fd;
	}
	low = (struct rlimit){ (rlim_t)highest + 1 + 3, saved.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	struct cli_conn *a = connect_hello(h), *b;
	int r = cli_connect(h->path, &b); /* waits in the backlog */
	if (r < 0) {
		setrlimit(RLIMIT_NOFILE, &saved);
		fail_msg("second connect: %s", strerror(-r));
	}
	struct srv_stats st;
	WAIT_FOR(h, st, st.accept_pauses == 1);
	cli_close(a);
	json_t *hello = read_msg(b); /* accepted once a's server side was closed */
	assert_string_equal(type_of(hello), "hello");
	json_decref(hello);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	while (n_fillers > 0)
		close(fillers[--n_fillers]);
	assert_int_equal(stats(h).accept_pauses, 1);
	cli_close(b);
	harness_close(h);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void connect_disconnect_cycles_leak_nothing(void **state)
{
	(void)state;
	struct harness *h = harness_open(1024); /* closes may be noticed after the next accept */
	struct srv_stats st;
	/* warm up allocator pools and the server's lazily sized buffers */
	for (int i = 0; i < 100; i++)
		cli_close(connect_hello(h));
	/* the counters are published at the end of a dispatch, which may still be running when
	 * the hello has arrived: wait on the monotonic count, not just on clients == 0 */
	WAIT_FOR(h, st, st.clients == 0 && st.connections_accepted == 100);
	int fds_before = count_fds();
	size_t heap_before = mallinfo2().uordblks;
	uint64_t accepted_before = st.connections_accepted;

	for (int i = 0; i < 10000; i++) {
		struct cli_conn *c = connect_hello(h);
		if (i % 3 == 0) /* some leave with a request in flight */
			assert_int_equal(send_line(c, "{\"cmd\":\"status\"}\n"), 0);
		if (i % 7 == 0) /* some leave a partial line */
			assert_int_equal(send_line(c, "{\"cmd\":"), 0);
		cli_close(c);
	}
	WAIT_FOR(h, st, st.clients == 0 && st.connections_accepted == accepted_before + 10000);
	int fds_after = count_fds();
	size_t heap_after = mallinfo2().uordblks;
	if (st.queued_bytes_total || st.connections_refused_busy || fds_after != fds_before ||
	    heap_after >= heap_before + 64 * 1024) /* 16 bytes leaked per cycle = 160 KB */
		fail_msg("queued %zu, busy %llu, fds %d -> %d, heap %zu -> %zu", st.queued_bytes_total,
			 (unsigned long long)st.connections_refused_busy, fds_before, fds_after,
			 heap_before, heap_after);
	harness_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hello_describes_model_and_camera),
		cmocka_unit_test(ping_echoes_ids_of_every_type),
		cmocka_unit_test(status_reports_daemon_fields_and_clients),
		cmocka_unit_test(latest_answers_with_the_last_result),
		cmocka_unit_test(subscribers_get_filtered_results_until_unsubscribe),
		cmocka_unit_test(on_change_sends_only_new_top_labels),
		cmocka_unit_test(classify_waits_for_a_frame_captured_after_the_request),
		cmocka_unit_test(snapshot_returns_the_jpeg_in_base64),
		cmocka_unit_test(events_reach_every_client),
		cmocka_unit_test(model_reload_switches_label_names),
		cmocka_unit_test(malformed_lines_get_errors_and_the_connection_stays),
		cmocka_unit_test(a_1mib_line_gets_too_long_and_is_closed),
		cmocka_unit_test(binary_garbage_gets_errors_not_a_crash),
		cmocka_unit_test(half_lines_are_joined),
		cmocka_unit_test(max_clients_answers_busy),
		cmocka_unit_test(unread_replies_beyond_the_hard_cap_disconnect),
		cmocka_unit_test(many_subscribers_get_everything_while_a_stalled_one_drops),
		cmocka_unit_test(out_of_fds_pauses_accepting_until_a_client_leaves),
		cmocka_unit_test(connect_disconnect_cycles_leak_nothing),
	};
	return cmocka_run_group_tests_name("ipc_server", tests, NULL, NULL);
}
