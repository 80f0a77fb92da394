/* cpu_place.c — cpu_move_off() and cpu_current() (cpu_place.h): sched_getcpu() and a brief
 * sched_setaffinity() on the calling thread. Linux only (the daemon's platform); elsewhere they
 * report -ENOSYS / -1 and the pool simply does without. */
#include "inference/ops/fast/cpu_place.h"

#include <errno.h>

#ifdef __linux__
#include <sched.h>

int cpu_current(void)
{
	return sched_getcpu();
}

int cpu_move_off(int cpu)
{
	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	if (sched_getcpu() != cpu)
		return 0;
	cpu_set_t allowed, others;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -errno;
	others = allowed;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) == 0)
		return -EAGAIN;
	/* The kernel moves a thread whose mask excludes its core before the call returns; checked
	 * while the mask still holds, so no later migration can hide a failure. */
	if (sched_setaffinity(0, sizeof(others), &others) < 0)
		return -errno;
	int rc = sched_getcpu() == cpu ? -EIO : 0;
	if (sched_setaffinity(0, sizeof(allowed), &allowed) < 0 && rc == 0)
		rc = -errno; /* cannot happen: the mask was the thread's own a moment ago */
	return rc;
}

#else

int cpu_current(void)
{
	return -1;
}

int cpu_move_off(int cpu)
{
	(void)cpu;
	return -ENOSYS;
}

#endif
