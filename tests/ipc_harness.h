/* ipc_harness.h — the in-process camclassd server used by the IPC tests (test_ipc_server.c,
 * test_camclass_client.c): srv_dispatch runs in its own thread like the daemon's main loop, with
 * fake hooks giving fixed hello/status/snapshot data; results are published from the test
 * thread through srv_publish_result, as the classify thread does. Waits poll the server's own
 * counters (srv_get_stats), so no assertion depends on timing. Header-only (static inline) so
 * the Makefile's one-file-per-test rule needs no change. */
#ifndef CAMCLASS_TESTS_IPC_HARNESS_H
#define CAMCLASS_TESTS_IPC_HARNESS_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc/client.h"
#include "ipc/protocol.h"
#include "ipc/server.h"
#include "tests/testutil.h"

/* cmocka.h must be included before this header. */

#define WAIT_MS 10000                   /* generous: a failure, not a slow machine, trips it */
#define N_LABELS 1000

struct harness {
	char *dir;
	char path[256];
	struct server *srv;
	pthread_t thread;
	int stop_fd;
	uint8_t *jpeg;                  /* what the snapshot hook returns (NULL → no_result) */
	size_t jpeg_len;
	atomic_uint classify_calls, demand_subscribers, demand_waits;
	char *label_store[N_LABELS];
};

static inline int hook_hello(void *u, struct srv_hello *ret)
{
	(void)u;
	*ret = (struct srv_hello){ .model = "mobilenet_v1_1.0_224_quant", .input_shape = { 1, 224, 224, 3 },
				   .input_dims = 4, .label_count = N_LABELS, .camera_state = "streaming" };
	return 0;
}

static inline int hook_status(void *u, struct srv_status *ret)
{
	(void)u;
	*ret = (struct srv_status){ .camera_state = "streaming", .device = "/dev/video0",
				    .format = "MJPG 640x480", .fps_in = 30, .fps_out = 12.5,
				    .frames_skipped = 17, .frames_corrupt = 2, .model = "m.tflite",
				    .backend = "reference", .threads = 2,
				    .inference = { 31.25, 40.5 }, .uptime_s = 12.5 };
	return 0;
}

static inline int hook_classify(void *u)
{
	struct harness *h = u;
	h->classify_calls++;
	return 0;
}

static inline int hook_snapshot(void *u, uint8_t **ret_jpeg, size_t *ret_len, uint64_t *ret_seq)
{
	struct harness *h = u;
	if (!h->jpeg)
		return -ENODATA;
	uint8_t *copy = malloc(h->jpeg_len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, h->jpeg, h->jpeg_len);
	*ret_jpeg = copy;
	*ret_len = h->jpeg_len;
	*ret_seq = 99;
	return 0;
}

static inline void hook_demand(void *u, unsigned subscribers, unsigned waits)
{
	struct harness *h = u;
	h->demand_subscribers = subscribers;
	h->demand_waits = waits;
}

static inline void *loop(void *arg)
{
	struct harness *h = arg;
	struct pollfd pfd[2] = { { .fd = srv_fd(h->srv), .events = POLLIN },
				 { .fd = h->stop_fd, .events = POLLIN } };
	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		if (srv_dispatch(h->srv) < 0)
			return NULL;
	}
}

static inline void start_loop(struct harness *h)
{
	assert_int_equal(pthread_create(&h->thread, NULL, loop, h), 0);
}

static inline void stop_loop(struct harness *h)
{
	uint64_t one = 1;
	assert_int_equal(write(h->stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(h->thread, NULL);
	assert_int_equal(read(h->stop_fd, &one, sizeof(one)), sizeof(one));
}

/* Label i is "label i" except a few with characters JSON must escape. */
static inline void set_labels(struct harness *h, const char *prefix)
{
	for (int i = 0; i < N_LABELS; i++) {
		char buf[256];
		if (i == 1)
			snprintf(buf, sizeof(buf), "%s \"quoted\" \\ back\tslash\n", prefix);
		else
			snprintf(buf, sizeof(buf), "%s %d", prefix, i);
		free(h->label_store[i]);
		h->label_store[i] = strdup(buf);
	}
	assert_int_equal(srv_set_labels(h->srv, (const char *const *)h->label_store, N_LABELS), 0);
}

static inline struct harness *harness_open_budget(unsigned max_clients, unsigned classify_timeout_ms,
						  size_t max_queued_bytes)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->dir = tu_tmpdir();
	snprintf(h->path, sizeof(h->path), "%s/run/camclassd.sock", h->dir);
	h->stop_fd = eventfd(0, EFD_CLOEXEC);
	struct srv_config cfg = { .socket_path = h->path, .max_clients = max_clients,
				  .default_top_k = 5, .default_threshold = 0.0,
				  .classify_timeout_ms = classify_timeout_ms,
				  .max_queued_bytes = max_queued_bytes };
	struct srv_hooks hooks = { .userdata = h, .hello = hook_hello, .status = hook_status,
				   .classify = hook_classify, .snapshot = hook_snapshot,
				   .demand_changed = hook_demand };
	assert_int_equal(srv_open(&cfg, &hooks, &h->srv), 0);
	set_labels(h, "label");
	start_loop(h);
	return h;
}

static inline struct harness *harness_open_timeout(unsigned max_clients, unsigned classify_timeout_ms)
{
	return harness_open_budget(max_clients, classify_timeout_ms, 0);
}

static inline struct harness *harness_open(unsigned max_clients)
{
	return harness_open_timeout(max_clients, 300);
}

static inline void harness_close(struct harness *h)
{
	stop_loop(h);
	srv_close(h->srv);
	close(h->stop_fd);
	for (int i = 0; i < N_LABELS; i++)
		free(h->label_store[i]);
	free(h->jpeg);
	tu_rm_rf(h->dir);
	free(h->dir);
	free(h);
}

static inline struct srv_stats stats(struct harness *h)
{
	struct srv_stats st;
	srv_get_stats(h->srv, &st);
	return st;
}

/* Poll the server's counters until cond holds (the server thread updates them). */
#define WAIT_FOR(h, st, cond)                                                                 \
	do {                                                                                  \
		double until_ = tu_now_ms() + WAIT_MS;                                        \
		for (;;) {                                                                    \
			st = stats(h);                                                        \
			if (cond)                                                             \
				break;                                                        \
			if (tu_now_ms() > until_)                                             \
				fail_msg("timed out waiting for %s (clients %u, subscribers %u, " \
					 "accepted %llu, busy %llu)", #cond, st.clients,         \
					 st.subscribers,                                     \
					 (unsigned long long)st.connections_accepted,        \
					 (unsigned long long)st.connections_refused_busy);   \
			usleep(200);                                                          \
		}                                                                             \
		(void)st;                                                                     \
	} while (0)

/* A result whose top label is `top`, scores falling by half; frame captured at now + 1 ns. */
static inline struct srv_result make_result(uint64_t seq, uint32_t top, unsigned n_labels)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	struct srv_result r = { .seq = seq, .frame_ts_ns = now + 1, .result_ts_ns = now + 2,
				.n_labels = n_labels };
	float score = 0.5f;
	for (unsigned i = 0; i < n_labels; i++, score /= 2)
		r.labels[i] = (struct srv_label_score){ (top + i) % N_LABELS, score };
	r.latency_ms.inference = 30;
	return r;
}

/* Publish and wait until the server has fanned the result out. */
static inline void publish(struct harness *h, const struct srv_result *r)
{
	struct srv_stats st = stats(h);
	uint64_t want = st.results_published + 1;
	srv_publish_result(h->srv, r);
	WAIT_FOR(h, st, st.results_published >= want);
}

static inline struct cli_conn *connect_hello(struct harness *h)
{
	struct cli_conn *c;
	assert_int_equal(cli_connect(h->path, &c), 0);
	json_t *hello;
	assert_int_equal(cli_read_msg(c, WAIT_MS, &hello, NULL, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(hello, "type")), "hello");
	json_decref(hello);
	return c;
}

static inline int send_line(struct cli_conn *c, const char *line)
{
	return cli_send_raw(c, line, strlen(line));
}

static inline json_t *request(struct cli_conn *c, const char *cmd, const char *fields_json)
{
	json_t *fields = fields_json ? json_loads(fields_json, 0, NULL) : NULL;
	json_t *reply;
	int r = cli_request(c, cmd, fields, WAIT_MS, &reply);
	json_decref(fields);
	if (r < 0)
		fail_msg("request %s: %s", cmd, strerror(-r));
	return reply;
}

static inline const char *type_of(const json_t *msg)
{
	return json_string_value(json_object_get(msg, "type"));
}

static inline const char *code_of(const json_t *msg)
{
	return json_string_value(json_object_get(msg, "code"));
}

static inline json_t *read_msg(struct cli_conn *c)
{
	json_t *msg;
	int r = cli_read_msg(c, WAIT_MS, &msg, NULL, NULL);
	if (r < 0)
		fail_msg("read: %s", strerror(-r));
	return msg;
}

static inline void expect_eof(struct cli_conn *c)
{
	const char *line;
	size_t len;
	int r;
	while ((r = cli_read_line(c, WAIT_MS, &line, &len)) == 0)
		;
	assert_int_equal(r, -ECONNRESET);
}

#endif
