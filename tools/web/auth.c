/* auth.c — token and htpasswd checks for camclass-web (contract in auth.h).
 *
 * Why it is built this way:
 * - Secrets live in a file of their own ([web] auth_file, e.g. mode 0640 root:camclass-web)
 *   rather than in the INI, which is world-readable by convention.
 * - Password hashes are checked by libxcrypt's crypt_rn(), so any hash `htpasswd -B` (bcrypt)
 *   or `openssl passwd -6` writes works. Apache's own $apr1$ MD5 and {SHA} formats are weak and
 *   not crypt(3) formats: the loader refuses them, naming the line, instead of never matching.
 * - Every comparison of a secret runs over its whole length (no early exit on the first
 *   differing byte), so timing does not tell an attacker how much of a token was right. */
#include "tools/web/auth.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipc/wire.h"

struct web_user {
	char *name;
	char *hash;
};

struct web_auth {
	enum config_web_auth mode;
	char *token;
	size_t token_len;
	struct web_user users[WEB_AUTH_MAX_USERS];
	size_t n_users;
};

static bool same_secret(const char *a, size_t a_len, const char *b, size_t b_len)
{
	unsigned char diff = a_len != b_len;
	for (size_t i = 0; i < b_len; i++)
		diff |= (unsigned char)(a[i < a_len ? i : 0] ^ b[i]);
	return a_len > 0 && diff == 0;
}

static int parse_token(struct web_auth *a, const char *name, const char *text, size_t len,
		       char *err, size_t errlen)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
			   text[len - 1] == '\t'))
		len--;
	for (size_t i = 0; i < len; i++)
		if (text[i] <= ' ' || text[i] > '~') {
			snprintf(err, errlen, "%s: the token must be one line of printable ASCII "
				 "without spaces", name);
			return -EINVAL;
		}
	if (len < WEB_AUTH_TOKEN_MIN_BYTES) {
		snprintf(err, errlen, "%s: the token is too short (%zu bytes, at least %u; e.g. "
			 "`openssl rand -hex 24`)", name, len, WEB_AUTH_TOKEN_MIN_BYTES);
		return -EINVAL;
	}
	a->token = strndup(text, len);
	if (!a->token) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	a->token_len = len;
	return 0;
}

/* One "user:hash" line; 0, or -EINVAL with err set. */
static int parse_user(struct web_auth *a, const char *name, int lineno, char *line,
		      char *err, size_t errlen)
{
	char *colon = strchr(line, ':');
	if (!colon || colon == line) {
		snprintf(err, errlen, "%s:%d: expected user:hash", name, lineno);
		return -EINVAL;
	}
	*colon = 0;
	const char *hash = colon + 1;
	if (strncmp(hash, "$apr1$", 6) == 0 || strncmp(hash, "{SHA}", 5) == 0 || hash[0] != '$') {
		snprintf(err, errlen, "%s:%d: user %s: hash format not supported (use bcrypt: "
			 "`htpasswd -B`, or sha512: `openssl passwd -6`)", name, lineno, line);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->n_users; i++)
		if (strcmp(a->users[i].name, line) == 0) {
			snprintf(err, errlen, "%s:%d: user %s appears twice", name, lineno, line);
			return -EINVAL;
		}
	if (a->n_users >= WEB_AUTH_MAX_USERS) {
		snprintf(err, errlen, "%s:%d: too many users (at most %d)", name, lineno,
			 WEB_AUTH_MAX_USERS);
		return -EINVAL;
	}
	/* A hash crypt(3) cannot use makes it return a "*"-prefixed failure token. */
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	const char *probe = crypt_rn("probe", hash, cd, (int)sizeof(*cd));
	bool usable = probe && probe[0] != '*';
	free(cd);
	if (!usable) {
		snprintf(err, errlen, "%s:%d: user %s: the hash is not a crypt(3) hash this system "
			 "knows", name, lineno, line);
		return -EINVAL;
	}
	struct web_user *u = &a->users[a->n_users];
	u->name = strdup(line);
	u->hash = strdup(hash);
	if (!u->name || !u->hash) {
		free(u->name);
		free(u->hash);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	a->n_users++;
	return 0;
}

static int parse_htpasswd(struct web_auth *a, const char *name, const char *text, size_t len,
			  char *err, size_t errlen)
{
	char *copy = strndup(text, len);
	if (!copy) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (strlen(copy) != len) {
		free(copy);
		snprintf(err, errlen, "%s: NUL byte in the file", name);
		return -EINVAL;
	}
	int r = 0, lineno = 0;
	for (char *line = copy; r == 0 && line; ) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		size_t l = strlen(line);
		while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
			line[--l] = 0;
		if (l > 0 && line[0] != '#')
			r = parse_user(a, name, lineno, line, err, errlen);
		line = next;
	}
	free(copy);
	if (r == 0 && a->n_users == 0) {
		snprintf(err, errlen, "%s: no users (lines user:hash)", name);
		r = -EINVAL;
	}
	return r;
}

int web_auth_parse(enum config_web_auth mode, const char *name, const char *text, size_t len,
		   struct web_auth **ret, char *err, size_t errlen)
{
	struct web_auth *a = calloc(1, sizeof(*a));
	int r = 0;
	if (!a) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	a->mode = mode;
	if (mode == CONFIG_WEB_AUTH_TOKEN)
		r = parse_token(a, name, text, len, err, errlen);
	else if (mode == CONFIG_WEB_AUTH_HTPASSWD)
		r = parse_htpasswd(a, name, text, len, err, errlen);
	if (r < 0) {
		web_auth_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

int web_auth_load(enum config_web_auth mode, const char *path, struct web_auth **ret,
		  char *err, size_t errlen)
{
	if (mode == CONFIG_WEB_AUTH_NONE)
		return web_auth_parse(mode, "(none)", "", 0, ret, err, errlen);
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(WEB_AUTH_FILE_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	size_t len = fread(buf, 1, WEB_AUTH_FILE_MAX_BYTES + 1, f);
	int r = 0;
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "%s: cannot read", path);
	} else if (len > WEB_AUTH_FILE_MAX_BYTES) {
		r = -EFBIG;
		snprintf(err, errlen, "%s: larger than %u bytes", path, WEB_AUTH_FILE_MAX_BYTES);
	}
	fclose(f);
	if (r == 0)
		r = web_auth_parse(mode, path, buf, len, ret, err, errlen);
	explicit_bzero(buf, WEB_AUTH_FILE_MAX_BYTES + 1);
	free(buf);
	return r;
}

void web_auth_free(struct web_auth *a)
{
	if (!a)
		return;
	if (a->token) {
		explicit_bzero(a->token, a->token_len);
		free(a->token);
	}
	for (size_t i = 0; i < a->n_users; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a);
}

enum config_web_auth web_auth_mode(const struct web_auth *a)
{
	return a->mode;
}

/* "Scheme value" with the scheme matched case-insensitively (RFC 7235); the value or NULL. */
static const char *credentials(const char *header, const char *scheme)
{
	size_t n = strlen(scheme);
	if (strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
		return NULL;
	header += n;
	while (*header == ' ')
		header++;
	return header;
}

static bool check_basic(const struct web_auth *a, const char *b64)
{
	uint8_t *raw;
	size_t raw_len;
	size_t b64_len = strlen(b64);
	while (b64_len > 0 && b64[b64_len - 1] == ' ')
		b64_len--;
	if (wire_base64_decode(b64, b64_len, &raw, &raw_len) < 0)
		return false;
	bool ok = false;
	uint8_t *colon = memchr(raw, ':', raw_len);
	if (colon && !memchr(raw, 0, raw_len)) {
		size_t user_len = (size_t)(colon - raw);
		char *pass = strndup((const char *)colon + 1, raw_len - user_len - 1);
		struct crypt_data *cd = calloc(1, sizeof(*cd));
		for (size_t i = 0; pass && cd && i < a->n_users; i++) {
			const struct web_user *u = &a->users[i];
			if (strlen(u->name) != user_len || memcmp(u->name, raw, user_len) != 0)
				continue;
			const char *h = crypt_rn(pass, u->hash, cd, (int)sizeof(*cd));
			ok = h && h[0] != '*' && same_secret(h, strlen(h), u->hash, strlen(u->hash));
			break;
		}
		if (pass) {
			explicit_bzero(pass, strlen(pass));
			free(pass);
		}
		free(cd);
	}
	explicit_bzero(raw, raw_len);
	free(raw);
	return ok;
}

bool web_auth_check(const struct web_auth *a, const char *authorization, const char *query_token)
{
	if (a->mode == CONFIG_WEB_AUTH_NONE)
		return true;
	if (authorization && strnlen(authorization, WEB_AUTH_HEADER_MAX_BYTES + 1) >
				     WEB_AUTH_HEADER_MAX_BYTES)
		return false;
	if (a->mode == CONFIG_WEB_AUTH_TOKEN) {
		const char *t = authorization ? credentials(authorization, "Bearer") : NULL;
		if (!t)
			t = query_token;
		return t && same_secret(t, strnlen(t, WEB_AUTH_HEADER_MAX_BYTES + 1), a->token,
					a->token_len);
	}
	const char *b = authorization ? credentials(authorization, "Basic") : NULL;
	return b && check_basic(a, b);
}
