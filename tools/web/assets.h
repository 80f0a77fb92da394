/* assets.h — the page's static files, compiled into camclass-web (no files to install, no CDN).
 *
 * Contract: web_assets is generated at build time by scripts/embed-assets from
 * tools/web/static/ into $(BUILD)/gen/web_assets.c: one entry per file, served as
 * "/<file name>", ending with an entry whose path is NULL. "/" serves "/index.html".
 * Immutable; any thread may read it. */
#ifndef CAMCLASS_WEB_ASSETS_H
#define CAMCLASS_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;         /* "/app.js" */
	const char *content_type; /* "text/javascript; charset=utf-8" */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];

/* The asset for a URL path ("/" → "/index.html"), or NULL. */
const struct web_asset *web_asset_find(const char *path);

#endif
