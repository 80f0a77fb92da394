/* labels.c — the label file of a classifier (contract in classifier.h): one label per line,
 * class N on line N. Read whole at load time with bounds on count and content, because a wrong
 * or hostile file must give a message naming the file and line, never a crash or a shifted
 * table (that is why a NUL byte inside a line is refused: it would silently cut the label). */
#include "daemon/classifier.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABELS_MAX 100000

int labels_load(const char *path, struct labels *ret, char *err, size_t errlen)
{
	struct labels l = { 0 };
	size_t cap = 0, line_cap = 0;
	char *line = NULL;
	ssize_t n;
	int r = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return r;
	}
	while ((n = getline(&line, &line_cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if ((size_t)n != strlen(line)) {
			snprintf(err, errlen, "%s:%zu: NUL byte in label", path, l.count + 1);
			r = -EINVAL;
			goto fail;
		}
		if (l.count >= LABELS_MAX) {
			snprintf(err, errlen, "%s: more than %d labels", path, LABELS_MAX);
			r = -EINVAL;
			goto fail;
		}
		if (l.count == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			char **nn = realloc(l.names, ncap * sizeof(*nn));
			if (!nn)
				goto nomem;
			l.names = nn;
			cap = ncap;
		}
		l.names[l.count] = strdup(line);
		if (!l.names[l.count])
			goto nomem;
		l.count++;
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "%s: cannot read", path);
		goto fail;
	}
	if (l.count == 0) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: no labels", path);
		goto fail;
	}
	free(line);
	fclose(f);
	*ret = l;
	return 0;
nomem:
	r = -ENOMEM;
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	free(line);
	fclose(f);
	labels_free(&l);
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
