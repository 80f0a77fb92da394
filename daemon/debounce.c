/* debounce.c — N agreeing results before the state moves (contract in debounce.h).
 *
 * A run counter instead of a window of the last N results: "N consecutive" is exactly "the run
 * of the same top label has reached N", and it needs no buffer. The run keeps counting past N
 * (saturating) so a state that is already held does not re-trigger. Unknown is a label like
 * any other here: a camera that loses its subject for one frame does not drop to unknown. */
#include "daemon/debounce.h"

void debounce_init(struct debounce *d, unsigned n, uint64_t now_ns)
{
	d->n = n ? n : 1;
	debounce_reset(d, now_ns);
}

void debounce_reset(struct debounce *d, uint64_t now_ns)
{
	d->candidate = DEBOUNCE_UNKNOWN;
	d->run = 0;
	d->state = DEBOUNCE_UNKNOWN;
	d->score = 0;
	d->since_ns = now_ns;
}

bool debounce_feed(struct debounce *d, int32_t top, float score, uint64_t ts_ns,
		   int32_t *ret_previous)
{
	if (top != d->candidate) {
		d->candidate = top;
		d->run = 0;
	}
	if (d->run < d->n)
		d->run++;
	if (d->run < d->n || top == d->state)
		return false;
	*ret_previous = d->state;
	d->state = top;
	d->score = top == DEBOUNCE_UNKNOWN ? 0 : score;
	d->since_ns = ts_ns;
	return true;
}
