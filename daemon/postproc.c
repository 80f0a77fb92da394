/* postproc.c — labels, EMA smoothing and top-k; see postproc.h.
 *
 * Top-k is a partial insertion sort into a k-sized array: k ≤ SRV_RESULT_MAX_LABELS (20) and
 * the class count is ~1000, so this is a few thousand comparisons per frame, without
 * allocation, which is far below one inference. */
#include "daemon/postproc.h"

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

int pp_init(struct postproc *pp, size_t n_classes, int top_k, double threshold, double smoothing)
{
	if (n_classes == 0 || top_k < 1 || top_k > SRV_RESULT_MAX_LABELS)
		return -EINVAL;
	float *s = calloc(n_classes, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*pp = (struct postproc){ .n_classes = n_classes, .smoothed = s, .smoothing = smoothing,
				 .top_k = top_k, .threshold = threshold };
	return 0;
}

void pp_free(struct postproc *pp)
{
	free(pp->smoothed);
	pp->smoothed = NULL;
}

void pp_reset(struct postproc *pp)
{
	pp->have_history = false;
}

void pp_run(struct postproc *pp, const float *scores, struct srv_result *ret)
{
	const float a = (float)pp->smoothing;
	unsigned k = 0;

	for (size_t i = 0; i < pp->n_classes; i++) {
		float s = pp->have_history ? a * pp->smoothed[i] + (1.0f - a) * scores[i] : scores[i];
		pp->smoothed[i] = s;
		if (s < (float)pp->threshold)
			continue;
		/* insert into the sorted top list; strictly greater moves up, so ties stay in
		 * index order */
		unsigned pos = k;
		while (pos > 0 && ret->labels[pos - 1].score < s)
			pos--;
		if (pos >= (unsigned)pp->top_k)
			continue;
		unsigned last = k < (unsigned)pp->top_k ? k : (unsigned)pp->top_k - 1;
		memmove(&ret->labels[pos + 1], &ret->labels[pos], (last - pos) * sizeof(ret->labels[0]));
		ret->labels[pos] = (struct srv_label_score){ .index = (uint32_t)i, .score = s };
		if (k < (unsigned)pp->top_k)
			k++;
	}
	pp->have_history = true;
	ret->n_labels = k;
}
