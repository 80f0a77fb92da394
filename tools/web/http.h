/* http.h — camclass-web's HTTP server (libmicrohttpd): endpoints, auth, limits.
 *
 * Contract
 * - web_server_start() binds [web] listen and serves on libmicrohttpd's threads (one thread
 *   per connection, at most [web] max_connections at once; more are refused at accept) until
 *   web_server_stop(). The parts passed in (auth, link, hub) are borrowed and must outlive it.
 * - *ret_port is the bound port (useful with port 0).
 * - Errors: 0 or a negative errno (-EADDRINUSE, -EACCES …), logged once here. */
#ifndef CAMCLASS_WEB_HTTP_H
#define CAMCLASS_WEB_HTTP_H

#include <stdbool.h>

#include "daemon/config.h"
#include "tools/web/auth.h"
#include "tools/web/hub.h"
#include "tools/web/link.h"

struct web_parts {
	const struct config *cfg;
	const struct web_auth *auth;
	struct web_link *link;
	struct web_hub *hub;
};

struct web_server;

int web_server_start(const struct web_parts *parts, struct web_server **ret, unsigned *ret_port);
void web_server_stop(struct web_server *s);

#endif
