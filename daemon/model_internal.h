/* model_internal.h — struct pl_model, shared by daemon/model.c and daemon/pipeline.c only. */
#ifndef CAMCLASS_DAEMON_MODEL_INTERNAL_H
#define CAMCLASS_DAEMON_MODEL_INTERNAL_H

#include <stdarg.h>

#include "capture/capture.h"
#include "daemon/pipeline.h"
#include "daemon/postproc.h"
#include "inference/engine.h"

struct pl_model {
	struct engine *engine;
	struct eng_tensor_info input, output;
	size_t n_classes;
	struct labels labels;
	float *scores;         /* n_classes dequantized outputs, classify thread's scratch */
	struct cap_prep prep;  /* crop/resize from the config, target from the input tensor */
	char *name;
};

#endif
