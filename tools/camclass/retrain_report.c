/* retrain_report.c — the files and the report of `camclass retrain` (see retrain_report.h).
 * The text report mirrors tools/train/train.py's: accuracies, then a confusion summary (the
 * full matrix up to 10 classes, else the most frequent confusions). */
#include "tools/camclass/retrain_report.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rr_write_embeddings(const char *path, const struct rt_data *d, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	for (size_t k = 0; k < d->n; k++) {
		fprintf(f, "%s %d", d->samples[k].held_out ? "val" : "train", d->samples[k].cls);
		for (int j = 0; j < d->depth; j++)
			fprintf(f, " %.9g", (double)d->x[k * d->depth + j]);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: write failed", path);
		return -EIO;
	}
	return 0;
}

int rr_write_outputs(const struct rr_args *a, const struct rt_base *base, const struct rt_head *h,
		     const struct rt_data *d, uint8_t **ret_model, size_t *ret_len, char *err, size_t errlen)
{
	char name[256], labels_path[4096], *copy = strdup(a->out);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	const char *slash = strrchr(a->out, '/');
	snprintf(name, sizeof(name), "%s", slash ? slash + 1 : a->out);
	size_t nl = strlen(name);
	if (nl > 7 && strcmp(name + nl - 7, ".tflite") == 0)
		name[nl - 7] = 0;
	if (a->labels_out)
		snprintf(labels_path, sizeof(labels_path), "%s", a->labels_out);
	else
		snprintf(labels_path, sizeof(labels_path), "%s/labels.txt", dirname(copy));
	free(copy);
	uint8_t *model = NULL;
	size_t len = 0;
	int r = rt_write(base, h, (const char *const *)d->labels, name, &model, &len, err, errlen);
	if (r < 0)
		return r;
	size_t text_len = 0;
	for (int c = 0; c < d->classes; c++)
		text_len += strlen(d->labels[c]) + 1;
	char *text = malloc(text_len + 1), *p = text;
	if (!text) {
		free(model);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int c = 0; c < d->classes; c++)
		p += sprintf(p, "%s\n", d->labels[c]);
	r = rt_write_file(a->out, model, len, err, errlen);
	if (r >= 0)
		r = rt_write_file(labels_path, text, text_len, err, errlen);
	free(text);
	if (r < 0) {
		free(model);
		return r;
	}
	fprintf(stderr, "camclass retrain: wrote %s (%zu bytes) and %s\n", a->out, len, labels_path);
	*ret_model = model;
	*ret_len = len;
	return 0;
}

static double pct(int right, int n)
{
	return n ? 100.0 * right / n : 0.0;
}

static void print_confusion(const struct rt_data *d, const int *cm)
{
	if (d->classes <= 10) {
		printf("confusion (rows: true class, columns: predicted, held-out images):\n");
		for (int t = 0; t < d->classes; t++) {
			printf("  %-16.16s", d->labels[t]);
			for (int p = 0; p < d->classes; p++)
				printf(" %4d", cm[t * d->classes + p]);
			printf("\n");
		}
		return;
	}
	printf("most frequent confusions (held-out images):\n");
	for (int shown = 0; shown < 10; shown++) {
		int best = -1;
		for (int i = 0; i < d->classes * d->classes; i++)
			if (i / d->classes != i % d->classes && cm[i] > 0 && (best < 0 || cm[i] > cm[best]))
				best = i;
		if (best < 0)
			break;
		printf("  %s -> %s: %d\n", d->labels[best / d->classes], d->labels[best % d->classes], cm[best]);
		((int *)cm)[best] = -cm[best]; /* shown; restored below */
	}
	for (int i = 0; i < d->classes * d->classes; i++)
		if (cm[i] < 0)
			((int *)cm)[i] = -cm[i];
}

static int report_json(const struct rr_args *a, const struct rt_embedding *emb, const struct rt_data *d,
		       const struct rr_result *res, size_t model_bytes)
{
	json_t *o = json_object(), *classes = json_array(), *cm = json_array();
	int r = o && classes && cm ? 0 : -ENOMEM;
	for (int c = 0; r == 0 && c < d->classes; c++) {
		json_t *row = json_array();
		if (!row || json_array_append_new(classes, json_string(d->labels[c])) || json_array_append_new(cm, row))
			r = -ENOMEM;
		for (int p = 0; r == 0 && p < d->classes; p++)
			if (json_array_append_new(row, json_integer(res->confusion[c * d->classes + p])))
				r = -ENOMEM;
	}
	json_t *e = json_pack("{s:i,s:s,s:i,s:s}", "tensor", emb->tensor, "name", emb->name, "size", emb->depth,
			      "head", emb->head);
	if (r == 0 && (!e || json_object_set_new(o, "base", json_string(a->base)) ||
		       json_object_set_new(o, "embedding", e) || json_object_set(o, "classes", classes) ||
		       json_object_set_new(o, "images", json_integer(d->n_images)) ||
		       json_object_set_new(o, "skipped", json_integer(d->skipped)) ||
		       json_object_set_new(o, "train_images", json_integer(res->train_n)) ||
		       json_object_set_new(o, "embeddings", json_integer((json_int_t)d->n)) ||
		       json_object_set_new(o, "val_images", json_integer(res->val_n)) ||
		       json_object_set_new(o, "train_accuracy", json_real(pct(res->train_right, res->train_n) / 100)) ||
		       json_object_set_new(o, "float_accuracy", json_real(pct(res->val_float_right, res->val_n) / 100)) ||
		       json_object_set_new(o, "int8_accuracy", json_real(pct(res->val_int8_right, res->val_n) / 100)) ||
		       json_object_set(o, "confusion", cm) ||
		       json_object_set_new(o, "embed_seconds", json_real(res->embed_s)) ||
		       json_object_set_new(o, "fit_seconds", json_real(res->fit_s)) ||
		       json_object_set_new(o, "out", json_string(a->out)) ||
		       json_object_set_new(o, "model_bytes", json_integer((json_int_t)model_bytes))))
		r = -ENOMEM;
	char *s = r == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) : NULL;
	if (s)
		printf("%s\n", s);
	else
		r = -ENOMEM;
	free(s);
	json_decref(o);
	json_decref(classes);
	json_decref(cm);
	return r;
}

int rr_report(const struct rr_args *a, const struct rt_embedding *emb, const struct rt_data *d,
	      struct rr_result *res, size_t model_bytes)
{
	int r = 0;
	if (a->json) {
		r = report_json(a, emb, d, res, model_bytes);
	} else {
		printf("classes: %d, images: %d (%d training, %d held out, %d skipped), %zu embeddings with "
		       "augmentation\n", d->classes, d->n_images, res->train_n, res->val_n, d->skipped, d->n);
		printf("time: embedding %.2f s, fitting %.2f s\n", res->embed_s, res->fit_s);
		printf("training accuracy (float head): %.1f %%\n", pct(res->train_right, res->train_n));
		if (res->val_n) {
			printf("held-out accuracy: float head %.1f %%, int8 through %s in the engine %.1f %% (%d images)\n",
			       pct(res->val_float_right, res->val_n), a->out, pct(res->val_int8_right, res->val_n),
			       res->val_n);
			print_confusion(d, res->confusion);
		} else {
			printf("held-out accuracy: no held-out images (--val-split 0 or too few images)\n");
		}
	}
	fflush(stdout);
	return r;
}
