/* config_lines.c — the line reader config.c feeds inih with (split from config.c to keep each
 * file to one job; the why of it is in config.c's top comment): counts lines, strips leading
 * blanks, refuses overlong lines, NUL bytes, read errors and inih's "key: value" form, and
 * reports unknown [section] headers, which inih never passes to the handler. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "daemon/config_internal.h"
#include "lib/macros.h"

static const char *const sections[] = { "camera", "model", "classify", "socket", "log", "mqtt", "teach",
					"web" };

bool cfg_section_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (strcmp(sections[i], name) == 0)
			return true;
	return false;
}

/* One physical line into ctx->line (NUL-terminated, without its end): '\n', "\r\n" and a lone
 * '\r' all end a line (a file saved with old Mac line ends would otherwise be one long line
 * whose keys vanish). Reads at most cap - 1 characters: a longer line, a NUL byte or a read
 * error stops the whole file (so /dev/zero cannot make it read forever). Returns the length,
 * -1 at the end of the file, -2 on a line it refused (error set). */
static ssize_t next_line(struct parse_ctx *ctx, size_t cap)
{
	size_t len = 0;
	int ch;
	if (ctx->line_cap < cap) {
		char *nl = realloc(ctx->line, cap);
		if (!nl) {
			ctx->read_errno = ENOMEM;
			return -2;
		}
		ctx->line = nl;
		ctx->line_cap = cap;
	}
	errno = 0;
	while ((ch = getc(ctx->f)) != EOF) {
		if (ch == '\n')
			break;
		if (ch == '\r') {
			int next = getc(ctx->f);
			if (next != '\n' && next != EOF)
				ungetc(next, ctx->f);
			break;
		}
		if (ch == 0 || len + 1 >= cap) {
			ctx->lineno++;
			if (ch == 0)
				cfg_set_error(ctx, ctx->lineno, NULL, NULL, "NUL byte in line");
			else
				cfg_set_error(ctx, ctx->lineno, NULL, NULL,
					      "line too long (at most %zu characters)", cap - 1);
			return -2;
		}
		ctx->line[len++] = (char)ch;
	}
	if (ch == EOF && !feof(ctx->f)) {
		/* a read error is never the end of the file: "configuration OK" must mean all of it */
		ctx->read_errno = errno ? errno : EIO;
		return -2;
	}
	if (ch == EOF && len == 0)
		return -1;
	ctx->line[len] = 0;
	ctx->lineno++;
	return (ssize_t)len;
}

/* inih's reader callback: one line per call, counted; see the comment at the top of config.c. */
char *cfg_read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	if (ctx->err_line || ctx->read_errno || num < 3)
		return NULL;    /* only the first error is kept: stop reading there */
	ssize_t n = next_line(ctx, (size_t)num - 1);
	if (n < 0)
		return NULL;
	const char *p = ctx->line;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (end) {
			char name[64];
			size_t nlen = (size_t)(end - p - 1);
			if (nlen >= sizeof(name))
				nlen = sizeof(name) - 1;
			memcpy(name, p + 1, nlen);
			name[nlen] = 0;
			if (!cfg_section_known(name))
				cfg_set_error(ctx, ctx->lineno, name, NULL, "unknown section");
		}
	} else if (*p && *p != ';' && *p != '#' && p[strcspn(p, "=:")] == ':') {
		/* inih also takes "key: value"; the documented form is "key = value" only */
		cfg_set_error(ctx, ctx->lineno, NULL, NULL,
			      "'%.*s': write 'key = value' (':' is not a separator)",
			      (int)strcspn(p, ":"), p);
		return NULL;
	}
	/* inih wants the line end back */
	memcpy(str, p, len);
	str[len] = '\n';
	str[len + 1] = 0;
	return str;
}
