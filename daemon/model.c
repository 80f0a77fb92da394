/* model.c — the daemon's [model] section → a classifier (daemon/classifier.h).
 *
 * Kept apart from pipeline.c because a reload builds one of these on the side, while the old
 * one keeps classifying; only a fully validated model is ever swapped in. The classifier itself
 * knows nothing of the config; this is the one place that translates. */
#include <stdio.h>

#include "daemon/pipeline.h"
#include "lib/log.h"

int pl_model_load(const struct config *cfg, struct classifier **ret_model, char *err, size_t errlen)
{
	const struct clf_options opt = {
		.model_path = cfg->model.path,
		.labels_path = cfg->model.labels,
		.labels_fallback_path = CONFIG_DEFAULT_LABELS_PATH,
		.backend = cfg->model.backend,
		.threads = cfg->model.threads,
		.crop = cfg->model.crop,
		.resize = cfg->model.resize,
		.io = { .input_mean = cfg->model.input_mean, .input_std = cfg->model.input_std,
			.output = cfg->model.output },
	};
	struct classifier *m;
	int r = clf_load(&opt, &m, err, errlen);
	if (r < 0)
		return r;
	const struct eng_tensor_info *in = clf_input(m);
	log_info("model %s: input %dx%dx%d %s, %zu classes, backend %s, %zu KiB arena", clf_name(m),
		 in->dims[1], in->dims[2], in->dims[3], eng_dtype_name(in->type), clf_class_count(m),
		 eng_backend_name(eng_backend_used(clf_engine(m))), eng_arena_bytes(clf_engine(m)) / 1024);
	log_info("model %s: input %s; labels from %s", clf_name(m), clf_input_desc(m), clf_labels_source(m));
	*ret_model = m;
	return 0;
}
