/* zip_api.h — libzip, loaded the first time a model's associated files are read or written.
 *
 * Why not linked: Debian's libzip pulls in libcrypto (for zip encryption, which we never use),
 * and libcrypto is linked with BIND_NOW and NODELETE: loading it costs every process ~1.5 MB of
 * resident memory for its relocations and symbol tables (measured in camclassd: 1448 kB, a
 * tenth of the daemon's 12 MB budget, issue #18). Most models carry no zip at all (the demo
 * model, the TF Hub MobileNets), so the daemon loads libzip only when a model's metadata names
 * an associated file, or when it writes one (teaching). The package depends on libzip4 itself
 * (debian/control), since dh_shlibdeps cannot see a dlopen().
 *
 * zip_api() returns the table of libzip functions, loaded once per process (dlopen of the
 * soname the build saw, CAMCLASS_LIBZIP_SONAME, never unloaded); each member has the type of
 * the libzip function it is named after (checked at compile time against <zip.h>).
 * Threads: any thread, any time (the load is done once under pthread_once).
 * Errors: NULL with err filled ("cannot load libzip.so.4: …"), the same message on every call. */
#ifndef CAMCLASS_INFERENCE_ZIP_API_H
#define CAMCLASS_INFERENCE_ZIP_API_H

#include <stddef.h>

#include <zip.h>

#define ZIP_API_FUNCTIONS(X)                                                                      \
	X(zip_error_init) X(zip_error_fini) X(zip_error_code_zip) X(zip_error_strerror)           \
	X(zip_source_buffer_create) X(zip_source_free) X(zip_source_keep) X(zip_source_buffer)    \
	X(zip_source_stat) X(zip_source_open) X(zip_source_read) X(zip_source_close)              \
	X(zip_open_from_source) X(zip_name_locate) X(zip_stat_index) X(zip_strerror)              \
	X(zip_fopen_index) X(zip_fread) X(zip_file_strerror) X(zip_fclose) X(zip_discard)         \
	X(zip_file_add) X(zip_set_file_compression) X(zip_file_set_mtime) X(zip_close)

struct zip_api {
#define ZIP_API_MEMBER(fn) __typeof__(fn) *fn;
	ZIP_API_FUNCTIONS(ZIP_API_MEMBER)
#undef ZIP_API_MEMBER
};

const struct zip_api *zip_api(char *err, size_t errlen);

#endif
