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

/* "view":"model": what the classifier saw (after crop and DCT-scaled decode), decoded again
 * from the kept frame (view.h); otherwise the camera's frame. */
static int hook_snapshot(void *userdata, const struct srv_snapshot_req *req,
			 struct srv_snapshot *ret)
{
	struct pipeline *pl = userdata;
	if (req->view_model)
		return view_snapshot_model(pl->view, SNAPSHOT_QUALITY, ret);
	return view_snapshot(pl->view, req, ret);
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

