/* health.c — liveness decision from timestamps; see health.h for what "healthy" means.
 *
 * Writers store the timestamp before the state, so a reader that sees the new state also sees
 * a timestamp at least as new (seq_cst atomics; the cost is irrelevant at frame rate). */
#include "daemon/health.h"

#include <stddef.h>

void health_init(struct health *h, uint64_t now_ns)
{
	atomic_store(&h->last_frame_ns, now_ns);
	atomic_store(&h->capture_turn_ns, now_ns);
	atomic_store(&h->classify_since_ns, 0);
	atomic_store(&h->failing_since_ns, 0);
	atomic_store(&h->camera, HEALTH_CAMERA_IDLE);
}

void health_streaming(struct health *h, uint64_t now_ns)
{
	/* a (re)started stream gets the whole window again to deliver a decodable frame */
	atomic_store(&h->failing_since_ns, 0);
	atomic_store(&h->last_frame_ns, now_ns);
	atomic_store(&h->capture_turn_ns, now_ns);
	atomic_store(&h->camera, HEALTH_CAMERA_STREAMING);
}

void health_frame(struct health *h, uint64_t now_ns)
{
	atomic_store(&h->last_frame_ns, now_ns);
	atomic_store(&h->capture_turn_ns, now_ns);
	atomic_store(&h->camera, HEALTH_CAMERA_STREAMING);
}

void health_backoff(struct health *h, uint64_t now_ns)
{
	atomic_store(&h->capture_turn_ns, now_ns);
	atomic_store(&h->camera, HEALTH_CAMERA_BACKOFF);
}

void health_idle(struct health *h, uint64_t now_ns)
{
	atomic_store(&h->capture_turn_ns, now_ns);
	atomic_store(&h->camera, HEALTH_CAMERA_IDLE);
}

void health_classify_begin(struct health *h, uint64_t now_ns)
{
	/* 0 means "waiting", so a (theoretical) timestamp of 0 is moved by one ns. */
	atomic_store(&h->classify_since_ns, now_ns ? now_ns : 1);
}

void health_classify_end(struct health *h)
{
	atomic_store(&h->classify_since_ns, 0);
}

void health_decoded(struct health *h)
{
	atomic_store(&h->failing_since_ns, 0);
}

void health_undecodable(struct health *h, uint64_t now_ns)
{
	uint64_t none = 0;
	/* only the first failure of a run starts the clock */
	atomic_compare_exchange_strong(&h->failing_since_ns, &none, now_ns ? now_ns : 1);
}

/* now - then, or 0 when then is in the future (a writer raced ahead of our clock read). */
static uint64_t age_ns(uint64_t now_ns, uint64_t then_ns)
{
	return now_ns > then_ns ? now_ns - then_ns : 0;
}

bool health_check(const struct health *h, const struct health_limits *lim, uint64_t now_ns,
		  const char **ret_reason)
{
	const char *reason = NULL;
	int camera = atomic_load(&h->camera);
	uint64_t classify_since = atomic_load(&h->classify_since_ns);

	if (camera == HEALTH_CAMERA_STREAMING &&
	    age_ns(now_ns, atomic_load(&h->last_frame_ns)) > lim->frame_stall_ns)
		reason = "no frame from the camera";
	else if (camera == HEALTH_CAMERA_BACKOFF &&
		 age_ns(now_ns, atomic_load(&h->capture_turn_ns)) > lim->loop_stall_ns)
		reason = "capture thread stuck while reconnecting";
	else if (classify_since && age_ns(now_ns, classify_since) > lim->classify_stall_ns)
		reason = "classification stuck on one frame";
	else if (camera == HEALTH_CAMERA_STREAMING && atomic_load(&h->failing_since_ns) &&
		 age_ns(now_ns, atomic_load(&h->failing_since_ns)) > lim->frame_stall_ns)
		reason = HEALTH_UNDECODABLE;
	if (reason && ret_reason)
		*ret_reason = reason;
	return !reason;
}

