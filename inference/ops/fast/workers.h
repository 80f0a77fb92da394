/* workers.h — a small persistent thread pool for the builtin kernels (graph->kernel_ctx).
 *
 * Created once at load (eng_load with threads > 1), it runs one function on every worker at a
 * time: the caller's thread is worker 0, the pool's threads are workers 1..n-1, and
 * workers_run() returns when all of them finished. Nothing is allocated per run, so kernels may
 * call it from invoke(). A NULL pool means one worker (the caller), so kernels need no special
 * case. One thread at a time may call workers_run() or workers_run_shared() on a pool (the
 * engine is single-caller). */
#ifndef CAMCLASS_INFERENCE_OPS_WORKERS_H
#define CAMCLASS_INFERENCE_OPS_WORKERS_H

struct workers;

/* fn(arg, worker, nworkers) on each worker; worker in [0, nworkers). */
typedef void (*workers_fn)(void *arg, int worker, int nworkers);

/* nthreads >= 2 workers in total (the caller included). 0 or a negative errno. */
int workers_create(int nthreads, struct workers **ret_workers);
void workers_destroy(struct workers *w);
/* Workers in the pool, 1 for NULL. */
int workers_count(const struct workers *w);
void workers_run(struct workers *w, workers_fn fn, void *arg);
/* workers_run() when the job is worth waking the pool: `work` of at least WORKERS_MIN_WORK;
 * else fn(arg, 0, 1) on the caller. Work is counted in multiply-adds of the conv GEMM (~0.01 ns
 * each on one x86-64 core); kernels whose steps cost more scale their count to match, so the
 * threshold means about 10 µs of work everywhere. Waking and joining the workers costs a few
 * microseconds, more than smaller layers take (person_detect ran slower on two threads). */
#define WORKERS_MIN_WORK (1LL << 20)
void workers_run_sized(struct workers *w, workers_fn fn, void *arg, long long work);

/* fn(arg, worker, begin, end) on pieces [begin, end) of a range of units. */
typedef void (*workers_range_fn)(void *arg, int worker, int begin, int end);

/* Runs fn over [0, total) units, each unit exactly once, on the pool when `work` (as for
 * workers_run_sized) is worth it, else fn(arg, 0, 0, total) on the caller. Each worker starts on
 * its own equal contiguous share, in pieces of whole multiples of min_grain units (about an
 * eighth of a share; a share's last piece may be shorter), and when its share is done takes the
 * pieces left in the others' shares. So a worker the scheduler holds back (the other core busy
 * with another process) costs its unfinished pieces, done by the others, instead of a wait for
 * all of them; on a quiet machine each worker mostly stays on its own share, the part of the
 * tensor it wrote in the op before. */
void workers_run_shared(struct workers *w, workers_range_fn fn, void *arg, int total,
			int min_grain, long long work);

/* No job will come soon (the engine calls it when an inference ends): pool threads polling for
 * the next job stop and sleep until the next workers_run. Only the thread that calls
 * workers_run may call it. NULL: nothing. */
void workers_idle(struct workers *w);
/* Pool threads asleep right now (not polling, not running a job); 0 for NULL. For tests and
 * diagnostics: after workers_idle() it reaches workers_count() - 1 once the threads went to
 * sleep. Any thread may call it. */
int workers_parked(struct workers *w);

/* Split [0, total) into nworkers contiguous parts; part `worker` is [*ret_begin, *ret_end). */
void workers_split(int total, int worker, int nworkers, int *ret_begin, int *ret_end);

#endif
