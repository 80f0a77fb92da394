/* config_values.c — one INI value → one field of struct config, strictly (contract in
 * config.h, table in config.c).
 *
 * Numbers are parsed whole (no trailing text, no overflow, finite) and checked against the
 * key's range; choices go through the owning module's name table, exactly as written; paths and
 * the socket path are checked for what would fail later anyway (empty, relative, too long for
 * sun_path). The first error wins, written as "FILE:LINE: [section] key: reason". */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "daemon/config_internal.h"
#include "lib/log.h"

void cfg_set_error(struct parse_ctx *ctx, int line, const char *section, const char *key,
		   const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	if (ctx->err_line)
		return;
	ctx->err_line = line;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (key)
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] %s: %s", ctx->path, line, section, key,
			 reason);
	else if (section)
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s]: %s", ctx->path, line, section, reason);
	else
		snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->path, line, reason);
}

/* Strict decimal forms only: strtol/strtod alone would also take "+640", " 640", "0x1p3",
 * "infinity"... Integers: -?[0-9]+. Reals: -?[0-9]+(.[0-9]+)?([eE][-+]?[0-9]+)?. */
static bool is_decimal_integer(const char *s)
{
	if (*s == '-')
		s++;
	size_t digits = strspn(s, "0123456789");
	return digits > 0 && !s[digits];
}

static bool is_decimal_real(const char *s)
{
	if (*s == '-')
		s++;
	size_t n = strspn(s, "0123456789");
	if (!n)
		return false;
	s += n;
	if (*s == '.') {
		n = strspn(++s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		n = strspn(s, "0123456789");
		if (!n)
			return false;
		s += n;
	}
	return !*s;
}

static int parse_long(const char *s, long *ret)
{
	char *end;
	if (!is_decimal_integer(s))
		return -EINVAL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end || end == s)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_double(const char *s, double *ret)
{
	char *end;
	if (!is_decimal_real(s))
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || end == s || !isfinite(v))
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

static bool in_range(const struct key_def *k, double v)
{
	if (k->min_open ? v <= k->min : v < k->min)
		return false;
	if (k->max_open ? v >= k->max : v > k->max)
		return false;
	return true;
}

static void range_text(const struct key_def *k, char *buf, size_t len)
{
	if (k->type == K_OCTAL)
		snprintf(buf, len, "%04o..%04o", (unsigned)k->min, (unsigned)k->max);
	else
		snprintf(buf, len, "%s%g..%g%s", k->min_open ? "(" : "", k->min, k->max,
			 k->max_open ? ")" : "");
}

static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int cfg_handle_control(struct parse_ctx *ctx, const char *name, const char *value)
{
	struct config *c = ctx->cfg;
	const char *cname = name + strlen(CONTROL_PREFIX);
	size_t len = strlen(cname);
	char *end;

	if (len == 0 || len >= CAP_CONTROL_NAME_MAX ||
	    strspn(cname, "abcdefghijklmnopqrstuvwxyz0123456789_") != len) {
		cfg_set_error(ctx, ctx->lineno, "camera", name,
			  "control name must be 1..%d characters of a-z, 0-9 and _",
			  CAP_CONTROL_NAME_MAX - 1);
		return 0;
	}
	for (size_t i = 0; i < c->camera.n_controls; i++)
		if (strcmp(c->camera.controls[i].name, cname) == 0) {
			cfg_set_error(ctx, ctx->lineno, "camera", name, "duplicate key");
			return 0;
		}
	if (c->camera.n_controls >= CAP_MAX_CONTROLS) {
		cfg_set_error(ctx, ctx->lineno, "camera", name, "too many controls (at most %d)",
			  CAP_MAX_CONTROLS);
		return 0;
	}
	errno = 0;
	long long v = is_decimal_integer(value) ? strtoll(value, &end, 10) : 0;
	if (!is_decimal_integer(value) || *end || errno == ERANGE) {
		cfg_set_error(ctx, ctx->lineno, "camera", name, "'%s' is not an integer", value);
		return 0;
	}
	struct cap_control *ctl = &c->camera.controls[c->camera.n_controls++];
	memcpy(ctl->name, cname, len + 1);
	ctl->value = v;
	return 1;
}

int cfg_apply_key(struct parse_ctx *ctx, const struct key_def *k, const char *value)
{
	void *slot = (char *)ctx->cfg + k->offset;
	char range[64];
	long lv;
	double dv;
	int r;

	switch (k->type) {
	case K_SOCKET_PATH:
		if (value[0] != '/') {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "must be an absolute path");
			return 0;
		}
		if (strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name,
				  "too long for a Unix socket (at most %zu bytes)",
				  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			return 0;
		}
		/* fall through */
	case K_PATH:
		if (!*value) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "must not be empty");
			return 0;
		}
		/* fall through */
	case K_STRING:
		if (set_string(slot, value) < 0) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "out of memory");
			return 0;
		}
		return 1;
	case K_INT:
		r = parse_long(value, &lv);
		if (r == -EINVAL) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "'%s' is not an integer", value);
			return 0;
		}
		if (r < 0 || !in_range(k, (double)lv)) {
			range_text(k, range, sizeof(range));
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "%s is out of range (%s)",
				  value, range);
			return 0;
		}
		*(int *)slot = (int)lv;
		return 1;
	case K_DOUBLE:
		r = parse_double(value, &dv);
		if (r == -EINVAL) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "'%s' is not a number", value);
			return 0;
		}
		if (r < 0 || !in_range(k, dv)) {
			range_text(k, range, sizeof(range));
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "%s is out of range (%s)",
				  value, range);
			return 0;
		}
		*(double *)slot = dv;
		return 1;
	case K_OCTAL: {
		char *end;
		size_t len = strlen(value);
		if (len == 0 || strspn(value, "01234567") != len) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name,
				  "'%s' is not an octal number (like 0660)", value);
			return 0;
		}
		errno = 0;
		lv = strtol(value, &end, 8);
		if (errno == ERANGE || !in_range(k, (double)lv)) {
			range_text(k, range, sizeof(range));
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "%s is out of range (%s)",
				  value, range);
			return 0;
		}
		/* The daemon itself must be able to use its socket: a mode without owner read
		 * and write would be replaced or unusable, so it is refused here. */
		if ((lv & 0600) != 0600) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name,
				  "%s does not give the owner read and write (use e.g. 0600 or 0660)",
				  value);
			return 0;
		}
		*(mode_t *)slot = (mode_t)lv;
		return 1;
	}
	case K_CHOICE:
		/* the modules' tables ignore case; the file's names are exact */
		r = k->choices->from_name(value);
		if (r >= 0 && strcmp(k->choices->name_of(r), value) == 0) {
			*(int *)slot = r;
			return 1;
		}
		{
			char names[128] = "";
			for (int v = 0; v < k->choices->count; v++) {
				if (names[0])
					strncat(names, "|", sizeof(names) - strlen(names) - 1);
				strncat(names, k->choices->name_of(v), sizeof(names) - strlen(names) - 1);
			}
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "'%s' is not one of %s",
				  value, names);
		}
		return 0;
	case K_NAME:
	case K_TOPIC:
	case K_LABELS:
		return cfg_apply_mqtt_value(ctx, k, value);
	case K_ROI: {
		char why[160];
		if (roi_parse(value, slot, why, sizeof(why)) < 0) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name, "%s", why);
			return 0;
		}
		return 1;
	}
	case K_LEVEL:
		r = log_level_from_name(value);
		if (r < 0 || r == LOG_NOTICE || strcmp(value, log_level_name(r)) != 0) {
			cfg_set_error(ctx, ctx->lineno, k->section, k->name,
				  "'%s' is not one of debug|info|warning|error", value);
			return 0;
		}
		*(int *)slot = r;
		return 1;
	}
	return 0;
}
