/* workers.c — the pool of workers.h: threads sleep on a condition variable and wake when the
 * generation counter moves; each runs the posted function once per generation and counts
 * itself done. All shared fields are read and written under one mutex, and the function and its
 * argument are published under that mutex before the generation moves, so a worker never sees
 * a half-posted job. The caller works as worker 0 while the others run, then waits for them. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "inference/ops/workers.h"

struct workers {
	int nthreads;               /* in total, the caller included */
	pthread_t *threads;         /* nthreads - 1 */
	int nstarted;
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	unsigned long generation;   /* moves once per workers_run */
	int pending;                /* pool threads still running this generation */
	bool stop;
	workers_fn fn;
	void *arg;
};

struct worker_start {
	struct workers *w;
	int index;
};

static void *worker_main(void *p)
{
	struct workers *w = ((struct worker_start *)p)->w;
	const int index = ((struct worker_start *)p)->index;
	free(p);
	pthread_mutex_lock(&w->lock);
	unsigned long seen = 0; /* workers_run cannot start before workers_create returned */
	for (;;) {
		while (!w->stop && w->generation == seen)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		seen = w->generation;
		workers_fn fn = w->fn;
		void *arg = w->arg;
		pthread_mutex_unlock(&w->lock);
		fn(arg, index, w->nthreads);
		pthread_mutex_lock(&w->lock);
		if (--w->pending == 0)
			pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
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
	if (!w->threads) {
		free(w);
		return -ENOMEM;
	}
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
	w->stop = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nstarted; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
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
	pthread_mutex_lock(&w->lock);
	w->fn = fn;
	w->arg = arg;
	w->pending = w->nthreads - 1;
	w->generation++;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	fn(arg, 0, w->nthreads);
	pthread_mutex_lock(&w->lock);
	while (w->pending > 0)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void workers_split(int total, int worker, int nworkers, int *ret_begin, int *ret_end)
{
	*ret_begin = (int)((long long)total * worker / nworkers);
	*ret_end = (int)((long long)total * (worker + 1) / nworkers);
}
