/* test_engine_noalloc.c — "no allocation during invoke" (issue 6), checked rather than assumed.
 *
 * The test binary defines malloc, calloc, realloc, free and the aligned allocators itself,
 * forwarding to glibc's __libc_* entry points. A definition in the executable takes precedence
 * over libc's for every caller in the process — our code, libXNNPACK, libpthreadpool, glibc's
 * own internals that call malloc through the PLT — so while `counting` is set, every heap
 * allocation from any thread (the engine's worker pool and XNNPACK's pthreadpool included) is
 * counted. Each shared model is loaded with each backend at 1 and 2 threads, and eng_invoke()
 * runs twice — the first invoke and a steady-state one, so lazy set-up on the first run would be caught.
 *
 * Under AddressSanitizer the allocator belongs to ASan, so these definitions are left out and
 * the test reports itself skipped there; the plain build (and qemu's arm builds) run it. */
#include "inference/engine.h"
#include "tests/testutil.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOC_HOOKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ALLOC_HOOKS 0
#endif
#endif
#ifndef ALLOC_HOOKS
#define ALLOC_HOOKS 1
#endif

static atomic_bool counting;
static atomic_long n_allocs;

#if ALLOC_HOOKS
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static void note_alloc(void)
{
	if (atomic_load_explicit(&counting, memory_order_relaxed))
		atomic_fetch_add(&n_allocs, 1);
}

void *malloc(size_t n)
{
	note_alloc();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	note_alloc();
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	note_alloc();
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	note_alloc();
	return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n)
{
	note_alloc();
	return __libc_memalign(align, n);
}

int posix_memalign(void **ret, size_t align, size_t n)
{
	note_alloc();
	if (align < sizeof(void *) || (align & (align - 1)))
		return 22; /* EINVAL */
	void *p = __libc_memalign(align, n);
	if (!p)
		return 12; /* ENOMEM */
	*ret = p;
	return 0;
}
#endif

static const char *const models[] = {
	"person_detect.tflite",
	"vww_96_int8.tflite",
	"pretrainedResnet_quant.tflite",
	"mobilenet_v1_0.25_128_quant.tflite",
	"mobilenet_v2_1.0_224_quant.tflite",
	"tf2_mobilenet_v2_1.0_224_ptq.tflite",
};

/* Loads `model`, fills the input with a pattern, and returns the allocations counted during
 * `invokes` calls of eng_invoke() (each must succeed). */
static long allocations_during_invoke(const char *model, enum eng_backend backend, int threads,
				      int invokes)
{
	char err[256];
	struct engine *e = NULL;
	struct eng_options opt = { .backend = backend, .threads = threads };
	int r = eng_load(tu_model_path(model), &opt, &e, err, sizeof(err));
	if (r < 0)
		fail_msg("%s: %s", model, err);
	struct eng_tensor_info in;
	assert_int_equal(eng_input_info(e, &in), 0);
	uint8_t *x = eng_input(e);
	for (size_t i = 0; i < in.bytes; i++)
		x[i] = (uint8_t)(i * 37u + 11u);
	atomic_store(&n_allocs, 0);
	atomic_store(&counting, true);
	for (int i = 0; i < invokes; i++) {
		r = eng_invoke(e);
		if (r < 0)
			break;
	}
	atomic_store(&counting, false);
	assert_int_equal(r, 0);
	eng_free(e);
	return atomic_load(&n_allocs);
}

static void check_backend(enum eng_backend backend)
{
	for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++)
		for (int threads = 1; threads <= 2; threads++) {
			long n = allocations_during_invoke(models[m], backend, threads, 2);
			printf("# %s %s threads=%d: %ld allocations in 2 invokes\n", models[m],
			       eng_backend_name(backend), threads, n);
			if (n != 0)
				fail_msg("%s (%s, %d threads): %ld heap allocations during invoke",
					 models[m], eng_backend_name(backend), threads, n);
		}
}

/* The counter itself must see allocations — ours and a shared library's — or the other
 * tests prove nothing. */
static void counter_sees_allocations(void **state)
{
	(void)state;
	if (!ALLOC_HOOKS)
		skip();
	atomic_store(&n_allocs, 0);
	atomic_store(&counting, true);
	void *volatile p = malloc(100);
	void *volatile q = calloc(3, 7);
	char *volatile d = strdup("from inside a shared library"); /* libc's own malloc call */
	atomic_store(&counting, false);
	free(p);
	free(q);
	free(d);
	assert_int_equal(atomic_load(&n_allocs), 3);
}

static void builtin_invoke_allocates_nothing(void **state)
{
	(void)state;
	if (!ALLOC_HOOKS)
		skip();
	check_backend(ENG_BACKEND_BUILTIN);
}

static void xnnpack_invoke_allocates_nothing(void **state)
{
	(void)state;
	if (!ALLOC_HOOKS)
		skip();
#ifndef CAMCLASS_HAVE_XNNPACK
	printf("# built without XNNPACK (make XNNPACK=0)\n");
	skip();
#endif
	check_backend(ENG_BACKEND_XNNPACK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counter_sees_allocations),
		cmocka_unit_test(builtin_invoke_allocates_nothing),
		cmocka_unit_test(xnnpack_invoke_allocates_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
