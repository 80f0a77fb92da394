/* postproc.h — from a model's scores to the daemon's result: EMA smoothing, then top-k.
 *
 * - Smoothing: s_t = a·s_(t−1) + (1−a)·x_t per class (a = [classify] smoothing; 0 = off), so a
 *   label needs several frames to rise or fall and does not flicker. pp_reset() forgets history
 *   (after a model swap or a camera restart).
 * - Top-k: the k best smoothed scores that are ≥ threshold, best first; ties keep the lower
 *   class index first (clf_top_k() of classifier.h, the ranking the CLI uses too).
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
	int top_k;
	double threshold;
};

int pp_init(struct postproc *pp, size_t n_classes, int top_k, double threshold, double smoothing);
void pp_free(struct postproc *pp);
void pp_reset(struct postproc *pp);
/* Smooths scores[0..n_classes) in place into the history and writes the top-k into ret
 * (n_labels and labels only). */
void pp_run(struct postproc *pp, const float *scores, struct srv_result *ret);

#endif
