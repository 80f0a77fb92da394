/* model_io.h — how camera pixels go into a model and scores come out of it, decided once per
 * loaded model from what the engine says about its input and output tensors, its TFLite metadata
 * and the user's settings. Shared by the daemon (daemon/model.c) and `camclass classify`, so both
 * feed a model the same way.
 *
 * Input: an 8-bit input (or a float32 input read by a QUANTIZE) gets the 8-bit rule of capture.h;
 * a float32 input the model computes on gets (pixel − mean) / std per channel, with mean/std from
 * the explicit settings (input_mean / input_std, both or neither), else from the model's
 * metadata NormalizationOptions, else 127.5 / 127.5 (the −1..1 convention of Keras
 * MobileNets and Teachable Machine) — and the choice is described in ret->input_desc.
 * Channels-first inputs ([1,C,H,W], PyTorch exports) are written channels-first.
 * Output: `auto` applies a softmax unless the output comes from SOFTMAX/LOGISTIC
 * (eng_output_is_probabilities), `logits` always applies one, `probabilities` never.
 * Errors: -EINVAL with err naming what does not fit ("input must be …"). Plain data, no
 * threads. */
#ifndef CAMCLASS_DAEMON_MODEL_IO_H
#define CAMCLASS_DAEMON_MODEL_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/capture.h"
#include "inference/engine.h"

enum model_output { MODEL_OUTPUT_AUTO, MODEL_OUTPUT_PROBABILITIES, MODEL_OUTPUT_LOGITS };

struct model_io_settings {
	double input_mean, input_std;   /* NAN, or std 0 (a zeroed struct): not set */
	enum model_output output;
};

struct model_io {
	struct cap_target target;
	bool softmax;                   /* scores = softmax(outputs) */
	char input_desc[192];           /* "float32, (pixel − 127.5) / 127.5 from the model's metadata" */
};

int model_io_setup(const struct engine *e, const struct model_io_settings *s, struct model_io *ret,
		   char *err, size_t errlen);
/* The n class scores after an invoke: dequantized outputs, softmaxed when io->softmax. */
void model_io_scores(const struct engine *e, const struct model_io *io, float *scores, size_t n);
const char *model_output_name(enum model_output o);   /* "auto", "probabilities", "logits" */
int model_output_from_name(const char *name);         /* the value, or -EINVAL */

#endif
