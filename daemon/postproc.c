/* postproc.c — EMA smoothing and top-k; see postproc.h.
 *
 * The ranking is classifier.h's clf_top_k() (a bounded heap: ~1000 classes into ≤ 20 places
 * per frame, no allocation, far below one inference), so the daemon ranks exactly as
 * `camclass classify` does. It keeps the protocol's maximum of labels whatever their score:
 * each client's top_k and threshold are the server's to apply (postproc.h). */
#include "daemon/postproc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/classifier.h"

int pp_init(struct postproc *pp, size_t n_classes, double smoothing)
{
	if (n_classes == 0 || !(smoothing >= 0.0 && smoothing < 1.0))
		return -EINVAL;
	float *s = calloc(n_classes, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*pp = (struct postproc){ .n_classes = n_classes, .smoothed = s, .smoothing = smoothing };
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
	struct clf_rank top[WIRE_MAX_LABELS];

	for (size_t i = 0; i < pp->n_classes; i++)
		pp->smoothed[i] = pp->have_history ? a * pp->smoothed[i] + (1.0f - a) * scores[i]
						   : scores[i];
	pp->have_history = true;
	size_t k = clf_top_k(pp->smoothed, pp->n_classes, WIRE_MAX_LABELS, -INFINITY, top);
	for (size_t i = 0; i < k; i++)
		ret->labels[i] = (struct srv_label_score){ .index = top[i].index, .score = top[i].score };
	ret->n_labels = (unsigned)k;
}
