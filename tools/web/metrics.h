/* metrics.h — the daemon's `status` reply (and camclass-web's own counters) as Prometheus text
 * exposition format 0.0.4, for /metrics.
 *
 * Contract: pure and thread-safe. status may be NULL (daemon unreachable: camclass_up 0 and only
 * the web's own metrics). Fields the daemon does not send are left out, never invented.
 * Returns 0 and a malloc'd NUL-terminated text (caller frees), or -ENOMEM. */
#ifndef CAMCLASS_WEB_METRICS_H
#define CAMCLASS_WEB_METRICS_H

#include <stddef.h>

#include <jansson.h>

#include "tools/web/hub.h"

#define WEB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

int metrics_render(const json_t *status, const struct web_hub_stats *web, char **ret_text,
		   size_t *ret_len);

#endif
