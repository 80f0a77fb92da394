/* teach_requests.c — the socket requests of live teaching: teach, samples, forget, train (see
 * docs/protocol.md and teach.h). Main thread only. Every bound a client could push is checked
 * here, before anything is stored: the label's form, count in 1..TEACH_MAX_COUNT, samples per
 * label, total disk use; a teach request while another is running, or any change during
 * training, gets -EBUSY. Replies are built with jansson. */
#include "daemon/teach_internal.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int teach_start(struct teach *t, const char *label, int count, json_t **ret, char *err, size_t errlen)
{
	if (!teach_label_ok(label))
		return err_setf(err, errlen, -EINVAL, "label must be 1..%d characters of A-Z a-z 0-9 _ . - (not starting "
			     "with '.')", TEACH_LABEL_MAX);
	if (count < 1 || count > TEACH_MAX_COUNT)
		return err_setf(err, errlen, -EINVAL, "count must be 1..%d", TEACH_MAX_COUNT);
	int r = 0;
	pthread_mutex_lock(&t->lock);
	int idx = teach_label_index(t, label, true);
	if (idx < 0)
		r = err_setf(err, errlen, -ENOSPC, "at most %d labels", TEACH_MAX_LABELS);
	else if (t->want_left > 0 || t->slot_full)
		r = err_setf(err, errlen, -EBUSY, "already teaching '%s' (%d frames left)", t->labels[t->want_label].name,
			  t->want_left);
	else if (t->training)
		r = err_setf(err, errlen, -EBUSY, "training is running");
	else if (t->input_differs)
		r = err_setf(err, errlen, -ENOTSUP, "the running model's input is not the teaching base's (%s): set "
			  "[teach] base to a model with the same input", t->base_path);
	else if (t->labels[idx].count + count > t->max_per_label)
		r = err_setf(err, errlen, -ENOSPC, "'%s' has %d samples; %d more would pass [teach] max_samples_per_label = %d",
			  label, t->labels[idx].count, count, t->max_per_label);
	else if (t->disk_bytes >= t->max_disk_bytes)
		r = err_setf(err, errlen, -ENOSPC, "samples use %llu bytes, [teach] max_disk_mb reached",
			  (unsigned long long)t->disk_bytes);
	if (r == 0) {
		t->want_label = idx;
		t->want_left = count;
		t->want_total = count;
	}
	int have = idx >= 0 ? t->labels[idx].count : 0;
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		return r;
	*ret = json_pack("{s:s,s:i,s:i}", "label", label, "count", count, "samples", have);
	return *ret ? 0 : err_setf(err, errlen, -ENOMEM, "out of memory");
}

int teach_samples(struct teach *t, json_t **ret, char *err, size_t errlen)
{
	json_t *labels = json_array();
	pthread_mutex_lock(&t->lock);
	for (int i = 0; labels && i < t->nlabels; i++)
		if (t->labels[i].count > 0 &&
		    json_array_append_new(labels, json_pack("{s:s,s:i}", "label", t->labels[i].name, "samples",
							     t->labels[i].count)) < 0) {
			json_decref(labels);
			labels = NULL;
		}
	json_t *o = labels ? json_pack("{s:o,s:I,s:I,s:i,s:b,s:s}", "labels", labels, "disk_bytes",
				       (json_int_t)t->disk_bytes, "max_disk_bytes", (json_int_t)t->max_disk_bytes,
				       "max_samples_per_label", t->max_per_label, "training", t->training,
				       "base", t->base_path) : NULL;
	pthread_mutex_unlock(&t->lock);
	*ret = o;
	return o ? 0 : err_setf(err, errlen, -ENOMEM, "out of memory");
}

int teach_forget(struct teach *t, const char *label, const char *id, json_t **ret, char *err, size_t errlen)
{
	int removed = 0, r;
	pthread_mutex_lock(&t->lock);
	int idx = teach_label_ok(label) ? teach_label_index(t, label, false) : -ENOENT;
	if (idx < 0)
		r = err_setf(err, errlen, -ENOENT, "no samples of label '%s'", label);
	else if (t->training || (t->want_left > 0 && t->want_label == idx) || t->slot_full)
		r = err_setf(err, errlen, -EBUSY, "'%s' is being taught or trained on; try again when it is done", label);
	else if ((r = teach_store_forget(t, idx, id, &removed)) < 0)
		r = err_setf(err, errlen, -ENOENT, "no sample '%s' of label '%s'", id ? id : "", label);
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		return r;
	*ret = json_pack("{s:s,s:i}", "label", label, "removed", removed);
	return *ret ? 0 : err_setf(err, errlen, -ENOMEM, "out of memory");
}

int teach_train(struct teach *t, json_t **ret, char *err, size_t errlen)
{
	int r = 0, with = 0;
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->nlabels; i++)
		with += t->labels[i].count > 0;
	if (t->training)
		r = err_setf(err, errlen, -EBUSY, "training is already running");
	else if (t->want_left > 0 || t->slot_full)
		r = err_setf(err, errlen, -EBUSY, "teaching '%s' is still running", t->labels[t->want_label].name);
	else if (with < 2)
		r = err_setf(err, errlen, -ENODATA, "nothing to train on: samples of at least 2 labels are needed (%d label%s "
			  "with samples)", with, with == 1 ? "" : "s");
	if (r == 0) {
		t->training = true;
		t->train_req = true;
		pthread_cond_signal(&t->cond);
	}
	size_t n = t->nsamples;
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		return r;
	*ret = json_pack("{s:b,s:i,s:I}", "training", 1, "labels", with, "samples", (json_int_t)n);
	return *ret ? 0 : err_setf(err, errlen, -ENOMEM, "out of memory");
}
