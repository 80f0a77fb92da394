/* output.c — each client's output queue: droppable pushed results, undroppable replies.
 *
 * Messages are sent as soon as they are queued, as far as the socket takes them; the rest
 * waits for EPOLLOUT. Only whole unsent results are ever dropped (a partly sent line must be
 * finished or the stream would break), oldest first, and the count travels to the first result
 * after the gap so the client can tell exactly what it missed. The hard cap is checked before
 * queueing: a client holds at most SRV_CLIENT_HARD_CAP_BYTES plus one message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ipc/server_internal.h"
#include "lib/log.h"

static void update_epollout(struct server *srv, struct client *c, bool force)
{
	bool want = c->out_head != NULL;
	if (want == c->epollout && !force)
		return;
	uint32_t ev = (c->closing ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0);
	if (srv_epoll_set(srv, EPOLL_CTL_MOD, c->fd, ev, c) == 0)
		c->epollout = want;
}

/* A result whose predecessors were dropped after it was queued gets its line rebuilt with the
 * new "dropped" count just before its first byte is sent (rare: only stalled clients). */
static int fix_dropped_field(struct server *srv, struct client *c)
{
	struct out_msg *m = c->out_head, *fixed;
	size_t len;
	json_t *msg = json_loadb(m->data, m->len - 1, 0, NULL);
	char *line = NULL;

	if (msg && json_object_set_new(msg, "dropped", json_integer((json_int_t)m->dropped_before)) == 0)
		line = proto_serialize(msg, &len);
	json_decref(msg);
	if (!line || !(fixed = malloc(sizeof(*fixed) + len))) {
		free(line);
		return -ENOMEM;
	}
	*fixed = *m;
	fixed->len = len;
	fixed->dropped_in_line = m->dropped_before;
	memcpy(fixed->data, line, len);
	free(line);
	c->out_bytes = c->out_bytes - m->len + len;
	c->out_droppable_bytes = c->out_droppable_bytes - m->len + len;
	srv->stats.queued_bytes_total = srv->stats.queued_bytes_total - m->len + len;
	c->out_head = fixed;
	if (c->out_tail == m)
		c->out_tail = fixed;
	free(m);
	return 0;
}

void srv_flush_client(struct server *srv, struct client *c)
{
	while (c->out_head) {
		if (c->out_head->sent == 0 &&
		    c->out_head->dropped_before != c->out_head->dropped_in_line &&
		    fix_dropped_field(srv, c) < 0) {
			srv_client_kill(srv, c, "out of memory rewriting a result");
			return;
		}
		struct out_msg *m = c->out_head;
		ssize_t n = send(c->fd, m->data + m->sent, m->len - m->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			srv_client_kill(srv, c, strerror(errno));
			return;
		}
		m->sent += (size_t)n;
		c->out_bytes -= (size_t)n;
		srv->stats.queued_bytes_total -= (size_t)n;
		if (m->droppable)
			c->out_droppable_bytes -= (size_t)n;
		if (m->sent < m->len)
			break;
		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = NULL;
		free(m);
	}
	if (!c->out_head && c->closing) {
		srv_client_kill(srv, c, "closed after an error");
		return;
	}
	update_epollout(srv, c, false);
}

/* Drop the oldest unsent results until `incoming` more droppable bytes fit. The count moves to
 * the next queued result (the first one after the gap), or to the next result built. */
void srv_make_room(struct server *srv, struct client *c, size_t incoming)
{
	struct out_msg **link = &c->out_head, *prev = NULL;
	while (*link && c->out_droppable_bytes + incoming > SRV_CLIENT_RESULT_QUEUE_BYTES) {
		struct out_msg *m = *link;
		if (!m->droppable || m->sent > 0) {
			prev = m;
			link = &m->next;
			continue;
		}
		*link = m->next;
		if (c->out_tail == m)
			c->out_tail = prev;
		c->out_bytes -= m->len;
		c->out_droppable_bytes -= m->len;
		srv->stats.queued_bytes_total -= m->len;
		srv->stats.results_dropped++;
		struct out_msg *after = m->next;
		while (after && !after->droppable)
			after = after->next;
		if (after)
			after->dropped_before += 1 + m->dropped_before;
		else
			c->dropped_unreported += 1 + m->dropped_before;
		free(m);
	}
}

int srv_enqueue_line(struct server *srv, struct client *c, const char *line, size_t len,
		     bool droppable)
{
	if (c->dead)
		return -EPIPE;
	if (droppable)
		srv_make_room(srv, c, len);
	/* Checked before adding, so one reply bigger than the cap (a large snapshot) still goes
	 * out; a client that keeps asking without reading is cut off at the next message. */
	if (c->out_bytes > SRV_CLIENT_HARD_CAP_BYTES) {
		log_warning("Client %llu (pid %d) has %zu bytes of unread replies; disconnecting it",
			    (unsigned long long)c->serial, (int)c->pid, c->out_bytes);
		srv->stats.clients_killed++;
		srv_client_kill(srv, c, "output hard cap exceeded");
		return -ENOBUFS;
	}
	struct out_msg *m = malloc(sizeof(*m) + len);
	if (!m) {
		srv_client_kill(srv, c, "out of memory queueing a message");
		return -ENOMEM;
	}
	*m = (struct out_msg){ .len = len, .droppable = droppable };
	memcpy(m->data, line, len);
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += len;
	if (droppable)
		c->out_droppable_bytes += len;
	srv->stats.queued_bytes_total += len;
	if (c->out_bytes > srv->stats.queued_bytes_max_client)
		srv->stats.queued_bytes_max_client = c->out_bytes;
	srv_flush_client(srv, c);
	return 0;
}

int srv_enqueue(struct server *srv, struct client *c, const json_t *msg, bool droppable)
{
	size_t len;
	char *line;

	if (c->dead)
		return -EPIPE;
	if (!msg || !(line = proto_serialize(msg, &len))) {
		srv_client_kill(srv, c, "out of memory building a message");
		return -ENOMEM;
	}
	int r = srv_enqueue_line(srv, c, line, len, droppable);
	free(line);
	return r;
}

void srv_send_error_and_close(struct server *srv, struct client *c, const char *code,
				 const char *message)
{
	json_t *msg = proto_error_msg(code, message, NULL);
	int r = srv_enqueue(srv, c, msg, false);
	json_decref(msg);
	if (r < 0 || c->dead)
		return;
	c->closing = true;
	update_epollout(srv, c, true);
	srv_flush_client(srv, c);
}
