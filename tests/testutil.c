/* testutil.c — see testutil.h. */
#include "tests/testutil.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

const char *tu_models_dir(void)
{
	const char *dir = getenv("CAMCLASS_MODELS");
	struct stat st;
	if (!dir || !*dir)
		dir = "../shared/models";
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		fail_msg("shared models folder %s not found (set CAMCLASS_MODELS)", dir);
	return dir;
}

const char *tu_model_path(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s", tu_models_dir(), name);
	return path;
}

const char *tu_build_dir(void)
{
	const char *dir = getenv("CAMCLASS_BUILD");
	return dir && *dir ? dir : "build";
}

uint8_t *tu_read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len = 0;
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		fail_msg("cannot size %s", path);
	buf = malloc(len ? (size_t)len : 1);
	assert_non_null(buf);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		fail_msg("short read on %s", path);
	fclose(f);
	*ret_len = (size_t)len;
	return buf;
}

void tu_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/camclass-test-XXXXXX", base && *base ? base : "/tmp");
	char *d = mkdtemp(tmpl);
	if (!d)
		fail_msg("mkdtemp: %s", strerror(errno));
	char *copy = strdup(d);
	assert_non_null(copy);
	return copy;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void tu_rm_rf(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

uint32_t tu_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)(*state >> 16);
}

int tu_rand_in(uint64_t *state, int lo, int hi)
{
	return lo + (int)(tu_rand(state) % (uint32_t)(hi - lo + 1));
}

void tu_tensor_init(struct tensor *t, enum tensor_type type, int ndim, const int32_t *dims,
		    void *data)
{
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->ndim = ndim;
	memcpy(t->dims, dims, (size_t)ndim * sizeof(int32_t));
	t->bytes = (size_t)tensor_num_elements(t) * tensor_type_size(type);
	t->name = "";
	t->data = data;
}

void tu_tensor_quant(struct tensor *t, float *scale_slot, int32_t *zp_slot, float scale, int32_t zp)
{
	*scale_slot = scale;
	*zp_slot = zp;
	t->nq = 1;
	t->scales = scale_slot;
	t->zero_points = zp_slot;
	t->scale = scale;
	t->zero_point = zp;
}

double tu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *tu_exec_prefix(void)
{
	const char *w = getenv("CAMCLASS_EXEC_WRAPPER");
	return w ? w : "";
}

const char *tu_exec_argv(char *const argv[], char **ret_argv, size_t max)
{
	static char words[4096];
	size_t n = 0;
	snprintf(words, sizeof(words), "%s", tu_exec_prefix());
	for (char *save = NULL, *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n + 1 >= max)
			fail_msg("exec wrapper '%s' has too many words", tu_exec_prefix());
		ret_argv[n++] = w;
	}
	for (size_t i = 0; argv[i]; i++) {
		if (n + 1 >= max)
			fail_msg("too many arguments for %s", argv[0]);
		ret_argv[n++] = argv[i];
	}
	if (n == 0)
		fail_msg("tu_exec_argv: empty argv");
	ret_argv[n] = NULL;
	return ret_argv[0];
}
