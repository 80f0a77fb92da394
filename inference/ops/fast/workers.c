/* workers.c — the pool of workers.h. Between two kernels the gap is short (often a few
 * microseconds), so sleeping on a futex after every op cost ~20 % of a two-thread MobileNetV2 run
 * in scheduler time. Workers and the caller therefore poll the atomics a bounded number of times
 * before they sleep on condition variables. How they poll depends on whether the other side ran
 * beside them in the last generation (a pool thread started while the caller was still in its own
 * part): then on another core, so they first poll with `pause` for up to WORKERS_PAUSE_SPINS
 * (~30 µs), which sees the change within tens of nanoseconds where a sched_yield() poll costs
 * ~0.6 µs in this VM (MobileNetV2, 2 threads: ~1 % faster). Otherwise, and after those, they call
 * sched_yield() between polls (WORKERS_SPIN, well under a millisecond): on a board (or VM) whose
 * other core is busy, both of our threads may share one core, and a `pause` spin then steals the
 * time slice the other worker needs — measured here: two threads 20-200 ms instead of 8 with
 * an unconditional spin, +16 % with a 200-poll one — while yielding keeps the gain (9.3 → 7.8-8.3
 * ms on MobileNetV2 under load). A thread held up that way starts after the caller finished its
 * part, so the next waits yield at once.
 * Between frames nothing comes for tens of milliseconds: the engine calls workers_idle() when an
 * inference ends, and pool threads polling for the next job stop and sleep on the condition
 * variable at once (those polls cost up to ~1 ms of CPU per frame and thread for nothing).
 * A thread woken from that sleep may find itself on the caller's core; it moves off it
 * (cpu_place.h).
 *
 * Publication: the caller writes fn/arg and pending, then moves `generation` with a release
 * store; a worker that sees the new generation with an acquire load also sees fn/arg. A worker
 * signals completion with a release decrement of `pending`; the caller's acquire load of 0 makes
 * the workers' writes visible. No wake-up is lost: a sleeper re-checks the atomic under the
 * mutex before waiting, and the other side takes that mutex before it signals. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "inference/ops/fast/cpu_place.h"
#include "inference/ops/fast/workers.h"

#define WORKERS_SPIN 1000
#define WORKERS_PAUSE_SPINS 1000 /* ~30 µs of `pause` polls on x86-64 (measured ~27 ns each) */
#define WORKERS_MAX_SHARES 64 /* workers_run_shared steals within pools up to this size */
#define WORKERS_PIECES_PER_SHARE 8

/* One worker's share of a workers_run_shared range, on its own cache line: pieces are claimed by
 * an atomic add on `next`, by the owner and, once it is done with its own, by the others. */
struct workers_share {
	_Alignas(64) atomic_int next;
	int end;
};

struct workers {
	int nthreads;               /* in total, the caller included */
	pthread_t *threads;         /* nthreads - 1 */
	int nstarted;
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	atomic_ulong generation;    /* moves once per workers_run */
	atomic_int pending;         /* pool threads still running this generation */
	atomic_bool stop;
	atomic_bool idle;           /* workers_idle(): no job soon, sleep instead of polling */
	atomic_int parked;          /* pool threads asleep on `wake` */
	atomic_bool caller_busy;    /* the caller is still in its own part of this generation */
	atomic_int overlapped;      /* pool threads that started while caller_busy */
	atomic_int caller_cpu;      /* the core workers_run's caller was on (-1: unknown) */
	workers_fn fn;              /* published by the release store of generation */
	void *arg;
	struct workers_share *shares; /* min(nthreads, WORKERS_MAX_SHARES) */
	workers_range_fn range_fn;  /* the current workers_run_shared job */
	void *range_arg;
	int range_total, grain;
	bool stealing;
};

struct worker_start {
	struct workers *w;
	int index;
};

/* A spin-wait hint: the poll stays on this core and costs tens of nanoseconds. */
static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Poll i of a wait: `pause` for the first `pauses`, then sched_yield(). */
static inline void poll_relax(int i, int pauses)
{
	if (i < pauses)
		cpu_pause();
	else
		sched_yield();
}

/* Waits until generation differs from seen (or stop); returns the new generation. hot: the
 * caller ran beside this thread in the last generation (see the top of the file). */
static unsigned long wait_generation(struct workers *w, unsigned long seen, bool hot)
{
	const int pauses = hot ? WORKERS_PAUSE_SPINS : 0;
	for (int i = 0; i < pauses + WORKERS_SPIN; i++) {
		unsigned long g = atomic_load_explicit(&w->generation, memory_order_acquire);
		if (g != seen || atomic_load_explicit(&w->stop, memory_order_acquire))
			return g;
		if (atomic_load_explicit(&w->idle, memory_order_relaxed))
			break;
		poll_relax(i, pauses);
	}
	pthread_mutex_lock(&w->lock);
	unsigned long g;
	atomic_fetch_add_explicit(&w->parked, 1, memory_order_relaxed);
	while ((g = atomic_load_explicit(&w->generation, memory_order_acquire)) == seen &&
	       !atomic_load_explicit(&w->stop, memory_order_acquire))
		pthread_cond_wait(&w->wake, &w->lock);
	atomic_fetch_sub_explicit(&w->parked, 1, memory_order_relaxed);
	pthread_mutex_unlock(&w->lock);
	/* Woken from sleep, the kernel may have put us on the caller's core (cpu_place.h): leave
	 * it, or both would take turns on one core for the whole frame. Best effort: a sandbox
	 * that forbids sched_setaffinity only costs the speed-up, never a result. */
	const int caller = atomic_load_explicit(&w->caller_cpu, memory_order_relaxed);
	if (caller >= 0 && !atomic_load_explicit(&w->stop, memory_order_relaxed))
		(void)cpu_move_off(caller);
	return g;
}

static void *worker_main(void *p)
{
	struct workers *w = ((struct worker_start *)p)->w;
	const int index = ((struct worker_start *)p)->index;
	free(p);
	unsigned long seen = 0; /* workers_run cannot start before workers_create returned */
	bool hot = false;
	for (;;) {
		seen = wait_generation(w, seen, hot);
		if (atomic_load_explicit(&w->stop, memory_order_acquire))
			break;
		/* relaxed: a hint for how to poll, ordered by nothing else */
		hot = atomic_load_explicit(&w->caller_busy, memory_order_relaxed);
		if (hot)
			atomic_fetch_add_explicit(&w->overlapped, 1, memory_order_relaxed);
		w->fn(w->arg, index, w->nthreads);
		if (atomic_fetch_sub_explicit(&w->pending, 1, memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&w->lock);
			pthread_cond_signal(&w->done);
			pthread_mutex_unlock(&w->lock);
		}
	}
	return NULL;
}

int workers_create(int nthreads, struct workers **ret_workers)
{
	if (nthreads < 2)
		return -EINVAL;
	struct workers *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->nthreads = nthreads;
	w->threads = calloc((size_t)nthreads - 1, sizeof(*w->threads));
	const int nshares = nthreads < WORKERS_MAX_SHARES ? nthreads : WORKERS_MAX_SHARES;
	w->shares = aligned_alloc(64, (size_t)nshares * sizeof(*w->shares));
	if (!w->threads || !w->shares) {
		free(w->threads);
		free(w->shares);
		free(w);
		return -ENOMEM;
	}
	for (int i = 0; i < nshares; i++) {
		atomic_init(&w->shares[i].next, 0);
		w->shares[i].end = 0;
	}
	atomic_init(&w->generation, 0);
	atomic_init(&w->pending, 0);
	atomic_init(&w->stop, false);
	atomic_init(&w->idle, false);
	atomic_init(&w->parked, 0);
	atomic_init(&w->caller_busy, false);
	atomic_init(&w->overlapped, 0);
	atomic_init(&w->caller_cpu, -1);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->done, NULL);
	for (int i = 1; i < nthreads; i++) {
		struct worker_start *s = malloc(sizeof(*s));
		int r = s ? 0 : ENOMEM;
		if (s) {
			s->w = w;
			s->index = i;
			r = pthread_create(&w->threads[i - 1], NULL, worker_main, s);
			if (r != 0)
				free(s);
		}
		if (r != 0) {
			workers_destroy(w);
			return -r;
		}
		w->nstarted++;
	}
	*ret_workers = w;
	return 0;
}

void workers_destroy(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store_explicit(&w->stop, true, memory_order_release);
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nstarted; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w->shares);
	free(w);
}

int workers_count(const struct workers *w)
{
	return w ? w->nthreads : 1;
}

void workers_run(struct workers *w, workers_fn fn, void *arg)
{
	if (!w) {
		fn(arg, 0, 1);
		return;
	}
	w->fn = fn;
	w->arg = arg;
	atomic_store_explicit(&w->idle, false, memory_order_relaxed);
	atomic_store_explicit(&w->pending, w->nthreads - 1, memory_order_relaxed);
	atomic_store_explicit(&w->overlapped, 0, memory_order_relaxed);
	atomic_store_explicit(&w->caller_busy, true, memory_order_relaxed);
	atomic_store_explicit(&w->caller_cpu, cpu_current(), memory_order_relaxed);
	atomic_fetch_add_explicit(&w->generation, 1, memory_order_release);
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	fn(arg, 0, w->nthreads);
	atomic_store_explicit(&w->caller_busy, false, memory_order_relaxed);
	/* every pool thread ran beside the caller: they are on other cores, finishing a piece */
	const int pauses = atomic_load_explicit(&w->overlapped, memory_order_relaxed) ==
			   w->nthreads - 1 ? WORKERS_PAUSE_SPINS : 0;
	for (int i = 0; i < pauses + WORKERS_SPIN; i++) {
		if (atomic_load_explicit(&w->pending, memory_order_acquire) == 0)
			return;
		poll_relax(i, pauses);
	}
	pthread_mutex_lock(&w->lock);
	while (atomic_load_explicit(&w->pending, memory_order_acquire) > 0)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void workers_idle(struct workers *w)
{
	if (w)
		atomic_store_explicit(&w->idle, true, memory_order_relaxed);
}

int workers_parked(struct workers *w)
{
	if (!w)
		return 0;
	/* under the lock: a thread between its wake-up and its decrement is not parked any more */
	pthread_mutex_lock(&w->lock);
	const int n = atomic_load_explicit(&w->parked, memory_order_relaxed);
	pthread_mutex_unlock(&w->lock);
	return n;
}

void workers_run_sized(struct workers *w, workers_fn fn, void *arg, long long work)
{
	if (work < WORKERS_MIN_WORK)
		fn(arg, 0, 1);
	else
		workers_run(w, fn, arg);
}

/* Every worker: its own share first, then the others' in turn. */
static void run_shares(void *arg, int worker, int nworkers)
{
	struct workers *w = arg;
	if (!w->stealing) {
		int begin, end;
		workers_split(w->range_total, worker, nworkers, &begin, &end);
		if (begin < end)
			w->range_fn(w->range_arg, worker, begin, end);
		return;
	}
	const int nshares = nworkers < WORKERS_MAX_SHARES ? nworkers : WORKERS_MAX_SHARES;
	for (int k = 0; k < nshares; k++) {
		struct workers_share *sh = &w->shares[(worker + k) % nshares];
		for (;;) {
			/* relaxed: the add only has to hand each piece out once; the results are
			 * published by workers_run's completion count */
			const int begin = atomic_fetch_add_explicit(&sh->next, w->grain, memory_order_relaxed);
			if (begin >= sh->end)
				break;
			const int end = sh->end - begin < w->grain ? sh->end : begin + w->grain;
			w->range_fn(w->range_arg, worker, begin, end);
		}
	}
}

void workers_run_shared(struct workers *w, workers_range_fn fn, void *arg, int total,
			int min_grain, long long work)
{
	if (!w || work < WORKERS_MIN_WORK || total <= min_grain) {
		fn(arg, 0, 0, total);
		return;
	}
	const int nshares = w->nthreads < WORKERS_MAX_SHARES ? w->nthreads : WORKERS_MAX_SHARES;
	if (min_grain < 1)
		min_grain = 1;
	int grain = total / (nshares * WORKERS_PIECES_PER_SHARE);
	grain = grain > min_grain ? (grain + min_grain - 1) / min_grain * min_grain : min_grain;
	if (grain > total / nshares)
		grain = (total + nshares - 1) / nshares;
	/* Each worker adds at most one grain past a share's end, so `next` stays below
	 * end + nshares * grain <= 2 * total + nshares: far from overflow below INT_MAX / 4 units.
	 * Larger ranges (no tensor of a model we run) are split statically. Pools above
	 * WORKERS_MAX_SHARES workers split statically as well. */
	w->stealing = total <= INT_MAX / 4 && w->nthreads <= WORKERS_MAX_SHARES;
	for (int i = 0; w->stealing && i < nshares; i++) {
		int begin, end;
		workers_split(total, i, nshares, &begin, &end);
		atomic_store_explicit(&w->shares[i].next, begin, memory_order_relaxed);
		w->shares[i].end = end;
	}
	w->range_fn = fn;
	w->range_arg = arg;
	w->range_total = total;
	w->grain = grain;
	workers_run(w, run_shares, w); /* its release store publishes the shares and the job */
}

void workers_split(int total, int worker, int nworkers, int *ret_begin, int *ret_end)
{
	*ret_begin = (int)((long long)total * worker / nworkers);
	*ret_end = (int)((long long)total * (worker + 1) / nworkers);
}
