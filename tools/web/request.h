/* request.h — the pure part of camclass-web's HTTP handling: which endpoint a request is for,
 * strict query numbers, and POST bodies turned into daemon requests. No libmicrohttpd here, so
 * tests/test_web.c and fuzz/fuzz_web_request.c drive exactly what the server runs.
 *
 * Contract: every function is pure and thread-safe; inputs are NUL-terminated strings from the
 * client (any bytes), bodies are (pointer, length). Errors: negative errno, err filled with a
 * message fit to send back to the client. */
#ifndef CAMCLASS_WEB_REQUEST_H
#define CAMCLASS_WEB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define WEB_BODY_MAX_BYTES (16u * 1024u) /* POST bodies: small JSON objects */

enum web_route {
	WEB_ROUTE_NOT_FOUND,
	WEB_ROUTE_ASSET,     /* "/" and the page's own files */
	WEB_ROUTE_STREAM,    /* /stream.mjpg */
	WEB_ROUTE_SNAPSHOT,  /* /snapshot.jpg */
	WEB_ROUTE_STATUS,    /* /api/status */
	WEB_ROUTE_LATEST,    /* /api/latest */
	WEB_ROUTE_TEACH,     /* /api/teach */
	WEB_ROUTE_SAMPLES,   /* /api/samples */
	WEB_ROUTE_TRAIN,     /* /api/train */
	WEB_ROUTE_METRICS,   /* /metrics */
};

struct web_route_info {
	enum web_route route;
	bool post;           /* the route takes POST (teach requests), else GET/HEAD */
	const char *daemon_cmd; /* the socket request it forwards, or NULL */
};

/* The route of a URL path (without query); unknown paths: WEB_ROUTE_NOT_FOUND. asset_known says
 * whether a static file of that path exists (the generated asset table). */
struct web_route_info web_route(const char *path, bool asset_known);

/* true if the method fits the route: GET/HEAD for reads, POST for teach requests. */
bool web_method_allowed(const struct web_route_info *ri, const char *method);

/* A decimal integer in [min, max] (whole string, no sign, no blanks). */
int web_query_uint(const char *value, unsigned min, unsigned max, unsigned *ret);

/* The fields of a teach request from a POST body: empty → {}, else one JSON object (strict:
 * no duplicate keys, at most WEB_BODY_MAX_BYTES) without "cmd" or "id" (set by the server). */
int web_body_fields(const char *body, size_t len, json_t **ret_fields, char *err, size_t errlen);

#endif
