/* cmd_retrain.c — `camclass retrain`: a new classifier head for a pre-trained base, on the board.
 *
 *   camclass retrain --base BASE.tflite --data DIR --out NEW.tflite [--labels-out L]
 *                    [--val-split F] [--epochs N] [--l2 X] [--augment N] [--threads N]
 *                    [--backend B] [--embedding TENSOR] [--seed S] [--json]
 *                    [--crop center|full] [--resize area|bilinear] [--embeddings-out FILE]
 *
 * The steps and where each lives: find the embedding (inference/retrain.h), embed the folder's
 * images through the daemon's decode and preprocessing (retrain_data.h), fit the softmax
 * regression on the training part (rt_fit), write the model (rt_write) and measure what was
 * written: the held-out images' input tensors go through the written file in our engine, so the
 * int8 accuracy reported is the file's, not the float head's. Crop and resize default to the
 * daemon's `[model]` defaults (config_defaults()), so a model trained here sees what the daemon
 * will show it. --epochs counts full passes of the solver over the training embeddings.
 * --embeddings-out writes "train|val CLASS v0 v1 ..." lines (the test compares the fit with a
 * reference logistic regression on exactly these numbers).
 * Exit: 0 written, 1 bad input or failure (with a message naming what), 2 usage. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/config.h"
#include "tools/camclass/commands.h"
#include "tools/camclass/retrain_data.h"
#include "tools/camclass/retrain_report.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: camclass retrain --base BASE.tflite --data DIR --out NEW.tflite [--labels-out L]\n"
		"                        [--val-split F] [--epochs N] [--l2 X] [--augment N] [--threads N]\n"
		"                        [--backend B] [--embedding TENSOR] [--seed S] [--json]\n"
		"                        [--crop center|full] [--resize area|bilinear] [--embeddings-out FILE]\n");
	return 2;
}

static int parse_num(const char *opt, const char *v, double lo, double hi, double *ret)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end || !(x >= lo && x <= hi)) {
		fprintf(stderr, "camclass retrain: %s '%s': expected a number in [%g, %g]\n", opt, v, lo, hi);
		return -EINVAL;
	}
	*ret = x;
	return 0;
}

static int parse(int argc, char **argv, struct rr_args *a)
{
	struct config def;
	if (config_defaults(&def) < 0)
		return -ENOMEM;
	*a = (struct rr_args){ .val_split = 0.2, .epochs = 300, .l2 = 0.01, .threads = 1, .seed = 1,
			       .backend = ENG_BACKEND_AUTO };
	a->prep.crop = def.model.crop;
	a->prep.resize = def.model.resize;
	config_free(&def);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		double x = 0;
		int r = 0;
		if (strcmp(o, "--json") == 0) {
			a->json = true;
			continue;
		}
		if (i + 1 >= argc || strncmp(o, "--", 2) != 0) {
			fprintf(stderr, "camclass retrain: %s\n", strncmp(o, "--", 2) ? "unexpected argument" : "missing value");
			return -EINVAL;
		}
		const char *v = argv[++i];
		if (strcmp(o, "--base") == 0)
			a->base = v;
		else if (strcmp(o, "--data") == 0)
			a->data = v;
		else if (strcmp(o, "--out") == 0)
			a->out = v;
		else if (strcmp(o, "--labels-out") == 0)
			a->labels_out = v;
		else if (strcmp(o, "--embedding") == 0)
			a->embedding = v;
		else if (strcmp(o, "--embeddings-out") == 0)
			a->embeddings_out = v;
		else if (strcmp(o, "--val-split") == 0)
			r = parse_num(o, v, 0, 0.9, &a->val_split);
		else if (strcmp(o, "--l2") == 0)
			r = parse_num(o, v, 0, 1e6, &a->l2);
		else if (strcmp(o, "--epochs") == 0 && (r = parse_num(o, v, 1, 100000, &x)) == 0)
			a->epochs = (int)x;
		else if (strcmp(o, "--augment") == 0 && (r = parse_num(o, v, 0, RD_MAX_AUGMENT, &x)) == 0)
			a->augment = (int)x;
		else if (strcmp(o, "--threads") == 0 && (r = parse_num(o, v, 1, 64, &x)) == 0)
			a->threads = (int)x;
		else if (strcmp(o, "--seed") == 0 && (r = parse_num(o, v, 0, 4294967295.0, &x)) == 0)
			a->seed = (uint64_t)x;
		else if (strcmp(o, "--backend") == 0) {
			r = eng_backend_from_name(v);
			if (r >= 0)
				a->backend = (enum eng_backend)r;
			else
				fprintf(stderr, "camclass retrain: --backend '%s': auto, builtin or xnnpack\n", v);
		} else if (strcmp(o, "--crop") == 0 || strcmp(o, "--resize") == 0) {
			bool crop = strcmp(o, "--crop") == 0;
			r = crop ? cap_crop_from_name(v) : cap_resize_from_name(v);
			if (r >= 0 && crop)
				a->prep.crop = (enum cap_crop)r;
			else if (r >= 0)
				a->prep.resize = (enum cap_resize)r;
			else
				fprintf(stderr, "camclass retrain: %s '%s' unknown\n", o, v);
		} else {
			fprintf(stderr, "camclass retrain: unknown option '%s'\n", o);
			return -EINVAL;
		}
		if (r < 0)
			return -EINVAL;
	}
	if (!a->base || !a->data || !a->out) {
		fprintf(stderr, "camclass retrain: --base, --data and --out are required\n");
		return -EINVAL;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fit_progress(int iteration, double loss, void *ctx)
{
	const struct rr_args *a = ctx;
	fprintf(stderr, "camclass retrain: epoch %d/%d, loss %.4f\n", iteration, a->epochs, loss);
}

/* Fit on the training samples; float accuracy on both parts into r. */
static int fit(const struct rr_args *a, const struct rt_data *d, struct rt_head *h, struct rr_result *res,
	       char *err, size_t errlen)
{
	size_t nt = 0;
	float *x = malloc(d->n * (size_t)d->depth * sizeof(float));
	int *y = malloc(d->n * sizeof(int));
	if (!x || !y) {
		free(x);
		free(y);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < d->n; k++)
		if (!d->samples[k].held_out) {
			memcpy(x + nt * d->depth, d->x + k * d->depth, (size_t)d->depth * sizeof(float));
			y[nt++] = d->samples[k].cls;
		}
	struct rt_fit_options fo = { .l2 = a->l2, .iterations = a->epochs, .progress = fit_progress,
				     .ctx = (void *)a };
	double t0 = now_s();
	int r = rt_fit(x, y, nt, d->classes, d->depth, &fo, h, err, errlen);
	res->fit_s = now_s() - t0;
	free(x);
	free(y);
	if (r < 0)
		return r;
	for (size_t k = 0; k < d->n; k++) {
		const struct rd_sample *s = &d->samples[k];
		bool right = rt_head_predict(h, d->x + k * d->depth) == s->cls;
		if (s->held_out) {
			res->val_n++;
			res->val_float_right += right;
		} else if (s->view == 0) {
			res->train_n++;
			res->train_right += right;
		}
	}
	return 0;
}

/* The written file in our engine on the held-out input tensors: int8 accuracy and confusion. */
static int measure_written(const struct rr_args *a, const struct rt_data *d, const uint8_t *model, size_t len,
			   struct rr_result *res, char *err, size_t errlen)
{
	struct eng_options opt = { .backend = a->backend, .threads = a->threads };
	struct engine *e;
	int r = eng_load_memory(model, len, a->out, &opt, &e, err, errlen);
	if (r < 0)
		return r;
	size_t v = 0;
	for (size_t k = 0; k < d->n && r >= 0; k++) {
		const struct rd_sample *s = &d->samples[k];
		if (!s->held_out)
			continue;
		memcpy(eng_input(e), d->val_inputs + v++ * d->input_bytes, d->input_bytes);
		r = eng_invoke(e);
		size_t best = 0;
		for (size_t c = 1; c < eng_output_count(e); c++)
			if (eng_output_value(e, c) > eng_output_value(e, best))
				best = c;
		res->confusion[(size_t)s->cls * d->classes + best]++;
		res->val_int8_right += (int)best == s->cls;
	}
	eng_free(e);
	if (r < 0)
		snprintf(err, errlen, "%s: inference failed: %s", a->out, strerror(-r));
	return r;
}

int cmd_retrain(int argc, char **argv)
{
	struct rr_args a;
	struct rt_base *base = NULL;
	struct engine *e = NULL;
	struct rt_data d = { 0 };
	struct rt_head h = { 0 };
	struct rr_result res = { 0 };
	uint8_t *model = NULL;
	size_t model_len = 0;
	char err[1024] = "";
	int r;

	if (parse(argc, argv, &a) < 0)
		return usage();
	r = rt_base_open(a.base, a.embedding, &base, err, sizeof(err));
	if (r < 0)
		goto out;
	const struct rt_embedding *emb = rt_base_embedding(base);
	fprintf(stderr, "camclass retrain: embedding: tensor %d '%s', %d values (%s scale %g zero point %d), "
		"%s%s\n", emb->tensor, emb->name, emb->depth, eng_dtype_name(emb->type), (double)emb->scale,
		(int)emb->zero_point, emb->base_classes ? "input of " : "", emb->head);
	struct eng_options opt = { .backend = a.backend, .threads = a.threads, .probe_tensor = emb->name };
	struct eng_tensor_info in;
	r = eng_load(a.base, &opt, &e, err, sizeof(err));
	if (r >= 0 && (r = eng_input_info(e, &in)) >= 0)
		r = rd_target_of(&in, &a.prep.target, err, sizeof(err));
	if (r < 0)
		goto out;
	struct rd_options ro = { .dir = a.data, .val_split = a.val_split, .augment = a.augment, .seed = a.seed,
				 .prep = a.prep, .progress = 1 };
	r = rd_scan(&ro, &d, err, sizeof(err));
	if (r < 0)
		goto out;
	double t0 = now_s();
	r = rd_embed(&ro, e, emb, &d, err, sizeof(err));
	res.embed_s = now_s() - t0;
	if (r < 0)
		goto out;
	if (a.embeddings_out && (r = rr_write_embeddings(a.embeddings_out, &d, err, sizeof(err))) < 0)
		goto out;
	res.confusion = calloc((size_t)d.classes * d.classes, sizeof(int));
	if (!res.confusion) {
		r = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	r = fit(&a, &d, &h, &res, err, sizeof(err));
	if (r < 0)
		goto out;
	r = rr_write_outputs(&a, base, &h, &d, &model, &model_len, err, sizeof(err));
	if (r < 0)
		goto out;
	r = measure_written(&a, &d, model, model_len, &res, err, sizeof(err));
	if (r < 0)
		goto out;
	r = rr_report(&a, emb, &d, &res, model_len);
out:
	if (r < 0 && err[0])
		fprintf(stderr, "camclass retrain: %s\n", err);
	free(model);
	free(res.confusion);
	rt_head_free(&h);
	rd_free(&d);
	eng_free(e);
	rt_base_free(base);
	return r < 0 ? 1 : 0;
}
