/* assets.c — lookup in the generated asset table (assets.h). */
#include "tools/web/assets.h"

#include <string.h>

const struct web_asset *web_asset_find(const char *path)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (const struct web_asset *a = web_assets; a->path; a++)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}
