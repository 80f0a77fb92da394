/* cmd_infer.c — the offline engine tools: infer (one raw tensor in, one out), bench (latency),
 * model-info (what a model needs). Their command lines are a contract (tests and users script
 * them), so options are parsed strictly: unknown options and missing values are usage errors
 * (exit 2); model and input problems exit 1 with the engine's message. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "daemon/model_io.h"
#include "inference/engine.h"
#include "lib/clock.h"
#include "tools/camclass/bench_modes.h"
#include "tools/camclass/commands.h"

#define ERR_LEN 512
#define BENCH_DEFAULT_ITERS 10
#define BENCH_DEFAULT_WARMUP 1
#define MAX_OPS_LISTED 64

struct args {
	const char *model, *input, *output;
	struct eng_options opt;
	int iters, warmup;
};

static int usage(const char *cmd, const char *form)
{
	fprintf(stderr, "usage: camclass %s %s\n", cmd, form);
	return 2;
}

static int parse_int(const char *s, int min, int *ret)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 1000000)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* Whether option word (without "--") is one of the space-separated words of allowed. */
static int option_allowed(const char *allowed, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = allowed; (p = strstr(p, word)) != NULL; p += n)
		if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return 1;
	return 0;
}

/* Options allowed for a command are named in `allowed` ("model input output …"). */
static int parse_args(int argc, char **argv, const char *allowed, struct args *a)
{
	*a = (struct args){ .opt = { .backend = ENG_BACKEND_AUTO, .threads = 1 },
			    .iters = BENCH_DEFAULT_ITERS, .warmup = BENCH_DEFAULT_WARMUP };
	for (int i = 1; i < argc; i++) {
		const char *name = argv[i], *val;
		if (strncmp(name, "--", 2) != 0 || !name[2] || !option_allowed(allowed, name + 2)) {
			fprintf(stderr, "camclass %s: unknown argument '%s'\n", argv[0], name);
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "camclass %s: %s needs a value\n", argv[0], name);
			return -EINVAL;
		}
		val = argv[++i];
		int rc = 0;
		if (strcmp(name, "--model") == 0)
			a->model = val;
		else if (strcmp(name, "--input") == 0)
			a->input = val;
		else if (strcmp(name, "--output") == 0)
			a->output = val;
		else if (strcmp(name, "--backend") == 0) {
			rc = eng_backend_from_name(val);
			if (rc >= 0)
				a->opt.backend = (enum eng_backend)rc;
		} else if (strcmp(name, "--threads") == 0)
			rc = parse_int(val, 1, &a->opt.threads);
		else if (strcmp(name, "--iters") == 0)
			rc = parse_int(val, 1, &a->iters);
		else if (strcmp(name, "--warmup") == 0)
			rc = parse_int(val, 0, &a->warmup);
		else
			rc = -EINVAL;
		if (rc < 0) {
			fprintf(stderr, "camclass %s: invalid value '%s' for %s\n", argv[0], val, name);
			return -EINVAL;
		}
	}
	return 0;
}

static struct engine *load(const char *cmd, const struct args *a)
{
	char err[ERR_LEN];
	struct engine *e;
	if (eng_load(a->model, &a->opt, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "camclass %s: %s\n", cmd, err);
		return NULL;
	}
	return e;
}

static void format_tensor(const struct eng_tensor_info *t, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s [", eng_dtype_name(t->type));
	for (int d = 0; d < t->ndim && n < len; d++)
		n += (size_t)snprintf(buf + n, len - n, "%s%d", d ? "," : "", t->dims[d]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
}

int cmd_infer(int argc, char **argv)
{
	static const char form[] = "--model M --input IN.bin --output OUT.bin [--backend B] [--threads N]";
	struct args a;
	struct eng_tensor_info in, out;
	char shape[128];
	int status = 1;
	if (parse_args(argc, argv, "model input output backend threads", &a) < 0 || !a.model || !a.input ||
	    !a.output)
		return usage("infer", form);
	struct engine *e = load("infer", &a);
	if (!e)
		return 1;
	eng_input_info(e, &in);
	eng_output_info(e, &out);
	FILE *f = fopen(a.input, "rb");
	if (!f) {
		fprintf(stderr, "camclass infer: cannot open %s: %s\n", a.input, strerror(errno));
		goto out;
	}
	long file_bytes = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	size_t got = 0;
	if (file_bytes >= 0 && (size_t)file_bytes == in.bytes && fseek(f, 0, SEEK_SET) == 0)
		got = fread(eng_input(e), 1, in.bytes, f);
	fclose(f);
	if (got != in.bytes) {
		format_tensor(&in, shape, sizeof(shape));
		fprintf(stderr, "camclass infer: %s has %ld bytes, the model's input tensor (%s) needs %zu\n", a.input,
			file_bytes, shape, in.bytes);
		goto out;
	}
	if (eng_invoke(e) < 0) {
		fprintf(stderr, "camclass infer: inference failed: %s\n", eng_invoke_error(e));
		goto out;
	}
	f = fopen(a.output, "wb");
	if (!f || fwrite(eng_output(e), 1, out.bytes, f) != out.bytes || fclose(f) != 0) {
		fprintf(stderr, "camclass infer: cannot write %s: %s\n", a.output, strerror(errno));
		goto out;
	}
	status = 0;
out:
	eng_free(e);
	return status;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int cmd_bench(int argc, char **argv)
{
	static const char form[] = "--model M [--backend B] [--threads N] [--iters K] [--warmup W] "
				   "[--per-op] [--image FILE.jpg [--format mjpeg|yuyv|nv12]]";
	struct args a;
	struct eng_tensor_info in;
	struct rusage ru;
	struct bench_modes modes;
	if (bench_modes_take(&argc, argv, &modes) < 0 ||
	    parse_args(argc, argv, "model backend threads iters warmup", &a) < 0 || !a.model)
		return usage("bench", form);
	double *ms = malloc((size_t)a.iters * sizeof(double));
	if (!ms) {
		fprintf(stderr, "camclass bench: out of memory\n");
		return 1;
	}
	struct engine *e = load("bench", &a);
	if (!e) {
		free(ms);
		return 1;
	}
	/* a fixed pseudo-random input: real data paths, reproducible runs */
	eng_input_info(e, &in);
	uint8_t *x = eng_input(e);
	uint32_t state = 2463534242u;
	for (size_t i = 0; i < in.bytes; i++) {
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		x[i] = (uint8_t)state;
	}
	for (int i = 0; i < a.warmup + a.iters; i++) {
		uint64_t t0_ns = mono_now_ns();
		if (eng_invoke(e) < 0) {
			fprintf(stderr, "camclass bench: inference failed: %s\n", eng_invoke_error(e));
			eng_free(e);
			free(ms);
			return 1;
		}
		double dt = (double)(mono_now_ns() - t0_ns) / 1e6;
		if (i < a.warmup) {
			printf("warmup %d: %.3f ms\n", i + 1, dt);
		} else {
			ms[i - a.warmup] = dt;
			printf("run %d: %.3f ms\n", i - a.warmup + 1, dt);
		}
	}
	if ((modes.per_op && bench_per_op(e, a.iters) != 0) ||
	    (modes.image && bench_frame(e, &modes, a.iters, a.warmup) != 0)) {
		eng_free(e);
		free(ms);
		return 1;
	}
	qsort(ms, (size_t)a.iters, sizeof(double), cmp_double);
	double median = a.iters % 2 ? ms[a.iters / 2] : (ms[a.iters / 2 - 1] + ms[a.iters / 2]) / 2;
	getrusage(RUSAGE_SELF, &ru);
	printf("result backend=%s threads=%d iters=%d min_ms=%.3f median_ms=%.3f peak_rss_kb=%ld\n",
	       eng_backend_name(eng_backend_used(e)), eng_threads(e), a.iters, ms[0], median, ru.ru_maxrss);
	eng_free(e);
	free(ms);
	return 0;
}

static void print_tensor(const char *what, const struct eng_tensor_info *t)
{
	char shape[128];
	format_tensor(t, shape, sizeof(shape));
	printf("%s: '%s' %s scale=%g zero_point=%d bytes=%zu", what, t->name, shape, (double)t->scale,
	       (int)t->zero_point, t->bytes);
	/* a float32 input quantized by the model's first QUANTIZE: what it turns the floats into */
	if (t->type == ENG_FLOAT32 && t->quantized_type != ENG_FLOAT32)
		printf(" quantized_by_model=%s scale=%g zero_point=%d",
		       eng_dtype_name(t->quantized_type), (double)t->quantized_scale,
		       (int)t->quantized_zero_point);
	putchar('\n');
}

/* What the file says about itself (TFLite metadata) and what the engine did with it. */
static void print_model_facts(const struct engine *e, const struct eng_tensor_info *in)
{
	const struct eng_metadata *md = eng_metadata(e);
	int fp16, int8;
	eng_dequantized_weights(e, &fp16, &int8);
	if (fp16)
		printf("weights: %d float16 tensors dequantized to float32 at load\n", fp16);
	if (int8)
		printf("weights: dynamic-range model, %d int8 weight tensors dequantized to float32 at load\n", int8);
	printf("output_kind: %s\n", eng_output_is_probabilities(e) ? "probabilities (SOFTMAX/LOGISTIC)" : "logits");
	/* what the daemon and classify feed it without input_mean/input_std settings */
	const struct model_io_settings unset = { .input_mean = NAN, .input_std = NAN };
	struct model_io io;
	char why[256];
	if (model_io_setup(e, &unset, &io, why, sizeof(why)) == 0)
		printf("preprocessing: %s\n", io.input_desc);
	else
		printf("preprocessing: none possible (%s)\n", why);
	if (in->channels_first)
		printf("input_layout: NCHW (channels first)\n");
	if (eng_input_transpose_folded(e))
		printf("input_layout: NCHW in the file; its TRANSPOSE to NHWC is folded into preprocessing\n");
	printf("min_runtime_version: %s\n", md->min_runtime_version[0] ? md->min_runtime_version : "-");
	if (!md->present) {
		printf("metadata: %s\n", md->error[0] ? md->error : "none");
		return;
	}
	printf("metadata.name: %s\n", md->name[0] ? md->name : "-");
	printf("metadata.description: %s\n", md->description[0] ? md->description : "-");
	if (md->version[0])
		printf("metadata.version: %s\n", md->version);
	if (md->author[0])
		printf("metadata.author: %s\n", md->author);
	printf("metadata.labels_file: %s\n", md->labels_file[0] ? md->labels_file : "-");
	if (md->norm_count == 0) {
		printf("metadata.normalization: -\n");
		return;
	}
	printf("metadata.normalization: mean");
	for (int c = 0; c < md->norm_count; c++)
		printf("%s%g", c ? "," : " ", (double)md->mean[c]);
	printf(" std");
	for (int c = 0; c < md->norm_count; c++)
		printf("%s%g", c ? "," : " ", (double)md->std[c]);
	putchar('\n');
}

int cmd_model_info(int argc, char **argv)
{
	struct args a;
	struct eng_tensor_info in, out;
	const char *names[MAX_OPS_LISTED];
	int versions[MAX_OPS_LISTED], counts[MAX_OPS_LISTED], kinds = 0;
	if (parse_args(argc, argv, "model", &a) < 0 || !a.model)
		return usage("model-info", "--model M");
	struct engine *e = load("model-info", &a);
	if (!e)
		return 1;
	eng_input_info(e, &in);
	eng_output_info(e, &out);
	printf("model: %s\n", a.model);
	print_tensor("input", &in);
	print_tensor("output", &out);
	/* op kinds in order of first use, each with its version and count */
	for (int i = 0; i < eng_op_count(e); i++) {
		const char *name;
		int version, k;
		eng_op_info(e, i, &name, &version);
		for (k = 0; k < kinds; k++)
			if (strcmp(names[k], name) == 0 && versions[k] == version)
				break;
		if (k == kinds) {
			if (kinds == MAX_OPS_LISTED)
				continue;
			names[k] = name;
			versions[k] = version;
			counts[k] = 0;
			kinds++;
		}
		counts[k]++;
	}
	printf("operators: %d\n", eng_op_count(e));
	for (int k = 0; k < kinds; k++)
		printf("  %s v%d x%d\n", names[k], versions[k], counts[k]);
	printf("tensors: %d\n", eng_tensor_count(e));
	printf("arena_bytes: %zu\n", eng_arena_bytes(e));
	print_model_facts(e, &in);
	eng_free(e);
	return 0;
}
