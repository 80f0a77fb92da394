/* test_postproc.c — daemon/postproc.c: the ranking of the protocol's 20 best (checked against a
 * full sort), EMA smoothing (checked against the formula step by step), reset. The labels file is
 * test_classifier.c's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/postproc.h"
#include "tests/testutil.h"

struct ref_item {
	float score;
	uint32_t index;
};

static int ref_cmp(const void *pa, const void *pb)
{
	const struct ref_item *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return a->index < b->index ? -1 : 1;
}

/* The result carries the protocol's maximum of labels, ranked as a full sort would: each
 * client's top_k and threshold are the server's to apply, not postprocessing's. */
static void ranking_is_the_best_twenty_of_a_full_sort(void **state)
{
	(void)state;
	enum { N = 1001 };
	static float scores[N];
	static struct ref_item ref[N];
	srand(7);
	for (int round = 0; round < 50; round++) {
		struct postproc pp;
		struct srv_result res;
		for (int i = 0; i < N; i++) /* coarse values, so ties happen */
			scores[i] = (float)(rand() % 64) / 63.0f;
		assert_int_equal(pp_init(&pp, N, 0.0), 0);
		pp_run(&pp, scores, &res);
		for (int i = 0; i < N; i++)
			ref[i] = (struct ref_item){ scores[i], (uint32_t)i };
		qsort(ref, N, sizeof(ref[0]), ref_cmp);
		assert_int_equal(res.n_labels, WIRE_MAX_LABELS);
		for (size_t i = 0; i < WIRE_MAX_LABELS; i++) {
			assert_int_equal(res.labels[i].index, ref[i].index);
			assert_true(res.labels[i].score == ref[i].score);
		}
		pp_free(&pp);
	}
}

static void low_scores_and_few_classes_are_all_kept(void **state)
{
	(void)state;
	float scores[30];
	struct postproc pp;
	struct srv_result res;
	for (int i = 0; i < 30; i++)
		scores[i] = 0.001f * (float)i;
	assert_int_equal(pp_init(&pp, 3, 0.0), 0);
	pp_run(&pp, scores, &res);
	assert_int_equal(res.n_labels, 3);
	assert_int_equal(res.labels[0].index, 2);
	pp_free(&pp);
	assert_int_equal(pp_init(&pp, 30, 0.0), 0);
	pp_run(&pp, scores, &res);
	assert_int_equal(res.n_labels, WIRE_MAX_LABELS);
	assert_int_equal(res.labels[WIRE_MAX_LABELS - 1].index, 30 - WIRE_MAX_LABELS);
	pp_free(&pp);
}

static void smoothing_follows_the_ema_formula(void **state)
{
	(void)state;
	const float a = 0.75f;
	float seq[4][2] = { { 1.0f, 0.0f }, { 0.0f, 1.0f }, { 0.0f, 1.0f }, { 0.0f, 1.0f } };
	float expect[2] = { 0 };
	struct postproc pp;
	struct srv_result res;
	assert_int_equal(pp_init(&pp, 2, a), 0);
	for (int t = 0; t < 4; t++) {
		for (int c = 0; c < 2; c++)
			expect[c] = t == 0 ? seq[t][c] : a * expect[c] + (1 - a) * seq[t][c];
		float in[2] = { seq[t][0], seq[t][1] };
		pp_run(&pp, in, &res);
		assert_int_equal(res.n_labels, 2);
		int best = expect[1] > expect[0] ? 1 : 0;
		assert_int_equal(res.labels[0].index, best);
		assert_float_equal(res.labels[0].score, expect[best], 1e-6);
		assert_float_equal(res.labels[1].score, expect[1 - best], 1e-6);
	}
	/* class 0 was on top for the first three frames: the label did not flip at once */
	pp_reset(&pp);
	float in[2] = { 0.2f, 0.8f };
	pp_run(&pp, in, &res);
	assert_float_equal(res.labels[0].score, 0.8f, 1e-6); /* history forgotten */
	pp_free(&pp);
}

static void smoothing_delays_a_flip(void **state)
{
	(void)state;
	struct postproc pp;
	struct srv_result res;
	float cat[2] = { 0.9f, 0.1f }, dog[2] = { 0.1f, 0.9f };
	assert_int_equal(pp_init(&pp, 2, 0.8), 0);
	for (int i = 0; i < 10; i++)
		pp_run(&pp, cat, &res);
	pp_run(&pp, dog, &res);
	assert_int_equal(res.labels[0].index, 0); /* one odd frame does not flip it */
	int frames = 1;
	while (res.labels[0].index == 0 && frames < 100) {
		pp_run(&pp, dog, &res);
		frames++;
	}
	assert_true(frames > 2 && frames < 10);
	pp_free(&pp);
}

static void bad_init_arguments(void **state)
{
	(void)state;
	struct postproc pp;
	assert_int_equal(pp_init(&pp, 0, 0), -EINVAL);
	assert_int_equal(pp_init(&pp, 10, 1.0), -EINVAL);
	assert_int_equal(pp_init(&pp, 10, -0.1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranking_is_the_best_twenty_of_a_full_sort),
		cmocka_unit_test(low_scores_and_few_classes_are_all_kept),
		cmocka_unit_test(smoothing_follows_the_ema_formula),
		cmocka_unit_test(smoothing_delays_a_flip),
		cmocka_unit_test(bad_init_arguments),
	};
	return cmocka_run_group_tests_name("postproc", tests, NULL, NULL);
}
