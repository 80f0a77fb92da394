/* view.h — the daemon's pictures for clients: the camera's frame of the latest result
 * (`snapshot`) and the live `preview` frames.
 *
 * Contract
 * - view_keep_frame: classify thread, once per classified frame (copies the frame's bytes and
 *   the classifier's decode settings).
 * - view_snapshot: main thread (the snapshot hook); the frame as the camera delivered it
 *   (MJPEG: the camera's own JPEG bytes) or, for raw formats or a smaller size asked for by
 *   max_width/scale, a JPEG made by capture/. -ENODATA before the first classified frame.
 * - view_snapshot_model: main thread; `"view":"model"`, what the classifier saw: the kept frame
 *   decoded again with the kept settings (the same DCT scaling and crop, so the same pixels),
 *   as a JPEG of quality `quality`. Decoding on request instead of keeping a decoded copy of
 *   every frame saves the daemon that copy (230 kB at 320×240, and a memcpy per frame).
 * - view_set_preview_fps: main thread (the preview_changed hook); 0 turns previews off.
 * - view_offer_preview: capture thread, every captured frame; returns at once (one atomic
 *   load) while nobody watches, else makes a JPEG at most at the asked rate and hands it to
 *   srv_publish_preview. Never waits for clients.
 * - Errors: negative errno; view_offer_preview logs a failing frame once per burst. */
#ifndef CAMCLASS_DAEMON_VIEW_H
#define CAMCLASS_DAEMON_VIEW_H

#include <stdint.h>

#include "capture/capture.h"
#include "ipc/server.h"

#define VIEW_JPEG_QUALITY 85

struct pl_view;

int view_new(struct pl_view **ret);
void view_free(struct pl_view *v);

void view_keep_frame(struct pl_view *v, const struct cap_frame *frame, const struct cap_prep *prep,
		     uint64_t seq);
int view_snapshot(struct pl_view *v, const struct srv_snapshot_req *req, struct srv_snapshot *ret);
int view_snapshot_model(struct pl_view *v, int quality, struct srv_snapshot *ret);
void view_set_preview_fps(struct pl_view *v, double fps);
void view_offer_preview(struct pl_view *v, struct server *srv, const struct cap_frame *frame,
			uint64_t now_ns);

#endif
