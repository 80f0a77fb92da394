/* xnnpack_pool.h — the pool xnnpack.c hands XNNPACK (xnnpack_pool.c): a builtin workers pool
 * behind the pthreadpool API. Internal to inference/ (XNNPACK builds only). Threads: the pool is
 * used by one caller at a time, like the delegate. */
#ifndef CAMCLASS_INFERENCE_XNNPACK_POOL_H
#define CAMCLASS_INFERENCE_XNNPACK_POOL_H

#include <pthreadpool.h>

/* A pool of threads >= 2 threads in total (the caller included). 0 or -ENOMEM / -EAGAIN. */
int xnnpack_pool_create(int threads, pthreadpool_t *ret_pool);
/* Its threads sleep until the next call (a frame ended). NULL: nothing. */
void xnnpack_pool_idle(pthreadpool_t pool);
/* Its threads asleep now (workers_parked). */
int xnnpack_pool_parked(pthreadpool_t pool);
void xnnpack_pool_destroy(pthreadpool_t pool);

#endif
