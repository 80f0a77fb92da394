/* fuzz_model.c — libFuzzer target for the model reader, planner and every kernel's prepare():
 * the whole of eng_load() on arbitrary bytes, from memory (eng_load_memory copies them, the way
 * a file would be mapped). A load must either succeed or fail with a message; ASan/UBSan catch
 * everything else. A model that loads is also run once on a fixed input, so the kernels (fast
 * paths included) meet hostile-but-valid shapes and parameters; only small ones (arena and file
 * below FUZZ_INVOKE_MAX_BYTES) to keep the executions fast. Each input goes through the builtin
 * backend and, when built in, the XNNPACK one (its partitioning and node definitions; XNNPACK
 * itself is not instrumented). Seeds: the shared real models (tests/suite-fuzz.sh copies them to a temp
 * corpus). Built by `make fuzz` (clang, -DCAMCLASS_FUZZ=1 keeps the arena limit small).
 *
 * Cost bounds (issue #13: a 333 KB mutant once took 13 s and 757 MB before it was refused):
 * each input's loads must take under FUZZ_MAX_CPU_S of CPU time and raise the heap's peak by
 * under FUZZ_MAX_EXTRA_BYTES, else the target aborts and names the cost. The peak is tracked
 * with the sanitizer allocator's malloc/free hooks (every allocation, XNNPACK's included);
 * CPU time rather than wall time, so a loaded machine does not trip it. The worst input so far
 * is printed whenever it gets worse, and at exit. */
#include <sanitizer/allocator_interface.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inference/engine.h"
#include "lib/log.h"

#define FUZZ_MAX_CPU_S 1.0
#define FUZZ_MAX_EXTRA_BYTES ((size_t)64 << 20)

/* signed: memory allocated before the hooks were installed may be freed after (the count then
 * goes below its start; only differences are used) */
static _Atomic long long heap_now, heap_peak;
static double worst_cpu_s;
static size_t worst_extra_bytes, worst_input_bytes;

static void on_malloc(const volatile void *p, size_t size)
{
	(void)p;
	long long now = atomic_fetch_add(&heap_now, (long long)size) + (long long)size;
	long long peak = atomic_load(&heap_peak);
	while (now > peak && !atomic_compare_exchange_weak(&heap_peak, &peak, now))
		;
}

static void on_free(const volatile void *p)
{
	if (p)
		atomic_fetch_sub(&heap_now, (long long)__sanitizer_get_allocated_size(p));
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_worst(void)
{
	fprintf(stderr, "fuzz_model: worst input cost %.3f s CPU, %.1f MB extra heap (%zu-byte input)\n",
		worst_cpu_s, (double)worst_extra_bytes / 1048576.0, worst_input_bytes);
}

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
	static bool hooked;
	if (!hooked) {
		hooked = true;
		if (!__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free))
			abort();
		atexit(report_worst);
	}
	log_set_level(LOG_CRIT);
	long long base = atomic_load(&heap_now);
	atomic_store(&heap_peak, base);
	double t0 = cpu_s();
	load_and_run(data, size, ENG_BACKEND_BUILTIN);
#ifdef CAMCLASS_HAVE_XNNPACK
	/* the XNNPACK backend validates and prepares the nodes it takes on its own path */
	load_and_run(data, size, ENG_BACKEND_XNNPACK);
#endif
	double cpu = cpu_s() - t0;
	size_t extra = (size_t)(atomic_load(&heap_peak) - base);
	if (cpu > worst_cpu_s || extra > worst_extra_bytes) {
		if (cpu > worst_cpu_s)
			worst_cpu_s = cpu;
		if (extra > worst_extra_bytes)
			worst_extra_bytes = extra;
		worst_input_bytes = size;
		report_worst();
	}
	if (cpu > FUZZ_MAX_CPU_S || extra > FUZZ_MAX_EXTRA_BYTES) {
		fprintf(stderr, "fuzz_model: a %zu-byte input cost %.3f s CPU and %.1f MB extra heap "
			"(bounds %.1f s, %zu MB)\n", size, cpu, (double)extra / 1048576.0,
			FUZZ_MAX_CPU_S, FUZZ_MAX_EXTRA_BYTES >> 20);
		abort();
	}
	return 0;
}
