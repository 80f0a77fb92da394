/* preview.c — the `preview` request: JPEG frames of the camera's picture pushed to the clients
 * that asked, each at its own rate (the web page's live view).
 *
 * Why it is built this way:
 * - The frame comes from the capture thread through the mailbox's lock (newest wins, like
 *   results), so the capture thread never waits for clients; it makes a JPEG only while
 *   hooks.preview_changed says someone watches, which is what makes an unwatched preview free.
 * - A frame is serialized once and the same line is queued to every due client. A client whose
 *   queue already holds more than SRV_CLIENT_RESULT_QUEUE_BYTES is skipped for this frame
 *   (counted, reported as "skipped" on the next frame it gets): a slow reader sees fewer
 *   frames, never older ones, and never makes the daemon hold many frames for it.
 * - Pacing per client uses the frame's arrival time, so a client asking for 2 fps from a
 *   15 fps camera gets about every 7th frame; the daemon encodes at most at the highest rate
 *   any client asks for. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "ipc/server_internal.h"

void srv_publish_preview(struct server *srv, struct srv_snapshot *frame)
{
	struct mailbox *mb = &srv->mailbox;
	uint8_t *old;
	uint64_t one = 1;

	pthread_mutex_lock(&mb->lock);
	old = mb->preview.jpeg;
	mb->preview = *frame;
	pthread_mutex_unlock(&mb->lock);
	free(old);
	frame->jpeg = NULL;
	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("eventfd write: %m");
}

/* Tells the daemon the highest rate anyone asks for now (0: nobody watches). */
static void update_max_fps(struct server *srv)
{
	double max_fps = 0;
	for (struct client *c = srv->clients; c; c = c->next)
		if (!c->dead && c->preview_fps > max_fps)
			max_fps = c->preview_fps;
	if (max_fps == srv->preview_max_fps)
		return;
	srv->preview_max_fps = max_fps;
	if (srv->hooks.preview_changed)
		srv->hooks.preview_changed(srv->hooks.userdata, max_fps);
}

void srv_preview_request(struct server *srv, struct client *c, const struct proto_request *q)
{
	json_t *msg;
	c->preview_fps = q->preview_fps;
	c->preview_next_ns = 0;
	c->preview_skipped = 0;
	if (q->preview_fps > 0)
		msg = json_pack("{s:s, s:f}", "type", "preview_started", "fps", q->preview_fps);
	else
		msg = json_pack("{s:s}", "type", "preview_stopped");
	if (msg && q->id && json_object_set(msg, "id", q->id) < 0) {
		json_decref(msg);
		msg = NULL;
	}
	if (msg)
		srv_enqueue(srv, c, msg, false);
	json_decref(msg);
	update_max_fps(srv);
}

void srv_preview_forget(struct server *srv, struct client *c)
{
	if (c->preview_fps > 0) {
		c->preview_fps = 0;
		update_max_fps(srv);
	}
}

void srv_preview_drain(struct server *srv)
{
	struct srv_snapshot frame;
	char *line = NULL;
	size_t len = 0;

	pthread_mutex_lock(&srv->mailbox.lock);
	frame = srv->mailbox.preview;
	srv->mailbox.preview.jpeg = NULL;
	pthread_mutex_unlock(&srv->mailbox.lock);
	if (!frame.jpeg)
		return;
	uint64_t now = mono_now_ns();
	for (struct client *c = srv->clients; c; c = c->next) {
		if (c->dead || c->preview_fps <= 0 || now < c->preview_next_ns)
			continue;
		if (c->out_bytes > SRV_CLIENT_RESULT_QUEUE_BYTES) {
			c->preview_skipped++;
			continue;
		}
		uint64_t period_ns = (uint64_t)llround(1e9 / c->preview_fps);
		/* a tenth early: frames arriving with jitter at exactly the asked rate all go out */
		c->preview_next_ns = now + period_ns - period_ns / 10;
		if (c->preview_skipped) {
			/* rare: this client's line carries its own count */
			json_t *msg = proto_snapshot(&frame, "preview", NULL);
			if (msg && json_object_set_new(msg, "skipped",
						       json_integer((json_int_t)c->preview_skipped)) == 0)
				srv_enqueue(srv, c, msg, false);
			json_decref(msg);
			c->preview_skipped = 0;
			continue;
		}
		if (!line) {
			json_t *msg = proto_snapshot(&frame, "preview", NULL);
			line = msg ? proto_serialize(msg, &len) : NULL;
			json_decref(msg);
			if (!line)
				break; /* out of memory: this frame is lost for everyone */
		}
		srv_enqueue_line(srv, c, line, len, false);
	}
	free(line);
	free(frame.jpeg);
}
