/* retrain_report.h — the arguments and results of `camclass retrain`, and its outputs: the model
 * and labels files, the embeddings dump, the final report (text or --json on stdout). Shared by
 * cmd_retrain.c (the steps) and retrain_report.c (the files and the report). */
#ifndef CAMCLASS_TOOLS_RETRAIN_REPORT_H
#define CAMCLASS_TOOLS_RETRAIN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "inference/engine.h"
#include "inference/retrain.h"
#include "tools/camclass/retrain_data.h"

struct rr_args {
	const char *base, *data, *out, *labels_out, *embedding, *embeddings_out;
	double val_split, l2;
	int epochs, augment, threads;
	uint64_t seed;
	enum eng_backend backend;
	bool json;
	struct cap_prep prep;
};

struct rr_result {
	double embed_s, fit_s;
	int train_n, train_right;         /* the training images themselves (no augmented views) */
	int val_n, val_float_right, val_int8_right;
	int *confusion;                   /* classes × classes, [true][predicted], int8 file */
	char labels_path[4096];
};

int rr_write_embeddings(const char *path, const struct rt_data *d, char *err, size_t errlen);
/* rt_write() the model, then write it and the labels file (both through temp + rename). */
int rr_write_outputs(const struct rr_args *a, const struct rt_base *base, const struct rt_head *h,
		     const struct rt_data *d, uint8_t **ret_model, size_t *ret_len, char *err, size_t errlen);
int rr_report(const struct rr_args *a, const struct rt_embedding *emb, const struct rt_data *d,
	      struct rr_result *res, size_t model_bytes);

#endif
