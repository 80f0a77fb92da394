/* hooks.c — what the IPC server asks the pipeline (hello, status, classify, snapshot, demand),
 * all on the main thread from inside srv_dispatch. They read shared state under stats_lock or
 * atomically and never wait for the camera, so a stuck camera never stalls the clients. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/health.h"
#include "daemon/pipeline_internal.h"
#include "lib/clock.h"
#include "lib/log.h"

/* --- hooks (main thread, called from srv_dispatch) ----------------------------------------- */

static int hook_hello(void *userdata, struct srv_hello *ret)
{
	struct pipeline *pl = userdata;
	const struct eng_tensor_info *in = clf_input(pl->model);
	*ret = (struct srv_hello){ .model = clf_name(pl->model), .input_dims = (unsigned)in->ndim,
				   .label_count = (unsigned)clf_class_count(pl->model),
				   .camera_state = pl_camera_state_name(pl) };
	for (int i = 0; i < in->ndim && i < 4; i++)
		ret->input_shape[i] = (unsigned)in->dims[i];
	return 0;
}

static int hook_status(void *userdata, struct srv_status *ret)
{
	struct pipeline *pl = userdata;
	static char format[sizeof(pl->format)];
	static char health[sizeof(pl->frame_error) + 64];
	struct health_limits limits;
	const char *why = NULL;

	pl_health_limits(pl, &limits);
	if (health_check(pl->health, &limits, mono_now_ns(), &why))
		snprintf(health, sizeof(health), "ok");
	else
		pl_health_reason(pl, why, health, sizeof(health));

	pthread_mutex_lock(&pl->stats_lock);
	memcpy(format, pl->format, sizeof(format));
	pthread_mutex_unlock(&pl->stats_lock);
	*ret = (struct srv_status){
		.camera_state = pl_camera_state_name(pl),
		.device = pl->device_desc,
		.format = format,
		.fps_in = pl->fps_in,
		.fps_out = pl->fps_out,
		.model = clf_name(pl->model),
		.backend = eng_backend_name(eng_backend_used(clf_engine(pl->model))),
		.threads = (unsigned)pl->threads,
		.uptime_s = (double)(mono_now_ns() - pl->start_ns) / 1e9,
		.health = health,
	};
	pthread_mutex_lock(&pl->stats_lock);
	ret->frames_skipped = cap_slot_skipped(pl->slot);
	ret->frames_rate_limited = pl->frames_rate_skipped;
	ret->roi[0] = pl->roi.x;
	ret->roi[1] = pl->roi.y;
	ret->roi[2] = pl->roi.w;
	ret->roi[3] = pl->roi.h;
	ret->state = pl_state_label(pl, pl->state.state);
	ret->state_since = pl_mono_to_unix_s(pl->state.since_ns);
	ret->frames_corrupt = pl->frames_corrupt;
	ret->frames_in = pl->frames_in;
	ret->frames_out = pl->results_out;
	ret->camera_reconnects = pl->camera_reconnects;
	ret->capture_to_result = pl_ring_stat(&pl->lat_c2r);
	ret->decode = pl_ring_stat(&pl->lat_decode);
	ret->preprocess = pl_ring_stat(&pl->lat_prep);
	ret->inference = pl_ring_stat(&pl->lat_infer);
	pthread_mutex_unlock(&pl->stats_lock);
	return 0;
}

static int hook_classify(void *userdata)
{
	struct pipeline *pl = userdata;
	pl_set_wanted(pl, true); /* demand_changed follows; this makes it immediate */
	return 0;
}

static void hook_demand_changed(void *userdata, unsigned subscribers, unsigned classify_pending)
{
	struct pipeline *pl = userdata;
	if (pl->mode == CONFIG_MODE_ON_DEMAND)
		pl_set_wanted(pl, subscribers + classify_pending > 0);
}

/* The kept YUYV/NV12 frame, decoded as the classifier's decoder would (its channels), as a
 * JPEG. Under stats_lock. */
static int raw_snapshot(struct pipeline *pl, struct srv_snapshot *ret, char *err, size_t errlen)
{
	struct cap_decoder *d;
	struct cap_image img;
	struct cap_frame f = pl->snap_frame;
	f.data = pl->snap_pixels;
	const struct cap_prep prep = { .target = { .width = f.width, .height = f.height,
						   .channels = pl->snap_channels } };
	int r = cap_decoder_new(&d);
	if (r < 0) {
		snprintf(err, errlen, "%s", cap_strerror(r));
		return r;
	}
	r = cap_decode(d, &f, &prep, &img);
	if (r < 0)
		snprintf(err, errlen, "%s", cap_decoder_last_error(d));
	else {
		*ret = (struct srv_snapshot){ .seq = pl->snap_seq, .width = img.width,
					      .height = img.height, .view_model = 1 };
		r = cap_encode_jpeg(&img, SNAPSHOT_QUALITY, &ret->jpeg, &ret->len, err, errlen);
	}
	cap_decoder_free(d);
	return r;
}

/* "view":"model": what the classifier saw (after crop and DCT-scaled decode), as kept by the
 * classify thread; otherwise the camera's frame (view.c). */
static int hook_snapshot(void *userdata, const struct srv_snapshot_req *req,
			 struct srv_snapshot *ret)
{
	struct pipeline *pl = userdata;
	char err[256];
	int r = -ENODATA;

	if (!req->view_model)
		return view_snapshot(pl->view, req, ret);
	pthread_mutex_lock(&pl->stats_lock);
	if (pl->snap_seq && pl->snap_raw) {
		r = raw_snapshot(pl, ret, err, sizeof(err));
	} else if (pl->snap_seq) {
		const struct cap_image img = {
			.pixels = pl->snap_pixels, .width = pl->snap_w, .height = pl->snap_h,
			.channels = pl->snap_channels,
			.stride_bytes = (size_t)pl->snap_w * (size_t)pl->snap_channels,
		};
		*ret = (struct srv_snapshot){ .seq = pl->snap_seq, .width = pl->snap_w,
					      .height = pl->snap_h, .view_model = 1 };
		r = cap_encode_jpeg(&img, SNAPSHOT_QUALITY, &ret->jpeg, &ret->len, err, sizeof(err));
	}
	pthread_mutex_unlock(&pl->stats_lock);
	if (r < 0 && r != -ENODATA)
		log_error("snapshot: %s", err);
	return r;
}

static void hook_preview_changed(void *userdata, double max_fps)
{
	struct pipeline *pl = userdata;
	view_set_preview_fps(pl->view, max_fps);
}

void pl_hooks(struct pipeline *pl, struct srv_hooks *ret_hooks)
{
	*ret_hooks = (struct srv_hooks){
		.userdata = pl,
		.hello = hook_hello,
		.status = hook_status,
		.classify = hook_classify,
		.snapshot = hook_snapshot,
		.preview_changed = hook_preview_changed,
		.demand_changed = hook_demand_changed,
	};
}

