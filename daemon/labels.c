/* labels.c — the label file of a classifier (contract in classifier.h): one label per line,
 * class N on line N. Read whole at load time (at most 16 MiB) and parsed by labels_text.c, with
 * bounds on count and content, because a wrong or hostile file must give a message naming the
 * file and line, never a crash or a shifted table (that is why a NUL byte inside a line is
 * refused: it would silently cut the label). */
#include "daemon/classifier.h"
#include "daemon/labels_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABELS_FILE_MAX ((size_t)16 << 20)

int labels_load(const char *path, struct labels *ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return r;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 1 << 16;
			char *nt = ncap <= LABELS_FILE_MAX ? realloc(text, ncap) : NULL;
			if (!nt) {
				fclose(f);
				free(text);
				snprintf(err, errlen, "%s: %s", path, ncap > LABELS_FILE_MAX ? "larger than 16 MiB" : "out of memory");
				return ncap > LABELS_FILE_MAX ? -EFBIG : -ENOMEM;
			}
			text = nt;
			cap = ncap;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(text);
		snprintf(err, errlen, "%s: cannot read", path);
		return -EIO;
	}
	fclose(f);
	r = labels_parse_text(path, text, len, ret, err, errlen);
	free(text);
	return r;
}

void labels_free(struct labels *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->names[i]);
	free(l->names);
	l->names = NULL;
	l->count = 0;
}
