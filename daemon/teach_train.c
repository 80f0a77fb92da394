/* teach_train.c — one training run of live teaching, on the teach thread (see teach.h).
 *
 * Works on a copy of the sample index taken under the lock, so teaching and requests go on
 * while it fits. The held-out part is every fifth sample of each label in id order (ids grow
 * with time, so the held-out frames are spread over the teaching session), none from a label
 * with fewer than 2 samples. The held-out accuracy is the written file's, run in the engine on
 * the stored JPEG crops through capture's decode and preprocessing, like `camclass retrain`. */
#include "daemon/teach_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define TEACH_L2 0.01
#define TEACH_ITERATIONS 300
#define TEACH_HOLD_OUT_EVERY 5
#define TEACH_MAX_JPEG_BYTES ((size_t)8 << 20)

struct copy {
	int cls;
	bool held_out;
	char id[TEACH_ID_LEN];
};

static int cmp_copy(const void *a, const void *b)
{
	const struct copy *x = a, *y = b;
	return x->cls != y->cls ? x->cls - y->cls : strcmp(x->id, y->id);
}

/* The held-out sample's stored JPEG through the daemon's preprocessing into the engine. */
static int load_input(struct teach *t, struct cap_decoder *dec, const char *label, const char *id, void *tensor)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/samples/%s/%s.jpg", t->dir, label, id);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	uint8_t *buf = malloc(TEACH_MAX_JPEG_BYTES);
	size_t n = buf ? fread(buf, 1, TEACH_MAX_JPEG_BYTES, f) : 0;
	fclose(f);
	struct cap_prep prep = { .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA,
				 .target = { .width = t->in.dims[2], .height = t->in.dims[1], .channels = t->in.dims[3],
					     .is_int8 = t->in.type == ENG_INT8, .scale = t->in.scale,
					     .zero_point = t->in.zero_point } };
	struct cap_image img;
	int r = buf ? cap_decode_still(dec, buf, n, &prep, &img) : -ENOMEM;
	if (r == 0)
		r = cap_preprocess(&img, &prep, tensor, t->in.bytes);
	free(buf);
	return r;
}

static int measure(struct teach *t, const uint8_t *model, size_t len, const struct copy *c, size_t n,
		   const char *const *names, int *right, int *total, char *err, size_t errlen)
{
	struct eng_options opt = { .backend = t->backend, .threads = 1 };
	struct engine *e;
	struct cap_decoder *dec = NULL;
	int r = eng_load_memory(model, len, "trained model", &opt, &e, err, errlen);
	if (r < 0)
		return r;
	if (cap_decoder_new(&dec) < 0) {
		eng_free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!c[i].held_out)
			continue;
		if (load_input(t, dec, names[c[i].cls], c[i].id, eng_input(e)) < 0 || eng_invoke(e) < 0)
			continue;
		size_t best = 0;
		for (size_t k = 1; k < eng_output_count(e); k++)
			if (eng_output_value(e, k) > eng_output_value(e, best))
				best = k;
		*right += (int)best == c[i].cls;
		(*total)++;
	}
	cap_decoder_free(dec);
	eng_free(e);
	return 0;
}

int teach_train_run(struct teach *t, double *ret_accuracy, int *ret_val, char *err, size_t errlen)
{
	const int depth = t->emb->depth;
	int map[TEACH_MAX_LABELS], classes = 0, r = 0;
	const char *names[TEACH_MAX_LABELS];
	char name_store[TEACH_MAX_LABELS][TEACH_LABEL_MAX + 1];
	pthread_mutex_lock(&t->lock);
	size_t n = t->nsamples;
	for (int l = 0; l < t->nlabels; l++) {
		map[l] = t->labels[l].count > 0 ? classes : -1;
		if (map[l] >= 0) {
			snprintf(name_store[classes], sizeof(name_store[0]), "%s", t->labels[l].name);
			names[classes] = name_store[classes];
			classes++;
		}
	}
	struct copy *c = calloc(n ? n : 1, sizeof(*c));
	float *x = malloc((n ? n : 1) * (size_t)depth * sizeof(float));
	if (c && x)
		for (size_t i = 0; i < n; i++) {
			const struct teach_sample *s = &t->samples[i];
			c[i].cls = map[s->label];
			snprintf(c[i].id, sizeof(c[i].id), "%s", s->id);
			for (int j = 0; j < depth; j++) {
				int q = t->emb->type == ENG_INT8 ? (int8_t)s->emb[j] : s->emb[j];
				x[i * depth + j] = t->emb->scale * (float)(q - t->emb->zero_point);
			}
		}
	pthread_mutex_unlock(&t->lock);
	if (!c || !x) {
		free(c);
		free(x);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (classes < 2) {
		free(c);
		free(x);
		snprintf(err, errlen, "nothing to train on: samples of at least 2 labels are needed (%d label%s with samples)",
			 classes, classes == 1 ? "" : "s");
		return -ENODATA;
	}
	/* order by class then id, keeping x in step: sort an index */
	struct copy *sorted = malloc(n * sizeof(*sorted));
	float *xs = malloc(n * (size_t)depth * sizeof(float)), *xt = malloc(n * (size_t)depth * sizeof(float));
	int *y = malloc(n * sizeof(int));
	size_t *idx = malloc(n * sizeof(size_t));
	struct rt_head h = { 0 };
	uint8_t *model = NULL;
	size_t model_len = 0;
	if (!sorted || !xs || !xt || !y || !idx) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(sorted, c, n * sizeof(*c));
	qsort(sorted, n, sizeof(*sorted), cmp_copy);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			if (c[k].cls == sorted[i].cls && strcmp(c[k].id, sorted[i].id) == 0) {
				idx[i] = k;
				break;
			}
	size_t nt = 0;
	for (size_t i = 0, run = 0; i < n; i++) {
		run = i > 0 && sorted[i].cls == sorted[i - 1].cls ? run + 1 : 0;
		sorted[i].held_out = run % TEACH_HOLD_OUT_EVERY == TEACH_HOLD_OUT_EVERY - 1;
		memcpy(xs + i * depth, x + idx[i] * depth, (size_t)depth * sizeof(float));
		if (!sorted[i].held_out) {
			memcpy(xt + nt * depth, xs + i * depth, (size_t)depth * sizeof(float));
			y[nt++] = sorted[i].cls;
		}
	}
	struct rt_fit_options fo = { .l2 = TEACH_L2, .iterations = TEACH_ITERATIONS };
	r = rt_fit(xt, y, nt, classes, depth, &fo, &h, err, errlen);
	if (r >= 0)
		r = rt_write(t->base, &h, names, "teach", &model, &model_len, err, errlen);
	int right = 0, total = 0;
	if (r >= 0)
		r = measure(t, model, model_len, sorted, n, names, &right, &total, err, errlen);
	if (r >= 0) {
		char path[4200], text[TEACH_MAX_LABELS * (TEACH_LABEL_MAX + 1) + 1];
		size_t used = 0;
		for (int k = 0; k < classes; k++)
			used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\n", names[k]);
		snprintf(path, sizeof(path), "%s/labels.txt", t->dir);
		r = rt_write_file(path, text, used, err, errlen);
		snprintf(path, sizeof(path), "%s/model.tflite", t->dir);
		if (r >= 0)
			r = rt_write_file(path, model, model_len, err, errlen);
	}
	if (r >= 0) {
		*ret_accuracy = total ? (double)right / total : 0;
		*ret_val = total;
		log_info("teach: trained %d labels on %zu samples, held-out accuracy %d/%d", classes, nt, right, total);
	}
out:
	rt_head_free(&h);
	free(model);
	free(sorted);
	free(xs);
	free(xt);
	free(y);
	free(idx);
	free(c);
	free(x);
	return r;
}
