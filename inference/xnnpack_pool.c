/* xnnpack_pool.c — XNNPACK's threads are the builtin kernels' pool (ops/fast/workers.c).
 *
 * XNNPACK parallelizes every operator through the pthreadpool C API: 12 pthreadpool_parallelize_*
 * functions and pthreadpool_get_threads_count() are all Debian's libXNNPACK calls. Debian's
 * pthreadpool (2021) makes its workers spin up to a million polls per wait, with no setting to
 * bound it, and every operator waits until each worker has checked in; when another program
 * holds a core that spinning burns the time slice the other worker needs: MobileNetV2 on 2
 * threads cost 15–29× the CPU of one thread per frame on a loaded machine (bench/RESULTS.md).
 * So this file defines those 13 functions itself. A definition in the executable comes first in
 * the dynamic linker's lookup, for libXNNPACK's calls too (the linker exports them because
 * libXNNPACK references them; libpthreadpool is still loaded but never called). The pool
 * XNNPACK is handed is a struct workers: bounded polling that yields, then sleep; work stealing,
 * so a held-up thread's share is done by the others; asleep between frames
 * (xnnpack_pool_idle).
 *
 * Each call runs the same function calls as pthreadpool's (every tile once, the same
 * arguments), in whatever order and on whichever thread, as pthreadpool does: XNNPACK's
 * results do not depend on it (tests/test_xnnpack.c checks the bytes against TFLite+XNNPACK).
 * PTHREADPOOL_FLAG_DISABLE_DENORMALS is honoured as pthreadpool honours it: flush-to-zero and
 * denormals-are-zero on every thread running the call, restored after.
 * PTHREADPOOL_FLAG_YIELD_WORKERS: the caller parks the pool after the call. */
#include "inference/xnnpack.h"

#ifdef CAMCLASS_HAVE_XNNPACK

#include <limits.h>
#include <stdint.h>

#include <pthreadpool.h>

#include "inference/ops/fast/workers.h"
#include "inference/xnnpack_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

/* --- denormals ------------------------------------------------------------------------------ */
static unsigned long fp_flush_denormals(void) /* returns the state to restore */
{
#if defined(__x86_64__) || defined(__i386__)
	const unsigned long saved = _mm_getcsr();
	_mm_setcsr((unsigned int)saved | 0x8040u); /* FTZ | DAZ */
	return saved;
#elif defined(__aarch64__)
	unsigned long fpcr;
	__asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
	__asm__ __volatile__("msr fpcr, %0" ::"r"(fpcr | (1ul << 24))); /* FZ */
	return fpcr;
#elif defined(__arm__) && defined(__ARM_FP)
	unsigned int fpscr;
	__asm__ __volatile__("vmrs %0, fpscr" : "=r"(fpscr));
	__asm__ __volatile__("vmsr fpscr, %0" ::"r"(fpscr | (1u << 24))); /* FZ */
	return fpscr;
#else
	return 0;
#endif
}

static void fp_restore(unsigned long saved)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_setcsr((unsigned int)saved);
#elif defined(__aarch64__)
	__asm__ __volatile__("msr fpcr, %0" ::"r"(saved));
#elif defined(__arm__) && defined(__ARM_FP)
	__asm__ __volatile__("vmsr fpscr, %0" ::"r"((unsigned int)saved));
#else
	(void)saved;
#endif
}

/* --- one call: up to 6 dimensions, the last two possibly tiled ------------------------------ */
enum kind { K1, K1T1, K2, K2T1, K2T2, K3, K3T2, K4, K4T2, K5, K5T2, K6T2 };

struct job {
	enum kind kind;
	void *fn, *ctx;
	int ndim;
	size_t range[6], tile[6], count[6];
	uint32_t flags;
};

/* Calls fn for tile number `at` (row-major over the tile counts, the last dimension fastest). */
static void run_one(const struct job *j, size_t at)
{
	size_t s[6], n[6];
	for (int d = j->ndim - 1; d >= 0; d--) {
		const size_t c = at % j->count[d];
		at /= j->count[d];
		s[d] = c * j->tile[d];
		n[d] = j->range[d] - s[d] < j->tile[d] ? j->range[d] - s[d] : j->tile[d];
	}
	void *x = j->ctx;
	switch (j->kind) {
	case K1: ((pthreadpool_task_1d_t)j->fn)(x, s[0]); break;
	case K1T1: ((pthreadpool_task_1d_tile_1d_t)j->fn)(x, s[0], n[0]); break;
	case K2: ((pthreadpool_task_2d_t)j->fn)(x, s[0], s[1]); break;
	case K2T1: ((pthreadpool_task_2d_tile_1d_t)j->fn)(x, s[0], s[1], n[1]); break;
	case K2T2: ((pthreadpool_task_2d_tile_2d_t)j->fn)(x, s[0], s[1], n[0], n[1]); break;
	case K3: ((pthreadpool_task_3d_t)j->fn)(x, s[0], s[1], s[2]); break;
	case K3T2: ((pthreadpool_task_3d_tile_2d_t)j->fn)(x, s[0], s[1], s[2], n[1], n[2]); break;
	case K4: ((pthreadpool_task_4d_t)j->fn)(x, s[0], s[1], s[2], s[3]); break;
	case K4T2: ((pthreadpool_task_4d_tile_2d_t)j->fn)(x, s[0], s[1], s[2], s[3], n[2], n[3]); break;
	case K5: ((pthreadpool_task_5d_t)j->fn)(x, s[0], s[1], s[2], s[3], s[4]); break;
	case K5T2:
		((pthreadpool_task_5d_tile_2d_t)j->fn)(x, s[0], s[1], s[2], s[3], s[4], n[3], n[4]);
		break;
	case K6T2:
		((pthreadpool_task_6d_tile_2d_t)j->fn)(x, s[0], s[1], s[2], s[3], s[4], s[5], n[4], n[5]);
		break;
	}
}

static void run_range(void *arg, int worker, int begin, int end)
{
	(void)worker;
	const struct job *j = arg;
	const bool flush = j->flags & PTHREADPOOL_FLAG_DISABLE_DENORMALS;
	const unsigned long saved = flush ? fp_flush_denormals() : 0;
	for (int at = begin; at < end; at++)
		run_one(j, (size_t)at);
	if (flush)
		fp_restore(saved);
}

static void run_job(pthreadpool_t pool, struct job *j)
{
	size_t total = 1;
	for (int d = 0; d < j->ndim; d++) {
		if (j->range[d] == 0)
			return;
		if (j->tile[d] == 0)
			j->tile[d] = 1;
		j->count[d] = (j->range[d] + j->tile[d] - 1) / j->tile[d];
		total = total > SIZE_MAX / j->count[d] ? SIZE_MAX : total * j->count[d];
	}
	struct workers *w = (struct workers *)pool;
	if (!w || total < 2 || total > INT_MAX) {
		/* XNNPACK never asks for more than INT_MAX tiles; run such a call on the caller */
		const bool flush = j->flags & PTHREADPOOL_FLAG_DISABLE_DENORMALS;
		const unsigned long saved = flush ? fp_flush_denormals() : 0;
		for (size_t at = 0; at < total; at++)
			run_one(j, at);
		if (flush)
			fp_restore(saved);
		return;
	}
	/* XNNPACK decided the call is worth the threads: always hand it to the pool */
	workers_run_shared(w, run_range, j, (int)total, 1, WORKERS_MIN_WORK);
	if (j->flags & PTHREADPOOL_FLAG_YIELD_WORKERS)
		workers_idle(w);
}

#define JOB(k, n, ...) \
	struct job j = { .kind = (k), .fn = (void *)(fn), .ctx = ctx, .ndim = (n), .flags = flags, __VA_ARGS__ }; \
	run_job(pool, &j)

size_t pthreadpool_get_threads_count(pthreadpool_t pool)
{
	return (size_t)workers_count((const struct workers *)pool);
}

void pthreadpool_parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t fn, void *ctx, size_t r0,
				uint32_t flags)
{
	JOB(K1, 1, .range = { r0 }, .tile = { 1 });
}

void pthreadpool_parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t fn,
					void *ctx, size_t r0, size_t t0, uint32_t flags)
{
	JOB(K1T1, 1, .range = { r0 }, .tile = { t0 });
}

void pthreadpool_parallelize_2d(pthreadpool_t pool, pthreadpool_task_2d_t fn, void *ctx, size_t r0,
				size_t r1, uint32_t flags)
{
	JOB(K2, 2, .range = { r0, r1 }, .tile = { 1, 1 });
}

void pthreadpool_parallelize_2d_tile_1d(pthreadpool_t pool, pthreadpool_task_2d_tile_1d_t fn,
					void *ctx, size_t r0, size_t r1, size_t t1, uint32_t flags)
{
	JOB(K2T1, 2, .range = { r0, r1 }, .tile = { 1, t1 });
}

void pthreadpool_parallelize_2d_tile_2d(pthreadpool_t pool, pthreadpool_task_2d_tile_2d_t fn,
					void *ctx, size_t r0, size_t r1, size_t t0, size_t t1,
					uint32_t flags)
{
	JOB(K2T2, 2, .range = { r0, r1 }, .tile = { t0, t1 });
}

void pthreadpool_parallelize_3d(pthreadpool_t pool, pthreadpool_task_3d_t fn, void *ctx, size_t r0,
				size_t r1, size_t r2, uint32_t flags)
{
	JOB(K3, 3, .range = { r0, r1, r2 }, .tile = { 1, 1, 1 });
}

void pthreadpool_parallelize_3d_tile_2d(pthreadpool_t pool, pthreadpool_task_3d_tile_2d_t fn,
					void *ctx, size_t r0, size_t r1, size_t r2, size_t t1, size_t t2,
					uint32_t flags)
{
	JOB(K3T2, 3, .range = { r0, r1, r2 }, .tile = { 1, t1, t2 });
}

void pthreadpool_parallelize_4d(pthreadpool_t pool, pthreadpool_task_4d_t fn, void *ctx, size_t r0,
				size_t r1, size_t r2, size_t r3, uint32_t flags)
{
	JOB(K4, 4, .range = { r0, r1, r2, r3 }, .tile = { 1, 1, 1, 1 });
}

void pthreadpool_parallelize_4d_tile_2d(pthreadpool_t pool, pthreadpool_task_4d_tile_2d_t fn,
					void *ctx, size_t r0, size_t r1, size_t r2, size_t r3, size_t t2,
					size_t t3, uint32_t flags)
{
	JOB(K4T2, 4, .range = { r0, r1, r2, r3 }, .tile = { 1, 1, t2, t3 });
}

void pthreadpool_parallelize_5d(pthreadpool_t pool, pthreadpool_task_5d_t fn, void *ctx, size_t r0,
				size_t r1, size_t r2, size_t r3, size_t r4, uint32_t flags)
{
	JOB(K5, 5, .range = { r0, r1, r2, r3, r4 }, .tile = { 1, 1, 1, 1, 1 });
}

void pthreadpool_parallelize_5d_tile_2d(pthreadpool_t pool, pthreadpool_task_5d_tile_2d_t fn,
					void *ctx, size_t r0, size_t r1, size_t r2, size_t r3, size_t r4,
					size_t t3, size_t t4, uint32_t flags)
{
	JOB(K5T2, 5, .range = { r0, r1, r2, r3, r4 }, .tile = { 1, 1, 1, t3, t4 });
}

void pthreadpool_parallelize_6d_tile_2d(pthreadpool_t pool, pthreadpool_task_6d_tile_2d_t fn,
					void *ctx, size_t r0, size_t r1, size_t r2, size_t r3, size_t r4,
					size_t r5, size_t t4, size_t t5, uint32_t flags)
{
	JOB(K6T2, 6, .range = { r0, r1, r2, r3, r4, r5 }, .tile = { 1, 1, 1, 1, t4, t5 });
}

int xnnpack_pool_create(int threads, pthreadpool_t *ret_pool)
{
	struct workers *w;
	int r = workers_create(threads, &w);
	if (r == 0)
		*ret_pool = (pthreadpool_t)w;
	return r;
}

void xnnpack_pool_idle(pthreadpool_t pool)
{
	workers_idle((struct workers *)pool);
}

int xnnpack_pool_parked(pthreadpool_t pool)
{
	return workers_parked((struct workers *)pool);
}

void xnnpack_pool_destroy(pthreadpool_t pool)
{
	workers_destroy((struct workers *)pool);
}

#endif
