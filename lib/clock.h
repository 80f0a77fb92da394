/* clock.h — the one monotonic clock of camclassd and camclass.
 *
 * Every timestamp that measures an interval (frame times, health ages, deadlines, latencies,
 * benchmark timings) comes from CLOCK_MONOTONIC through these helpers, so that two modules'
 * timestamps can be compared and subtracted. Wall-clock time appears only where a human reads
 * it (log lines, "ts" fields, which convert with clock_mono_to_unix_offset_s()).
 * Threads: every function may be called from any thread. Errors: none (CLOCK_MONOTONIC cannot
 * fail on Linux). */
#ifndef CAMCLASS_LIB_CLOCK_H
#define CAMCLASS_LIB_CLOCK_H

#include <stdint.h>

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS  1000000ull
#define NS_PER_US  1000ull

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mono_now_ns(void);

/* CLOCK_MONOTONIC in whole milliseconds (poll() deadlines). */
int64_t mono_now_ms(void);

/* CLOCK_REALTIME − CLOCK_MONOTONIC in seconds, now: add to a monotonic time in seconds to get
 * Unix time. */
double mono_to_unix_offset_s(void);

#endif
