/* link.h — camclass-web's requests to camclassd over its Unix socket (ipc/client.h).
 *
 * Contract
 * - One short connection per request: connect, send {"cmd":…}, read the reply, close. At most
 *   WEB_LINK_MAX_PARALLEL requests are in flight at once (the daemon's max_clients is small and
 *   shared with other clients); a caller waits up to its timeout for a free slot.
 * - Thread-safe: any HTTP connection thread may call link_request().
 * - Returns 0 and a reply object (new reference; its "type" may be "error"), or a negative
 *   errno: -ETIMEDOUT (no slot or no reply in time), connect errors from ipc/client.h
 *   (-ENOENT, -ECONNREFUSED, -EACCES: daemon not running / no permission), -ECONNRESET. */
#ifndef CAMCLASS_WEB_LINK_H
#define CAMCLASS_WEB_LINK_H

#include <jansson.h>

#define WEB_LINK_MAX_PARALLEL 8

struct web_link;

int link_new(const char *socket_path, struct web_link **ret);
void link_free(struct web_link *l);
const char *link_socket_path(const struct web_link *l);

int link_request(struct web_link *l, const char *cmd, const json_t *fields, int timeout_ms,
		 json_t **ret_reply);

#endif
