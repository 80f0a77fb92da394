/* teach_internal.h — struct teach, shared by daemon/teach.c (thread, requests), teach_store.c
 * (the sample files) and teach_train.c (fitting and writing the model). Nothing else includes it.
 * Locking: `lock` guards every field marked (L); the rest is set at open and read-only after. */
#ifndef CAMCLASS_DAEMON_TEACH_INTERNAL_H
#define CAMCLASS_DAEMON_TEACH_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/teach.h"
#include "inference/retrain.h"

#define TEACH_MAX_LABELS 100
#define TEACH_ID_LEN 20

struct teach_label {
	char name[TEACH_LABEL_MAX + 1];
	int count;
};

struct teach_sample {
	char id[TEACH_ID_LEN];
	int label;
	uint64_t bytes;           /* both files on disk */
	uint8_t *emb;             /* depth quantized bytes, as the base computed them */
};

struct teach {
	char *dir, *base_path;
	int max_per_label;
	uint64_t max_disk_bytes;
	struct server *srv;
	struct rt_base *base;
	const struct rt_embedding *emb;
	struct engine *engine;            /* the base with the embedding as probe (teach thread) */
	struct eng_tensor_info in;
	enum eng_backend backend;
	int threads;

	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;                    /* (L) */
	int want_label, want_left, want_total; /* (L) capture armed while want_left > 0 */
	uint8_t *slot;                    /* (L) one input tensor waiting to be stored */
	bool slot_full;                   /* (L) */
	bool train_req, training;         /* (L) */
	bool input_differs;               /* (L) the last classified frame's input is not the base's */

	struct teach_label labels[TEACH_MAX_LABELS]; /* (L) */
	int nlabels;                      /* (L) */
	struct teach_sample *samples;     /* (L) */
	size_t nsamples, cap;             /* (L) */
	uint64_t disk_bytes;              /* (L) */
	uint64_t next_id;                 /* (L) */

	int event_fd;
	int train_rc;                     /* (L) result of the last run */
	double accuracy;                  /* (L) */
	int val_n;                        /* (L) */
	char train_err[256];              /* (L) */
};

/* teach_store.c (called with lock held unless said otherwise) */
bool teach_label_ok(const char *label);
int teach_label_index(struct teach *t, const char *label, bool create);
int teach_store_scan(struct teach *t, char *err, size_t errlen);            /* at open */
/* Writes the sample's files (no lock held: the caller copies what it needs), then lock. */
int teach_store_save(struct teach *t, int label, const uint8_t *tensor, const uint8_t *emb, char *err, size_t errlen);
int teach_store_forget(struct teach *t, int label, const char *id, int *ret_removed);
void teach_store_free(struct teach *t);

/* teach_train.c (teach thread, lock not held; takes it to copy the samples) */
int teach_train_run(struct teach *t, double *ret_accuracy, int *ret_val, char *err, size_t errlen);

#endif
