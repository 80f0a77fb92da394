/* view.c — snapshot and preview pictures (contract in view.h).
 *
 * Why it is built this way:
 * - The snapshot must be the frame the latest result was computed from, so the classify thread
 *   keeps a copy of that frame's bytes (a JPEG of tens of KiB from an MJPEG camera); the JPEG
 *   is made only when a client asks, on the main thread, with the main thread's own decoder,
 *   from a copy taken under the lock, so the classify thread never waits for an encode.
 * - Previews are made on the capture thread, which already holds every frame, only while
 *   someone watches and never faster than the fastest watcher asked: an atomic period of 0
 *   costs one load per frame. The capture thread has its own decoder (decoders are
 *   single-threaded).
 * - All JPEG work is capture/'s (cap_frame_jpeg): MJPEG bytes pass through untouched. */
#include "daemon/view.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

struct pl_view {
	pthread_mutex_t lock;        /* guards the kept frame */
	uint8_t *buf;
	size_t cap;
	struct cap_frame frame;      /* data points into buf */
	struct cap_prep prep;        /* how the classifier decoded it */
	uint64_t seq;                /* 0: nothing kept yet */
	struct cap_decoder *main_decoder;

	_Atomic uint64_t preview_period_ns; /* 0: nobody watches */
	uint64_t preview_last_ns;           /* capture thread */
	struct cap_decoder *capture_decoder;
	unsigned preview_failures;          /* in a row, capture thread */
};

int view_new(struct pl_view **ret)
{
	struct pl_view *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	pthread_mutex_init(&v->lock, NULL);
	int r = cap_decoder_new(&v->main_decoder);
	if (r == 0)
		r = cap_decoder_new(&v->capture_decoder);
	if (r < 0) {
		view_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

void view_free(struct pl_view *v)
{
	if (!v)
		return;
	if (v->main_decoder)
		cap_decoder_free(v->main_decoder);
	if (v->capture_decoder)
		cap_decoder_free(v->capture_decoder);
	free(v->buf);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

void view_keep_frame(struct pl_view *v, const struct cap_frame *frame, const struct cap_prep *prep,
		     uint64_t seq)
{
	pthread_mutex_lock(&v->lock);
	if (frame->bytes > v->cap) {
		uint8_t *p = realloc(v->buf, frame->bytes);
		if (!p) {
			pthread_mutex_unlock(&v->lock);
			return; /* keep the older frame; a later one may fit */
		}
		v->buf = p;
		v->cap = frame->bytes;
	}
	memcpy(v->buf, frame->data, frame->bytes);
	v->frame = *frame;
	v->frame.data = v->buf;
	v->prep = *prep;
	v->seq = seq;
	pthread_mutex_unlock(&v->lock);
}

/* Copies the kept frame out (the caller frees *ret_copy), so the classify thread never waits
 * for a decode or an encode. -ENODATA before the first frame. */
static int take_kept(struct pl_view *v, struct cap_frame *ret_frame, struct cap_prep *ret_prep,
		     uint64_t *ret_seq, uint8_t **ret_copy)
{
	pthread_mutex_lock(&v->lock);
	if (!v->seq) {
		pthread_mutex_unlock(&v->lock);
		return -ENODATA;
	}
	*ret_frame = v->frame;
	*ret_prep = v->prep;
	*ret_seq = v->seq;
	uint8_t *copy = malloc(v->frame.bytes ? v->frame.bytes : 1);
	if (copy)
		memcpy(copy, v->buf, v->frame.bytes);
	pthread_mutex_unlock(&v->lock);
	if (!copy)
		return log_errno(LOG_ERR, ENOMEM, "snapshot");
	ret_frame->data = copy;
	*ret_copy = copy;
	return 0;
}

int view_snapshot_model(struct pl_view *v, int quality, struct srv_snapshot *ret)
{
	struct cap_frame frame;
	struct cap_prep prep;
	struct cap_image img;
	uint64_t seq;
	uint8_t *copy;
	char err[256];
	int r = take_kept(v, &frame, &prep, &seq, &copy);
	if (r < 0)
		return r;
	r = cap_decode(v->main_decoder, &frame, &prep, &img);
	if (r < 0) { /* it decoded for the classifier a moment ago: only memory can fail now */
		log_error("snapshot: cannot decode the frame of result %llu again: %s",
			  (unsigned long long)seq, cap_decoder_last_error(v->main_decoder));
		free(copy);
		return r == CAP_ERR_CORRUPT ? -EIO : r;
	}
	struct srv_snapshot s = { .seq = seq, .width = img.width, .height = img.height,
				  .view_model = 1 };
	r = cap_encode_jpeg(&img, quality, &s.jpeg, &s.len, err, sizeof(err));
	free(copy);
	if (r < 0) {
		log_error("snapshot: %s", err);
		return r;
	}
	*ret = s;
	return 0;
}

int view_snapshot(struct pl_view *v, const struct srv_snapshot_req *req, struct srv_snapshot *ret)
{
	struct cap_frame frame;
	struct cap_prep prep;
	uint64_t seq;
	uint8_t *copy;
	int r = take_kept(v, &frame, &prep, &seq, &copy);
	if (r < 0)
		return r;

	int max_width = (int)req->max_width;
	if (req->scale > 0 && req->scale < 1) {
		int w = (int)lround(frame.width * req->scale);
		w = w < 1 ? 1 : w;
		if (max_width == 0 || w < max_width)
			max_width = w;
	}
	struct srv_snapshot s = { .seq = seq };
	r = cap_frame_jpeg(v->main_decoder, &frame, max_width, VIEW_JPEG_QUALITY, &s.jpeg, &s.len,
			   &s.width, &s.height);
	free(copy);
	if (r < 0)
		return log_errno(LOG_WARNING, r == CAP_ERR_CORRUPT ? EIO : -r,
				 "snapshot: cannot make a JPEG of the frame of result %llu",
				 (unsigned long long)seq);
	*ret = s;
	return 0;
}

void view_set_preview_fps(struct pl_view *v, double fps)
{
	uint64_t period = fps > 0 ? (uint64_t)llround(1e9 / fps) : 0;
	atomic_store(&v->preview_period_ns, period);
	log_debug("preview %s", period ? "on" : "off");
}

void view_offer_preview(struct pl_view *v, struct server *srv, const struct cap_frame *frame,
			uint64_t now_ns)
{
	uint64_t period = atomic_load_explicit(&v->preview_period_ns, memory_order_relaxed);
	/* a tenth early, so frames at exactly the asked rate are not skipped for jitter */
	if (!period || now_ns - v->preview_last_ns < period - period / 10)
		return;
	struct srv_snapshot s = { .seq = frame->sequence };
	int r = cap_frame_jpeg(v->capture_decoder, frame, 0, VIEW_JPEG_QUALITY, &s.jpeg, &s.len,
			       &s.width, &s.height);
	if (r < 0) {
		if (v->preview_failures++ == 0)
			log_warning("preview: cannot make a JPEG of frame %llu: %s",
				    (unsigned long long)frame->sequence, cap_strerror(r));
		return;
	}
	v->preview_failures = 0;
	v->preview_last_ns = now_ns;
	srv_publish_preview(srv, &s);
}
