/* fuzz_model.c — libFuzzer target for the model reader, planner and every kernel's prepare():
 * the whole of eng_load() on arbitrary bytes, from memory (eng_load_memory copies them, the way
 * a file would be mapped). A load must either succeed or fail with a message; ASan/UBSan catch
 * everything else. A model that loads is also run once on a fixed input, so the kernels (fast
 * paths included) meet hostile-but-valid shapes and parameters; only small ones (arena and file
 * below FUZZ_INVOKE_MAX_BYTES) to keep the executions fast. Each input goes through the builtin
 * backend and, when built in, the XNNPACK one (its partitioning and node definitions; XNNPACK
 * itself is not instrumented). Seeds: the shared real models (tests/suite-fuzz.sh copies them to a temp
 * corpus). Built by `make fuzz` (clang, -DCAMCLASS_FUZZ=1 keeps the arena limit small). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inference/engine.h"
#include "lib/log.h"

#define FUZZ_INVOKE_MAX_BYTES ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_and_run(const uint8_t *data, size_t size, enum eng_backend backend)
{
	const struct eng_options opt = { .backend = backend, .threads = 1 };
	struct engine *e = NULL;
	char err[512];

	err[0] = 0;
	if (eng_load_memory(data, size, "fuzz.tflite", &opt, &e, err, sizeof(err)) == 0) {
		struct eng_tensor_info in, out;
		if (eng_input_info(e, &in) < 0 || eng_output_info(e, &out) < 0)
			abort();
		if (size <= FUZZ_INVOKE_MAX_BYTES && eng_arena_bytes(e) <= FUZZ_INVOKE_MAX_BYTES) {
			if (in.type == ENG_FLOAT32) {
				const float v = 0.25f;
				for (size_t i = 0; i + sizeof(v) <= in.bytes; i += sizeof(v))
					memcpy((uint8_t *)eng_input(e) + i, &v, sizeof(v));
			} else {
				memset(eng_input(e), 0x5a, in.bytes);
			}
			if (eng_invoke(e) < 0)
				abort();
		}
		eng_free(e);
	} else if (!err[0]) {
		abort(); /* every refusal must say why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_CRIT);
	load_and_run(data, size, ENG_BACKEND_BUILTIN);
#ifdef CAMCLASS_HAVE_XNNPACK
	/* the XNNPACK backend validates and prepares the nodes it takes on its own path */
	load_and_run(data, size, ENG_BACKEND_XNNPACK);
#endif
	return 0;
}
