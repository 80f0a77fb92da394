/* fuzz_retrain.c — libFuzzer target for head retraining's reading of a base model: the
 * embedding finder (rt_base_open_memory: model reader + the walk back from the output) and the
 * writer, which reads the base's raw operator options again field by field (tflite_options.c)
 * and copies its tensors, on arbitrary bytes. A base that opens gets a small fixed head written
 * on it and the written bytes go through eng_load (a hostile base's quantization can make the new
 * head's multipliers unrepresentable, so a refusal there is not a bug, only a crash is). Seeds: the
 * small shared int8 models (fuzz/seed_retrain). Built by `make fuzz`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/engine.h"
#include "inference/retrain.h"
#include "lib/log.h"

#define FUZZ_MAX_DEPTH 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static float weights[2 * FUZZ_MAX_DEPTH], bias[2] = { 0.5f, -0.5f };
	static const char *const labels[2] = { "a", "b" };
	struct rt_base *b = NULL;
	char err[512];
	static int quiet;
	if (!quiet) {
		log_set_level(LOG_ERR);
		for (size_t i = 0; i < 2 * FUZZ_MAX_DEPTH; i++)
			weights[i] = (float)((int)(i % 7) - 3) * 0.01f;
		quiet = 1;
	}
	if (rt_base_open_memory(data, size, "fuzz.tflite", NULL, &b, err, sizeof(err)) < 0)
		return 0;
	const struct rt_embedding *e = rt_base_embedding(b);
	if (e->depth <= FUZZ_MAX_DEPTH) {
		struct rt_head h = { .classes = 2, .depth = e->depth, .weights = weights, .bias = bias,
				     .logit_min = -2, .logit_max = 2 };
		uint8_t *out = NULL;
		size_t len = 0;
		if (rt_write(b, &h, labels, "fuzz", &out, &len, err, sizeof(err)) == 0) {
			struct eng_options opt = { .backend = ENG_BACKEND_BUILTIN, .threads = 1 };
			struct engine *new_e = NULL;
			if (eng_load_memory(out, len, "written", &opt, &new_e, err, sizeof(err)) == 0)
				eng_free(new_e);
			free(out);
		}
	}
	rt_base_free(b);
	return 0;
}
