/* auth.h — who may use camclass-web: none, a bearer token, or an htpasswd-style user file.
 *
 * Contract
 * - web_auth_load() reads the [web] auth_file once at start (at most WEB_AUTH_FILE_MAX_BYTES);
 *   errors fill err with "PATH:LINE: reason" or "PATH: reason" and return a negative errno.
 * - web_auth_check() is pure and thread-safe (HTTP connections each run on their own thread):
 *   it takes the raw Authorization header (or NULL) and the raw "token" query value (or NULL)
 *   as the client sent them, and never reads beyond their NUL.
 *   token mode: "Authorization: Bearer TOKEN" or "?token=TOKEN", compared in constant time.
 *   htpasswd mode: "Authorization: Basic base64(user:password)", checked with crypt(3)
 *   (libxcrypt: bcrypt $2b$/$2y$, sha512 $6$, sha256 $5$, yescrypt $y$).
 * - The struct is immutable after load; web_auth_free() releases it (NULL is fine). */
#ifndef CAMCLASS_WEB_AUTH_H
#define CAMCLASS_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/config.h"

#define WEB_AUTH_FILE_MAX_BYTES (64u * 1024u)
#define WEB_AUTH_MAX_USERS 256
#define WEB_AUTH_TOKEN_MIN_BYTES 16
#define WEB_AUTH_HEADER_MAX_BYTES 4096 /* longer Authorization headers are refused unread */

struct web_auth;

int web_auth_load(enum config_web_auth mode, const char *path, struct web_auth **ret,
		  char *err, size_t errlen);
/* An htpasswd/token set from text instead of a file (tests, the fuzzer). */
int web_auth_parse(enum config_web_auth mode, const char *name, const char *text, size_t len,
		   struct web_auth **ret, char *err, size_t errlen);
void web_auth_free(struct web_auth *a);

enum config_web_auth web_auth_mode(const struct web_auth *a);
bool web_auth_check(const struct web_auth *a, const char *authorization, const char *query_token);

#endif
