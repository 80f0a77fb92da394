/* teach.c — the teach thread of live teaching: open/close, frames offered, training runs (see
 * teach.h; the requests are in teach_requests.c).
 *
 * One thread does all the slow work (embedding a taught frame, writing its files, training), at
 * nice 19, so the classify thread only ever copies one tensor into a slot under a short lock
 * and results keep flowing while samples are stored and a model is fitted. A frame offered while
 * another still waits in the slot replaces it (teaching takes the newest frames, as the classify
 * thread does), and only stored frames count toward the N asked for. Progress is published as server events from this thread
 * (srv_publish_event may be called from any thread); the end of a training run goes to the main
 * thread through event_fd, because swapping the model is the main thread's job. */
#include "daemon/teach_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/server.h"
#include "lib/log.h"

#define TEACH_NICE 19

bool teach_model_paths(const char *dir, char *model, size_t model_len, char *labels, size_t labels_len)
{
	struct stat st;
	snprintf(model, model_len, "%s/model.tflite", dir);
	snprintf(labels, labels_len, "%s/labels.txt", dir);
	return stat(model, &st) == 0 && S_ISREG(st.st_mode) && stat(labels, &st) == 0 && S_ISREG(st.st_mode);
}

void teach_set_server(struct teach *t, struct server *srv)
{
	pthread_mutex_lock(&t->lock);
	t->srv = srv;
	pthread_mutex_unlock(&t->lock);
}

static void publish(struct teach *t, const char *event, json_t *extra)
{
	pthread_mutex_lock(&t->lock);
	struct server *srv = t->srv;
	pthread_mutex_unlock(&t->lock);
	if (srv)
		srv_publish_event(srv, event, extra);
	else
		json_decref(extra);
}

static void store_one(struct teach *t, const uint8_t *tensor, int label)
{
	char err[256];
	const uint8_t *emb;
	memcpy(eng_input(t->engine), tensor, t->in.bytes);
	int r = eng_invoke(t->engine);
	if (r < 0 || !(emb = eng_probe(t->engine))) {
		log_error("teach: embedding failed: %s", strerror(-r));
		return;
	}
	r = teach_store_save(t, label, tensor, emb, err, sizeof(err));
	pthread_mutex_lock(&t->lock);
	const char *name = t->labels[label].name;
	int count = t->labels[label].count, left = t->want_left + (t->slot_full ? 1 : 0);
	bool done = left == 0 || r < 0;
	if (r < 0) {
		t->want_left = 0;
		t->slot_full = false;
	}
	pthread_mutex_unlock(&t->lock);
	if (r < 0) {
		log_error("teach: cannot store a sample of '%s': %s", name, err);
		publish(t, "teach_error", json_pack("{s:s,s:s}", "label", name, "message", err));
		return;
	}
	publish(t, done ? "teach_done" : "teach_progress",
		json_pack("{s:s,s:i,s:i}", "label", name, "stored", count, "left", left));
}

static void *teach_main(void *arg)
{
	struct teach *t = arg;
	uint8_t *tensor = malloc(t->in.bytes);
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), TEACH_NICE) < 0)
		log_warning("teach: cannot lower the teach thread's priority: %m");
	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		if (t->slot_full && tensor) {
			int label = t->want_label;
			memcpy(tensor, t->slot, t->in.bytes);
			t->slot_full = false;
			pthread_mutex_unlock(&t->lock);
			store_one(t, tensor, label);
			pthread_mutex_lock(&t->lock);
			continue;
		}
		if (t->train_req) {
			char err[256] = "";
			double acc = 0;
			int val = 0;
			t->train_req = false;
			pthread_mutex_unlock(&t->lock);
			int r = teach_train_run(t, &acc, &val, err, sizeof(err));
			pthread_mutex_lock(&t->lock);
			t->train_rc = r;
			t->accuracy = acc;
			t->val_n = val;
			snprintf(t->train_err, sizeof(t->train_err), "%s", err);
			uint64_t one = 1;
			if (write(t->event_fd, &one, sizeof(one)) < 0)
				log_warning("teach: cannot signal the end of training: %m");
			continue;
		}
		pthread_cond_wait(&t->cond, &t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	free(tensor);
	return NULL;
}

int teach_open(const struct teach_config *cfg, struct server *srv, struct teach **ret, char *err, size_t errlen)
{
	struct teach *t = calloc(1, sizeof(*t));
	int r;
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->event_fd = -1;
	t->srv = srv;
	t->dir = strdup(cfg->dir);
	t->base_path = strdup(cfg->base);
	t->max_per_label = cfg->max_samples_per_label;
	t->max_disk_bytes = cfg->max_disk_bytes;
	t->backend = cfg->backend;
	t->threads = cfg->threads;
	if (!t->dir || !t->base_path) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r = rt_base_open(cfg->base, NULL, &t->base, err, errlen);
	if (r < 0)
		goto fail;
	t->emb = rt_base_embedding(t->base);
	struct eng_options opt = { .backend = cfg->backend, .threads = 1, .probe_tensor = t->emb->name };
	r = eng_load(cfg->base, &opt, &t->engine, err, errlen);
	if (r >= 0)
		r = eng_input_info(t->engine, &t->in);
	if (r >= 0 && t->in.type == ENG_FLOAT32) {
		r = -ENOTSUP;
		snprintf(err, errlen, "%s: a float32 input cannot be taught from", cfg->base);
	}
	if (r < 0)
		goto fail;
	t->slot = malloc(t->in.bytes);
	t->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!t->slot || t->event_fd < 0) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r = teach_store_scan(t, err, errlen);
	if (r < 0)
		goto fail;
	r = -pthread_create(&t->thread, NULL, teach_main, t);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the teach thread: %s", strerror(-r));
		goto fail;
	}
	t->started = true;
	log_info("teach: base %s (embedding '%s', %d values), %zu samples in %s", cfg->base, t->emb->name,
		 t->emb->depth, t->nsamples, t->dir);
	*ret = t;
	return 0;
fail:
	teach_close(t);
	return r;
}

void teach_close(struct teach *t)
{
	if (!t)
		return;
	if (t->started) {
		pthread_mutex_lock(&t->lock);
		t->stopping = true;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
	}
	teach_store_free(t);
	eng_free(t->engine);
	rt_base_free(t->base);
	if (t->event_fd >= 0)
		close(t->event_fd);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t->slot);
	free(t->dir);
	free(t->base_path);
	free(t);
}

/* The running model's input is the base's (type, shape, quantization): then its tensor is what
 * the base would have computed from the same frame. */
static bool same_input(const struct eng_tensor_info *a, const struct eng_tensor_info *b)
{
	if (a->type != b->type || a->ndim != b->ndim || a->bytes != b->bytes || a->scale != b->scale ||
	    a->zero_point != b->zero_point)
		return false;
	for (int d = 0; d < a->ndim && d < ENG_MAX_DIMS; d++)
		if (a->dims[d] != b->dims[d])
			return false;
	return true;
}

void teach_offer(struct teach *t, const void *tensor, const struct eng_tensor_info *info)
{
	if (!t)
		return;
	bool same = same_input(info, &t->in);
	size_t bytes = info->bytes;
	pthread_mutex_lock(&t->lock);
	t->input_differs = !same;
	if (same && t->want_left > 0) {
		/* a frame still waiting is replaced by this newer one, and only stored frames count */
		memcpy(t->slot, tensor, bytes);
		if (!t->slot_full)
			t->want_left--;
		t->slot_full = true;
		pthread_cond_signal(&t->cond);
	}
	pthread_mutex_unlock(&t->lock);
}

int teach_event_fd(const struct teach *t)
{
	return t->event_fd;
}

int teach_take_trained(struct teach *t, double *ret_accuracy, int *ret_val, char *err, size_t errlen)
{
	uint64_t v;
	if (read(t->event_fd, &v, sizeof(v)) < 0 && errno == EAGAIN)
		return -EAGAIN;
	pthread_mutex_lock(&t->lock);
	int r = t->train_rc;
	t->training = false;
	*ret_accuracy = t->accuracy;
	*ret_val = t->val_n;
	snprintf(err, errlen, "%s", t->train_err);
	pthread_mutex_unlock(&t->lock);
	return r;
}
