/* errbuf.h — filling a caller's error buffer and returning the error code in one step.
 *
 * Many functions report failure as a negative errno plus a human-readable message in a
 * caller-supplied buffer (char *err, size_t errlen). These helpers do both, so a failure path
 * reads `return err_setf(err, errlen, -EINVAL, "what: why", ...);`.
 * Ownership: err belongs to the caller; it is written (always NUL-terminated, truncated to
 * errlen) only when errlen > 0, and err may be NULL when errlen is 0.
 * Threads: reentrant, no shared state. Errors: none of their own; they return code unchanged. */
#ifndef CAMCLASS_LIB_ERRBUF_H
#define CAMCLASS_LIB_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>

/* Formats fmt into err (when errlen > 0) and returns code. */
int err_setf(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The va_list form of err_setf(), for wrappers that keep err/errlen in a struct. */
int err_vsetf(char *err, size_t errlen, int code, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif
