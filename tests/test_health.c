/* test_health.c — daemon/health.c: when the watchdog may be fed. Time is passed in, so every
 * case is exact: a limit is "age > limit → unhealthy", the limit itself is still healthy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/health.h"
#include "lib/clock.h"

#define MS 1000000ull
static const struct health_limits lim = {
	.frame_stall_ns = 2000 * MS, .loop_stall_ns = 5000 * MS, .classify_stall_ns = 10000 * MS };
static const uint64_t t0 = 1000000 * MS; /* an arbitrary monotonic start */

static void idle_camera_is_healthy_forever(void **state)
{
	(void)state;
	struct health h;
	health_init(&h, t0);
	assert_true(health_check(&h, &lim, t0, NULL));
	assert_true(health_check(&h, &lim, t0 + 3600000 * MS, NULL));
	health_idle(&h, t0 + 5 * MS);
	assert_true(health_check(&h, &lim, t0 + 3600000 * MS, NULL));
}

static void streaming_needs_recent_frames(void **state)
{
	(void)state;
	struct health h;
	const char *why = "unset";
	health_init(&h, t0);
	health_streaming(&h, t0);
	assert_true(health_check(&h, &lim, t0 + 2000 * MS, &why)); /* grace after start */
	assert_string_equal(why, "unset");                          /* untouched when healthy */
	assert_false(health_check(&h, &lim, t0 + 2000 * MS + 1, &why));
	assert_string_equal(why, "no frame from the camera");
	health_frame(&h, t0 + 2500 * MS);
	assert_true(health_check(&h, &lim, t0 + 4000 * MS, NULL));
	assert_false(health_check(&h, &lim, t0 + 4500 * MS + 1, NULL));
}

static void backoff_is_healthy_while_the_loop_turns(void **state)
{
	(void)state;
	struct health h;
	const char *why = NULL;
	health_init(&h, t0);
	health_frame(&h, t0);
	health_backoff(&h, t0 + 100 * MS);
	/* no frames for longer than frame_stall: fine, the camera is reconnecting */
	assert_true(health_check(&h, &lim, t0 + 4000 * MS, NULL));
	health_backoff(&h, t0 + 4000 * MS);
	assert_true(health_check(&h, &lim, t0 + 9000 * MS, NULL));
	assert_false(health_check(&h, &lim, t0 + 9000 * MS + 1, &why));
	assert_string_equal(why, "capture thread stuck while reconnecting");
	/* the camera comes back: judged by frames again */
	health_frame(&h, t0 + 9500 * MS);
	assert_true(health_check(&h, &lim, t0 + 11500 * MS, NULL));
	assert_false(health_check(&h, &lim, t0 + 11500 * MS + 1, NULL));
}

static void stuck_classify_is_unhealthy_even_with_frames(void **state)
{
	(void)state;
	struct health h;
	const char *why = NULL;
	health_init(&h, t0);
	health_classify_begin(&h, t0);
	for (uint64_t t = t0; t <= t0 + 12000 * MS; t += 500 * MS)
		health_frame(&h, t);
	assert_false(health_check(&h, &lim, t0 + 12000 * MS, &why));
	assert_string_equal(why, "classification stuck on one frame");
	health_classify_end(&h);
	assert_true(health_check(&h, &lim, t0 + 12000 * MS, NULL));
	/* an idle camera does not excuse a stuck classifier */
	health_idle(&h, t0 + 12000 * MS);
	health_classify_begin(&h, t0 + 12000 * MS);
	assert_true(health_check(&h, &lim, t0 + 22000 * MS, NULL));
	assert_false(health_check(&h, &lim, t0 + 22000 * MS + 1, NULL));
}

/* Issue #13: frames that arrive but never decode must stop the watchdog. */
static void frames_that_never_decode_are_unhealthy(void **state)
{
	(void)state;
	struct health h;
	const char *why = NULL;
	health_init(&h, t0);
	health_streaming(&h, t0);
	/* every frame arrives and fails to decode: healthy for the window, then not */
	for (uint64_t t = t0; t <= t0 + 3000 * MS; t += 100 * MS) {
		health_frame(&h, t);
		health_classify_begin(&h, t);
		health_undecodable(&h, t);
		health_classify_end(&h);
	}
	assert_true(health_check(&h, &lim, t0 + 2000 * MS, NULL));
	assert_false(health_check(&h, &lim, t0 + 2000 * MS + 1, &why));
	assert_string_equal(why, "frames arrive but none can be decoded");
	assert_false(health_check(&h, &lim, t0 + 3000 * MS, NULL));
	/* one good frame ends it; the clock restarts at the next failure */
	health_decoded(&h);
	assert_true(health_check(&h, &lim, t0 + 3000 * MS, NULL));
	health_undecodable(&h, t0 + 3100 * MS);
	health_frame(&h, t0 + 5100 * MS);
	health_undecodable(&h, t0 + 5100 * MS);
	assert_true(health_check(&h, &lim, t0 + 5100 * MS, NULL));
	assert_false(health_check(&h, &lim, t0 + 5100 * MS + 1, NULL));
	/* a camera stopped on purpose is not judged by its last frames */
	health_idle(&h, t0 + 5200 * MS);
	assert_true(health_check(&h, &lim, t0 + 60000 * MS, NULL));
	/* a restarted stream gets the whole window again */
	health_streaming(&h, t0 + 60000 * MS);
	health_undecodable(&h, t0 + 60000 * MS);
	health_frame(&h, t0 + 61900 * MS);
	assert_true(health_check(&h, &lim, t0 + 62000 * MS, NULL));
}

static void timestamps_newer_than_now_count_as_fresh(void **state)
{
	(void)state;
	struct health h;
	health_init(&h, t0);
	health_frame(&h, t0 + 50 * MS); /* written after the checker read its clock */
	assert_true(health_check(&h, &lim, t0, NULL));
}

static void clock_is_monotonic_ns(void **state)
{
	(void)state;
	uint64_t a = mono_now_ns(), b = mono_now_ns();
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idle_camera_is_healthy_forever),
		cmocka_unit_test(streaming_needs_recent_frames),
		cmocka_unit_test(backoff_is_healthy_while_the_loop_turns),
		cmocka_unit_test(stuck_classify_is_unhealthy_even_with_frames),
		cmocka_unit_test(frames_that_never_decode_are_unhealthy),
		cmocka_unit_test(timestamps_newer_than_now_count_as_fresh),
		cmocka_unit_test(clock_is_monotonic_ns),
	};
	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
