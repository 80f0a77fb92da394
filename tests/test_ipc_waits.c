/* test_ipc_waits.c — pending classify requests of a client that is cut off while they are being
 * answered or expired (issue #13, item 1), over real sockets with the server of
 * tests/ipc_harness.h.
 *
 * The fault: answering or expiring one of a client's waits can push it over the hard cap, and
 * killing it frees all its waits while the loop over the wait list still points into one of
 * them. The first two tests build that state exactly: two pending classify requests A and B
 * (B newer, so first in the list), a client that never reads and already has more than the
 * hard cap queued (one big snapshot), then a result whose frame is newer than A but not B (B
 * is skipped, A is answered), or a timeout that reaches A but not B. The third test drives
 * random request sequences from several clients (seeded, so a failure replays) and checks the
 * server's own counters come back to zero; run it under ASan (make SANITIZE=1) for memory
 * errors. No assertion depends on timing. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "ipc/server.h"
#include "tests/testutil.h"
#include "tests/ipc_harness.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One snapshot reply bigger than the hard cap: queued (the cap is checked before adding), so
 * the next message to this client cuts it off. */
static void give_big_snapshot(struct harness *h)
{
	h->jpeg_len = SRV_CLIENT_HARD_CAP_BYTES;
	h->jpeg = calloc(1, h->jpeg_len);
	assert_non_null(h->jpeg);
}

static void fill_past_hard_cap(struct harness *h, struct cli_conn *c)
{
	struct srv_stats st;
	assert_int_equal(send_line(c, "{\"cmd\":\"snapshot\"}\n"), 0);
	WAIT_FOR(h, st, st.queued_bytes_total > SRV_CLIENT_HARD_CAP_BYTES);
	assert_int_equal(st.clients_killed, 0);
}

/* After the victim is gone: nothing pending, and the server still serves others. */
static void expect_victim_gone(struct harness *h, struct cli_conn *other)
{
	struct srv_stats st;
	WAIT_FOR(h, st, st.clients_killed == 1 && st.clients == 1 && st.classify_pending == 0);
	assert_int_equal(st.queued_bytes_total, 0);
	json_t *m = request(other, "ping", NULL);
	assert_string_equal(type_of(m), "pong");
	json_decref(m);
}

static void answering_a_wait_that_cuts_its_client_off(void **state)
{
	(void)state;
	struct harness *h = harness_open_timeout(8, 60000);
	give_big_snapshot(h);
	struct cli_conn *victim = connect_hello(h), *other = connect_hello(h);
	struct srv_stats st;

	assert_int_equal(send_line(victim, "{\"cmd\":\"classify\",\"id\":\"A\"}\n"), 0);
	WAIT_FOR(h, st, st.classify_pending == 1);
	uint64_t between_ns = mono_ns();        /* after A was parked, before B is sent */
	assert_int_equal(send_line(victim, "{\"cmd\":\"classify\",\"id\":\"B\"}\n"), 0);
	WAIT_FOR(h, st, st.classify_pending == 2);
	fill_past_hard_cap(h, victim);

	/* a frame captured between A and B: B (first in the list) is skipped, A is answered */
	struct srv_result r = make_result(1, 7, 3);
	r.frame_ts_ns = between_ns;
	publish(h, &r);
	expect_victim_gone(h, other);
	cli_close(victim);
	cli_close(other);
	harness_close(h);
}

static void expiring_a_wait_that_cuts_its_client_off(void **state)
{
	(void)state;
	/* A expires 1.5 s after it was parked, B 1 s later: the timer reaches A alone unless the
	 * server thread stalls for a whole second (then both expire at once and the test proves
	 * less, but it cannot fail because of the machine's load). */
	struct harness *h = harness_open_timeout(8, 1500);
	give_big_snapshot(h);
	struct cli_conn *victim = connect_hello(h), *other = connect_hello(h);
	struct srv_stats st;

	assert_int_equal(send_line(victim, "{\"cmd\":\"classify\",\"id\":\"A\"}\n"), 0);
	WAIT_FOR(h, st, st.classify_pending == 1);
	usleep(1000 * 1000);
	assert_int_equal(send_line(victim, "{\"cmd\":\"classify\",\"id\":\"B\"}\n"), 0);
	WAIT_FOR(h, st, st.classify_pending == 2 || st.clients_killed > 0);
	fill_past_hard_cap(h, victim);
	expect_victim_gone(h, other);
	cli_close(victim);
	cli_close(other);
	harness_close(h);
}

/* --- random request sequences ------------------------------------------------------------ */

#define SEQ_CLIENTS 6
#define SEQ_STEPS 1500
#define SEQ_ROUNDS 4

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33) % n;
}

/* A ping whose id is `bytes` long: a cheap way to queue a lot of output. */
static void send_big_ping(struct cli_conn *c, size_t bytes)
{
	char *line = malloc(bytes + 64);
	assert_non_null(line);
	int n = snprintf(line, 64, "{\"cmd\":\"ping\",\"id\":\"");
	memset(line + n, 'x', bytes);
	memcpy(line + n + bytes, "\"}\n", 3);
	(void)cli_send_raw(c, line, (size_t)n + bytes + 3);  /* a cut-off client: EPIPE is fine */
	free(line);
}

/* Read whatever is there without waiting (a reading client, sometimes). */
static void read_some(struct cli_conn *c, int lines)
{
	const char *line;
	size_t len;
	for (int i = 0; i < lines && cli_read_line(c, 0, &line, &len) == 0; i++)
		;
}

static void random_request_sequences_leave_nothing_behind(void **state)
{
	(void)state;
	static const char *const requests[] = {
		"{\"cmd\":\"classify\",\"id\":1}\n",
		"{\"cmd\":\"classify\",\"id\":2,\"top_k\":1}\n",
		"{\"cmd\":\"classify\",\"id\":3,\"threshold\":0.1}\n",
		"{\"cmd\":\"snapshot\",\"id\":4}\n",
		"{\"cmd\":\"subscribe\",\"top_k\":20}\n",
		"{\"cmd\":\"unsubscribe\"}\n",
		"{\"cmd\":\"latest\"}\n",
		"{\"cmd\":\"status\"}\n",
		"{\"cmd\":\"snapshot\"}\n",
		"{\"cmd\":\"nonsense\"}\n",
		"not json at all\n",
	};
	const size_t n_requests = sizeof(requests) / sizeof(requests[0]);
	const char *seed_env = getenv("CAMCLASS_SEQ_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	printf("random request sequences: seed %llu (CAMCLASS_SEQ_SEED replays it)\n",
	       (unsigned long long)seed);

	for (int round = 0; round < SEQ_ROUNDS; round++) {
		rng_state = seed + (uint64_t)round;
		/* a short timeout so expiries happen during the sequence, not only answers */
		struct harness *h = harness_open_timeout(SEQ_CLIENTS + 1, 5 + rnd(40));
		h->jpeg_len = 256 * 1024 + rnd(1024 * 1024);
		h->jpeg = calloc(1, h->jpeg_len);
		assert_non_null(h->jpeg);
		struct cli_conn *c[SEQ_CLIENTS] = { 0 };
		bool reads[SEQ_CLIENTS] = { 0 };
		uint64_t seq = 0;

		for (int step = 0; step < SEQ_STEPS; step++) {
			int i = (int)rnd(SEQ_CLIENTS);
			uint32_t op = rnd(100);
			if (!c[i]) {
				if (cli_connect(h->path, &c[i]) < 0)
					c[i] = NULL;
				reads[i] = rnd(2);  /* half the clients never read */
				continue;
			}
			if (op < 30) {
				(void)send_line(c[i], requests[rnd((uint32_t)n_requests)]);
			} else if (op < 55) {
				send_big_ping(c[i], 1000 + rnd(WIRE_MAX_REQUEST_BYTES - 1100));
			} else if (op < 70) {
				/* a frame from some time before now: answers some waits, skips others */
				struct srv_result r = make_result(++seq, rnd(N_LABELS), 1 + rnd(20));
				r.frame_ts_ns = mono_ns() - rnd(50) * 1000000ull;
				srv_publish_result(h->srv, &r);
			} else if (op < 85) {
				if (reads[i])
					read_some(c[i], (int)rnd(8));
			} else if (op < 87) {
				cli_close(c[i]);
				c[i] = NULL;
			} else {
				usleep(rnd(2000));
			}
		}
		for (int i = 0; i < SEQ_CLIENTS; i++)
			cli_close(c[i]);
		struct srv_stats st;
		WAIT_FOR(h, st, st.clients == 0 && st.classify_pending == 0 && st.subscribers == 0);
		assert_int_equal(st.queued_bytes_total, 0);
		/* and it still serves */
		struct cli_conn *late = connect_hello(h);
		json_t *m = request(late, "ping", NULL);
		assert_string_equal(type_of(m), "pong");
		json_decref(m);
		cli_close(late);
		printf("round %d: %llu clients, %llu cut off at the hard cap, %llu results\n", round,
		       (unsigned long long)st.connections_accepted,
		       (unsigned long long)st.clients_killed, (unsigned long long)seq);
		harness_close(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answering_a_wait_that_cuts_its_client_off),
		cmocka_unit_test(expiring_a_wait_that_cuts_its_client_off),
		cmocka_unit_test(random_request_sequences_leave_nothing_behind),
	};
	if (getenv("CAMCLASS_TEST_FILTER"))      /* e.g. "expiring*": run one test alone */
		cmocka_set_test_filter(getenv("CAMCLASS_TEST_FILTER"));
	return cmocka_run_group_tests_name("ipc_waits", tests, NULL, NULL);
}
