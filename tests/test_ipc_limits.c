/* test_ipc_limits.c — what the server does when results or output pile up beyond what it keeps
 * (issue #13, items 4 and 6), over real sockets with the server of tests/ipc_harness.h:
 * - results replaced in the mailbox before fan-out (the main loop lagged) reach every
 *   subscriber as "dropped" on its next result, and status counts them;
 * - the global output budget: when all clients together hold more than it, the client holding
 *   the most is cut off first, and the total stays bounded.
 * The main loop is paused with the harness's stop_loop() to make a lag exactly, so no
 * assertion depends on timing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "ipc/server.h"
#include "ipc/server_internal.h" /* SRV_MAILBOX_RESULTS */
#include "tests/testutil.h"
#include "tests/ipc_harness.h"

static void results_lost_before_fan_out_are_reported_as_dropped(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct cli_conn *a = connect_hello(h), *b = connect_hello(h), *late;
	json_decref(request(a, "subscribe", NULL));
	json_decref(request(b, "subscribe", "{\"top_k\":1}"));
	const uint64_t lost = 13, n = SRV_MAILBOX_RESULTS + lost;

	/* the main loop stalls while the classify thread publishes more than the mailbox holds */
	stop_loop(h);
	for (uint64_t seq = 1; seq <= n; seq++) {
		struct srv_result r = make_result(seq, (uint32_t)seq, 3);
		srv_publish_result(h->srv, &r);
	}
	start_loop(h);
	struct srv_stats st;
	WAIT_FOR(h, st, st.results_published == SRV_MAILBOX_RESULTS);
	assert_int_equal(st.mailbox_overwritten, lost);

	struct cli_conn *subs[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		uint64_t received = 0, dropped = 0, last = 0;
		while (last < n) {
			json_t *m = read_msg(subs[i]);
			assert_string_equal(type_of(m), "result");
			uint64_t seq = (uint64_t)json_integer_value(json_object_get(m, "seq"));
			uint64_t d = (uint64_t)json_integer_value(json_object_get(m, "dropped"));
			/* "dropped" counts exactly the results missing before this one */
			assert_int_equal(seq, last + 1 + d);
			dropped += d;
			received++;
			last = seq;
			json_decref(m);
		}
		assert_int_equal(dropped, lost);
		assert_int_equal(received + dropped, n);
	}

	/* status counts them; a client that subscribes afterwards owes nothing */
	json_t *s = request(a, "status", NULL);
	assert_int_equal(json_integer_value(json_object_get(s, "results_overwritten")), lost);
	assert_int_equal(json_integer_value(json_object_get(s, "results_dropped")), 0);
	json_decref(s);
	late = connect_hello(h);
	json_decref(request(late, "subscribe", NULL));
	struct srv_result r = make_result(n + 1, 1, 3);
	publish(h, &r);
	json_t *m = read_msg(late);
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), n + 1);
	assert_null(json_object_get(m, "dropped"));
	json_decref(m);
	cli_close(a);
	cli_close(b);
	cli_close(late);
	harness_close(h);
}

#define BUDGET (8u * 1024u * 1024u)
#define HOGS 6

/* Six clients ask for snapshots (~1.4 MB of base64 each) and never read: each stays under its
 * own 4 MiB cap, together they hold twice the budget. The biggest holders are cut until the
 * total fits; a client that reads is never touched and keeps being served. */
static void the_global_budget_cuts_the_biggest_holders_first(void **state)
{
	(void)state;
	struct harness *h = harness_open_budget(HOGS + 2, 300, BUDGET);
	h->jpeg_len = 1024 * 1024;
	h->jpeg = calloc(1, h->jpeg_len);
	assert_non_null(h->jpeg);
	struct cli_conn *hogs[HOGS], *reader = connect_hello(h);
	struct srv_stats st;
	for (int i = 0; i < HOGS; i++) {
		hogs[i] = connect_hello(h);
		WAIT_FOR(h, st, st.connections_accepted == (uint64_t)i + 2);
		struct srv_stats before = st;
		for (int k = 0; k < 2; k++)
			assert_int_equal(send_line(hogs[i], "{\"cmd\":\"snapshot\"}\n"), 0);
		/* one hog at a time, so that which ones go is decided by size, not by arrival */
		WAIT_FOR(h, st, st.clients_killed_budget > before.clients_killed_budget ||
				st.queued_bytes_total >= before.queued_bytes_total + 2400000);
	}
	WAIT_FOR(h, st, st.clients_killed_budget >= 2);
	assert_true(st.queued_bytes_total <= BUDGET);
	assert_int_equal(st.clients_killed, 0);           /* nobody hit the per-client cap */
	if (st.clients != HOGS + 1 - (unsigned)st.clients_killed_budget)
		fail_msg("%u clients, %llu accepted, %llu cut for the budget", st.clients,
			 (unsigned long long)st.connections_accepted,
			 (unsigned long long)st.clients_killed_budget);
	/* the reader reads a big reply and keeps being served */
	for (int i = 0; i < 3; i++) {
		json_t *m = request(reader, "snapshot", NULL);
		assert_string_equal(type_of(m), "snapshot");
		json_decref(m);
	}
	json_t *m = request(reader, "status", NULL);
	assert_string_equal(type_of(m), "status");
	json_decref(m);
	assert_true(stats(h).queued_bytes_total <= BUDGET);
	print_message("%llu of %d hogs cut, %zu bytes left queued\n",
		      (unsigned long long)stats(h).clients_killed_budget, HOGS, stats(h).queued_bytes_total);
	for (int i = 0; i < HOGS; i++)
		cli_close(hogs[i]);
	cli_close(reader);
	harness_close(h);
}

/* max_clients beyond RLIMIT_NOFILE: lowered to what fits with the reserved fds. In a child
 * process, whose fd limits can be lowered for good without touching the test runner's. */
static void max_clients_is_fitted_to_the_fd_limit(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 160, 160 };
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(10);
		struct harness *h = harness_open(4096);
		/* one client makes a dispatch run, which publishes the stats; more than the fitted
		 * count cannot be tried here: server and clients share this process's fd table (the
		 * "busy" answer itself is test_ipc_server's max_clients_answers_busy) */
		struct cli_conn *c;
		if (cli_connect(h->path, &c) < 0)
			_exit(12);
		json_t *hello;
		if (cli_read_msg(c, WAIT_MS, &hello, NULL, NULL) < 0)
			_exit(13);
		json_decref(hello);
		double until = tu_now_ms() + WAIT_MS;
		while (stats(h).connections_accepted < 1 && tu_now_ms() < until)
			usleep(1000);
		if (stats(h).max_clients != 160 - SRV_RESERVED_FDS)
			_exit(11);
		cli_close(c);
		harness_close(h);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(results_lost_before_fan_out_are_reported_as_dropped),
		cmocka_unit_test(the_global_budget_cuts_the_biggest_holders_first),
		cmocka_unit_test(max_clients_is_fitted_to_the_fd_limit),
	};
	return cmocka_run_group_tests_name("ipc_limits", tests, NULL, NULL);
}
