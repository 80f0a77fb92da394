/* classifier.c — load a model with its labels and run pictures through it (classifier.h).
 *
 * Why it is built this way: the daemon and `camclass classify` used to each load the engine,
 * check the input tensor, read labels and build capture's preprocessing on their own, and could
 * drift apart. Here is the one copy. A classifier is built whole or not at all (a daemon reload
 * builds one on the side while the old one keeps classifying, and swaps in only a validated
 * one), and it holds no settings of the caller beyond what shapes its input: smoothing, rate
 * and per-client choices stay with the daemon. */
#include "daemon/classifier.h"
#include "daemon/labels_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct classifier {
	struct engine *engine;
	struct eng_tensor_info input;
	size_t n_classes;
	struct labels labels;
	float *scores;            /* n_classes dequantized outputs of the last run */
	struct cap_prep prep;     /* crop/resize from the options, target from the input tensor */
	struct cap_decoder *decoder;
	char *name;
	struct model_io io;       /* how pixels go in and scores come out (model_io.h) */
	char labels_source[300];
};

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

/* The labels: the file named, else the model's own (TFLite metadata's labels file, from the zip
 * appended to the model), else the fallback file. */
static int load_labels(struct classifier *c, const struct clf_options *opt, char *err, size_t errlen)
{
	const struct eng_metadata *md = eng_metadata(c->engine);
	if (opt->labels_path && *opt->labels_path) {
		snprintf(c->labels_source, sizeof(c->labels_source), "%s", opt->labels_path);
		return labels_load(opt->labels_path, &c->labels, err, errlen);
	}
	if (md->labels_file[0]) {
		char *text = NULL;
		size_t len = 0;
		snprintf(c->labels_source, sizeof(c->labels_source), "%s:%s", opt->model_path, md->labels_file);
		int r = eng_associated_file(c->engine, md->labels_file, &text, &len, err, errlen);
		if (r < 0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err);
			return fail(err, errlen, r, "%s: labels inside the model: %s", opt->model_path, why);
		}
		r = labels_parse_text(c->labels_source, text, len, &c->labels, err, errlen);
		free(text);
		return r;
	}
	if (opt->labels_fallback_path && *opt->labels_fallback_path) {
		snprintf(c->labels_source, sizeof(c->labels_source), "%s", opt->labels_fallback_path);
		return labels_load(opt->labels_fallback_path, &c->labels, err, errlen);
	}
	return fail(err, errlen, -EINVAL, "%s carries no labels file (no TFLite metadata labels); give one",
		    opt->model_path);
}

int clf_load(const struct clf_options *opt, struct classifier **ret_classifier, char *err,
	     size_t errlen)
{
	struct eng_options eo = { .backend = opt->backend, .threads = opt->threads };
	struct classifier *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return fail(err, errlen, -ENOMEM, "out of memory");
	r = eng_load(opt->model_path, &eo, &c->engine, err, errlen);
	if (r < 0)
		goto out;
	r = eng_input_info(c->engine, &c->input);
	if (r < 0) {
		r = fail(err, errlen, r, "%s: cannot read the input tensor's shape", opt->model_path);
		goto out;
	}
	{
		char why[256];
		r = model_io_setup(c->engine, &opt->io, &c->io, why, sizeof(why));
		if (r < 0) {
			r = fail(err, errlen, r, "%s: %s", opt->model_path, why);
			goto out;
		}
	}
	c->n_classes = eng_output_count(c->engine);
	r = load_labels(c, opt, err, errlen);
	if (r < 0)
		goto out;
	if (c->labels.count != c->n_classes) {
		r = fail(err, errlen, -EINVAL, "%s has %zu labels but %s has %zu outputs",
			 c->labels_source, c->labels.count, opt->model_path, c->n_classes);
		goto out;
	}
	c->scores = calloc(c->n_classes, sizeof(*c->scores));
	c->name = name_from_path(opt->model_path);
	if (!c->scores || !c->name) {
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	r = cap_decoder_new(&c->decoder);
	if (r < 0) {
		r = fail(err, errlen, r, "capture: %s", cap_strerror(r));
		goto out;
	}
	c->prep = (struct cap_prep){ .target = c->io.target, .crop = opt->crop, .resize = opt->resize };
	*ret_classifier = c;
	return 0;
out:
	clf_free(c);
	return r;
}

void clf_free(struct classifier *c)
{
	if (!c)
		return;
	if (c->engine)
		eng_free(c->engine);
	if (c->decoder)
		cap_decoder_free(c->decoder);
	labels_free(&c->labels);
	free(c->scores);
	free(c->name);
	free(c);
}

const char *clf_name(const struct classifier *c) { return c->name; }
size_t clf_class_count(const struct classifier *c) { return c->n_classes; }
const char *const *clf_labels(const struct classifier *c) { return (const char *const *)c->labels.names; }
const struct eng_tensor_info *clf_input(const struct classifier *c) { return &c->input; }
const struct engine *clf_engine(const struct classifier *c) { return c->engine; }
const void *clf_input_tensor(const struct classifier *c) { return eng_input(c->engine); }
const struct cap_prep *clf_prep(const struct classifier *c) { return &c->prep; }
const float *clf_scores(const struct classifier *c) { return c->scores; }
const char *clf_input_desc(const struct classifier *c) { return c->io.input_desc; }
const char *clf_labels_source(const struct classifier *c) { return c->labels_source; }
const char *clf_run_error(const struct classifier *c) { return eng_invoke_error(c->engine); }

int clf_decode_frame(struct classifier *c, const struct cap_frame *frame, struct cap_image *ret_image)
{
	return cap_decode(c->decoder, frame, &c->prep, ret_image);
}

int clf_decode_still(struct classifier *c, const uint8_t *data, size_t bytes,
		     struct cap_image *ret_image)
{
	return cap_decode_still(c->decoder, data, bytes, &c->prep, ret_image);
}

const char *clf_decode_error(const struct classifier *c)
{
	return cap_decoder_last_error(c->decoder);
}

int clf_prepare(struct classifier *c, const struct cap_image *image)
{
	return cap_preprocess(image, &c->prep, eng_input(c->engine), c->input.bytes);
}

int clf_prepare_frame(struct classifier *c, const struct cap_frame *frame,
		      const struct cap_rect *region)
{
	return cap_preprocess_yuv(c->decoder, frame, region, &c->prep, eng_input(c->engine),
				  c->input.bytes);
}

int clf_run(struct classifier *c)
{
	int r = eng_invoke(c->engine);
	if (r < 0)
		return r;
	model_io_scores(c->engine, &c->io, c->scores, c->n_classes);
	return 0;
}
