/* testutil.h — helpers shared by the cmocka test binaries (linked into every tests/test_*).
 *
 * Tests run from the repository root (scripts/run-tests does that). Shared real models live in
 * ../shared/models, overridable with CAMCLASS_MODELS; if the folder is missing a test that needs
 * it fails with a message, it never skips. CAMCLASS_BUILD names the build folder whose binaries
 * end-to-end tests start (default "build"). */
#ifndef CAMCLASS_TESTUTIL_H
#define CAMCLASS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "inference/graph.h"

/* Folder of the shared models; fails the current test if it does not exist. */
const char *tu_models_dir(void);
/* "<models dir>/<name>" in a static buffer that lives until the next call. */
const char *tu_model_path(const char *name);
/* Folder holding camclassd and camclass for end-to-end tests. */
const char *tu_build_dir(void);
/* Whole file into a malloc'd buffer (fails the test on error). */
uint8_t *tu_read_file(const char *path, size_t *ret_len);
/* Writes text to path (created or truncated); fails the test on error. */
void tu_write_text(const char *path, const char *text);
/* A fresh private temporary directory (mkdtemp), removed by tu_rm_rf. */
char *tu_tmpdir(void);
void tu_rm_rf(const char *path);
/* Monotonic clock in ms. */
double tu_now_ms(void);
/* xorshift64 over the caller's state: repeatable pseudo-random test data (not for secrets). */
uint32_t tu_rand(uint64_t *state);
int tu_rand_in(uint64_t *state, int lo, int hi); /* lo..hi inclusive */

/* Hand-built graphs for op tests: *t zeroed, then type, shape, byte size and data set. */
void tu_tensor_init(struct tensor *t, enum tensor_type type, int ndim, const int32_t *dims,
		    void *data);
/* Per-tensor quantization (scale, zp) kept in the caller's one-element arrays scale_slot and
 * zp_slot, which t->scales / t->zero_points then point at. */
void tu_tensor_quant(struct tensor *t, float *scale_slot, int32_t *zp_slot, float scale, int32_t zp);

/* Words to put before a binary of tu_build_dir() when a test starts it: env CAMCLASS_EXEC_WRAPPER
 * (scripts/test-arm64 sets "qemu-aarch64-static -cpu cortex-a53" for the cross-built binaries),
 * or "" to run it directly. For system()/popen() command lines. */
const char *tu_exec_prefix(void);
/* The same for execv()/posix_spawn(): copies the wrapper's words (split at spaces), then argv up
 * to its NULL, into ret_argv (max entries including the final NULL); the strings live until the
 * next call. Fails the test if they do not fit. Returns the new argv[0] (the file to run). */
const char *tu_exec_argv(char *const argv[], char **ret_argv, size_t max);

#endif
