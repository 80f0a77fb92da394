/* test_ops_workers.c — the kernels' thread pool (inference/ops/fast/workers.c): workers_run_shared()
 * hands every unit of a range to exactly one call, for pools of 2 and 3 workers and none, ranges from empty to a few
 * thousand units, and work below the threshold (all on the caller); and a worker that is held up
 * leaves its share to the others (the stealing that keeps two threads useful on a busy machine);
 * after workers_idle() the pool threads sleep (workers_parked) and the next run wakes them, and
 * the engine's pool sleeps after each inference; a thread moves off a given core and keeps its
 * affinity (cpu_place.c, what a pool thread woken on its caller's core does).
 * The ThreadSanitizer suite runs this binary too. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "inference/engine.h"
#include "inference/engine_state.h"
#include "inference/ops/fast/cpu_place.h"
#include "inference/ops/fast/workers.h"
#include "lib/clock.h"
#include "tests/testutil.h"

enum { MAX_UNITS = 5000, MAX_WORKERS = 3 };

struct cover {
	atomic_int hits[MAX_UNITS];
	atomic_int by_worker[MAX_WORKERS];
	int slow_worker;            /* -1: none; else its first piece sleeps */
	atomic_int slept;
	long unit_ns;               /* busy time per unit */
};


static void count_units(void *arg, int worker, int begin, int end)
{
	struct cover *c = arg;
	if (worker == c->slow_worker && atomic_exchange(&c->slept, 1) == 0) {
		struct timespec pause = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
	for (int u = begin; u < end; u++) {
		const uint64_t until = c->unit_ns ? mono_now_ns() + (uint64_t)c->unit_ns : 0;
		while (mono_now_ns() < until)
			;
		atomic_fetch_add(&c->hits[u], 1);
	}
	atomic_fetch_add(&c->by_worker[worker], end - begin);
}

static struct cover cover;

static void reset(int slow_worker)
{
	memset(&cover, 0, sizeof(cover));
	cover.slow_worker = slow_worker;
}

static void every_unit_is_handed_out_exactly_once(void **state)
{
	(void)state;
	struct workers *pools[2] = { NULL, NULL };
	assert_int_equal(workers_create(2, &pools[0]), 0);
	assert_int_equal(workers_create(3, &pools[1]), 0);
	static const int grains[] = { 1, 4, 32 };
	static const long long works[] = { 0, WORKERS_MIN_WORK };
	for (int pi = 0; pi < 3; pi++) {
		struct workers *w = pi < 2 ? pools[pi] : NULL;
		for (int total = 0; total <= MAX_UNITS; total += total < 70 ? 1 : 997)
			for (size_t gi = 0; gi < sizeof(grains) / sizeof(grains[0]); gi++)
				for (size_t wi = 0; wi < 2; wi++) {
					reset(-1);
					workers_run_shared(w, count_units, &cover, total, grains[gi], works[wi]);
					for (int u = 0; u < total; u++)
						if (atomic_load(&cover.hits[u]) != 1)
							fail_msg("pool %d, %d units, grain %d, work %lld: unit %d ran %d times",
								 pi, total, grains[gi], works[wi], u,
								 atomic_load(&cover.hits[u]));
					if (wi == 0) /* below the threshold: the caller alone */
						assert_int_equal(atomic_load(&cover.by_worker[0]), total);
				}
	}
	workers_destroy(pools[0]);
	workers_destroy(pools[1]);
}

/* Units of 2 µs; worker 1 sleeps 50 ms in its first piece: worker 0 (the caller) finishes its own
 * share in about 4 ms and then takes worker 1's remaining pieces, so it runs more than its half
 * (all of them if worker 1 wakes up too late to take any). */
static void a_held_up_worker_leaves_its_share_to_the_others(void **state)
{
	(void)state;
	struct workers *w = NULL;
	assert_int_equal(workers_create(2, &w), 0);
	reset(1);
	cover.unit_ns = 2000;
	workers_run_shared(w, count_units, &cover, 4000, 1, WORKERS_MIN_WORK);
	for (int u = 0; u < 4000; u++)
		assert_int_equal(atomic_load(&cover.hits[u]), 1);
	printf("units run by the caller: %d of 4000\n", atomic_load(&cover.by_worker[0]));
	assert_true(atomic_load(&cover.by_worker[0]) > 2000);
	workers_destroy(w);
}

/* Waits (generously: a loaded machine may hold a thread back for long) until `want` pool
 * threads sleep. */
static bool parked_within(struct workers *w, int want, long deadline_ms)
{
	const uint64_t end = mono_now_ns() + (uint64_t)deadline_ms * NS_PER_MS;
	while (workers_parked(w) != want && mono_now_ns() < end) {
		struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
	return workers_parked(w) == want;
}

/* Between frames the pool sleeps: after workers_idle() both pool threads end up parked on the
 * condition variable (not polling), and the next run wakes them and hands out every unit. A
 * pool that is running a job has no parked thread until the job ends. */
static void idle_pool_threads_sleep_and_wake_again(void **state)
{
	(void)state;
	struct workers *w;
	assert_int_equal(workers_create(3, &w), 0);
	assert_int_equal(workers_parked(NULL), 0);
	for (int round = 0; round < 3; round++) {
		reset(-1);
		cover.unit_ns = 0;
		workers_run_shared(w, count_units, &cover, 3000, 1, WORKERS_MIN_WORK);
		for (int u = 0; u < 3000; u++)
			assert_int_equal(atomic_load(&cover.hits[u]), 1);
		workers_idle(w);
		assert_true(parked_within(w, 2, 10000));
	}
	workers_idle(NULL); /* no pool: nothing to do */
	workers_destroy(w);
}

/* The engine lets its pool sleep when an inference ends: after eng_invoke() on two builtin
 * threads the pool thread is parked, frame after frame. */
static void engine_pool_sleeps_between_inferences(void **state)
{
	(void)state;
	const struct eng_options opt = { .backend = ENG_BACKEND_BUILTIN, .threads = 2 };
	struct engine *e;
	char err[256];
	if (eng_load(tu_model_path("mobilenet_v2_1.0_224_quant.tflite"), &opt, &e, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_non_null(e->workers);
	for (int frame = 0; frame < 3; frame++) {
		assert_int_equal(eng_invoke(e), 0);
		assert_true(parked_within(e->workers, 1, 10000));
	}
	eng_free(e);
}

/* cpu_move_off(): on a thread allowed on two cores, it leaves the core it is on and its
 * affinity mask is the same afterwards; pinned to one core, it refuses (-EAGAIN) and changes
 * nothing; a thread not on the named core stays where it is. The test pins itself to two
 * cores it may use (CI machines have two), so the result does not depend on the scheduler. */
static void thread_moves_off_a_core_and_keeps_its_affinity(void **state)
{
	(void)state;
	cpu_set_t orig, two, one, now;
	assert_int_equal(sched_getaffinity(0, sizeof(orig), &orig), 0);
	int a = -1, b = -1;
	for (int c = 0; c < CPU_SETSIZE && b < 0; c++)
		if (CPU_ISSET(c, &orig)) {
			if (a < 0)
				a = c;
			else
				b = c;
		}
	if (b < 0)
		fail_msg("this test needs a thread allowed on two cores (make test runs on 2)");
	CPU_ZERO(&two);
	CPU_SET(a, &two);
	CPU_SET(b, &two);
	CPU_ZERO(&one);
	CPU_SET(a, &one);

	/* pinned to a: cannot leave it */
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(cpu_current(), a);
	assert_int_equal(cpu_move_off(a), -EAGAIN);
	assert_int_equal(sched_getaffinity(0, sizeof(now), &now), 0);
	assert_true(CPU_EQUAL(&now, &one));
	assert_int_equal(cpu_current(), a);
	assert_int_equal(cpu_move_off(b), 0); /* not on b: nothing to do */
	assert_int_equal(cpu_current(), a);

	/* allowed on a and b, running on a: moves (cpu_move_off checks where it landed while
	 * the narrowed mask holds; after it returns the scheduler may move us again), mask unchanged */
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(two), &two), 0);
	int moved = 0; /* seen on the other core right after the call (not guaranteed each time) */
	for (int i = 0; i < 20; i++) {
		const int here = cpu_current();
		assert_true(here == a || here == b);
		assert_int_equal(cpu_move_off(here), 0);
		moved += cpu_current() != here;
		assert_int_equal(sched_getaffinity(0, sizeof(now), &now), 0);
		assert_true(CPU_EQUAL(&now, &two));
	}
	assert_true(moved > 0);
	assert_int_equal(cpu_move_off(-1), -EINVAL);
	assert_int_equal(sched_setaffinity(0, sizeof(orig), &orig), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_unit_is_handed_out_exactly_once),
		cmocka_unit_test(a_held_up_worker_leaves_its_share_to_the_others),
		cmocka_unit_test(idle_pool_threads_sleep_and_wake_again),
		cmocka_unit_test(engine_pool_sleeps_between_inferences),
		cmocka_unit_test(thread_moves_off_a_core_and_keeps_its_affinity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
