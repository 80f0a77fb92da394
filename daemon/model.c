/* model.c — a loaded model as the daemon uses it: engine + labels + validated tensor shapes.
 *
 * Kept apart from pipeline.c because a reload builds one of these on the side, while the old
 * one keeps classifying; only a fully validated model is ever swapped in. */
#include "daemon/model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	if (len > 7 && strcmp(base + len - 7, ".tflite") == 0)
		len -= 7;
	return strndup(base, len);
}

int pl_model_load(const struct config *cfg, struct pl_model **ret_model, char *err, size_t errlen)
{
	struct pl_model *m = calloc(1, sizeof(*m));
	struct eng_options opt = { .threads = cfg->model.threads };
	int r;

	if (!m)
		return fail(err, errlen, -ENOMEM, "out of memory");
	r = eng_backend_from_name(config_backend_name(cfg->model.backend));
	if (r < 0) {
		r = fail(err, errlen, -EINVAL, "backend %s unknown to the engine",
			 config_backend_name(cfg->model.backend));
		goto out;
	}
	opt.backend = (enum eng_backend)r;
	r = eng_load(cfg->model.path, &opt, &m->engine, err, errlen);
	if (r < 0)
		goto out;
	r = eng_input_info(m->engine, &m->input);
	if (r >= 0)
		r = eng_output_info(m->engine, &m->output);
	if (r < 0) {
		r = fail(err, errlen, r, "%s: cannot read tensor shapes", cfg->model.path);
		goto out;
	}
	if (m->input.ndim != 4 || m->input.dims[0] != 1 ||
	    (m->input.dims[3] != 1 && m->input.dims[3] != 3) ||
	    (m->input.type != ENG_UINT8 && m->input.type != ENG_INT8 &&
	     m->input.type != ENG_FLOAT32)) {
		r = fail(err, errlen, -EINVAL,
			 "%s: input must be a 1xHxWx1 or 1xHxWx3 uint8/int8/float32 image (it is %dD %s)",
			 cfg->model.path, m->input.ndim, eng_dtype_name(m->input.type));
		goto out;
	}
	if (m->input.quantized_type == ENG_FLOAT32) {
		r = fail(err, errlen, -EINVAL,
			 "%s: input '%s' is float32 but is not read by a single QUANTIZE to uint8/int8, "
			 "so there is no integer input to preprocess for (convert with full-integer "
			 "quantization)", cfg->model.path, m->input.name);
		goto out;
	}
	m->n_classes = eng_output_count(m->engine);
	r = labels_load(cfg->model.labels, &m->labels, err, errlen);
	if (r < 0)
		goto out;
	if (m->labels.count != m->n_classes) {
		r = fail(err, errlen, -EINVAL, "%s has %zu labels but %s has %zu outputs",
			 cfg->model.labels, m->labels.count, cfg->model.path, m->n_classes);
		goto out;
	}
	m->scores = calloc(m->n_classes, sizeof(*m->scores));
	m->name = name_from_path(cfg->model.path);
	if (!m->scores || !m->name) {
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	m->prep.target = (struct cap_target){
		.width = m->input.dims[2],
		.height = m->input.dims[1],
		.channels = m->input.dims[3],
		.is_int8 = m->input.quantized_type == ENG_INT8,
		.scale = m->input.quantized_scale,
		.zero_point = m->input.quantized_zero_point,
		.is_float = m->input.type == ENG_FLOAT32,
	};
	m->prep.crop = (enum cap_crop)cap_crop_from_name(config_crop_name(cfg->model.crop));
	m->prep.resize = (enum cap_resize)cap_resize_from_name(config_resize_name(cfg->model.resize));
	log_info("model %s: input %dx%dx%d %s, %zu classes, backend %s, %zu KiB arena", m->name,
		 m->input.dims[1], m->input.dims[2], m->input.dims[3], eng_dtype_name(m->input.type),
		 m->n_classes, eng_backend_name(eng_backend_used(m->engine)),
		 eng_arena_bytes(m->engine) / 1024);
	*ret_model = m;
	return 0;
out:
	pl_model_free(m);
	return r;
}

void pl_model_free(struct pl_model *m)
{
	if (!m)
		return;
	if (m->engine)
		eng_free(m->engine);
	labels_free(&m->labels);
	free(m->scores);
	free(m->name);
	free(m);
}

const char *pl_model_name(const struct pl_model *m)
{
	return m->name;
}
