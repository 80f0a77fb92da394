/* requests.c — what the server does with a request line, and how a result reaches clients.
 *
 * Replies are never droppable; pushed results are. A classify request is parked with its time
 * and answered by the first published result whose frame was captured after it (the daemon
 * may have a result in flight from an older frame, which must not answer it), or by "timeout".
 * A result is serialized once per distinct subscriber filter, not once per subscriber, so 256
 * subscribers cost 256 copies of a line, not 256 JSON builds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#include "ipc/server_internal.h"
#include "lib/clock.h"
#include "lib/log.h"

#define FILTER_CACHE 8
#define DROPPED_FIELD_BYTES 32          /* room for ,"dropped":N in a result line */

static void reply(struct server *srv, struct client *c, json_t *msg)
{
	srv_enqueue(srv, c, msg, false);
	json_decref(msg);
}

static void reply_error(struct server *srv, struct client *c, const char *code,
			const char *message, json_t *id)
{
	reply(srv, c, proto_error_msg(code, message, id));
}

static struct proto_filter request_filter(const struct client *c, const struct proto_request *q)
{
	struct proto_filter f = c->filter;
	if (q->has_top_k)
		f.top_k = q->top_k;
	if (q->has_threshold)
		f.threshold = q->threshold;
	return f;
}

void srv_rearm_timer(struct server *srv)
{
	struct itimerspec its = { 0 };
	uint64_t first = UINT64_MAX;
	for (struct classify_wait *w = srv->waits; w; w = w->next)
		if (w->deadline_ns < first)
			first = w->deadline_ns;
	if (first != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(first / 1000000000u);
		its.it_value.tv_nsec = (long)(first % 1000000000u);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(srv->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_errno(LOG_WARNING, errno, "Failed to arm the classify timer");
}

static void start_classify(struct server *srv, struct client *c, struct proto_request *q)
{
	if (c->classify_pending >= SRV_CLASSIFY_PER_CLIENT)
		return reply_error(srv, c, "busy", "too many classify requests pending", q->id);
	if (srv->hooks.classify && srv->hooks.classify(srv->hooks.userdata) < 0)
		return reply_error(srv, c, "unavailable", "the daemon cannot classify now", q->id);
	struct classify_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return reply_error(srv, c, "unavailable", "out of memory", q->id);
	w->client = c;
	w->id = json_incref(q->id);
	w->requested_ns = mono_now_ns();
	w->deadline_ns = w->requested_ns + (uint64_t)srv->cfg.classify_timeout_ms * 1000000u;
	w->filter = request_filter(c, q);
	w->next = srv->waits;
	srv->waits = w;
	srv->n_waits++;
	c->classify_pending++;
	srv_rearm_timer(srv);
}

static void subscribe(struct server *srv, struct client *c, const struct proto_request *q)
{
	if (!c->subscribed)
		srv->n_subscribers++;
	c->subscribed = true;
	c->filter.top_k = q->has_top_k ? q->top_k : srv->cfg.default_top_k;
	c->filter.threshold = q->has_threshold ? q->threshold : srv->cfg.default_threshold;
	c->chose_top_k = q->has_top_k;
	c->chose_threshold = q->has_threshold;
	c->on_change = q->has_on_change && q->on_change;
	c->last_top1 = -2;
	json_t *msg = proto_reply("subscribed", q->id);
	if (msg && (json_object_set_new(msg, "top_k", json_integer(c->filter.top_k)) < 0 ||
		    json_object_set_new(msg, "threshold", json_real(c->filter.threshold)) < 0 ||
		    json_object_set_new(msg, "on_change", json_boolean(c->on_change)) < 0)) {
		json_decref(msg);
		msg = NULL;
	}
	reply(srv, c, msg);
}

int srv_set_defaults(struct server *srv, unsigned top_k, double threshold)
{
	if (top_k < 1 || top_k > WIRE_MAX_LABELS || !(threshold >= 0.0 && threshold <= 1.0))
		return -EINVAL;
	srv->cfg.default_top_k = top_k;
	srv->cfg.default_threshold = threshold;
	for (struct client *c = srv->clients; c; c = c->next) {
		if (!c->chose_top_k)
			c->filter.top_k = top_k;
		if (!c->chose_threshold)
			c->filter.threshold = threshold;
	}
	return 0;
}

static void status(struct server *srv, struct client *c, const struct proto_request *q)
{
	struct srv_status st = { 0 };
	if (!srv->hooks.status || srv->hooks.status(srv->hooks.userdata, &st) < 0)
		return reply_error(srv, c, "unavailable", "status is not available", q->id);
	json_t *msg = proto_status(&st, srv->n_clients, srv->n_subscribers, q->id);
	/* results lost on their way to clients: overwritten before fan-out (every subscriber
	 * missed them) and dropped from slow clients' queues (summed over clients) */
	if (msg && (json_object_set_new(msg, "results_overwritten",
					json_integer((json_int_t)srv->stats.mailbox_overwritten)) < 0 ||
		    json_object_set_new(msg, "results_dropped",
					json_integer((json_int_t)srv->stats.results_dropped)) < 0)) {
		json_decref(msg);
		msg = NULL;
	}
	reply(srv, c, msg);
}

static void snapshot(struct server *srv, struct client *c, const struct proto_request *q)
{
	uint8_t *jpeg = NULL;
	size_t len = 0;
	uint64_t seq = 0;
	int r = srv->hooks.snapshot ? srv->hooks.snapshot(srv->hooks.userdata, &jpeg, &len, &seq)
				    : -ENOTSUP;
	if (r == -ENODATA)
		return reply_error(srv, c, "no_result", "no frame has been classified yet", q->id);
	if (r < 0)
		return reply_error(srv, c, "unavailable", "snapshot is not available", q->id);
	reply(srv, c, proto_snapshot(jpeg, len, seq, q->id));
	free(jpeg);
}

void srv_handle_line(struct server *srv, struct client *c, const char *line, size_t len)
{
	struct proto_request q;
	struct proto_error err;

	if (proto_parse_request(line, len, &q, &err) < 0) {
		log_debug("Client %llu: %s: %s", (unsigned long long)c->serial, err.code, err.message);
		reply_error(srv, c, err.code, err.message, err.id);
		proto_error_clear(&err);
		return;
	}
	switch (q.cmd) {
	case PROTO_SUBSCRIBE:
		subscribe(srv, c, &q);
		break;
	case PROTO_UNSUBSCRIBE:
		if (c->subscribed)
			srv->n_subscribers--;
		c->subscribed = false;
		reply(srv, c, proto_reply("unsubscribed", q.id));
		break;
	case PROTO_LATEST: {
		struct proto_filter f = request_filter(c, &q);
		if (!srv->have_latest)
			reply_error(srv, c, "no_result", "no frame has been classified yet", q.id);
		else
			reply(srv, c, proto_result(&srv->latest, &srv->labels, &f,
						   mono_to_unix_offset_s(), 0, q.id));
		break;
	}
	case PROTO_CLASSIFY:
		start_classify(srv, c, &q);
		break;
	case PROTO_STATUS:
		status(srv, c, &q);
		break;
	case PROTO_SNAPSHOT:
		snapshot(srv, c, &q);
		break;
	case PROTO_PING:
		reply(srv, c, proto_reply("pong", q.id));
		break;
	case PROTO_TEACH:
	case PROTO_SAMPLES:
	case PROTO_FORGET:
	case PROTO_TRAIN:
		srv_teach_request(srv, c, &q);
		break;
	}
	proto_request_clear(&q);
}

/* Move the waits `due` selects out of the list, in list order, before any is answered:
 * answering one can cut its client off (hard cap), and srv_client_kill then removes that
 * client's waits from srv->waits — a loop still walking that list would point into freed
 * waits. Detached waits are owned by the caller and always freed by finish_wait. */
static struct classify_wait *detach_waits(struct server *srv,
					  bool (*due)(const struct classify_wait *, uint64_t),
					  uint64_t arg)
{
	struct classify_wait *head = NULL, **tail = &head;
	for (struct classify_wait **link = &srv->waits; *link;) {
		struct classify_wait *w = *link;
		if (!due(w, arg)) {
			link = &w->next;
			continue;
		}
		*link = w->next;
		w->next = NULL;
		*tail = w;
		tail = &w->next;
	}
	return head;
}

static void finish_wait(struct server *srv, struct classify_wait *w)
{
	w->client->classify_pending--;
	srv->n_waits--;
	json_decref(w->id);
	free(w);
}

static bool answered_by(const struct classify_wait *w, uint64_t frame_ts_ns)
{
	return frame_ts_ns > w->requested_ns;
}

static bool expired_at(const struct classify_wait *w, uint64_t now_ns)
{
	return w->deadline_ns <= now_ns;
}

static void answer_waits(struct server *srv, const struct srv_result *r, double offset_s)
{
	struct classify_wait *w = detach_waits(srv, answered_by, r->frame_ts_ns);
	if (!w)
		return;
	while (w) {
		struct classify_wait *next = w->next;
		/* a client cut off by an earlier reply stays allocated until the dispatch ends */
		if (!w->client->dead)
			reply(srv, w->client, proto_result(r, &srv->labels, &w->filter, offset_s, 0, w->id));
		finish_wait(srv, w);
		w = next;
	}
	srv_rearm_timer(srv);
}

struct cached_line {
	struct proto_filter filter;
	json_t *msg;
	char *line;
	size_t len;
};

static struct cached_line *cached(struct cached_line *cache, unsigned *n_cache,
				  const struct srv_result *r, const struct proto_labels *labels,
				  const struct proto_filter *f, double offset_s)
{
	for (unsigned i = 0; i < *n_cache; i++)
		if (cache[i].filter.top_k == f->top_k && cache[i].filter.threshold == f->threshold)
			return &cache[i];
	if (*n_cache == FILTER_CACHE)
		return NULL;
	struct cached_line *e = &cache[*n_cache];
	e->filter = *f;
	e->msg = proto_result(r, labels, f, offset_s, 0, NULL);
	e->line = e->msg ? proto_serialize(e->msg, &e->len) : NULL;
	if (!e->line) {
		json_decref(e->msg);
		return NULL;
	}
	(*n_cache)++;
	return e;
}

/* Room is made with the line's real length first, so every drop this result causes happened
 * before it and is reported on it; the +DROPPED_FIELD_BYTES covers the field it then gains. */
static void push_result(struct server *srv, struct client *c, const struct srv_result *r,
			struct cached_line *e, double offset_s)
{
	json_t *own = NULL, *msg = e ? e->msg : NULL;
	char *own_line = NULL;
	const char *line = e ? e->line : NULL;
	size_t len = e ? e->len : 0;

	if (!e) {
		msg = own = proto_result(r, &srv->labels, &c->filter, offset_s, 0, NULL);
		line = own_line = own ? proto_serialize(own, &len) : NULL;
		if (!line) {
			json_decref(own);
			srv_client_kill(srv, c, "out of memory building a result");
			return;
		}
	}
	srv_make_room(srv, c, len + DROPPED_FIELD_BYTES);
	uint64_t dropped = c->dropped_unreported;
	if (!dropped) {
		srv_enqueue_line(srv, c, line, len, true);
	} else if (json_object_set_new(msg, "dropped", json_integer((json_int_t)dropped)) == 0) {
		/* the shared message carries the field only while this client's line is built */
		c->dropped_unreported = 0;
		if (srv_enqueue(srv, c, msg, true) == 0 && c->out_tail)
			/* still queued, so it is the tail */
			c->out_tail->dropped_before = c->out_tail->dropped_in_line = dropped;
		json_object_del(msg, "dropped");
	}
	free(own_line);
	json_decref(own);
}

void srv_fan_out(struct server *srv, const struct srv_result *r)
{
	struct cached_line cache[FILTER_CACHE];
	unsigned n_cache = 0;
	double offset_s = mono_to_unix_offset_s();

	srv->latest = *r;
	if (srv->latest.n_labels > WIRE_MAX_LABELS)
		srv->latest.n_labels = WIRE_MAX_LABELS;
	r = &srv->latest;
	srv->have_latest = true;
	srv->stats.results_published++;
	answer_waits(srv, r, offset_s);

	for (struct client *c = srv->clients, *next; c; c = next) {
		next = c->next;
		if (!c->subscribed || c->closing)
			continue;
		const struct srv_label_score *top = &r->labels[0];
		int64_t top1 = r->has_state ? (int64_t)r->state /* on_change follows the state */
			       : r->n_labels > 0 && top->score >= c->filter.threshold ? (int64_t)top->index
										: -1;
		if (c->on_change && top1 == c->last_top1)
			continue;
		c->last_top1 = top1;
		push_result(srv, c, r, cached(cache, &n_cache, r, &srv->labels, &c->filter, offset_s),
			    offset_s);
	}
	for (unsigned i = 0; i < n_cache; i++) {
		json_decref(cache[i].msg);
		free(cache[i].line);
	}
}

void srv_expire_waits(struct server *srv)
{
	struct classify_wait *w = detach_waits(srv, expired_at, mono_now_ns());
	while (w) {
		struct classify_wait *next = w->next;
		if (!w->client->dead)
			reply_error(srv, w->client, "timeout", "no new frame was classified in time", w->id);
		finish_wait(srv, w);
		w = next;
	}
	srv_rearm_timer(srv);
}

void srv_forget_client(struct server *srv, struct client *c)
{
	bool had_waits = c->classify_pending > 0;
	for (struct classify_wait **link = &srv->waits; *link;) {
		if ((*link)->client == c) {
			struct classify_wait *w = *link;
			*link = w->next;
			finish_wait(srv, w);
		} else
			link = &(*link)->next;
	}
	if (had_waits)
		srv_rearm_timer(srv);
	if (c->subscribed)
		srv->n_subscribers--;
	c->subscribed = false;
}
