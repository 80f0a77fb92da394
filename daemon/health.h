/* health.h — is the pipeline alive? The watchdog's only source of truth.
 *
 * The capture and classify threads record what they do as CLOCK_MONOTONIC timestamps (mono_now_ns(), lib/clock.h) (atomic
 * stores, no locks, callable from any thread); the main loop asks health_check() on its
 * watchdog timer and sends WATCHDOG=1 only when it says healthy. A blind timer would keep a
 * daemon with a wedged camera thread alive forever; this way systemd restarts it.
 *
 * Healthy means all of:
 * - camera STREAMING: a frame arrived within frame_stall_ns;
 *   camera BACKOFF (reconnecting): the capture loop turned within loop_stall_ns;
 *   camera IDLE (stopped on purpose, on-demand mode with nobody asking): nothing to check;
 * - the classify thread is not stuck inside one frame for longer than classify_stall_ns;
 * - frames are being classified, not only arriving: while STREAMING, frames the classify
 *   thread took must not all have failed to decode for longer than frame_stall_ns (the same
 *   window as "no frame"). Frames skipped by the rate limit are not attempts. */
#ifndef CAMCLASS_DAEMON_HEALTH_H
#define CAMCLASS_DAEMON_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define HEALTH_UNDECODABLE "frames arrive but none can be decoded" /* a health_check reason */

enum health_camera { HEALTH_CAMERA_IDLE, HEALTH_CAMERA_STREAMING, HEALTH_CAMERA_BACKOFF };

struct health {
	_Atomic int camera;                 /* enum health_camera */
	_Atomic uint64_t last_frame_ns;     /* last frame, or the moment streaming (re)started */
	_Atomic uint64_t capture_turn_ns;   /* last time the capture loop came round */
	_Atomic uint64_t classify_since_ns; /* classify started on a frame; 0 = waiting */
	_Atomic uint64_t failing_since_ns;  /* first of an unbroken run of undecodable frames; 0 = the
					     * last frame decoded (or none tried since streaming began) */
};

struct health_limits {
	uint64_t frame_stall_ns;
	uint64_t loop_stall_ns;
	uint64_t classify_stall_ns;
};

void health_init(struct health *h, uint64_t now_ns);       /* IDLE, nothing pending */

/* Capture thread. */
void health_streaming(struct health *h, uint64_t now_ns);  /* (re)started: grace from now */
void health_frame(struct health *h, uint64_t now_ns);      /* a frame arrived */
void health_backoff(struct health *h, uint64_t now_ns);    /* loop turned, camera reconnecting */
void health_idle(struct health *h, uint64_t now_ns);       /* camera stopped on purpose */

/* Classify thread. */
void health_classify_begin(struct health *h, uint64_t now_ns);
void health_classify_end(struct health *h);
void health_decoded(struct health *h);                     /* the frame decoded */
void health_undecodable(struct health *h, uint64_t now_ns); /* the frame could not be decoded */

/* Main loop: true when healthy; otherwise *ret_reason (if not NULL) says why, for the log. */
bool health_check(const struct health *h, const struct health_limits *lim, uint64_t now_ns,
		  const char **ret_reason);

#endif
