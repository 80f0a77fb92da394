/* hub.h — the newest camera frame for every /stream.mjpg viewer, fed by one daemon connection.
 *
 * Contract
 * - One feeder thread (started by hub_new, stopped by hub_free) holds one connection to the
 *   daemon while at least one viewer is registered, and none while nobody watches: the daemon
 *   does no preview work for an idle page. It asks for `preview` frames at the configured rate
 *   (or, from a daemon without `preview`, polls `snapshot` at that rate).
 * - Only the newest frame is kept. Viewers call hub_next() with the generation they last sent
 *   and get the newest frame (a counted reference, web_frame_unref() when done); a viewer that
 *   is slower than the feed skips the frames in between (counted in hub_stats). Memory: one
 *   frame per viewer at most, plus the newest one.
 * - Thread-safe: every function but hub_new/hub_free may be called from any thread.
 * - Errors: hub_new returns 0 or a negative errno; the feeder logs daemon trouble once per
 *   outage and retries every second. */
#ifndef CAMCLASS_WEB_HUB_H
#define CAMCLASS_WEB_HUB_H

#include <stddef.h>
#include <stdint.h>

struct web_frame {
	uint64_t seq;           /* the daemon's result seq of this frame */
	unsigned width, height; /* 0 when the daemon did not say */
	size_t len;
	unsigned refs;          /* atomic */
	uint8_t jpeg[];
};

struct web_hub_stats {
	unsigned viewers;
	uint64_t frames_in;           /* frames the feeder got from the daemon */
	uint64_t frames_skipped_slow; /* frames viewers skipped because they read slowly */
	int daemon_connected;
	int preview_supported;        /* 1 preview, 0 snapshot polling, -1 not known yet */
};

struct web_hub;

int hub_new(const char *socket_path, unsigned fps, struct web_hub **ret);
void hub_free(struct web_hub *h);

void hub_viewer_add(struct web_hub *h);
void hub_viewer_remove(struct web_hub *h);
/* The newest frame of a generation after *gen (then *gen is updated), waiting up to
 * timeout_ms; NULL on timeout or when the hub stops. */
struct web_frame *hub_next(struct web_hub *h, uint64_t *gen, int timeout_ms);
void web_frame_unref(struct web_frame *f);
void hub_get_stats(struct web_hub *h, struct web_hub_stats *ret);

#endif
