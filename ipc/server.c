/* server.c — sockets, epoll, clients and their bounded output queues.
 *
 * One epoll set holds the listening socket, an eventfd (results/events published by other
 * threads), a timerfd (classify timeouts) and every client, so the daemon's main loop polls a
 * single fd. Everything is level-triggered and non-blocking: a client that does not read only
 * fills its own queue (output.c bounds it). Clients closed while a dispatch runs are parked on a
 * dead list and freed at its end, because the epoll batch may still name them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ipc/server_internal.h"
#include "ipc/socket.h"
#include "lib/log.h"

#define DEFAULT_MODE 0660
#define DEFAULT_MAX_CLIENTS 64
#define DEFAULT_TOP_K 5
#define DEFAULT_CLASSIFY_TIMEOUT_MS 10000
#define EPOLL_BATCH 64
#define DISPATCH_ROUNDS 8               /* bound the work of one srv_dispatch call */
#define READ_CHUNK_BYTES 16384
#define READS_PER_EVENT 8               /* fairness between clients */
#define IN_INITIAL_BYTES 4096

int srv_epoll_set(struct server *srv, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };
	return epoll_ctl(srv->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

static void free_client(struct client *c)
{
	for (struct out_msg *m = c->out_head, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	free(c->in);
	free(c);
}

static void free_dead_clients(struct server *srv)
{
	while (srv->dead_clients) {
		struct client *c = srv->dead_clients;
		srv->dead_clients = c->next;
		free_client(c);
	}
}

void srv_client_kill(struct server *srv, struct client *c, const char *why)
{
	if (c->dead)
		return;
	log_debug("Client %llu (pid %d) closed: %s", (unsigned long long)c->serial, (int)c->pid, why);
	srv_forget_client(srv, c);
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_clients--;
	srv->stats.queued_bytes_total -= c->out_bytes;
	if (srv->accept_paused &&
	    srv_epoll_set(srv, EPOLL_CTL_MOD, srv->listen_fd, EPOLLIN, &srv->listen_fd) == 0)
		srv->accept_paused = false;
	c->next = srv->dead_clients;
	srv->dead_clients = c;
}

/* Hand complete lines to requests.c; keep a partial one. */
static void process_input(struct server *srv, struct client *c)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (c->in + start));
		if (len > WIRE_MAX_REQUEST_BYTES) {
			srv_send_error_and_close(srv, c, "too_long", "request line longer than 65536 bytes");
			return;
		}
		const char *line = c->in + start;
		start += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > 0)
			srv_handle_line(srv, c, line, len);
		if (c->dead || c->closing)
			return;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > WIRE_MAX_REQUEST_BYTES)
		srv_send_error_and_close(srv, c, "too_long", "request line longer than 65536 bytes");
}

static void read_client(struct server *srv, struct client *c)
{
	for (int i = 0; i < READS_PER_EVENT && !c->dead && !c->closing; i++) {
		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : IN_INITIAL_BYTES;
			if (cap > WIRE_MAX_REQUEST_BYTES + 1)
				cap = WIRE_MAX_REQUEST_BYTES + 1;
			char *in = realloc(c->in, cap);
			if (!in) {
				srv_client_kill(srv, c, "out of memory reading a request");
				return;
			}
			c->in = in;
			c->in_cap = cap;
		}
		size_t room = c->in_cap - c->in_len;
		ssize_t n = recv(c->fd, c->in + c->in_len, room < READ_CHUNK_BYTES ? room : READ_CHUNK_BYTES,
				 MSG_DONTWAIT);
		if (n == 0) {
			srv_client_kill(srv, c, "end of file");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				srv_client_kill(srv, c, strerror(errno));
			return;
		}
		c->in_len += (size_t)n;
		process_input(srv, c);
	}
}

static void refuse_busy(struct server *srv, int fd)
{
	json_t *msg = proto_error_msg("busy", "too many clients", NULL);
	size_t len;
	char *line = msg ? proto_serialize(msg, &len) : NULL;
	if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("Could not tell a refused client it is refused: %m");
	free(line);
	json_decref(msg);
	close(fd);
	srv->stats.connections_refused_busy++;
}

static void accept_clients(struct server *srv)
{
	for (int i = 0; i < EPOLL_BATCH; i++) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* level-triggered: stop listening until a client leaves, or we spin */
				log_warning("Cannot accept clients: %m; pausing until one disconnects");
				if (srv_epoll_set(srv, EPOLL_CTL_MOD, srv->listen_fd, 0, &srv->listen_fd) == 0) {
					srv->accept_paused = true;
					srv->stats.accept_pauses++;
				}
			}
			return;
		}
		if (srv->n_clients >= srv->cfg.max_clients) {
			refuse_busy(srv, fd);
			continue;
		}
		struct client *c = calloc(1, sizeof(*c));
		if (!c || srv_epoll_set(srv, EPOLL_CTL_ADD, fd, EPOLLIN, c) < 0) {
			log_warning("Cannot take a new client: out of memory or epoll failure");
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->serial = ++srv->next_serial;
		c->last_top1 = -2;
		c->filter = (struct proto_filter){ srv->cfg.default_top_k, srv->cfg.default_threshold };
		struct ucred cred;
		socklen_t cred_len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
			c->pid = cred.pid;
			c->uid = cred.uid;
			c->gid = cred.gid;
		}
		log_debug("Client %llu connected: pid %d uid %u gid %u", (unsigned long long)c->serial,
			  (int)c->pid, (unsigned)c->uid, (unsigned)c->gid);
		c->next = srv->clients;
		if (srv->clients)
			srv->clients->prev = c;
		srv->clients = c;
		srv->n_clients++;
		srv->stats.connections_accepted++;

		struct srv_hello hello = { 0 };
		bool have = srv->hooks.hello && srv->hooks.hello(srv->hooks.userdata, &hello) >= 0;
		json_t *msg = proto_hello(have ? &hello : NULL);
		srv_enqueue(srv, c, msg, false);
		json_decref(msg);
	}
}

/* The global output budget (server.h): cut off the biggest holders until the total fits. Run
 * between events, never inside a loop over clients: a kill here may hit any client. */
static void enforce_budget(struct server *srv)
{
	while (srv->stats.queued_bytes_total > srv->cfg.max_queued_bytes) {
		struct client *big = NULL;
		for (struct client *c = srv->clients; c; c = c->next)
			if (!big || c->out_bytes > big->out_bytes)
				big = c;
		if (!big || !big->out_bytes)
			return;
		log_warning("Output to clients totals %zu bytes, over the %zu-byte budget: "
			    "disconnecting client %llu (pid %d), which holds the most (%zu bytes unread)",
			    srv->stats.queued_bytes_total, srv->cfg.max_queued_bytes,
			    (unsigned long long)big->serial, (int)big->pid, big->out_bytes);
		srv->stats.clients_killed_budget++;
		srv_client_kill(srv, big, "global output budget exceeded");
	}
}

/* max_clients + SRV_RESERVED_FDS must fit RLIMIT_NOFILE (each client is one fd; running out
 * used to starve the camera and the model of fds too): raise the soft limit if the hard one
 * allows, else serve fewer clients. */
static void fit_fd_limit(struct server *srv)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t need = (rlim_t)srv->cfg.max_clients + SRV_RESERVED_FDS;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		struct rlimit want = rl;
		want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return;
	unsigned fit = rl.rlim_cur > 2 * SRV_RESERVED_FDS ? (unsigned)(rl.rlim_cur - SRV_RESERVED_FDS)
							   : (unsigned)(rl.rlim_cur / 2);
	if (fit < 1)
		fit = 1;
	log_warning("max_clients %u needs %llu file descriptors with the %u kept for the camera, "
		    "model and reloads, but the limit is %llu: serving at most %u clients "
		    "(raise LimitNOFILE= or lower [socket] max_clients)", srv->cfg.max_clients,
		    (unsigned long long)need, SRV_RESERVED_FDS, (unsigned long long)rl.rlim_cur, fit);
	srv->cfg.max_clients = fit;
}

static void drain_timer(struct server *srv)
{
	uint64_t ticks;
	if (read(srv->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("timerfd read: %m");
	srv_expire_waits(srv);
}

int srv_dispatch(struct server *srv)
{
	struct epoll_event ev[EPOLL_BATCH];
	int n = EPOLL_BATCH;

	for (int round = 0; round < DISPATCH_ROUNDS && n == EPOLL_BATCH; round++) {
		n = epoll_wait(srv->epoll_fd, ev, EPOLL_BATCH, 0);
		if (n < 0)
			return errno == EINTR ? 0 : log_errno(LOG_ERR, errno, "epoll_wait");
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			if (p == &srv->listen_fd)
				accept_clients(srv);
			else if (p == &srv->wake_fd)
				srv_drain_mailbox(srv);
			else if (p == &srv->timer_fd)
				drain_timer(srv);
			else {
				struct client *c = p;
				if (!c->dead && (ev[i].events & EPOLLOUT))
					srv_flush_client(srv, c);
				if (!c->dead && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
					read_client(srv, c);
			}
		}
		enforce_budget(srv);
		free_dead_clients(srv);
	}
	srv_after_dispatch(srv);
	return 0;
}

const char *srv_socket_path(const struct server *srv)
{
	return srv->served_path;
}

int srv_fd(const struct server *srv)
{
	return srv->epoll_fd;
}

int srv_open(const struct srv_config *cfg, const struct srv_hooks *hooks, struct server **ret)
{
	struct server *srv = calloc(1, sizeof(*srv));
	int r = -ENOMEM;

	if (!srv)
		return log_errno(LOG_ERR, ENOMEM, "Failed to allocate the server");
	r = pthread_mutex_init(&srv->mailbox.lock, NULL);
	if (r) {
		free(srv);
		return log_errno(LOG_ERR, r, "Failed to create the mailbox lock");
	}
	r = -ENOMEM;
	srv->listen_fd = srv->epoll_fd = srv->wake_fd = srv->timer_fd = -1;
	srv->cfg = *cfg;
	srv->hooks = *hooks;
	srv->socket_path = strdup(cfg->socket_path ? cfg->socket_path : WIRE_DEFAULT_SOCKET);
	srv->socket_group = cfg->socket_group ? strdup(cfg->socket_group) : NULL;
	if (!srv->socket_path || (cfg->socket_group && !srv->socket_group)) {
		log_errno(LOG_ERR, ENOMEM, "Failed to copy the server config");
		goto fail;
	}
	srv->cfg.socket_path = srv->socket_path;
	srv->cfg.socket_group = srv->socket_group;
	if (!srv->cfg.socket_mode)
		srv->cfg.socket_mode = DEFAULT_MODE;
	if (!srv->cfg.max_clients)
		srv->cfg.max_clients = DEFAULT_MAX_CLIENTS;
	if (!srv->cfg.max_queued_bytes)
		srv->cfg.max_queued_bytes = SRV_TOTAL_QUEUE_BYTES;
	fit_fd_limit(srv);
	srv->stats.max_clients = srv->cfg.max_clients;
	if (!srv->cfg.default_top_k)
		srv->cfg.default_top_k = DEFAULT_TOP_K;
	if (srv->cfg.default_top_k > WIRE_MAX_LABELS)
		srv->cfg.default_top_k = WIRE_MAX_LABELS;
	if (!srv->cfg.classify_timeout_ms)
		srv->cfg.classify_timeout_ms = DEFAULT_CLASSIFY_TIMEOUT_MS;
	if (!(srv->cfg.default_threshold >= 0.0 && srv->cfg.default_threshold <= 1.0)) {
		log_error("Default threshold %g is outside 0..1", srv->cfg.default_threshold);
		r = -EINVAL;
		goto fail;
	}
	r = sock_listen(srv->socket_path, srv->cfg.socket_mode, srv->socket_group,
			srv->cfg.socket_activation, &srv->listen_fd, &srv->created_socket_file,
			srv->served_path, sizeof(srv->served_path));
	if (r < 0)
		goto fail;
	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	srv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->epoll_fd < 0 || srv->wake_fd < 0 || srv->timer_fd < 0) {
		r = log_errno(LOG_ERR, errno, "Failed to create the server's epoll/eventfd/timerfd");
		goto fail;
	}
	if ((r = srv_epoll_set(srv, EPOLL_CTL_ADD, srv->listen_fd, EPOLLIN, &srv->listen_fd)) < 0 ||
	    (r = srv_epoll_set(srv, EPOLL_CTL_ADD, srv->wake_fd, EPOLLIN, &srv->wake_fd)) < 0 ||
	    (r = srv_epoll_set(srv, EPOLL_CTL_ADD, srv->timer_fd, EPOLLIN, &srv->timer_fd)) < 0) {
		log_errno(LOG_ERR, r, "Failed to register server fds with epoll");
		goto fail;
	}
	/* no "Listening on" line here: the daemon says "serving on" once it is ready */
	*ret = srv;
	return 0;
fail:
	srv_close(srv);
	return r;
}

void srv_close(struct server *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		srv_client_kill(srv, srv->clients, "server shutting down");
	free_dead_clients(srv);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		if (srv->created_socket_file)
			unlink(srv->socket_path);
	}
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
	if (srv->timer_fd >= 0)
		close(srv->timer_fd);
	srv_free_mailbox(srv);
	free(srv->socket_path);
	free(srv->socket_group);
	free(srv);
}
