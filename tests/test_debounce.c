/* test_debounce.c — daemon/debounce.c: N consecutive agreeing results move the state, a flicker
 * never does, unknown is debounced like a label, n = 1 follows every result, reset forgets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/debounce.h"

/* Feeds tops[] (ts = 1000 + i) and returns how many changes happened; *last_change_at is the
 * index of the last result that changed the state (or -1). */
static int feed_all(struct debounce *d, const int32_t *tops, int n, int *last_change_at)
{
	int changes = 0;
	*last_change_at = -1;
	for (int i = 0; i < n; i++) {
		int32_t prev = 12345;
		if (debounce_feed(d, tops[i], 0.5f + 0.01f * (float)i, 1000 + (uint64_t)i, &prev)) {
			assert_int_not_equal(prev, 12345);
			changes++;
			*last_change_at = i;
		}
	}
	return changes;
}

static void state_moves_after_n_agreeing_results(void **state)
{
	(void)state;
	struct debounce d;
	int at;
	debounce_init(&d, 3, 7);
	assert_int_equal(d.state, DEBOUNCE_UNKNOWN);
	assert_int_equal(d.since_ns, 7);
	const int32_t tops[] = { 4, 4, 4, 4 };
	assert_int_equal(feed_all(&d, tops, 2, &at), 0);
	assert_int_equal(d.state, DEBOUNCE_UNKNOWN);
	assert_int_equal(feed_all(&d, tops + 2, 2, &at), 1);
	assert_int_equal(at, 0); /* the third 4 */
	assert_int_equal(d.state, 4);
	assert_int_equal(d.since_ns, 1000);
}

static void a_flicker_never_moves_the_state(void **state)
{
	(void)state;
	struct debounce d;
	int at;
	debounce_init(&d, 3, 0);
	const int32_t tops[] = { 1, 1, 1, 2, 1, 2, 2, 1, 1, DEBOUNCE_UNKNOWN, 1, 1 };
	assert_int_equal(feed_all(&d, tops, 12, &at), 1);
	assert_int_equal(at, 2);
	assert_int_equal(d.state, 1);
}

static void unknown_is_debounced_like_a_label(void **state)
{
	(void)state;
	struct debounce d;
	int at;
	int32_t prev;
	debounce_init(&d, 2, 0);
	const int32_t tops[] = { 5, 5, DEBOUNCE_UNKNOWN, DEBOUNCE_UNKNOWN };
	assert_int_equal(feed_all(&d, tops, 2, &at), 1);
	assert_true(d.score > 0);
	assert_false(debounce_feed(&d, DEBOUNCE_UNKNOWN, 0, 50, &prev));
	assert_true(debounce_feed(&d, DEBOUNCE_UNKNOWN, 0, 51, &prev));
	assert_int_equal(prev, 5);
	assert_int_equal(d.state, DEBOUNCE_UNKNOWN);
	assert_true(d.score == 0);
	assert_int_equal(d.since_ns, 51);
}

static void one_means_off(void **state)
{
	(void)state;
	struct debounce d;
	int at;
	debounce_init(&d, 1, 0);
	const int32_t tops[] = { 1, 2, 1, 1, 3 };
	assert_int_equal(feed_all(&d, tops, 5, &at), 4);
	assert_int_equal(d.state, 3);
	debounce_init(&d, 0, 0); /* 0 is taken as 1 */
	assert_int_equal(d.n, 1);
}

static void a_held_state_does_not_retrigger_and_reset_forgets(void **state)
{
	(void)state;
	struct debounce d;
	int at;
	debounce_init(&d, 2, 0);
	int32_t tops[40];
	for (int i = 0; i < 40; i++)
		tops[i] = 9;
	assert_int_equal(feed_all(&d, tops, 40, &at), 1);
	assert_int_equal(at, 1);
	debounce_reset(&d, 99);
	assert_int_equal(d.state, DEBOUNCE_UNKNOWN);
	assert_int_equal(d.since_ns, 99);
	assert_int_equal(feed_all(&d, tops, 1, &at), 0); /* the run starts over */
	assert_int_equal(feed_all(&d, tops, 1, &at), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_moves_after_n_agreeing_results),
		cmocka_unit_test(a_flicker_never_moves_the_state),
		cmocka_unit_test(unknown_is_debounced_like_a_label),
		cmocka_unit_test(one_means_off),
		cmocka_unit_test(a_held_state_does_not_retrigger_and_reset_forgets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
