/* model_io.c — see model_io.h. */
#include "daemon/model_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_MEAN 127.5
#define DEFAULT_STD 127.5

const char *model_output_name(enum model_output o)
{
	switch (o) {
	case MODEL_OUTPUT_PROBABILITIES: return "probabilities";
	case MODEL_OUTPUT_LOGITS: return "logits";
	default: return "auto";
	}
}

int model_output_from_name(const char *name)
{
	for (int o = MODEL_OUTPUT_AUTO; o <= MODEL_OUTPUT_LOGITS; o++)
		if (strcmp(model_output_name((enum model_output)o), name) == 0)
			return o;
	return -EINVAL;
}

/* mean/std of a float input the model computes on: settings, metadata or the default. */
static int normalization(const struct engine *e, const struct model_io_settings *s, int channels,
			 struct cap_target *t, char *desc, size_t desclen, char *err, size_t errlen)
{
	const struct eng_metadata *md = eng_metadata(e);
	const char *from;
	/* std NAN or 0 (a zeroed struct) is unset; a mean then only counts when it is not 0 */
	bool have_std = !isnan(s->input_std) && s->input_std != 0.0;
	bool have_mean = !isnan(s->input_mean) && (have_std || s->input_mean != 0.0);
	if (have_mean != have_std) {
		snprintf(err, errlen, "input_mean and input_std must be set together (only %s is)",
			 have_mean ? "input_mean" : "input_std");
		return -EINVAL;
	}
	if (have_mean) {
		for (int c = 0; c < channels; c++) {
			t->mean[c] = (float)s->input_mean;
			t->std[c] = (float)s->input_std;
		}
		from = "from input_mean/input_std";
	} else if (md->norm_count == 1 || md->norm_count == channels) {
		for (int c = 0; c < channels; c++) {
			t->mean[c] = md->mean[md->norm_count == 1 ? 0 : c];
			t->std[c] = md->std[md->norm_count == 1 ? 0 : c];
		}
		from = "from the model's metadata";
	} else {
		for (int c = 0; c < channels; c++) {
			t->mean[c] = (float)DEFAULT_MEAN;
			t->std[c] = (float)DEFAULT_STD;
		}
		from = md->norm_count ? "default (the metadata's normalization does not match the channels)"
				      : "default (-1..1; set input_mean/input_std if the model wants another range)";
	}
	for (int c = 0; c < channels; c++)
		if (!(t->std[c] > 0.0f) || !isfinite(t->std[c]) || !isfinite(t->mean[c])) {
			snprintf(err, errlen, "input normalization std %g (%s) must be positive", (double)t->std[c], from);
			return -EINVAL;
		}
	if (channels == 3 && (t->mean[0] != t->mean[1] || t->mean[0] != t->mean[2] || t->std[0] != t->std[1] ||
			      t->std[0] != t->std[2]))
		snprintf(desc, desclen, "float32, (pixel - [%g,%g,%g]) / [%g,%g,%g] %s", (double)t->mean[0],
			 (double)t->mean[1], (double)t->mean[2], (double)t->std[0], (double)t->std[1],
			 (double)t->std[2], from);
	else
		snprintf(desc, desclen, "float32, (pixel - %g) / %g %s", (double)t->mean[0], (double)t->std[0], from);
	t->normalize = true;
	return 0;
}

int model_io_setup(const struct engine *e, const struct model_io_settings *s, struct model_io *ret,
		   char *err, size_t errlen)
{
	struct eng_tensor_info in;
	struct model_io io = { 0 };
	int r = eng_input_info(e, &in);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the input tensor");
		return r;
	}
	const int h = in.channels_first ? in.dims[2] : in.dims[1], w = in.channels_first ? in.dims[3] : in.dims[2];
	const int c = in.channels_first ? in.dims[1] : in.dims[3];
	if (in.ndim != 4 || in.dims[0] != 1 || (c != 1 && c != 3) ||
	    (in.type != ENG_UINT8 && in.type != ENG_INT8 && in.type != ENG_FLOAT32)) {
		snprintf(err, errlen, "input must be a 1xHxWx1|3 (or 1x1|3xHxW) uint8/int8/float32 image (it is %dD %s)",
			 in.ndim, eng_dtype_name(in.type));
		return -EINVAL;
	}
	io.target = (struct cap_target){ .width = w, .height = h, .channels = c,
					 .is_float = in.type == ENG_FLOAT32, .channels_first = in.channels_first != 0 };
	if (in.quantized_type != ENG_FLOAT32) {
		io.target.is_int8 = in.quantized_type == ENG_INT8;
		io.target.scale = in.quantized_scale;
		io.target.zero_point = in.quantized_zero_point;
		snprintf(io.input_desc, sizeof(io.input_desc), "%s%s, pixel %s", eng_dtype_name(in.type),
			 in.type == ENG_FLOAT32 ? " read by QUANTIZE" : "",
			 io.target.is_int8 ? "- 128" : "as is");
	} else if ((r = normalization(e, s, c, &io.target, io.input_desc, sizeof(io.input_desc), err, errlen)) < 0) {
		return r;
	}
	if (in.channels_first) {
		size_t used = strlen(io.input_desc);
		snprintf(io.input_desc + used, sizeof(io.input_desc) - used, ", channels first");
	}
	io.softmax = s->output == MODEL_OUTPUT_LOGITS ||
		     (s->output == MODEL_OUTPUT_AUTO && !eng_output_is_probabilities(e));
	*ret = io;
	return 0;
}

void model_io_scores(const struct engine *e, const struct model_io *io, float *scores, size_t n)
{
	for (size_t i = 0; i < n; i++)
		scores[i] = eng_output_value(e, i);
	if (!io->softmax || n == 0)
		return;
	float max = scores[0], sum = 0.0f;
	for (size_t i = 1; i < n; i++)
		max = scores[i] > max ? scores[i] : max;
	for (size_t i = 0; i < n; i++) {
		scores[i] = expf(scores[i] - max);
		sum += scores[i];
	}
	for (size_t i = 0; i < n; i++)
		scores[i] /= sum;
}
