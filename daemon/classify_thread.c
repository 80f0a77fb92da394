/* classify_thread.c — the classify thread: newest frame → decode → preprocess → invoke →
 * smoothing/top-k → srv_publish_result, limited to [classify] rate.
 *
 * It owns the model while it runs: a reload pauses it between two frames (pause_req/paused
 * under cl_lock) and swaps the model from the main thread, which keeps the engine
 * single-threaded as engine.h requires, without a lock around each inference. What the status
 * and snapshot hooks read is copied under stats_lock once per frame. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/health.h"
#include "daemon/pipeline_internal.h"
#include "daemon/teach.h"
#include "lib/clock.h"
#include "lib/log.h"

/* --- classify thread ------------------------------------------------------------------------ */

/* Between frames: honour a pause request (reload). Returns false when stopping. */
static bool classify_checkpoint(struct pipeline *pl)
{
	bool go_on;
	pthread_mutex_lock(&pl->cl_lock);
	if (pl->pause_req) {
		pl->paused = true;
		pthread_cond_broadcast(&pl->cl_cond);
		while (pl->pause_req)
			pthread_cond_wait(&pl->cl_cond, &pl->cl_lock);
		pl->paused = false;
	}
	go_on = !pl->classify_stopping;
	pthread_mutex_unlock(&pl->cl_lock);
	return go_on;
}

const char *pl_state_label(const struct pipeline *pl, int32_t state)
{
	if (state < 0)
		return "unknown";
	const char *const *names = clf_labels(pl->model);
	return (size_t)state < clf_class_count(pl->model) && names[state] ? names[state] : "unknown";
}

double pl_mono_to_unix_s(uint64_t mono_ns)
{
	return (double)mono_ns / 1e9 + mono_to_unix_offset_s();
}

/* Feeds the result's top label to the debounce; fills the result's state and announces a
 * change to every client (after the result, so `latest` already shows it). */
static bool follow_state(struct pipeline *pl, struct srv_result *res, int32_t *ret_previous)
{
	/* the daemon's [classify] threshold decides "unknown" (clients filter with their own) */
	bool above = res->n_labels > 0 && res->labels[0].score >= pl->state_threshold;
	int32_t top = above ? (int32_t)res->labels[0].index : DEBOUNCE_UNKNOWN;
	float score = above ? res->labels[0].score : 0;
	bool changed = debounce_feed(&pl->debounce, top, score, res->result_ts_ns, ret_previous);
	res->has_state = true;
	res->state = pl->debounce.state;
	res->state_since_ns = pl->debounce.since_ns;
	return changed;
}

static void announce_state(struct pipeline *pl, int32_t previous)
{
	const struct debounce *d = &pl->debounce;
	json_t *extra = json_pack("{s:s, s:s, s:f, s:f}", "state", pl_state_label(pl, d->state),
				  "previous", pl_state_label(pl, previous), "score",
				  round((double)d->score * 1e6) / 1e6, "since",
				  round(pl_mono_to_unix_s(d->since_ns) * 1e3) / 1e3);
	log_debug("state %s (was %s)", pl_state_label(pl, d->state), pl_state_label(pl, previous));
	if (!extra || srv_publish_event(pl->srv, "state_changed", extra) < 0)
		log_error("out of memory for the state_changed event");
}

static void classify_one(struct pipeline *pl, const struct cap_frame *frame, uint64_t t0)
{
	struct classifier *m = pl->model;
	struct cap_image img;
	struct srv_result res = { 0 };
	int r;

	/* YUYV/NV12 are converted inside the resize, only where it reads: no decode step */
	const bool fused = cap_format_is_yuv(frame->format);
	r = fused ? 0 : clf_decode_frame(m, frame, &img);
	uint64_t t1 = mono_now_ns();
	if (r == 0 && fused) {
		/* [model] roi, before crop; the frame is the picture at its own size */
		const struct cap_rect region = roi_rect(&pl->roi, frame->width, frame->height);
		r = clf_prepare_frame(m, frame, &region);
	} else if (r == 0) {
		struct cap_image region = roi_view(&img, &pl->roi); /* [model] roi, before crop */
		r = clf_prepare(m, &region);
	}
	uint64_t t2 = mono_now_ns();
	if (r < 0) {
		/* the frame by name (file source) or sequence, and the decoder's own reason */
		char frame_name[CAP_ORIGIN_BYTES + 24], what[sizeof(pl->frame_error)];
		const char *why = clf_decode_error(m);
		if (frame->origin[0])
			snprintf(frame_name, sizeof(frame_name), "frame %s", frame->origin);
		else
			snprintf(frame_name, sizeof(frame_name), "frame %llu",
				 (unsigned long long)frame->sequence);
		snprintf(what, sizeof(what), "%s: %s", frame_name, why[0] ? why : cap_strerror(r));
		health_undecodable(pl->health, t1);
		pthread_mutex_lock(&pl->stats_lock);
		pl->frames_corrupt++;
		memcpy(pl->frame_error, what, sizeof(what));
		pthread_mutex_unlock(&pl->stats_lock);
		/* The first bad frame of a run says why, at most every CORRUPT_LOG_INTERVAL_NS (good
		 * and bad frames in turn must not flood the journal); the count is in status. */
		if (pl->corrupt_burst++ == 0 &&
		    (!pl->corrupt_logged_ns || t1 - pl->corrupt_logged_ns >= CORRUPT_LOG_INTERVAL_NS)) {
			log_warning("%s skipped: %s (further bad frames counted as frames_corrupt)",
				    frame_name, why[0] ? why : cap_strerror(r));
			pl->corrupt_logged_ns = t1;
			pl->corrupt_burst_logged = true;
		}
		return;
	}
	health_decoded(pl->health);
	if (pl->corrupt_burst && pl->corrupt_burst_logged)
		log_info("frames decode again after %llu skipped", (unsigned long long)pl->corrupt_burst);
	pl->corrupt_burst = 0;
	pl->corrupt_burst_logged = false;
	r = clf_run(m);
	uint64_t t3 = mono_now_ns();
	if (r < 0) {
		pl_set_failed(pl, "inference failed on model %s: %s", clf_name(m), clf_run_error(m));
		return;
	}
	teach_offer(pl->teach, clf_input_tensor(m), clf_input(m));
	pp_run(&pl->pp, clf_scores(m), &res);
	uint64_t t4 = mono_now_ns();
	res.seq = ++pl->seq;
	res.frame_ts_ns = frame->timestamp_ns;
	res.result_ts_ns = t4;
	res.latency_ms.capture_to_result =
		t4 > frame->timestamp_ns ? (double)(t4 - frame->timestamp_ns) / NS_PER_MS : 0;
	res.latency_ms.decode = (double)(t1 - t0) / NS_PER_MS;
	res.latency_ms.preprocess = (double)(t2 - t1) / NS_PER_MS;
	res.latency_ms.inference = (double)(t3 - t2) / NS_PER_MS;
	int32_t previous;
	bool state_changed = follow_state(pl, &res, &previous);
	/* Stats and the kept frame first: a client that got this result may at once ask for its
	 * snapshot or status, and must find them. */
	pthread_mutex_lock(&pl->stats_lock);
	pl->last = res;
	pl->state = pl->debounce;
	pl->results_out++;
	pl_ring_add(&pl->lat_c2r, res.latency_ms.capture_to_result);
	pl_ring_add(&pl->lat_decode, res.latency_ms.decode);
	pl_ring_add(&pl->lat_prep, res.latency_ms.preprocess);
	pl_ring_add(&pl->lat_infer, res.latency_ms.inference);
	pthread_mutex_unlock(&pl->stats_lock);
	view_keep_frame(pl->view, frame, clf_prep(m), res.seq);
	srv_publish_result(pl->srv, &res);
	if (state_changed)
		announce_state(pl, previous);
}

void pl_set_teach(struct pipeline *pl, struct teach *t)
{
	pl->teach = t;
}

void pl_health_reason(struct pipeline *pl, const char *why, char *buf, size_t len)
{
	char last[sizeof(pl->frame_error)];
	pthread_mutex_lock(&pl->stats_lock);
	memcpy(last, pl->frame_error, sizeof(last));
	pthread_mutex_unlock(&pl->stats_lock);
	if (strcmp(why, HEALTH_UNDECODABLE) == 0 && last[0])
		snprintf(buf, len, "%s (last: %s)", why, last);
	else
		snprintf(buf, len, "%s", why);
}

void *pl_classify_main(void *arg)
{
	struct pipeline *pl = arg;
	uint64_t last_start_ns = 0;

	pthread_setname_np(pthread_self(), "classify");
	while (classify_checkpoint(pl)) {
		struct cap_frame frame;
		int r = cap_slot_take(pl->slot, TAKE_TIMEOUT_MS, &frame);
		if (r == CAP_ERR_STOPPED)
			break;
		if (r < 0)
			continue;
		uint64_t now = mono_now_ns();
		if (pl->min_interval_ns && last_start_ns && now - last_start_ns < pl->min_interval_ns) {
			pthread_mutex_lock(&pl->stats_lock);
			pl->frames_rate_skipped++;
			pthread_mutex_unlock(&pl->stats_lock);
			continue;
		}
		last_start_ns = now;
		health_classify_begin(pl->health, now);
		classify_one(pl, &frame, now);
		health_classify_end(pl->health);
	}
	return NULL;
}

