/* postproc.h — from a model's scores to the daemon's result: EMA smoothing, then top-k.
 *
 * - Smoothing: s_t = a·s_(t−1) + (1−a)·x_t per class (a = [classify] smoothing; 0 = off), so a
 *   label needs several frames to rise or fall and does not flicker. pp_reset() forgets history
 *   (after a model swap or a camera restart).
 * - Ranking: the WIRE_MAX_LABELS (20) best smoothed scores, best first; ties keep the lower
 *   class index first (clf_top_k() of classifier.h, the ranking the CLI uses too). No top_k
 *   and no threshold here: [classify] top_k and threshold are the server's defaults for clients
 *   that do not choose their own (srv_set_defaults()), applied per client when results are
 *   sent, so one setting lives in one place and a client may ask for up to 20 labels.
 * Memory: pp owns its buffers; one thread at a time (the classify thread). */
#ifndef CAMCLASS_DAEMON_POSTPROC_H
#define CAMCLASS_DAEMON_POSTPROC_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc/result.h"

struct postproc {
	size_t n_classes;
	float *smoothed;
	bool have_history;
	double smoothing;
};

/* n_classes ≥ 1, smoothing in [0, 1): 0, -EINVAL or -ENOMEM. */
int pp_init(struct postproc *pp, size_t n_classes, double smoothing);
void pp_free(struct postproc *pp);
void pp_reset(struct postproc *pp);
/* Smooths scores[0..n_classes) into the history and writes the ranking into ret (n_labels and
 * labels only: min(n_classes, WIRE_MAX_LABELS) of them). */
void pp_run(struct postproc *pp, const float *scores, struct srv_result *ret);

#endif
