/* hooks.c — what the IPC server asks the pipeline (hello, status, classify, snapshot, demand),
 * all on the main thread from inside srv_dispatch. They read shared state under stats_lock or
 * atomically and never wait for the camera, so a stuck camera never stalls the clients. */
#include <turbojpeg.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/health.h"
#include "daemon/pipeline_internal.h"
#include "lib/clock.h"
#include "lib/log.h"

static const char *const camera_state_names[] = { "stopped", "starting", "streaming",
						  "disconnected" };

/* --- hooks (main thread, called from srv_dispatch) ----------------------------------------- */

const char *camera_state_name(struct pipeline *pl)
{
	return camera_state_names[atomic_load(&pl->cam_state)];
}

static int hook_hello(void *userdata, struct srv_hello *ret)
{
	struct pipeline *pl = userdata;
	const struct eng_tensor_info *in = clf_input(pl->model);
	*ret = (struct srv_hello){ .model = clf_name(pl->model), .input_dims = (unsigned)in->ndim,
				   .label_count = (unsigned)clf_class_count(pl->model),
				   .camera_state = camera_state_name(pl) };
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
		.camera_state = camera_state_name(pl),
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
	ret->frames_skipped = cap_slot_skipped(pl->slot) + pl->frames_rate_skipped;
	ret->frames_corrupt = pl->frames_corrupt;
	ret->capture_to_result = ring_stat(&pl->lat_c2r);
	ret->decode = ring_stat(&pl->lat_decode);
	ret->preprocess = ring_stat(&pl->lat_prep);
	ret->inference = ring_stat(&pl->lat_infer);
	pthread_mutex_unlock(&pl->stats_lock);
	return 0;
}

void set_wanted(struct pipeline *pl, bool wanted)
{
	pthread_mutex_lock(&pl->cam_lock);
	if (pl->wanted != wanted) {
		pl->wanted = wanted;
		if (!wanted && pl->source)
			cap_stop(pl->source);
		pthread_cond_broadcast(&pl->cam_cond);
	}
	pthread_mutex_unlock(&pl->cam_lock);
}

static int hook_classify(void *userdata)
{
	struct pipeline *pl = userdata;
	set_wanted(pl, true); /* demand_changed follows; this makes it immediate */
	return 0;
}

static void hook_demand_changed(void *userdata, unsigned subscribers, unsigned classify_pending)
{
	struct pipeline *pl = userdata;
	if (pl->mode == CONFIG_MODE_ON_DEMAND)
		set_wanted(pl, subscribers + classify_pending > 0);
}

static int hook_snapshot(void *userdata, uint8_t **ret_jpeg, size_t *ret_len, uint64_t *ret_seq)
{
	struct pipeline *pl = userdata;
	unsigned char *jpeg = NULL;
	unsigned long jpeg_len = 0;
	int r = 0;
	tjhandle tj = tjInitCompress();

	if (!tj)
		return -ENOMEM;
	pthread_mutex_lock(&pl->stats_lock);
	if (!pl->snap_seq) {
		r = -ENODATA;
	} else if (tjCompress2(tj, pl->snap_pixels, pl->snap_w, pl->snap_w * pl->snap_channels,
			       pl->snap_h, pl->snap_channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg,
			       &jpeg_len, pl->snap_channels == 1 ? TJSAMP_GRAY : TJSAMP_420,
			       SNAPSHOT_QUALITY, 0) != 0) {
		log_error("snapshot: JPEG encoding failed: %s", tjGetErrorStr2(tj));
		r = -EIO;
	} else {
		*ret_seq = pl->snap_seq;
	}
	pthread_mutex_unlock(&pl->stats_lock);
	tjDestroy(tj);
	if (r < 0) {
		tjFree(jpeg);
		return r;
	}
	/* the server frees with free(); turbojpeg's buffer must go through tjFree() */
	uint8_t *copy = malloc(jpeg_len);
	if (!copy) {
		tjFree(jpeg);
		return -ENOMEM;
	}
	memcpy(copy, jpeg, jpeg_len);
	tjFree(jpeg);
	*ret_jpeg = copy;
	*ret_len = jpeg_len;
	return 0;
}

void pl_hooks(struct pipeline *pl, struct srv_hooks *ret_hooks)
{
	*ret_hooks = (struct srv_hooks){
		.userdata = pl,
		.hello = hook_hello,
		.status = hook_status,
		.classify = hook_classify,
		.snapshot = hook_snapshot,
		.demand_changed = hook_demand_changed,
	};
}

