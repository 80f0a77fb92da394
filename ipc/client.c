/* client.c — blocking line-oriented client for camclass and the tests.
 *
 * Kept deliberately simple (blocking socket + poll for timeouts): a command-line client talks
 * to one daemon and waits for answers. The read buffer grows up to WIRE_MAX_MESSAGE_BYTES because
 * a snapshot line carries a whole base64 JPEG. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/client.h"
#include "lib/clock.h"

#define READ_CHUNK_BYTES 65536

struct cli_conn {
	int fd;
	char *buf;
	size_t len, cap;        /* bytes in buf */
	size_t consumed;        /* bytes of the previous line (+ '\n') to drop on the next read */
	json_int_t next_id;
};

int cli_connect(const char *path, struct cli_conn **ret)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	struct cli_conn *conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (conn->fd < 0) {
		int r = -errno;
		free(conn);
		return r;
	}
	if (connect(conn->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;
		close(conn->fd);
		free(conn);
		return r;
	}
	conn->next_id = 1;
	*ret = conn;
	return 0;
}

void cli_close(struct cli_conn *conn)
{
	if (!conn)
		return;
	close(conn->fd);
	free(conn->buf);
	free(conn);
}

int cli_fd(const struct cli_conn *conn)
{
	return conn->fd;
}

int cli_send_raw(struct cli_conn *conn, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(conn->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cli_send(struct cli_conn *conn, const json_t *request)
{
	char *text = json_dumps(request, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	char *line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	line[len] = '\n';
	int r = cli_send_raw(conn, line, len + 1);
	free(line);
	return r;
}

static int fill(struct cli_conn *conn, int64_t deadline_ms)
{
	if (conn->len == conn->cap) {
		if (conn->cap >= WIRE_MAX_MESSAGE_BYTES + 1)
			return -EMSGSIZE;
		size_t cap = conn->cap ? conn->cap * 2 : READ_CHUNK_BYTES;
		if (cap > WIRE_MAX_MESSAGE_BYTES + 1)
			cap = WIRE_MAX_MESSAGE_BYTES + 1;
		char *buf = realloc(conn->buf, cap + 1);
		if (!buf)
			return -ENOMEM;
		conn->buf = buf;
		conn->cap = cap;
	}
	for (;;) {
		int wait_ms = -1;
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - mono_now_ms();
			wait_ms = left > 0 ? (int)left : 0;
		}
		struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
		int n = poll(&pfd, 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		ssize_t got = recv(conn->fd, conn->buf + conn->len, conn->cap - conn->len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -ECONNRESET;
		conn->len += (size_t)got;
		return 0;
	}
}

int cli_read_line(struct cli_conn *conn, int timeout_ms, const char **ret_line, size_t *ret_len)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_now_ms() + timeout_ms;
	size_t scanned = 0;

	if (conn->consumed) {
		memmove(conn->buf, conn->buf + conn->consumed, conn->len - conn->consumed);
		conn->len -= conn->consumed;
		conn->consumed = 0;
	}
	for (;;) {
		char *nl = conn->len > scanned ? memchr(conn->buf + scanned, '\n', conn->len - scanned)
					       : NULL;
		if (nl) {
			*nl = 0;
			*ret_line = conn->buf;
			*ret_len = (size_t)(nl - conn->buf);
			conn->consumed = *ret_len + 1;
			return 0;
		}
		scanned = conn->len;
		int r = fill(conn, deadline);
		if (r < 0)
			return r;
	}
}

int cli_read_msg(struct cli_conn *conn, int timeout_ms, json_t **ret_msg, const char **ret_line,
		 size_t *ret_len)
{
	const char *line;
	size_t len;
	int r = cli_read_line(conn, timeout_ms, &line, &len);
	if (r < 0)
		return r;
	json_t *msg = json_loadb(line, len, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return -EPROTO;
	}
	*ret_msg = msg;
	if (ret_line)
		*ret_line = line;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int cli_request(struct cli_conn *conn, const char *cmd, const json_t *fields, int timeout_ms,
		json_t **ret_reply)
{
	json_int_t id = conn->next_id++;
	json_t *req = json_pack("{s:s, s:I}", "cmd", cmd, "id", id);
	if (!req)
		return -ENOMEM;
	if (fields && json_object_update(req, (json_t *)fields) < 0) {
		json_decref(req);
		return -ENOMEM;
	}
	int r = cli_send(conn, req);
	json_decref(req);
	if (r < 0)
		return r;
	int64_t deadline = timeout_ms < 0 ? -1 : mono_now_ms() + timeout_ms;
	for (;;) {
		json_t *msg;
		int left = deadline < 0 ? -1 : (int)(deadline - mono_now_ms() > 0 ? deadline - mono_now_ms() : 0);
		r = cli_read_msg(conn, left, &msg, NULL, NULL);
		if (r < 0)
			return r;
		json_t *got = json_object_get(msg, "id");
		/* errors without id (too_long, busy) end the conversation too */
		const char *type = json_string_value(json_object_get(msg, "type"));
		bool untagged_error = !got && type && strcmp(type, "error") == 0;
		if (untagged_error || (json_is_integer(got) && json_integer_value(got) == id)) {
			*ret_reply = msg;
			return 0;
		}
		json_decref(msg);
	}
}
