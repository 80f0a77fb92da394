/* debounce.h — the debounced classification state ([classify] debounce): the label a result
 * stream has settled on, as Home Assistant or a door bell wants it, not every flicker.
 *
 * Contract
 * - The state is a label index, or DEBOUNCE_UNKNOWN (no label at or above the threshold). It
 *   becomes the top label of a result once that label (or "unknown") has been the top of
 *   `n` consecutive results; n = 1 follows every result (debounce off). Before that the state
 *   is DEBOUNCE_UNKNOWN, since the time of debounce_init/debounce_reset.
 * - debounce_feed() returns true when the state changed with this result, and then fills
 *   *ret_previous. Pure arithmetic on the struct: no allocation, no locks (the classify thread
 *   owns it; readers get copies under the pipeline's stats_lock).
 * - Timestamps are whatever clock the caller uses (CLOCK_MONOTONIC ns in the daemon). */
#ifndef CAMCLASS_DAEMON_DEBOUNCE_H
#define CAMCLASS_DAEMON_DEBOUNCE_H

#include <stdbool.h>
#include <stdint.h>

#define DEBOUNCE_UNKNOWN (-1)
#define DEBOUNCE_MAX 1000

struct debounce {
	unsigned n;             /* results that must agree, ≥ 1 */
	int32_t candidate;      /* top label of the current run */
	unsigned run;           /* length of the current run */
	int32_t state;          /* the debounced state */
	float score;            /* top score of the result that set the state (0 for unknown) */
	uint64_t since_ns;      /* when the state began: the result that completed the run */
};

void debounce_init(struct debounce *d, unsigned n, uint64_t now_ns);
/* Forget the runs and the state (a new model: its labels mean something else). */
void debounce_reset(struct debounce *d, uint64_t now_ns);
/* top: the result's top label index or DEBOUNCE_UNKNOWN; score its score. */
bool debounce_feed(struct debounce *d, int32_t top, float score, uint64_t ts_ns,
		   int32_t *ret_previous);

#endif
