/* clock.c — CLOCK_MONOTONIC helpers; see clock.h. One copy instead of one per module, so that
 * every module's timestamps are on the same clock and in the same unit. */
#include "lib/clock.h"

#include <time.h>

uint64_t mono_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int64_t mono_now_ms(void)
{
	return (int64_t)(mono_now_ns() / NS_PER_MS);
}

double mono_to_unix_offset_s(void)
{
	struct timespec mono, real;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (double)(real.tv_sec - mono.tv_sec) + (double)(real.tv_nsec - mono.tv_nsec) / 1e9;
}
