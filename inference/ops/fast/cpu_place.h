/* cpu_place.h — moving a pool thread off the core its caller runs on.
 *
 * Why: when a parked pool thread is woken, the kernel may place it on the waking thread's own
 * core (wake-affine placement) even though another core is idle, and the load balancer can take
 * milliseconds to notice. Seen on this project's 2-core VMs, whose vCPUs report no shared cache
 * to the scheduler: 40–47 % of the daemon's frames ran both threads of a 2-thread pool on one
 * core, the inference then took as long as on one thread (MobileNetV2 4.6 ms instead of 2.7),
 * while the second thread still burnt CPU polling (bench/RESULTS.md, issue #18). A thread that
 * finds itself on its caller's core at wake-up calls cpu_move_off(): for a moment its affinity
 * excludes that core, which makes the kernel migrate it at once, then the affinity is put back
 * as it was (that does not move it back).
 *
 * Threads: acts on the calling thread only; any thread may call it. Errors: negative errno
 * (-EAGAIN when the thread's affinity allows no other core, -EPERM when a seccomp filter
 * forbids sched_setaffinity, -EINVAL for a bad cpu number, -EIO if the kernel left it there);
 * on any error the thread's affinity is what it was before. */
#ifndef CAMCLASS_INFERENCE_OPS_CPU_PLACE_H
#define CAMCLASS_INFERENCE_OPS_CPU_PLACE_H

/* The core the calling thread runs on now, or -1 when the system cannot tell. */
int cpu_current(void);

/* Moves the calling thread to another core it is allowed on, if it runs on `cpu`; keeps its
 * affinity mask. 0 when it moved (checked before the mask is restored) or was not on `cpu`,
 * else a negative errno (see above). */
int cpu_move_off(int cpu);

#endif
