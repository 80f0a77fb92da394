/* slot.c — the hand-off from the capture thread to the classify thread that keeps only the
 * newest frame.
 *
 * Three buffers rotate: the producer copies into `back` and swaps it with `ready`; the
 * consumer swaps `ready` with `front` and reads `front` until its next take. Nobody waits for
 * anybody except the consumer waiting for a frame, so a slow classifier can never make the
 * camera queue up stale frames: a ready frame that is replaced before being taken is counted
 * as skipped. The copy (one frame per capture) is what lets the V4L2 buffer go back to the
 * driver at once. */
#include "capture/capture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot_buf {
	struct cap_frame frame;
	uint8_t *data;
	size_t capacity;
};

struct cap_slot {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct slot_buf bufs[3];
	struct slot_buf *back, *ready, *front;
	bool have_ready, closed;
	atomic_uint_fast64_t skipped;   /* written under lock, read without */
};

int cap_slot_new(struct cap_slot **ret_slot)
{
	struct cap_slot *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	if (!s)
		return CAP_ERR_NOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->back = &s->bufs[0];
	s->ready = &s->bufs[1];
	s->front = &s->bufs[2];
	*ret_slot = s;
	return 0;
}

void cap_slot_free(struct cap_slot *slot)
{
	if (!slot)
		return;
	for (int i = 0; i < 3; i++)
		free(slot->bufs[i].data);
	pthread_cond_destroy(&slot->cond);
	pthread_mutex_destroy(&slot->lock);
	free(slot);
}

int cap_slot_put(struct cap_slot *slot, const struct cap_frame *frame)
{
	struct slot_buf *b = slot->back;   /* only the producer touches `back` */
	if (!frame || (!frame->data && frame->bytes))
		return CAP_ERR_INVALID;
	if (b->capacity < frame->bytes) {
		uint8_t *nd = realloc(b->data, frame->bytes);
		if (!nd)
			return CAP_ERR_NOMEM;
		b->data = nd;
		b->capacity = frame->bytes;
	}
	if (frame->bytes)
		memcpy(b->data, frame->data, frame->bytes);
	b->frame = *frame;
	b->frame.data = b->data;

	pthread_mutex_lock(&slot->lock);
	if (slot->closed) {
		pthread_mutex_unlock(&slot->lock);
		return CAP_ERR_STOPPED;
	}
	if (slot->have_ready)
		slot->skipped++;
	slot->back = slot->ready;
	slot->ready = b;
	slot->have_ready = true;
	pthread_cond_signal(&slot->cond);
	pthread_mutex_unlock(&slot->lock);
	return 0;
}

int cap_slot_take(struct cap_slot *slot, int timeout_ms, struct cap_frame *ret_frame)
{
	struct timespec deadline;
	int r = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&slot->lock);
	while (!slot->have_ready && !slot->closed && r == 0)
		r = pthread_cond_timedwait(&slot->cond, &slot->lock, &deadline);
	if (slot->closed) {
		r = CAP_ERR_STOPPED;
	} else if (!slot->have_ready) {
		r = CAP_ERR_TIMEOUT;
	} else {
		struct slot_buf *b = slot->ready;
		slot->ready = slot->front;
		slot->front = b;
		slot->have_ready = false;
		*ret_frame = b->frame;
		r = 0;
	}
	pthread_mutex_unlock(&slot->lock);
	return r;
}

void cap_slot_close(struct cap_slot *slot)
{
	pthread_mutex_lock(&slot->lock);
	slot->closed = true;
	pthread_cond_broadcast(&slot->cond);
	pthread_mutex_unlock(&slot->lock);
}

uint64_t cap_slot_skipped(const struct cap_slot *slot)
{
	return atomic_load(&slot->skipped);
}
