/* test_xnnpack_pool.c — inference/xnnpack_pool.c: XNNPACK's pthreadpool calls run on the builtin
 * workers pool. Checked: the process's pthreadpool_* symbols are ours (so libXNNPACK's calls,
 * resolved the same way, reach them); every tile of a tiled 2-D and 6-D call is handed out once
 * with pthreadpool's arguments, with a pool and without (NULL runs on the caller);
 * PTHREADPOOL_FLAG_DISABLE_DENORMALS flushes denormals during the call and restores the caller's
 * state after; PTHREADPOOL_FLAG_YIELD_WORKERS parks the pool; and an engine on the xnnpack
 * backend with 2 threads leaves its pool asleep after each inference. No timing is checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "inference/engine.h"
#include "inference/xnnpack.h"

#ifdef CAMCLASS_HAVE_XNNPACK
#include <dlfcn.h>
#include <pthreadpool.h>

#include "inference/engine_state.h"
#include "inference/xnnpack_pool.h"
#include "tests/testutil.h"

static bool parked_within(const struct xnnpack_delegate *d, pthreadpool_t pool, int want)
{
	for (int i = 0; i < 10000; i++) {
		if ((d ? xnnpack_delegate_pool_parked(d) : xnnpack_pool_parked(pool)) == want)
			return true;
		struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
	return false;
}

/* The global lookup (what libXNNPACK's undefined pthreadpool_* references bind to) finds the
 * definitions in this program, not libpthreadpool's. */
static void pthreadpool_symbols_are_ours(void **state)
{
	(void)state;
	void *self = dlopen(NULL, RTLD_NOW);
	assert_non_null(self);
	static const char *const names[] = { "pthreadpool_parallelize_2d_tile_2d",
					     "pthreadpool_parallelize_1d", "pthreadpool_get_threads_count" };
	const void *ours[] = { (const void *)pthreadpool_parallelize_2d_tile_2d,
			       (const void *)pthreadpool_parallelize_1d,
			       (const void *)pthreadpool_get_threads_count };
	for (size_t i = 0; i < 3; i++) {
		void *found = dlsym(RTLD_DEFAULT, names[i]);
		Dl_info info;
		assert_ptr_equal(found, ours[i]);
		assert_true(dladdr(found, &info) != 0);
		assert_null(strstr(info.dli_fname, "pthreadpool"));
	}
	dlclose(self);
}

enum { R0 = 7, R1 = 45, T0 = 3, T1 = 8 };
static atomic_int hits2[R0][R1];
static atomic_int bad;

static void tile2(void *ctx, size_t i, size_t j, size_t ti, size_t tj)
{
	(void)ctx;
	if (i % T0 || j % T1 || ti != (R0 - i < T0 ? R0 - i : T0) || tj != (R1 - j < T1 ? R1 - j : T1))
		atomic_fetch_add(&bad, 1);
	for (size_t a = i; a < i + ti && a < R0; a++)
		for (size_t b = j; b < j + tj && b < R1; b++)
			atomic_fetch_add(&hits2[a][b], 1);
}

static atomic_int hits6[2][3][2][2][5][9];

static void tile6(void *ctx, size_t i, size_t j, size_t k, size_t l, size_t m, size_t n, size_t tm,
		  size_t tn)
{
	(void)ctx;
	if (m % 2 || n % 4 || tm != (5 - m < 2 ? 5 - m : 2) || tn != (9 - n < 4 ? 9 - n : 4))
		atomic_fetch_add(&bad, 1);
	for (size_t a = m; a < m + tm && a < 5; a++)
		for (size_t b = n; b < n + tn && b < 9; b++)
			atomic_fetch_add(&hits6[i][j][k][l][a][b], 1);
}

static void every_tile_once_with_pthreadpools_arguments(void **state)
{
	(void)state;
	pthreadpool_t pool;
	assert_int_equal(xnnpack_pool_create(3, &pool), 0);
	assert_int_equal(pthreadpool_get_threads_count(pool), 3);
	assert_int_equal(pthreadpool_get_threads_count(NULL), 1);
	pthreadpool_t pools[2] = { pool, NULL };
	for (int p = 0; p < 2; p++) {
		memset(hits2, 0, sizeof(hits2));
		memset(hits6, 0, sizeof(hits6));
		atomic_store(&bad, 0);
		pthreadpool_parallelize_2d_tile_2d(pools[p], tile2, NULL, R0, R1, T0, T1, 0);
		pthreadpool_parallelize_6d_tile_2d(pools[p], tile6, NULL, 2, 3, 2, 2, 5, 9, 2, 4, 0);
		assert_int_equal(atomic_load(&bad), 0);
		for (int a = 0; a < R0; a++)
			for (int b = 0; b < R1; b++)
				assert_int_equal(atomic_load(&hits2[a][b]), 1);
		const atomic_int *flat = &hits6[0][0][0][0][0][0];
		for (size_t x = 0; x < sizeof(hits6) / sizeof(hits6[0][0][0][0][0][0]); x++)
			assert_int_equal(atomic_load(&flat[x]), 1);
	}
	xnnpack_pool_destroy(pool);
}

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
static unsigned fp_state(void) { return _mm_getcsr() & 0x8040u; }
#elif defined(__aarch64__)
static unsigned fp_state(void)
{
	unsigned long fpcr;
	__asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
	return (unsigned)(fpcr >> 24) & 1u;
}
#else
static unsigned fp_state(void) { return 0; }
#define NO_FP_STATE 1
#endif

static atomic_int flushed, not_flushed;

static void note_fp(void *ctx, size_t i)
{
	(void)ctx;
	(void)i;
	atomic_fetch_add(fp_state() ? &flushed : &not_flushed, 1);
}

static void denormal_flag_applies_during_the_call_only(void **state)
{
	(void)state;
	pthreadpool_t pool;
	assert_int_equal(xnnpack_pool_create(2, &pool), 0);
	const unsigned before = fp_state();
	pthreadpool_parallelize_1d(pool, note_fp, NULL, 64, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
	pthreadpool_parallelize_1d(NULL, note_fp, NULL, 8, PTHREADPOOL_FLAG_DISABLE_DENORMALS);
#ifndef NO_FP_STATE
	assert_int_equal(atomic_load(&flushed), 72);
	assert_int_equal(atomic_load(&not_flushed), 0);
#endif
	assert_int_equal(fp_state(), before);
	/* the yield flag parks the pool's threads */
	pthreadpool_parallelize_1d(pool, note_fp, NULL, 64, PTHREADPOOL_FLAG_YIELD_WORKERS);
	assert_true(parked_within(NULL, pool, 1));
	xnnpack_pool_destroy(pool);
}

static void xnnpack_engine_pool_sleeps_between_inferences(void **state)
{
	(void)state;
	const struct eng_options opt = { .backend = ENG_BACKEND_XNNPACK, .threads = 2 };
	struct engine *e;
	char err[256];
	if (eng_load(tu_model_path("mobilenet_v2_1.0_224_quant.tflite"), &opt, &e, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_non_null(e->xnn);
	for (int frame = 0; frame < 3; frame++) {
		assert_int_equal(eng_invoke(e), 0);
		assert_true(parked_within(e->xnn, NULL, 1));
	}
	eng_free(e);
}
#else
static void without_xnnpack_there_is_no_pool(void **state)
{
	(void)state;
	assert_false(xnnpack_available());
	assert_int_equal(xnnpack_delegate_pool_parked(NULL), 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef CAMCLASS_HAVE_XNNPACK
		cmocka_unit_test(pthreadpool_symbols_are_ours),
		cmocka_unit_test(every_tile_once_with_pthreadpools_arguments),
		cmocka_unit_test(denormal_flag_applies_during_the_call_only),
		cmocka_unit_test(xnnpack_engine_pool_sleeps_between_inferences),
#else
		cmocka_unit_test(without_xnnpack_there_is_no_pool),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
