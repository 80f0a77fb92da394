/* http.c — camclass-web's endpoints on libmicrohttpd (contract in http.h; table in request.c).
 *
 * Why it is built this way:
 * - One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a /stream.mjpg viewer's thread
 *   may simply block in hub_next() until the next frame, with no busy polling; the number of
 *   threads, and so memory, is capped by [web] max_connections (small stacks, small
 *   per-connection pools), and a viewer that stops reading is cut off by the idle timeout.
 * - Every response carries the same hardening headers (no sniffing, no framing, a
 *   Content-Security-Policy that allows only this origin — the page has no inline script, no
 *   CDN — and no Referer, since a token may be in the URL).
 * - Teach requests change the daemon's model, so besides [web] allow_teach and auth they need
 *   "Content-Type: application/json": a cross-site HTML form cannot send that without a CORS
 *   preflight, which this server never grants. */
#include "tools/web/http.h"

#include <errno.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "ipc/wire.h"
#include "tools/web/assets.h"
#include "tools/web/metrics.h"
#include "tools/web/request.h"
#include "tools/web/stream.h"

#define THREAD_STACK_BYTES (256u * 1024u)
#define CONNECTION_POOL_BYTES (64u * 1024u)
#define IDLE_TIMEOUT_S 30
#define DAEMON_TIMEOUT_MS 10000
#define TRAIN_TIMEOUT_MS 120000
#define SNAPSHOT_MAX_WIDTH 8192

struct web_server {
	struct web_parts parts;
	struct MHD_Daemon *mhd;
	atomic_int stopping;
};

struct request_state {
	struct web_route_info ri;
	char *body;
	size_t body_len;
	bool too_big;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_warning("http: %s", line);
}

static void harden(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
}

/* Queues a response made from a malloc'd buffer (taken over). */
static enum MHD_Result send_buffer(struct MHD_Connection *conn, unsigned status, const char *type,
				   void *data, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	harden(resp);
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *msg)
{
	json_object_del(msg, "id"); /* the id of camclass-web's own socket request */
	char *text = msg ? json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(msg);
	if (!text)
		return MHD_NO;
	return send_buffer(conn, status, "application/json", text, strlen(text));
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *code,
				  const char *message)
{
	return send_json(conn, status, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
						 "message", message));
}

/* HTTP status for a daemon reply of type "error". */
static unsigned error_status(const json_t *reply)
{
	static const struct { const char *code; unsigned status; } map[] = {
		{ "bad_request", MHD_HTTP_BAD_REQUEST }, { "unknown_cmd", MHD_HTTP_NOT_IMPLEMENTED },
		{ "no_result", MHD_HTTP_SERVICE_UNAVAILABLE }, { "busy", MHD_HTTP_SERVICE_UNAVAILABLE },
		{ "unavailable", MHD_HTTP_SERVICE_UNAVAILABLE }, { "timeout", MHD_HTTP_GATEWAY_TIMEOUT },
	};
	const char *code = json_string_value(json_object_get(reply, "code"));
	for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	return MHD_HTTP_UNPROCESSABLE_CONTENT; /* e.g. a teach request the daemon refused */
}

/* Asks the daemon; on failure queues the error response and returns NULL. */
static json_t *ask(struct web_server *s, struct MHD_Connection *conn, const char *cmd,
		   const json_t *fields, int timeout_ms, enum MHD_Result *ret)
{
	json_t *reply;
	int r = link_request(s->parts.link, cmd, fields, timeout_ms, &reply);
	if (r < 0) {
		char msg[600];
		snprintf(msg, sizeof(msg), "cannot reach camclassd at %s: %s",
			 link_socket_path(s->parts.link), strerror(-r));
		*ret = send_error(conn, r == -ETIMEDOUT ? MHD_HTTP_GATEWAY_TIMEOUT : MHD_HTTP_BAD_GATEWAY,
				  "daemon_unreachable", msg);
		return NULL;
	}
	const char *type = json_string_value(json_object_get(reply, "type"));
	if (!type || strcmp(type, "error") == 0) {
		*ret = send_json(conn, error_status(reply), reply);
		return NULL;
	}
	return reply;
}

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const char *url)
{
	const struct web_asset *a = web_asset_find(url);
	struct MHD_Response *resp = MHD_create_response_from_buffer(a->len, (void *)a->data,
								    MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
	harden(resp);
	enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result serve_snapshot(struct web_server *s, struct MHD_Connection *conn)
{
	enum MHD_Result ret = MHD_NO;
	json_t *fields = json_object();
	const char *mw = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "max_width");
	const char *view = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "view");
	unsigned max_width;
	if (!fields)
		return MHD_NO;
	if (mw) {
		if (web_query_uint(mw, 16, SNAPSHOT_MAX_WIDTH, &max_width) < 0) {
			json_decref(fields);
			return send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "max_width must be an integer 16..8192");
		}
		json_object_set_new(fields, "max_width", json_integer(max_width));
	}
	if (view) {
		if (strcmp(view, "model") != 0 && strcmp(view, "camera") != 0) {
			json_decref(fields);
			return send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
					  "view must be camera or model");
		}
		json_object_set_new(fields, "view", json_string(view));
	}
	json_t *reply = ask(s, conn, "snapshot", fields, DAEMON_TIMEOUT_MS, &ret);
	json_decref(fields);
	if (!reply)
		return ret;
	json_t *data = json_object_get(reply, "data");
	uint8_t *jpeg;
	size_t len;
	if (!json_is_string(data) ||
	    wire_base64_decode(json_string_value(data), json_string_length(data), &jpeg, &len) < 0) {
		json_decref(reply);
		return send_error(conn, MHD_HTTP_BAD_GATEWAY, "bad_reply",
				  "the daemon's snapshot has no valid base64 data");
	}
	json_decref(reply);
	return send_buffer(conn, MHD_HTTP_OK, "image/jpeg", jpeg, len);
}

static enum MHD_Result serve_metrics(struct web_server *s, struct MHD_Connection *conn)
{
	json_t *status = NULL;
	struct web_hub_stats hs;
	char *text;
	size_t len;
	if (link_request(s->parts.link, "status", NULL, DAEMON_TIMEOUT_MS, &status) == 0 &&
	    !json_is_string(json_object_get(status, "type"))) {
		json_decref(status);
		status = NULL;
	} else if (status && strcmp(json_string_value(json_object_get(status, "type")), "status")) {
		json_decref(status);
		status = NULL;
	}
	hub_get_stats(s->parts.hub, &hs);
	int r = metrics_render(status, &hs, &text, &len);
	json_decref(status);
	if (r < 0)
		return MHD_NO;
	return send_buffer(conn, MHD_HTTP_OK, WEB_METRICS_CONTENT_TYPE, text, len);
}

static enum MHD_Result serve_stream(struct web_server *s, struct MHD_Connection *conn)
{
	struct MHD_Response *resp = stream_response(s->parts.hub, &s->stopping);
	if (!resp)
		return MHD_NO;
	harden(resp);
	enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return r;
}

/* --- dispatch ----------------------------------------------------------------------------------- */

static enum MHD_Result refuse_auth(struct web_server *s, struct MHD_Connection *conn)
{
	char *text = strdup("{\"type\":\"error\",\"code\":\"unauthorized\","
			    "\"message\":\"authentication required\"}");
	if (!text)
		return MHD_NO;
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text,
								    MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
				web_auth_mode(s->parts.auth) == CONFIG_WEB_AUTH_HTPASSWD
					? "Basic realm=\"camclass\", charset=\"UTF-8\""
					: "Bearer realm=\"camclass\"");
	harden(resp);
	enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result serve_teach(struct web_server *s, struct MHD_Connection *conn,
				   struct request_state *rs)
{
	char err[256];
	json_t *fields;
	enum MHD_Result ret = MHD_NO;
	if (rs->too_big)
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "bad_request",
				  "request body larger than 16384 bytes");
	if (web_body_fields(rs->body ? rs->body : "", rs->body_len, &fields, err, sizeof(err)) < 0)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", err);
	json_t *reply = ask(s, conn, rs->ri.daemon_cmd, fields,
			    rs->ri.route == WEB_ROUTE_TRAIN ? TRAIN_TIMEOUT_MS : DAEMON_TIMEOUT_MS,
			    &ret);
	json_decref(fields);
	return reply ? send_json(conn, MHD_HTTP_OK, reply) : ret;
}

/* Checks that need only the request line and headers; MHD_YES with nothing queued = go on. */
static enum MHD_Result screen(struct web_server *s, struct MHD_Connection *conn, const char *url,
			      const char *method, struct request_state *rs, bool *queued)
{
	*queued = true;
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_AUTHORIZATION);
	const char *token = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
	if (!web_auth_check(s->parts.auth, authz, token))
		return refuse_auth(s, conn);
	rs->ri = web_route(url, web_asset_find(url) != NULL);
	if (rs->ri.route == WEB_ROUTE_NOT_FOUND)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such page");
	if (!web_method_allowed(&rs->ri, method))
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "bad_method",
				  rs->ri.post ? "use POST" : "use GET");
	if (rs->ri.post) {
		if (!s->parts.cfg->web.allow_teach)
			return send_error(conn, MHD_HTTP_FORBIDDEN, "teach_disabled",
					  "teaching is off ([web] allow_teach = no)");
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
		    (ct[16] != 0 && ct[16] != ';' && ct[16] != ' '))
			return send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bad_request",
					  "teach requests need Content-Type: application/json");
	}
	*queued = false;
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct web_server *s = cls;
	struct request_state *rs = *con_cls;
	(void)version;
	if (!rs) {
		bool queued;
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		*con_cls = rs;
		enum MHD_Result r = screen(s, conn, url, method, rs, &queued);
		if (queued || rs->ri.post)
			return r; /* POST: the body comes in the next calls */
	} else if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (rs->too_big || rs->body_len + n > WEB_BODY_MAX_BYTES) {
			rs->too_big = true;
			return MHD_YES;
		}
		char *grown = realloc(rs->body, rs->body_len + n + 1);
		if (!grown)
			return MHD_NO;
		memcpy(grown + rs->body_len, upload_data, n);
		rs->body = grown;
		rs->body_len += n;
		rs->body[rs->body_len] = 0;
		return MHD_YES;
	}
	enum MHD_Result ret = MHD_NO;
	json_t *reply;
	switch (rs->ri.route) {
	case WEB_ROUTE_ASSET:
		return serve_asset(conn, url);
	case WEB_ROUTE_STREAM:
		return serve_stream(s, conn);
	case WEB_ROUTE_SNAPSHOT:
		return serve_snapshot(s, conn);
	case WEB_ROUTE_METRICS:
		return serve_metrics(s, conn);
	case WEB_ROUTE_STATUS:
	case WEB_ROUTE_LATEST:
		reply = ask(s, conn, rs->ri.daemon_cmd, NULL, DAEMON_TIMEOUT_MS, &ret);
		return reply ? send_json(conn, MHD_HTTP_OK, reply) : ret;
	case WEB_ROUTE_TEACH:
	case WEB_ROUTE_SAMPLES:
	case WEB_ROUTE_TRAIN:
		return serve_teach(s, conn, rs);
	case WEB_ROUTE_NOT_FOUND:
		break;
	}
	return MHD_NO;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct request_state *rs = *con_cls;
	if (rs) {
		free(rs->body);
		free(rs);
		*con_cls = NULL;
	}
}

int web_server_start(const struct web_parts *parts, struct web_server **ret, unsigned *ret_port)
{
	struct sockaddr_storage sa;
	unsigned sa_len;
	int r = config_parse_listen(parts->cfg->web.listen, &sa, &sa_len);
	if (r < 0)
		return log_errno(LOG_ERR, r, "[web] listen %s", parts->cfg->web.listen);
	struct web_server *s = calloc(1, sizeof(*s));
	if (!s)
		return log_errno(LOG_ERR, ENOMEM, "http server");
	s->parts = *parts;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	s->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)parts->cfg->web.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_POOL_BYTES,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_END);
	if (!s->mhd) {
		r = errno ? -errno : -EADDRINUSE;
		free(s);
		return log_errno(LOG_ERR, r, "cannot serve HTTP on %s", parts->cfg->web.listen);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	*ret_port = info ? info->port : 0;
	*ret = s;
	return 0;
}

void web_server_stop(struct web_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, 1);
	MHD_stop_daemon(s->mhd);
	free(s);
}
