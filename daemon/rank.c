/* rank.c — clf_top_k(): the best k scores, best first (contract in classifier.h).
 *
 * A bounded min-heap of the k best seen so far (its root is the worst of them), then one sort
 * of those k: O(n log k) without allocation. The daemon ranks ~1000 classes into 20 places on
 * every frame; the CLI may ask for every class of a big model, where an insertion sort's
 * O(n·k) would show. "Better" is a total order (score, then lower index), so the result does
 * not depend on the order of the heap operations. */
#include "daemon/classifier.h"

#include <stdbool.h>
#include <stdlib.h>

static bool better(const struct clf_rank *a, const struct clf_rank *b)
{
	return a->score > b->score || (a->score == b->score && a->index < b->index);
}

static int by_rank(const void *pa, const void *pb)
{
	const struct clf_rank *a = pa, *b = pb;
	return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

/* Restore the heap below slot i: each parent is worse than its children. */
static void sift_down(struct clf_rank *h, size_t n, size_t i)
{
	for (;;) {
		size_t worst = i, l = 2 * i + 1, r = 2 * i + 2;
		if (l < n && better(&h[worst], &h[l]))
			worst = l;
		if (r < n && better(&h[worst], &h[r]))
			worst = r;
		if (worst == i)
			return;
		struct clf_rank t = h[i];
		h[i] = h[worst];
		h[worst] = t;
		i = worst;
	}
}

size_t clf_top_k(const float *scores, size_t n, size_t k, float min_score, struct clf_rank *ret)
{
	size_t count = 0;

	if (k == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct clf_rank cand = { .index = (uint32_t)i, .score = scores[i] };
		if (!(cand.score >= min_score)) /* also false for NaN */
			continue;
		if (count < k) {
			ret[count++] = cand;
			if (count == k)
				for (size_t j = k / 2; j-- > 0;)
					sift_down(ret, k, j);
		} else if (better(&cand, &ret[0])) {
			ret[0] = cand;
			sift_down(ret, k, 0);
		}
	}
	qsort(ret, count, sizeof(*ret), by_rank);
	return count;
}
