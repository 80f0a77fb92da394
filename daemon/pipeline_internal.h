/* pipeline_internal.h — what the pipeline's files share (daemon/pipeline.c, camera.c,
 * capture_thread.c, classify_thread.c, hooks.c); nothing outside daemon/ includes it. Which
 * lock guards which field is written beside the field; see pipeline.c for why the threads are
 * split this way. */
#ifndef CAMCLASS_DAEMON_PIPELINE_INTERNAL_H
#define CAMCLASS_DAEMON_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "daemon/classifier.h"
#include "daemon/debounce.h"
#include "daemon/pipeline.h"
#include "daemon/postproc.h"
#include "daemon/view.h"
#include "lib/clock.h"

#define NEXT_TIMEOUT_MS 500      /* cap_next wait: the capture loop turns at least this often */
#define TAKE_TIMEOUT_MS 200      /* cap_slot_take wait: bounds how long a reload pause waits */
#define LATENCY_SAMPLES 256
#define SNAPSHOT_QUALITY 90
#define CLASSIFY_STALL_NS (30 * NS_PER_SEC) /* a slow model on a Pi takes ~1 s */
#define RATE_WINDOW_NS (3 * NS_PER_SEC)
#define CORRUPT_LOG_INTERVAL_NS (10 * NS_PER_SEC) /* bad-frame warnings at most this often */

enum camera_state { CAM_IDLE, CAM_STARTING, CAM_STREAMING, CAM_DISCONNECTED };

/* The camera part of the config, owned by the pipeline (cap_config points into it). */
struct camera_settings {
	struct cap_control controls[CAP_MAX_CONTROLS];
	struct cap_config cap;
	char *device, *file;
};

struct latency_ring {
	double ms[LATENCY_SAMPLES];
	size_t n, next;
};

struct pipeline {
	struct health *health;
	struct server *srv;
	int event_fd;

	/* capture thread */
	pthread_t cap_thread;
	bool cap_started;
	pthread_mutex_t cam_lock;
	pthread_cond_t cam_cond;
	struct cap_source *source;   /* capture thread writes, under cam_lock */
	struct camera_settings cam;  /* under cam_lock */
	struct camera_settings cam_prev; /* under cam_lock: before the last reload, while unproven */
	bool cam_unproven;           /* under cam_lock: cam came from a reload, no frame yet */
	bool reopen_req, stopping, wanted; /* under cam_lock */
	_Atomic int cam_state;       /* enum camera_state; atomic: the main loop never waits */
	struct cap_slot *slot;

	/* classify thread */
	pthread_t cl_thread;
	bool cl_started;
	pthread_mutex_t cl_lock;
	pthread_cond_t cl_cond;
	bool pause_req, paused, classify_stopping; /* under cl_lock */
	struct classifier *model;    /* classify thread uses; swapped only while paused */
	struct postproc pp;
	uint64_t min_interval_ns;    /* from [classify] rate */
	struct teach *teach;         /* NULL, or live teaching: offered each classified input */
	uint64_t seq;
	uint64_t corrupt_burst;       /* undecodable frames in a row (classify thread) */
	struct debounce debounce;     /* classify thread; reset while paused (reload) */
	struct roi roi;               /* [model] roi: classify thread reads; set while paused */
	double state_threshold;       /* [classify] threshold for the state; set while paused */
	uint64_t corrupt_logged_ns;   /* when a bad frame was last logged (classify thread) */
	bool corrupt_burst_logged;    /* this run's first frame was logged (classify thread) */

	/* settings read by the hooks (main thread only) */
	enum config_mode mode;
	int threads;
	double threshold;            /* [classify] threshold: the status line's "last:" */
	char *device_desc;           /* for status */

	/* shared with the hooks and pl_tick, under stats_lock */
	pthread_mutex_t stats_lock;
	struct srv_result last;      /* valid when last.seq != 0 */
	struct debounce state;       /* copy of debounce for status */
	uint8_t *snap_pixels;        /* the decoded picture; a YUYV/NV12 frame's own bytes when
				      * snap_raw (decoded when a snapshot asks: hooks.c) */
	bool snap_raw;
	struct cap_frame snap_frame; /* snap_raw: the frame's geometry (its data is snap_pixels) */
	int snap_w, snap_h, snap_channels;
	size_t snap_cap;
	uint64_t snap_seq;
	struct pl_view *view;        /* camera-view snapshots and previews (own lock) */
	struct latency_ring lat_c2r, lat_decode, lat_prep, lat_infer;
	uint64_t frames_in, results_out, frames_corrupt, frames_rate_skipped;
	uint64_t camera_reconnects;  /* capture thread counts, status reads */
	char format[64];             /* "yuyv 640x480" as negotiated, for status */
	char fail_msg[256];
	bool failed;
	char frame_error[CAP_ORIGIN_BYTES + 200]; /* last undecodable frame and why; "" none yet */

	/* main thread: rates for status */
	uint64_t tick_ns, tick_frames_in, tick_results_out;
	double fps_in, fps_out;
	uint64_t start_ns;
};

/* pipeline.c */
void pl_set_failed(struct pipeline *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pl_ring_add(struct latency_ring *r, double ms);
struct srv_latency_stat pl_ring_stat(const struct latency_ring *r);
/* camera.c: settings (copied from the config; link after moving the struct), state, demand */
int pl_camera_settings_from(const struct config *cfg, struct camera_settings *ret);
void pl_camera_settings_link(struct camera_settings *s);
bool pl_camera_settings_equal(const struct camera_settings *a, const struct camera_settings *b);
void pl_camera_settings_free(struct camera_settings *s);
void pl_camera_proven(struct pipeline *pl);   /* cam_lock held */
bool pl_camera_revert(struct pipeline *pl);   /* cam_lock held; false: nothing to go back to */
void pl_set_cam_state(struct pipeline *pl, enum camera_state st);
const char *pl_camera_state_name(struct pipeline *pl);
void pl_set_wanted(struct pipeline *pl, bool wanted);
/* capture_thread.c, classify_thread.c: the thread functions (arg: the pipeline) */
void *pl_capture_main(void *arg);
void *pl_classify_main(void *arg);
/* classify_thread.c: the state's label ("unknown" for DEBOUNCE_UNKNOWN; model labels are
 * read by the classify thread, or while it is paused); a monotonic time as Unix seconds */
const char *pl_state_label(const struct pipeline *pl, int32_t state);
double pl_mono_to_unix_s(uint64_t mono_ns);

#endif
