/* labels_text.c — see labels_text.h. Two passes over the text: the first splits it into lines
 * (bounded, NUL bytes refused) and decides whether every line is `INDEX NAME`; the second copies
 * the names into their classes. */
#include "daemon/labels_text.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line {
	const char *s;
	size_t len;
};

/* "123 name" / "123\tname": the index (0..LABELS_TEXT_MAX) and where the name starts, or -1. */
static long index_form(const struct line *l, size_t *ret_name_at)
{
	size_t i = 0;
	long v = 0;
	while (i < l->len && l->s[i] >= '0' && l->s[i] <= '9' && i < 7)
		v = v * 10 + (l->s[i++] - '0');
	if (i == 0 || i >= l->len || (l->s[i] != ' ' && l->s[i] != '\t'))
		return -1;
	while (i < l->len && (l->s[i] == ' ' || l->s[i] == '\t'))
		i++;
	if (i == l->len)
		return -1;
	*ret_name_at = i;
	return v;
}

static bool blank(const struct line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->s[i] != ' ' && l->s[i] != '\t')
			return false;
	return true;
}

static int split(const char *name, const char *text, size_t len, struct line **ret, size_t *ret_n, char *err,
		 size_t errlen)
{
	struct line *lines = NULL;
	size_t n = 0, cap = 0, pos = 0;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;
		pos += l + (nl ? 1 : 0);
		if (memchr(s, '\0', l)) {
			free(lines);
			snprintf(err, errlen, "%s:%zu: NUL byte in label", name, n + 1);
			return -EINVAL;
		}
		if (l > 0 && s[l - 1] == '\r')
			l--;
		if (n == LABELS_TEXT_MAX) {
			free(lines);
			snprintf(err, errlen, "%s: more than %d labels", name, LABELS_TEXT_MAX);
			return -EINVAL;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			struct line *nl2 = realloc(lines, ncap * sizeof(*lines));
			if (!nl2) {
				free(lines);
				snprintf(err, errlen, "%s: out of memory", name);
				return -ENOMEM;
			}
			lines = nl2;
			cap = ncap;
		}
		lines[n++] = (struct line){ s, l };
	}
	/* trailing blank lines (empty or only spaces/tabs) are not labels */
	while (n > 0 && blank(&lines[n - 1]))
		n--;
	*ret = lines;
	*ret_n = n;
	return 0;
}

int labels_parse_text(const char *name, const char *text, size_t len, struct labels *ret, char *err,
		      size_t errlen)
{
	struct line *lines = NULL;
	struct labels l = { 0 };
	size_t n = 0, at;
	int r = split(name, text, len, &lines, &n, err, errlen);
	if (r < 0)
		return r;
	if (n == 0) {
		free(lines);
		snprintf(err, errlen, "%s: no labels", name);
		return -EINVAL;
	}
	bool indexed = true;
	for (size_t i = 0; i < n && indexed; i++)
		indexed = index_form(&lines[i], &at) >= 0;
	l.names = calloc(n, sizeof(*l.names));
	if (!l.names)
		goto nomem;
	l.count = n;
	for (size_t i = 0; i < n; i++) {
		size_t slot = i, from = 0;
		if (indexed) {
			long idx = index_form(&lines[i], &from);
			if (idx < 0 || (size_t)idx >= n || l.names[idx]) {
				snprintf(err, errlen, "%s:%zu: index %ld %s (INDEX NAME lines need each of 0..%zu once)", name,
					 i + 1, idx, idx >= 0 && (size_t)idx < n ? "repeated" : "out of range", n - 1);
				r = -EINVAL;
				goto fail;
			}
			slot = (size_t)idx;
		}
		l.names[slot] = strndup(lines[i].s + from, lines[i].len - from);
		if (!l.names[slot])
			goto nomem;
	}
	free(lines);
	*ret = l;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
	r = -ENOMEM;
fail:
	free(lines);
	if (l.names)
		for (size_t i = 0; i < l.count; i++)
			free(l.names[i]);
	free(l.names);
	return r;
}
