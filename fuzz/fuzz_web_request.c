/* fuzz_web_request.c — camclass-web's handling of what an HTTP client controls: the
 * Authorization header (Basic/Bearer, base64, user:password), the ?token= value, the path,
 * query numbers and POST bodies, and /metrics rendering of whatever JSON comes back.
 * Input: fields separated by '\n': authorization, token, path, number, then the body. */
#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/web/auth.h"
#include "tools/web/metrics.h"
#include "tools/web/request.h"

static struct web_auth *token_auth, *user_auth;

static void setup(void)
{
	char err[512], salt[64], text[256];
	if (token_auth)
		return;
	const char *tok = "fuzz-token-0123456789";
	if (web_auth_parse(CONFIG_WEB_AUTH_TOKEN, "t", tok, strlen(tok), &token_auth, err, sizeof(err)))
		abort();
	/* few rounds: the fuzzer should spend its time in our parsing, not in SHA-256 */
	if (!crypt_gensalt_rn("$5$", 1000, NULL, 0, salt, sizeof(salt)))
		abort();
	strcpy(text, "user:");
	strncat(text, crypt("pass", salt), sizeof(text) - 6);
	if (web_auth_parse(CONFIG_WEB_AUTH_HTPASSWD, "h", text, strlen(text), &user_auth, err,
			   sizeof(err)))
		abort();
}

/* The next '\n'-separated field as a NUL-terminated copy (malloc'd). */
static char *field(const uint8_t **p, size_t *left)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n = nl ? (size_t)(nl - *p) : *left;
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = 0;
	*p += nl ? n + 1 : n;
	*left -= nl ? n + 1 : n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	const uint8_t *p = data;
	size_t left = size;
	char *authz = field(&p, &left), *token = field(&p, &left), *path = field(&p, &left);
	char *number = field(&p, &left);
	char err[256];
	unsigned v;

	web_auth_check(token_auth, authz, token);
	web_auth_check(token_auth, NULL, token);
	web_auth_check(user_auth, authz, token);
	struct web_route_info ri = web_route(path, path[0] == '/' && path[1] == 0);
	web_method_allowed(&ri, number);
	web_query_uint(number, 16, 8192, &v);

	json_t *fields = NULL;
	if (web_body_fields((const char *)p, left, &fields, err, sizeof(err)) == 0) {
		struct web_hub_stats hs = { 0 };
		char *text;
		size_t len;
		if (metrics_render(fields, &hs, &text, &len) == 0)
			free(text);
		json_decref(fields);
	}
	free(authz);
	free(token);
	free(path);
	free(number);
	return 0;
}
