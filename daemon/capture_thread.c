/* capture_thread.c — the capture thread: keep the camera open while frames are wanted, put
 * each frame into the newest-frame slot, report disconnects and reconnects to clients.
 *
 * It owns the cap_source: other threads only call cap_stop() on it, under cam_lock, to wake it
 * (shutdown, on-demand stop, new camera settings); the thread then closes the source itself
 * and decides under the lock whether to open a new one. cap_next() returns at least every
 * NEXT_TIMEOUT_MS, also during the camera's back-off, so health sees the loop turn. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/health.h"
#include "daemon/pipeline_internal.h"
#include "lib/clock.h"
#include "lib/log.h"

/* --- capture thread ------------------------------------------------------------------------- */

/* What the device gave, kept for the status hook (which must not touch the source). */
static void remember_format(struct pipeline *pl, struct cap_source *src)
{
	enum cap_pixfmt fmt;
	int w, h, fps;
	char buf[sizeof(pl->format)] = "";
	if (cap_negotiated(src, &fmt, &w, &h, &fps) == 0)
		snprintf(buf, sizeof(buf), "%s %dx%d", cap_format_name(fmt), w, h);
	pthread_mutex_lock(&pl->stats_lock);
	memcpy(pl->format, buf, sizeof(buf));
	pthread_mutex_unlock(&pl->stats_lock);
}

/* camera_connected {device, format} / camera_disconnected {device, reason}: what the README
 * promises; the device string lives under cam_lock (a reload may change it). */
static void camera_event(struct pipeline *pl, const char *name, const char *key, const char *value)
{
	pthread_mutex_lock(&pl->cam_lock);
	json_t *extra = json_pack("{s:s, s:s}", "device",
				  pl->cam.cap.kind == CAP_SOURCE_FILE ? pl->cam.file : pl->cam.device,
				  key, value);
	pthread_mutex_unlock(&pl->cam_lock);
	if (!extra) {
		log_error("out of memory for the %s event", name);
		return;
	}
	srv_publish_event(pl->srv, name, extra);
}

/* Returns with cam_lock held and either pl->stopping or a source to read from. */
static void capture_wait_for_work(struct pipeline *pl)
{
	char err[256];
	for (;;) {
		if (pl->stopping)
			return;
		if (pl->source && (pl->reopen_req || !pl->wanted)) {
			cap_close(pl->source);
			pl->source = NULL;
			if (!pl->wanted) {
				log_info("camera stopped (no demand)");
				pl_set_cam_state(pl, CAM_IDLE);
			}
		}
		if (pl->source)
			return;
		if (!pl->wanted) {
			health_idle(pl->health, mono_now_ns());
			pthread_cond_wait(&pl->cam_cond, &pl->cam_lock);
			continue;
		}
		pl->reopen_req = false;
		int r = cap_open(&pl->cam.cap, &pl->source, err, sizeof(err));
		if (r < 0 && pl_camera_revert(pl)) {
			log_error("reload rejected: camera: %s; back to the previous camera settings", err);
			continue;
		}
		if (r < 0) {
			pl->stopping = true;
			pthread_mutex_unlock(&pl->cam_lock);
			pl_set_failed(pl, "camera: %s", err);
			pthread_mutex_lock(&pl->cam_lock);
			return;
		}
		pl_set_cam_state(pl, CAM_STARTING);
		health_streaming(pl->health, mono_now_ns());
		log_info("camera started (%s)",
			 pl->cam.cap.kind == CAP_SOURCE_FILE ? pl->cam.file : pl->cam.device);
	}
}

void *pl_capture_main(void *arg)
{
	struct pipeline *pl = arg;
	bool disconnected = false;

	pthread_setname_np(pthread_self(), "capture"); /* for top -H, and the watchdog test */
	uint64_t corrupt_burst = 0; /* bad frames in a row: logged once per burst */

	for (;;) {
		pthread_mutex_lock(&pl->cam_lock);
		capture_wait_for_work(pl);
		struct cap_source *src = pl->source;
		bool stop = pl->stopping;
		pthread_mutex_unlock(&pl->cam_lock);
		if (stop)
			break;

		struct cap_frame frame;
		int r = cap_next(src, NEXT_TIMEOUT_MS, &frame);
		uint64_t now = mono_now_ns();
		switch (r) {
		case 0:
			health_frame(pl->health, now);
			pthread_mutex_lock(&pl->cam_lock);
			if (pl->source == src)
				pl_camera_proven(pl);  /* a reload's camera settings work */
			pthread_mutex_unlock(&pl->cam_lock);
			corrupt_burst = 0;
			if (disconnected) {
				disconnected = false;
				log_info("camera connected again");
				remember_format(pl, src);
				char format[sizeof(pl->format)];
				pthread_mutex_lock(&pl->stats_lock);
				memcpy(format, pl->format, sizeof(format));
				pthread_mutex_unlock(&pl->stats_lock);
				camera_event(pl, "camera_connected", "format", format);
			} else if (atomic_load(&pl->cam_state) != CAM_STREAMING) {
				remember_format(pl, src);
			}
			pl_set_cam_state(pl, CAM_STREAMING);
			r = cap_slot_put(pl->slot, &frame);
			cap_release(src, &frame);
			pthread_mutex_lock(&pl->stats_lock);
			pl->frames_in++;
			pthread_mutex_unlock(&pl->stats_lock);
			if (r < 0 && r != CAP_ERR_STOPPED) /* STOPPED: shutting down */
				log_errno(LOG_WARNING, r, "frame dropped");
			break;
		case CAP_ERR_TIMEOUT:
			break; /* still streaming: health judges by the last frame */
		case CAP_ERR_DISCONNECTED:
			health_backoff(pl->health, now);
			if (!disconnected) {
				disconnected = true;
				log_warning("camera disconnected: %s; retrying", cap_last_error(src));
				camera_event(pl, "camera_disconnected", "reason", cap_last_error(src));
			}
			pl_set_cam_state(pl, CAM_DISCONNECTED);
			break;
		case CAP_ERR_CORRUPT:
			pthread_mutex_lock(&pl->stats_lock);
			pl->frames_corrupt++;
			pthread_mutex_unlock(&pl->stats_lock);
			if (corrupt_burst++ == 0)
				log_warning("camera: frame skipped: %s (further ones counted as frames_corrupt)",
					    cap_last_error(src));
			break;
		case CAP_ERR_STOPPED:
			pthread_mutex_lock(&pl->cam_lock);
			if (pl->source == src && !pl->stopping && pl->wanted)
				pl->reopen_req = true; /* woken for a reconfiguration */
			pthread_mutex_unlock(&pl->cam_lock);
			break;
		default:
			if (cap_error_is_config(r)) {
				pthread_mutex_lock(&pl->cam_lock);
				bool reverted = pl->source == src && pl_camera_revert(pl);
				pthread_mutex_unlock(&pl->cam_lock);
				if (reverted) {
					log_error("reload rejected: camera: %s; back to the previous camera "
						  "settings", cap_last_error(src));
					break;
				}
				pl_set_failed(pl, "camera: %s", cap_last_error(src));
				pthread_mutex_lock(&pl->cam_lock);
				pl->stopping = true;
				pthread_mutex_unlock(&pl->cam_lock);
			} else {
				log_errno(LOG_WARNING, r, "camera: %s", cap_last_error(src));
				health_backoff(pl->health, now);
			}
			break;
		}
	}
	pthread_mutex_lock(&pl->cam_lock);
	if (pl->source) {
		cap_close(pl->source);
		pl->source = NULL;
	}
	pl_set_cam_state(pl, CAM_IDLE);
	pthread_mutex_unlock(&pl->cam_lock);
	cap_slot_close(pl->slot);
	return NULL;
}

