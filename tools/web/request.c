/* request.c — routes, query numbers and POST bodies of camclass-web (contract in request.h).
 *
 * Why it is built this way: the endpoint table is the one place that says which path exists,
 * which method it takes and which daemon request it becomes, so the server, the docs' table and
 * the tests cannot disagree. Bodies are parsed with jansson's strict decoder and capped before
 * parsing; "cmd"/"id" in a body are refused rather than silently overriding the endpoint. */
#include "tools/web/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *path;
	struct web_route_info info;
} routes[] = {
	{ "/stream.mjpg", { WEB_ROUTE_STREAM, false, NULL } },
	{ "/snapshot.jpg", { WEB_ROUTE_SNAPSHOT, false, "snapshot" } },
	{ "/api/status", { WEB_ROUTE_STATUS, false, "status" } },
	{ "/api/latest", { WEB_ROUTE_LATEST, false, "latest" } },
	{ "/api/teach", { WEB_ROUTE_TEACH, true, "teach" } },
	{ "/api/samples", { WEB_ROUTE_SAMPLES, true, "samples" } },
	{ "/api/train", { WEB_ROUTE_TRAIN, true, "train" } },
	{ "/metrics", { WEB_ROUTE_METRICS, false, "status" } },
};

struct web_route_info web_route(const char *path, bool asset_known)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].path, path) == 0)
			return routes[i].info;
	struct web_route_info none = { asset_known ? WEB_ROUTE_ASSET : WEB_ROUTE_NOT_FOUND, false,
				       NULL };
	return none;
}

bool web_method_allowed(const struct web_route_info *ri, const char *method)
{
	if (ri->post)
		return strcmp(method, "POST") == 0;
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int web_query_uint(const char *value, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long v = 0;
	size_t n = 0;
	if (!value || !*value)
		return -EINVAL;
	for (const char *p = value; *p; p++, n++) {
		if (*p < '0' || *p > '9' || n >= 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

int web_body_fields(const char *body, size_t len, json_t **ret_fields, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *obj;

	if (len > WEB_BODY_MAX_BYTES) {
		snprintf(err, errlen, "request body larger than %u bytes", WEB_BODY_MAX_BYTES);
		return -EMSGSIZE;
	}
	size_t blank = 0;
	while (blank < len && (body[blank] == ' ' || body[blank] == '\n' || body[blank] == '\r' ||
			       body[blank] == '\t'))
		blank++;
	if (blank == len)
		obj = json_object();
	else
		obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		snprintf(err, errlen, "request body is not JSON: %s (column %d)", jerr.text,
			 jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		snprintf(err, errlen, "request body must be a JSON object");
		return -EINVAL;
	}
	if (json_object_get(obj, "cmd") || json_object_get(obj, "id")) {
		json_decref(obj);
		snprintf(err, errlen, "request body must not set \"cmd\" or \"id\"");
		return -EINVAL;
	}
	*ret_fields = obj;
	return 0;
}
