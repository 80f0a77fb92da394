/* server_internal.h — internal to ipc/: the server's state, shared by its files.
 *
 * Files: server.c (sockets, epoll, clients), output.c (output queues), requests.c (commands,
 * fan-out), mailbox.c (the other-thread door), protocol.c/base64.c (JSON), socket.c (bind).
 * Everything here is touched only by the main-loop thread, except `mailbox`, which is guarded
 * by its mutex because srv_publish_* run on other threads. */
#ifndef CAMCLASS_IPC_SERVER_INTERNAL_H
#define CAMCLASS_IPC_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/protocol.h"
#include "ipc/server.h"

#define SRV_MAILBOX_RESULTS 32          /* results waiting for the main loop; oldest replaced
					 * (counted, and reported in subscribers' "dropped") */
#define SRV_CLASSIFY_PER_CLIENT 16      /* pending classify requests one client may hold */

struct out_msg {
	struct out_msg *next;
	size_t len, sent;
	bool droppable;                 /* a pushed result: may be dropped while unsent */
	uint64_t dropped_before;        /* results dropped right before this one ... */
	uint64_t dropped_in_line;       /* ... and the count its line says (fixed up at send) */
	char data[];
};

struct classify_wait {
	struct classify_wait *next;
	struct client *client;
	json_t *id;                     /* owned */
	uint64_t requested_ns, deadline_ns;
	struct proto_filter filter;
};

struct client {
	struct client *prev, *next;
	int fd;
	uint64_t serial;                /* for log lines */
	pid_t pid;
	uid_t uid;
	gid_t gid;

	char *in;                       /* partial request line(s) */
	size_t in_len, in_cap;

	struct out_msg *out_head, *out_tail;
	size_t out_bytes;               /* all pending bytes */
	size_t out_droppable_bytes;     /* pending result bytes (unsent ones can be dropped) */
	uint64_t dropped_unreported;    /* results dropped since the last one delivered */
	bool epollout;                  /* EPOLLOUT currently requested */
	bool closing;                   /* flush the queue, then close (after too_long) */
	bool dead;                      /* closed during this dispatch; freed at its end */

	bool subscribed, on_change;
	struct proto_filter filter;     /* for pushed results, and the base of requests' filters */
	bool chose_top_k, chose_threshold; /* set by subscribe; else filter follows the defaults */
	int64_t last_top1;              /* on_change: last top-1 index; -1 none, -2 not yet */
	unsigned classify_pending;
};

struct event_item {
	struct event_item *next;
	json_t *msg;
};

struct mailbox {
	pthread_mutex_t lock;
	struct srv_result results[SRV_MAILBOX_RESULTS];
	unsigned head, count;           /* ring of unconsumed results */
	struct event_item *events_head, *events_tail;
	uint64_t overwritten;
	struct srv_stats stats;         /* copy for srv_get_stats */
};

struct server {
	struct srv_config cfg;          /* strings point into the copies below */
	char *socket_path, *socket_group;
	char served_path[128];          /* the socket in use (activated: its own path) */
	struct srv_hooks hooks;
	int listen_fd, epoll_fd, wake_fd, timer_fd;
	bool created_socket_file;
	bool accept_paused;             /* out of fds: listen fd disabled until a client leaves */

	struct client *clients;
	struct client *dead_clients;    /* closed during this dispatch, freed at its end */
	unsigned n_clients, n_subscribers;
	uint64_t next_serial;

	struct proto_labels labels;
	struct srv_result latest;
	bool have_latest;
	struct classify_wait *waits;
	unsigned n_waits;
	unsigned notified_subscribers, notified_waits;

	struct srv_stats stats;
	struct mailbox mailbox;
};

/* server.c */
void srv_client_kill(struct server *srv, struct client *c, const char *why);
int srv_epoll_set(struct server *srv, int op, int fd, uint32_t events, void *ptr);

/* output.c */
/* Queue one message (or an already serialized line) and try to send it at once. A droppable
 * one first drops this client's oldest unsent results until it fits. May kill the client
 * (hard cap, ENOMEM): callers check c->dead afterwards. */
int srv_enqueue(struct server *srv, struct client *c, const json_t *msg, bool droppable);
int srv_enqueue_line(struct server *srv, struct client *c, const char *line, size_t len,
		     bool droppable);
void srv_make_room(struct server *srv, struct client *c, size_t incoming);
void srv_flush_client(struct server *srv, struct client *c);
/* Queue an error, stop reading, close once the queue is flushed (too_long). */
void srv_send_error_and_close(struct server *srv, struct client *c, const char *code,
			      const char *message);

/* mailbox.c */
void srv_drain_mailbox(struct server *srv);
void srv_after_dispatch(struct server *srv);
void srv_free_mailbox(struct server *srv);

/* requests.c */
void srv_handle_line(struct server *srv, struct client *c, const char *line, size_t len);
/* requests_teach.c: teach, samples, forget, train through the teach hook */
struct proto_request;
void srv_teach_request(struct server *srv, struct client *c, const struct proto_request *q);
void srv_fan_out(struct server *srv, const struct srv_result *r);
void srv_expire_waits(struct server *srv);
void srv_forget_client(struct server *srv, struct client *c);
void srv_rearm_timer(struct server *srv);

#endif
