/* stream.c — /stream.mjpg: multipart/x-mixed-replace JPEG parts from the hub (stream.h).
 *
 * Why it is built this way: each viewer runs on its own libmicrohttpd connection thread, so
 * the content callback may block in hub_next() until a frame newer than the last one it sent
 * exists; it then always takes the newest, so a slow viewer skips frames (counted by the hub)
 * and holds at most one frame. Each part is "--BOUNDARY", Content-Type, Content-Length and an
 * X-Camclass-Seq header, a blank line, the JPEG and CRLF — what browsers, ffmpeg and Home
 * Assistant's MJPEG camera read. The callback checks the server's stop flag at least twice
 * a second so shutdown never waits for a frame. */
#include "tools/web/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARY "camclassframe"
#define STREAM_BLOCK_BYTES (16u * 1024u)

struct stream {
	struct web_hub *hub;
	atomic_int *stopping;
	struct web_frame *frame; /* being sent; NULL between frames */
	uint64_t gen;
	size_t pos;              /* bytes of head + jpeg + tail already given to MHD */
	char head[160];
	size_t head_len;
};

static ssize_t stream_read(void *cls, uint64_t offset, char *buf, size_t max)
{
	struct stream *st = cls;
	static const char tail[] = "\r\n";
	(void)offset;
	while (!st->frame) {
		if (atomic_load(st->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		st->frame = hub_next(st->hub, &st->gen, 500);
		if (st->frame) {
			int n = snprintf(st->head, sizeof(st->head),
					 "--" BOUNDARY "\r\nContent-Type: image/jpeg\r\n"
					 "Content-Length: %zu\r\nX-Camclass-Seq: %llu\r\n\r\n",
					 st->frame->len, (unsigned long long)st->frame->seq);
			st->head_len = (size_t)n;
			st->pos = 0;
		}
	}
	size_t total = st->head_len + st->frame->len + 2, done = 0;
	while (done < max && st->pos < total) {
		const char *src;
		size_t avail;
		if (st->pos < st->head_len) {
			src = st->head + st->pos;
			avail = st->head_len - st->pos;
		} else if (st->pos < st->head_len + st->frame->len) {
			src = (const char *)st->frame->jpeg + (st->pos - st->head_len);
			avail = st->head_len + st->frame->len - st->pos;
		} else {
			src = tail + (st->pos - st->head_len - st->frame->len);
			avail = total - st->pos;
		}
		size_t n = avail < max - done ? avail : max - done;
		memcpy(buf + done, src, n);
		done += n;
		st->pos += n;
	}
	if (st->pos == total) {
		web_frame_unref(st->frame);
		st->frame = NULL;
	}
	return (ssize_t)done;
}

static void stream_done(void *cls)
{
	struct stream *st = cls;
	web_frame_unref(st->frame);
	hub_viewer_remove(st->hub);
	free(st);
}

struct MHD_Response *stream_response(struct web_hub *hub, atomic_int *stopping)
{
	struct stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->hub = hub;
	st->stopping = stopping;
	hub_viewer_add(hub);
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, STREAM_BLOCK_BYTES, stream_read, st, stream_done);
	if (!resp) {
		stream_done(st);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"multipart/x-mixed-replace; boundary=" BOUNDARY);
	return resp;
}
