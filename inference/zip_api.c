/* zip_api.c — zip_api() (zip_api.h): dlopen() libzip once and look up the functions we use. */
#include "inference/zip_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef CAMCLASS_LIBZIP_SONAME
#define CAMCLASS_LIBZIP_SONAME "libzip.so.4" /* Debian 12's libzip4 */
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct zip_api api;
static const struct zip_api *loaded;
static char why[256];

static void load(void)
{
	void *h = dlopen(CAMCLASS_LIBZIP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(why, sizeof(why), "cannot load %s (reading or writing a model's associated "
			 "files needs it; Debian package libzip4): %s", CAMCLASS_LIBZIP_SONAME,
			 e ? e : "unknown error");
		return;
	}
	/* POSIX guarantees a dlsym() result converts to a function pointer; memcpy says so
	 * without a cast ISO C does not define. */
#define ZIP_API_LOAD(fn)                                                                          \
	{                                                                                        \
		void *p = dlsym(h, #fn);                                                         \
		if (!p) {                                                                        \
			snprintf(why, sizeof(why), "%s has no %s: not the libzip this was built for", \
				 CAMCLASS_LIBZIP_SONAME, #fn);                                   \
			dlclose(h);                                                              \
			return;                                                                  \
		}                                                                                \
		memcpy(&api.fn, &p, sizeof(p));                                                  \
	}
	ZIP_API_FUNCTIONS(ZIP_API_LOAD)
#undef ZIP_API_LOAD
	loaded = &api;
}

const struct zip_api *zip_api(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded && err && errlen)
		snprintf(err, errlen, "%s", why);
	return loaded;
}
