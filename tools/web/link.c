/* link.c — one daemon connection per request, bounded in number (contract in link.h).
 *
 * Why not one shared connection: a slow request (a `train` or `classify`) would hold up every
 * status poll of every page behind it. Why not unbounded: 100 browser tabs must not take 100
 * of the daemon's max_clients. A counting semaphore gives both. */
#include "tools/web/link.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc/client.h"

struct web_link {
	char *socket_path;
	sem_t slots;
};

int link_new(const char *socket_path, struct web_link **ret)
{
	struct web_link *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->socket_path = strdup(socket_path);
	if (!l->socket_path || sem_init(&l->slots, 0, WEB_LINK_MAX_PARALLEL) < 0) {
		free(l->socket_path);
		free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

void link_free(struct web_link *l)
{
	if (!l)
		return;
	sem_destroy(&l->slots);
	free(l->socket_path);
	free(l);
}

const char *link_socket_path(const struct web_link *l)
{
	return l->socket_path;
}

int link_request(struct web_link *l, const char *cmd, const json_t *fields, int timeout_ms,
		 json_t **ret_reply)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (sem_timedwait(&l->slots, &deadline) < 0)
		if (errno != EINTR)
			return errno == ETIMEDOUT ? -ETIMEDOUT : -errno;

	struct cli_conn *conn;
	int r = cli_connect(l->socket_path, &conn);
	if (r == 0) {
		r = cli_request(conn, cmd, fields, timeout_ms, ret_reply);
		cli_close(conn);
	}
	sem_post(&l->slots);
	return r;
}
