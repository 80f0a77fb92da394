/* hub.c — newest-frame hand-over from one feeder thread to many stream viewers (see hub.h).
 *
 * Why it is built this way: like the daemon's own frame slot, staleness is the bug, not buffer
 * size. The feeder replaces one pointer under a mutex and broadcasts; each viewer takes a
 * reference to whatever is newest when it is ready for more, so a slow phone never makes
 * frames pile up and never delays a fast viewer. The feeder's daemon connection exists only
 * while someone watches (it is closed when the last viewer leaves), which is what makes an
 * unwatched page cost the daemon nothing. */
#include "tools/web/hub.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "ipc/client.h"
#include "ipc/wire.h"

#define FEED_TIMEOUT_MS 5000
#define RETRY_MS 1000

struct web_hub {
	char *socket_path;
	unsigned fps;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* new frame, viewer count changed, stop */
	struct web_frame *newest;
	uint64_t gen;
	struct web_hub_stats stats;
	bool stop;
	pthread_t feeder;
};

void web_frame_unref(struct web_frame *f)
{
	if (f && __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(f);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Publishes a frame from a daemon message ("snapshot" or "preview"); dup seqs are skipped. */
static void publish(struct web_hub *h, const json_t *msg, uint64_t *last_seq)
{
	json_t *data = json_object_get(msg, "data");
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(msg, "seq"));
	uint8_t *raw;
	size_t len;
	if (!json_is_string(data) || seq == *last_seq)
		return;
	if (wire_base64_decode(json_string_value(data), json_string_length(data), &raw, &len) < 0)
		return;
	struct web_frame *f = malloc(sizeof(*f) + len);
	if (!f) {
		free(raw);
		return;
	}
	f->seq = seq;
	json_int_t w = json_integer_value(json_object_get(msg, "width"));
	json_int_t hh = json_integer_value(json_object_get(msg, "height"));
	f->width = w > 0 && w < 65536 ? (unsigned)w : 0;
	f->height = hh > 0 && hh < 65536 ? (unsigned)hh : 0;
	f->len = len;
	f->refs = 1;
	memcpy(f->jpeg, raw, len);
	free(raw);
	*last_seq = seq;
	pthread_mutex_lock(&h->lock);
	struct web_frame *old = h->newest;
	h->newest = f;
	h->gen++;
	h->stats.frames_in++;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	web_frame_unref(old);
}

/* Sleeps up to ms unless stopped or nobody watches; true if the feeder should go on feeding. */
static bool nap(struct web_hub *h, int ms)
{
	struct timespec until;
	deadline_in(&until, ms);
	pthread_mutex_lock(&h->lock);
	while (!h->stop && h->stats.viewers > 0 &&
	       pthread_cond_timedwait(&h->changed, &h->lock, &until) != ETIMEDOUT)
		;
	bool go = !h->stop && h->stats.viewers > 0;
	pthread_mutex_unlock(&h->lock);
	return go;
}

static bool wanted(struct web_hub *h)
{
	pthread_mutex_lock(&h->lock);
	bool go = !h->stop && h->stats.viewers > 0;
	pthread_mutex_unlock(&h->lock);
	return go;
}

static void set_connected(struct web_hub *h, int connected, int preview)
{
	pthread_mutex_lock(&h->lock);
	h->stats.daemon_connected = connected;
	if (preview >= 0)
		h->stats.preview_supported = preview;
	pthread_mutex_unlock(&h->lock);
}

/* Streams pushed preview frames until nobody watches; 0, or -ENOTSUP from a daemon that
 * does not know `preview`, or another negative errno when the connection failed. */
static int feed_preview(struct web_hub *h, struct cli_conn *conn, uint64_t *last_seq)
{
	json_t *fields = json_pack("{s:i}", "fps", (int)h->fps);
	json_t *reply = NULL;
	if (!fields)
		return -ENOMEM;
	int r = cli_request(conn, "preview", fields, FEED_TIMEOUT_MS, &reply);
	json_decref(fields);
	if (r < 0)
		return r;
	const char *type = json_string_value(json_object_get(reply, "type"));
	const char *code = json_string_value(json_object_get(reply, "code"));
	bool unknown = type && strcmp(type, "error") == 0 && code && strcmp(code, "unknown_cmd") == 0;
	bool ok = type && strcmp(type, "preview_started") == 0;
	json_decref(reply);
	if (unknown)
		return -ENOTSUP;
	if (!ok)
		return -EPROTO;
	set_connected(h, 1, 1);
	while (wanted(h)) {
		json_t *msg;
		r = cli_read_msg(conn, 250, &msg, NULL, NULL);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0)
			return r;
		type = json_string_value(json_object_get(msg, "type"));
		if (type && strcmp(type, "preview") == 0)
			publish(h, msg, last_seq);
		json_decref(msg);
	}
	return 0;
}

/* Polls `snapshot` at the configured rate until nobody watches. */
static int feed_snapshots(struct web_hub *h, struct cli_conn *conn, uint64_t *last_seq)
{
	int period_ms = (int)(1000 / h->fps);
	set_connected(h, 1, 0);
	do {
		json_t *reply;
		int r = cli_request(conn, "snapshot", NULL, FEED_TIMEOUT_MS, &reply);
		if (r < 0)
			return r;
		const char *type = json_string_value(json_object_get(reply, "type"));
		if (type && strcmp(type, "snapshot") == 0)
			publish(h, reply, last_seq);
		json_decref(reply);
	} while (nap(h, period_ms));
	return 0;
}

static void *feeder_main(void *arg)
{
	struct web_hub *h = arg;
	uint64_t last_seq = 0;
	bool complained = false;
	int preview = -1; /* not known yet */

	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (!h->stop && h->stats.viewers == 0)
			pthread_cond_wait(&h->changed, &h->lock);
		bool stop = h->stop;
		pthread_mutex_unlock(&h->lock);
		if (stop)
			break;
		struct cli_conn *conn;
		int r = cli_connect(h->socket_path, &conn);
		if (r == 0) {
			if (preview != 0) {
				r = feed_preview(h, conn, &last_seq);
				preview = r == -ENOTSUP ? 0 : 1;
				if (r == -ENOTSUP)
					r = feed_snapshots(h, conn, &last_seq);
			} else {
				r = feed_snapshots(h, conn, &last_seq);
			}
			cli_close(conn);
		}
		set_connected(h, 0, -1);
		if (r < 0 && !complained) {
			log_errno(LOG_WARNING, r, "stream: no frames from the daemon at %s "
				  "(retrying every %d ms)", h->socket_path, RETRY_MS);
			complained = true;
		} else if (r == 0) {
			complained = false;
		}
		if (r < 0)
			nap(h, RETRY_MS);
	}
	return NULL;
}

int hub_new(const char *socket_path, unsigned fps, struct web_hub **ret)
{
	struct web_hub *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;
	if (!h)
		return -ENOMEM;
	h->fps = fps ? fps : 1;
	h->stats.preview_supported = -1;
	h->socket_path = strdup(socket_path);
	if (!h->socket_path) {
		free(h);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->changed, &ca);
	pthread_condattr_destroy(&ca);
	int r = -pthread_create(&h->feeder, NULL, feeder_main, h);
	if (r < 0) {
		pthread_cond_destroy(&h->changed);
		pthread_mutex_destroy(&h->lock);
		free(h->socket_path);
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void hub_free(struct web_hub *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->feeder, NULL);
	web_frame_unref(h->newest);
	pthread_cond_destroy(&h->changed);
	pthread_mutex_destroy(&h->lock);
	free(h->socket_path);
	free(h);
}

void hub_viewer_add(struct web_hub *h)
{
	pthread_mutex_lock(&h->lock);
	h->stats.viewers++;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
}

void hub_viewer_remove(struct web_hub *h)
{
	pthread_mutex_lock(&h->lock);
	struct web_frame *stale = NULL;
	if (h->stats.viewers > 0)
		h->stats.viewers--;
	if (h->stats.viewers == 0) {
		/* the next viewer must not start with an old picture */
		stale = h->newest;
		h->newest = NULL;
	}
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	web_frame_unref(stale);
}

struct web_frame *hub_next(struct web_hub *h, uint64_t *gen, int timeout_ms)
{
	struct timespec until;
	struct web_frame *f = NULL;
	deadline_in(&until, timeout_ms);
	pthread_mutex_lock(&h->lock);
	while (!h->stop && (!h->newest || h->gen == *gen))
		if (pthread_cond_timedwait(&h->changed, &h->lock, &until) == ETIMEDOUT)
			break;
	if (!h->stop && h->newest && h->gen != *gen) {
		f = h->newest;
		__atomic_add_fetch(&f->refs, 1, __ATOMIC_ACQ_REL);
		if (*gen && h->gen > *gen + 1)
			h->stats.frames_skipped_slow += h->gen - *gen - 1;
		*gen = h->gen;
	}
	pthread_mutex_unlock(&h->lock);
	return f;
}

void hub_get_stats(struct web_hub *h, struct web_hub_stats *ret)
{
	pthread_mutex_lock(&h->lock);
	*ret = h->stats;
	pthread_mutex_unlock(&h->lock);
}
