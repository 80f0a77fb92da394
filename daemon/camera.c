/* camera.c — the camera as the main thread sees it: the [camera] settings it hands to the
 * capture thread (and the previous ones, kept until the new ones proved themselves), whether
 * the camera is wanted at all (on-demand mode), and its state for status and hello.
 *
 * Apart from pipeline.c (lifecycle, reload) and hooks.c (the server's questions) so that both
 * call down into one place instead of into each other. Locks: cam_lock guards the settings,
 * `wanted` and the source pointer (see pipeline_internal.h); the state is an atomic, written by
 * the capture thread and read without waiting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pipeline_internal.h"

void pl_camera_settings_free(struct camera_settings *s)
{
	free(s->device);
	free(s->file);
	s->device = s->file = NULL;
}

int pl_camera_settings_from(const struct config *cfg, struct camera_settings *ret)
{
	struct camera_settings s = { 0 };
	s.device = strdup(cfg->camera.device);
	s.file = strdup(cfg->camera.file);
	if (!s.device || !s.file) {
		pl_camera_settings_free(&s);
		return -ENOMEM;
	}
	memcpy(s.controls, cfg->camera.controls, sizeof(s.controls));
	s.cap = (struct cap_config){
		.kind = cfg->camera.source,
		.device = s.device,
		.path = s.file,
		.format = cfg->camera.format,
		.width = cfg->camera.width,
		.height = cfg->camera.height,
		.fps = cfg->camera.fps,
		.n_controls = cfg->camera.n_controls,
	};
	*ret = s;
	return 0;
}

/* Fix the internal pointers after the struct was copied into its final place. */
void pl_camera_settings_link(struct camera_settings *s)
{
	s->cap.controls = s->controls;
	s->cap.device = s->device;
	s->cap.path = s->file;
}

/* Reload rollback (cam_lock held): the settings before the last camera change, kept until the
 * new ones delivered a frame. A camera reload whose first open fails with a config error (what
 * only the device can tell, e.g. a V4L2 control it lacks) goes back to them. */
void pl_camera_proven(struct pipeline *pl)
{
	if (!pl->cam_unproven)
		return;
	pl->cam_unproven = false;
	pl_camera_settings_free(&pl->cam_prev);
}

bool pl_camera_revert(struct pipeline *pl)
{
	if (!pl->cam_unproven)
		return false;
	pl_camera_settings_free(&pl->cam);
	pl->cam = pl->cam_prev;
	pl_camera_settings_link(&pl->cam);
	memset(&pl->cam_prev, 0, sizeof(pl->cam_prev));
	pl->cam_unproven = false;
	pl->reopen_req = true;
	return true;
}

int pl_camera_probe(const struct config *cfg, char *err, size_t errlen)
{
	struct camera_settings cam;
	int r = pl_camera_settings_from(cfg, &cam);
	if (r < 0) {
		snprintf(err, errlen, "camera: out of memory");
		return r;
	}
	pl_camera_settings_link(&cam);
	char why[256];
	r = cap_probe(&cam.cap, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "camera: %s", why);
	pl_camera_settings_free(&cam);
	return r;
}

bool pl_camera_settings_equal(const struct camera_settings *a, const struct camera_settings *b)
{
	if (a->cap.kind != b->cap.kind || a->cap.format != b->cap.format ||
	    a->cap.width != b->cap.width || a->cap.height != b->cap.height ||
	    a->cap.fps != b->cap.fps || a->cap.n_controls != b->cap.n_controls ||
	    strcmp(a->device, b->device) != 0 || strcmp(a->file, b->file) != 0)
		return false;
	for (size_t i = 0; i < a->cap.n_controls; i++)
		if (strcmp(a->controls[i].name, b->controls[i].name) != 0 ||
		    a->controls[i].value != b->controls[i].value)
			return false;
	return true;
}

static const char *const camera_state_names[] = {
	[CAM_IDLE] = "stopped", [CAM_STARTING] = "starting", [CAM_STREAMING] = "streaming",
	[CAM_DISCONNECTED] = "disconnected",
};

void pl_set_cam_state(struct pipeline *pl, enum camera_state st)
{
	atomic_store(&pl->cam_state, st);
}

const char *pl_camera_state_name(struct pipeline *pl)
{
	return camera_state_names[atomic_load(&pl->cam_state)];
}

void pl_set_wanted(struct pipeline *pl, bool wanted)
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
