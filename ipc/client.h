/* client.h — a small blocking client of the camclassd socket (used by camclass and the tests).
 *
 * One connection = one struct cli_conn, used by one thread. Lines are read into a buffer owned
 * by the connection: a returned line stays valid until the next read on that connection.
 * Returns 0 or a negative errno: connect errors come straight from connect(2) (-ENOENT no
 * socket file, -ECONNREFUSED nobody listening, -EACCES no permission); -ETIMEDOUT no line in
 * time, -ECONNRESET the daemon closed the connection, -EMSGSIZE a line above
 * WIRE_MAX_MESSAGE_BYTES, -EPROTO a line that is not a JSON object. */
#ifndef CAMCLASS_IPC_CLIENT_H
#define CAMCLASS_IPC_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "ipc/wire.h"

struct cli_conn;

int cli_connect(const char *path, struct cli_conn **ret);
void cli_close(struct cli_conn *conn);
int cli_fd(const struct cli_conn *conn);

/* Write all bytes / one request object as a line. */
int cli_send_raw(struct cli_conn *conn, const void *data, size_t len);
int cli_send(struct cli_conn *conn, const json_t *request);

/* Next line without its '\n' (NUL-terminated). timeout_ms < 0 waits forever. */
int cli_read_line(struct cli_conn *conn, int timeout_ms, const char **ret_line, size_t *ret_len);
/* Next line parsed as a JSON object (new reference); *ret_line optional. */
int cli_read_msg(struct cli_conn *conn, int timeout_ms, json_t **ret_msg, const char **ret_line,
		 size_t *ret_len);

/* Send {"cmd":cmd, "id":N, ...fields} and wait for the message carrying that id, skipping
 * pushed results and events. fields: NULL or an object (borrowed). The reply may be of type
 * "error": the caller looks at "type". */
int cli_request(struct cli_conn *conn, const char *cmd, const json_t *fields, int timeout_ms,
		json_t **ret_reply);

#endif
