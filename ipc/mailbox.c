/* mailbox.c — the only door into the server from other threads, and the label table.
 *
 * The classify thread must never wait for clients, so srv_publish_result only copies a
 * fixed-size result into a small ring under a mutex and pokes an eventfd; when the main loop
 * lags, the oldest unconsumed result is replaced (newest wins: staleness is the bug, not a
 * short queue) — and counted: each subscriber's next result carries them in "dropped", and
 * status shows the total. Events are rarer and carry JSON, so they go in an unbounded list. The main
 * loop takes everything in srv_drain_mailbox and publishes a counter snapshot for
 * srv_get_stats at the end of each dispatch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/server_internal.h"
#include "lib/log.h"

static void wake(struct server *srv)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already non-zero: the main loop will wake anyway. */
	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("eventfd write: %m");
}

void srv_publish_result(struct server *srv, const struct srv_result *result)
{
	struct mailbox *mb = &srv->mailbox;

	pthread_mutex_lock(&mb->lock);
	if (mb->count == SRV_MAILBOX_RESULTS) {
		mb->head = (mb->head + 1) % SRV_MAILBOX_RESULTS;
		mb->count--;
		mb->overwritten++;
	}
	mb->results[(mb->head + mb->count) % SRV_MAILBOX_RESULTS] = *result;
	mb->count++;
	pthread_mutex_unlock(&mb->lock);
	wake(srv);
}

int srv_publish_event(struct server *srv, const char *name, json_t *extra)
{
	struct mailbox *mb = &srv->mailbox;
	struct event_item *item = malloc(sizeof(*item));
	json_t *msg = proto_event(name, extra);

	json_decref(extra);
	if (!item || !msg) {
		free(item);
		json_decref(msg);
		return log_errno(LOG_ERR, ENOMEM, "Failed to publish event %s", name);
	}
	item->next = NULL;
	item->msg = msg;
	pthread_mutex_lock(&mb->lock);
	if (mb->events_tail)
		mb->events_tail->next = item;
	else
		mb->events_head = item;
	mb->events_tail = item;
	pthread_mutex_unlock(&mb->lock);
	wake(srv);
	return 0;
}

void srv_get_stats(struct server *srv, struct srv_stats *ret)
{
	pthread_mutex_lock(&srv->mailbox.lock);
	*ret = srv->mailbox.stats;
	pthread_mutex_unlock(&srv->mailbox.lock);
}

static void send_event(struct server *srv, const json_t *msg)
{
	for (struct client *c = srv->clients, *next; c; c = next) {
		next = c->next;
		srv_enqueue(srv, c, msg, false);
	}
}

void srv_drain_mailbox(struct server *srv)
{
	struct mailbox *mb = &srv->mailbox;
	struct srv_result results[SRV_MAILBOX_RESULTS];
	struct event_item *events;
	unsigned n;
	uint64_t counter;

	if (read(srv->wake_fd, &counter, sizeof(counter)) < 0 && errno != EAGAIN)
		log_debug("eventfd read: %m");
	pthread_mutex_lock(&mb->lock);
	n = mb->count;
	for (unsigned i = 0; i < n; i++)
		results[i] = mb->results[(mb->head + i) % SRV_MAILBOX_RESULTS];
	mb->head = mb->count = 0;
	events = mb->events_head;
	mb->events_head = mb->events_tail = NULL;
	uint64_t lost = mb->overwritten - srv->stats.mailbox_overwritten;
	srv->stats.mailbox_overwritten = mb->overwritten;
	pthread_mutex_unlock(&mb->lock);

	/* Results replaced in the ring never reached anybody: every subscriber missed them, so
	 * each one's next result says so in "dropped", like a drop from its own queue. */
	if (lost)
		for (struct client *c = srv->clients; c; c = c->next)
			if (c->subscribed)
				c->dropped_unreported += lost;

	while (events) {
		struct event_item *e = events;
		events = e->next;
		send_event(srv, e->msg);
		json_decref(e->msg);
		free(e);
	}
	for (unsigned i = 0; i < n; i++)
		srv_fan_out(srv, &results[i]);
}

void srv_after_dispatch(struct server *srv)
{
	if (srv->hooks.demand_changed && (srv->n_subscribers != srv->notified_subscribers ||
					  srv->n_waits != srv->notified_waits)) {
		srv->notified_subscribers = srv->n_subscribers;
		srv->notified_waits = srv->n_waits;
		srv->hooks.demand_changed(srv->hooks.userdata, srv->n_subscribers, srv->n_waits);
	}
	srv->stats.clients = srv->n_clients;
	srv->stats.subscribers = srv->n_subscribers;
	srv->stats.classify_pending = srv->n_waits;
	pthread_mutex_lock(&srv->mailbox.lock);
	srv->mailbox.stats = srv->stats;
	pthread_mutex_unlock(&srv->mailbox.lock);
}

static void free_labels(struct proto_labels *labels)
{
	for (size_t i = 0; i < labels->n; i++)
		free(labels->names[i]);
	free(labels->names);
	labels->names = NULL;
	labels->n = 0;
}

int srv_set_labels(struct server *srv, const char *const *labels, size_t n_labels)
{
	struct proto_labels copy = { .names = calloc(n_labels ? n_labels : 1, sizeof(char *)),
				     .n = n_labels };
	if (!copy.names)
		return log_errno(LOG_ERR, ENOMEM, "Failed to copy %zu labels", n_labels);
	for (size_t i = 0; i < n_labels; i++) {
		if (!labels[i])
			continue;
		/* jansson refuses invalid UTF-8; such a label is shown as null, not a broken line. */
		json_t *probe = json_string(labels[i]);
		if (!probe) {
			log_warning("Label %zu is not valid UTF-8; clients will see null", i);
			continue;
		}
		json_decref(probe);
		copy.names[i] = strdup(labels[i]);
		if (!copy.names[i]) {
			free_labels(&copy);
			return log_errno(LOG_ERR, ENOMEM, "Failed to copy %zu labels", n_labels);
		}
	}
	free_labels(&srv->labels);
	srv->labels = copy;
	/* The stored latest result holds indexes of the previous model: naming them with the new
	 * table would be wrong, so `latest` says no_result until the new model's first result. */
	srv->have_latest = false;
	return 0;
}

void srv_free_mailbox(struct server *srv)
{
	struct event_item *e = srv->mailbox.events_head;
	while (e) {
		struct event_item *next = e->next;
		json_decref(e->msg);
		free(e);
		e = next;
	}
	free_labels(&srv->labels);
	pthread_mutex_destroy(&srv->mailbox.lock);
}
