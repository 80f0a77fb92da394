/* server.h — the Unix-socket JSON-lines server of camclassd (protocol: README.md, "Socket protocol").
 * Clients use ipc/wire.h (and ipc/client.h), never this header.
 *
 * Contract
 * - Threads: the server runs entirely on the daemon's main-loop thread. srv_open, srv_fd,
 *   srv_dispatch, srv_set_labels and srv_close are main-thread only, and every hook is called
 *   on the main thread from inside srv_dispatch. srv_publish_result, srv_publish_event and
 *   srv_get_stats may be called from ANY thread: publishing copies the result into a small
 *   bounded mailbox under a mutex held only for that copy, and wakes the main loop through an
 *   eventfd that is part of srv_fd(). It never waits for clients, never allocates for results,
 *   never fails: when the main loop lags, the oldest unsent result in the mailbox is replaced
 *   (counted in srv_stats.mailbox_overwritten, and added to every subscriber's next
 *   "dropped"). The classify thread never blocks on clients.
 *   Publishers must be stopped before srv_close. Hooks must not call srv_dispatch/srv_close.
 * - Main loop: poll srv_fd() for EPOLLIN; when readable call srv_dispatch(), which handles
 *   everything ready without blocking (accepts, requests, writes, published results, timers).
 * - Memory: srv_open copies the config strings and the label table; pointers passed to
 *   publish calls are only read during the call. Hook outputs: strings in srv_hello/srv_status
 *   are borrowed for the duration of the hook call only (the server copies them); the JPEG
 *   buffer returned by the snapshot hook is malloc'd by the daemon and freed by the server.
 * - Clock: every *_ns timestamp given to the server is CLOCK_MONOTONIC; the protocol shows
 *   "frame_ts"/"ts" as Unix time in seconds (converted at publication).
 * - Errors: functions return 0 or a negative errno code and log once (log.h). srv_open:
 *   -EADDRINUSE a live daemon answers on the path, -ENOTSOCK the path exists and is not a
 *   socket, -EINVAL bad config or an inherited fd that is not a listening AF_UNIX stream
 *   socket, -ENOENT unknown group, others from the system calls.
 * - Per-client limits: a subscriber's pending results are dropped oldest-first beyond
 *   SRV_CLIENT_RESULT_QUEUE_BYTES (the first result it gets after the gap says "dropped":N);
 *   replies to requests are never dropped, but a client that already has more than
 *   SRV_CLIENT_HARD_CAP_BYTES pending when another message is queued is disconnected
 *   (logged); so one client holds at most the cap plus one message. Request lines: at most
 *   WIRE_MAX_REQUEST_BYTES, longer → "too_long" error and the connection closes.
 * - Global limits: all clients together hold at most max_queued_bytes of pending output
 *   (results, replies, snapshots). Over it, at the end of the dispatch that went over, the
 *   client holding the most pending bytes is disconnected (logged, counted in
 *   clients_killed_budget), then the next, until the total fits: whoever reads least pays,
 *   clients that keep up lose nothing. max_clients is checked against RLIMIT_NOFILE at
 *   srv_open: SRV_RESERVED_FDS stay free for the camera, the model and reloads; when the limit
 *   cannot be raised to fit, max_clients is lowered to what fits (logged; srv_stats.max_clients
 *   has the value in force). */
#ifndef CAMCLASS_IPC_SERVER_H
#define CAMCLASS_IPC_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ipc/result.h"
#include "ipc/wire.h"

#define SRV_CLIENT_RESULT_QUEUE_BYTES (256u * 1024u) /* droppable results per client */
#define SRV_CLIENT_HARD_CAP_BYTES (4u * 1024u * 1024u) /* everything pending per client */
#define SRV_TOTAL_QUEUE_BYTES ((size_t)64 * 1024 * 1024) /* default: pending to all clients */
#define SRV_RESERVED_FDS 64u    /* fds kept free of clients: camera, model, reloads, logs */

struct server;

struct srv_config {
	const char *socket_path;        /* NULL → WIRE_DEFAULT_SOCKET */
	mode_t socket_mode;             /* e.g. 0660; 0 → 0660 */
	const char *socket_group;       /* NULL or "" → keep the daemon's group */
	unsigned max_clients;           /* 0 → 64; one more connection gets "busy" and is closed */
	unsigned default_top_k;         /* subscribe without top_k; 0 → 5; capped at MAX_LABELS */
	double default_threshold;       /* subscribe without threshold (scores below hidden);
					 * both applied per client when results are sent, and
					 * changed later by srv_set_defaults() */
	unsigned classify_timeout_ms;   /* classify with no fresh result → "timeout"; 0 → 10000 */
	int socket_activation;          /* nonzero: use an fd passed by systemd (LISTEN_FDS) if any */
	size_t max_queued_bytes;        /* global output budget; 0 → SRV_TOTAL_QUEUE_BYTES */
};

struct srv_hello {                      /* filled by the hello hook */
	const char *model;              /* model name */
	unsigned input_shape[4];        /* e.g. {1, 224, 224, 3} */
	unsigned input_dims;            /* used entries of input_shape */
	unsigned label_count;
	const char *camera_state;       /* "streaming" | "stopped" | "disconnected" | ... */
};

struct srv_latency_stat {
	double p50_ms, p99_ms;
};

struct srv_status {                     /* filled by the status hook; server adds "clients" */
	const char *camera_state;
	const char *device;             /* "/dev/video0" or the file source */
	const char *format;             /* "MJPG 640x480" */
	double fps_in, fps_out;
	uint64_t frames_skipped, frames_corrupt;
	uint64_t frames_rate_limited;   /* not classified because of [classify] rate */
	const char *state;              /* the debounced state's label, "unknown"; NULL: none */
	double state_since;             /* Unix time */
	double roi[4];                  /* [model] roi: x, y, w, h as fractions of the frame */
	const char *model;
	const char *backend;
	unsigned threads;
	struct srv_latency_stat capture_to_result, decode, preprocess, inference;
	double uptime_s;
	const char *health;             /* "ok" or why the watchdog is not fed; NULL: not shown */
};

struct srv_hooks {
	void *userdata;
	/* Fill *ret for a new client's hello. Return <0 to send hello without model fields. */
	int (*hello)(void *userdata, struct srv_hello *ret);
	/* Fill *ret for a status request; <0 → error "unavailable". */
	int (*status)(void *userdata, struct srv_status *ret);
	/* A client asked for a classification of a frame captured from now on: make sure one
	 * is coming (on-demand mode starts the camera). <0 → error "unavailable". The server
	 * keeps the request and answers it with the first published result whose frame_ts_ns
	 * is later than the request. */
	int (*classify)(void *userdata);
	/* JPEG of the latest result's frame: *ret_jpeg malloc'd (server frees), and that
	 * result's seq. -ENODATA → error "no_result"; other <0 → "unavailable". */
	int (*snapshot)(void *userdata, uint8_t **ret_jpeg, size_t *ret_len, uint64_t *ret_seq);
	/* Number of subscribers or pending classify requests changed (on-demand mode starts
	 * the camera while either is nonzero). Optional. */
	void (*demand_changed)(void *userdata, unsigned subscribers, unsigned classify_pending);
	/* Live teaching: cmd "teach" | "samples" | "forget" | "train", args the request object
	 * (borrowed). 0 and *ret_reply (new object: the reply's fields), or <0 with err: -EINVAL
	 * → "bad_request", -EBUSY → "busy", -ENOSPC → "limit", -ENODATA → "no_samples", -ENOENT →
	 * "not_found", others → "unavailable". Optional: absent → "unavailable". Called with
	 * teach_userdata, not userdata. */
	int (*teach)(void *userdata, const char *cmd, const json_t *args, json_t **ret_reply, char *err,
		     size_t errlen);
	void *teach_userdata;
};

struct srv_stats {
	unsigned clients, subscribers, classify_pending;
	uint64_t connections_accepted, connections_refused_busy;
	uint64_t results_published;     /* results fanned out by the main loop */
	uint64_t mailbox_overwritten;   /* results replaced before the main loop took them */
	uint64_t results_dropped;       /* per-client oldest-result drops, all clients */
	uint64_t clients_killed;        /* disconnected for exceeding the hard cap */
	uint64_t clients_killed_budget; /* disconnected to keep the global output budget */
	unsigned max_clients;           /* in force (may be lower than configured: fds) */
	uint64_t accept_pauses;         /* accepting paused for lack of fds (EMFILE/ENFILE) */
	size_t queued_bytes_total;      /* bytes pending to all clients */
	size_t queued_bytes_max_client; /* the largest pending bytes of one client, ever */
};

/* Open the listening socket (or take the activated one) and the epoll set. */
int srv_open(const struct srv_config *cfg, const struct srv_hooks *hooks, struct server **ret);
/* Close every client and the socket; removes the socket file if srv_open created it. */
void srv_close(struct server *srv);

/* The socket actually served, for log lines: the [socket] path, or under socket activation
 * the passed socket's own path ("fd 3 from systemd" if it has none). */
const char *srv_socket_path(const struct server *srv);

/* One fd for the main loop (EPOLLIN when srv_dispatch has work). */
int srv_fd(const struct server *srv);
/* Handle everything ready; never blocks. Returns 0, or <0 on a fatal error of the server. */
int srv_dispatch(struct server *srv);

/* Replace the label table (copied; e.g. after a model reload). Labels of results published
 * afterwards resolve against the new table; indexes outside it get "label":null. The stored
 * latest result is forgotten (it belongs to the previous model). */
int srv_set_labels(struct server *srv, const char *const *labels, size_t n_labels);

/* New default_top_k (1..WIRE_MAX_LABELS) and default_threshold (0..1), e.g. after a reload:
 * every client that did not choose its own (in its subscribe) gets them from its next result
 * on; classify requests already waiting keep theirs. 0, or -EINVAL out of range. */
int srv_set_defaults(struct server *srv, unsigned top_k, double threshold);

/* Any thread; never blocks on clients (see the contract above). */
void srv_publish_result(struct server *srv, const struct srv_result *result);
/* Any thread. name: "camera_disconnected" | "camera_connected" | "model_reloaded" | ...;
 * extra: NULL or a JSON object whose fields are added to the event; the reference is stolen
 * (the caller must not use it afterwards). Returns -ENOMEM or 0. */
int srv_publish_event(struct server *srv, const char *name, json_t *extra);

/* Any thread: a consistent copy of the counters as of the end of the last srv_dispatch. */
void srv_get_stats(struct server *srv, struct srv_stats *ret);

#endif
