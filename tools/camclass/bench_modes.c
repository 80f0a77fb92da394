/* bench_modes.c — `camclass bench --per-op` and `camclass bench --image` (bench_modes.h).
 *
 * --image runs what the daemon runs on each camera frame, on one picture over and over: the
 * frame as the camera would hand it over (the JPEG file as an MJPEG frame, or its pixels
 * converted once to YUYV or NV12 at full size, BT.601 full range as JPEG's own), capture's
 * decoder, capture's preprocessing with the daemon's defaults (crop center, resize area), then
 * the engine. YUYV/NV12 frames, as in the daemon, skip the decoder: cap_preprocess_yuv converts
 * them inside the resize, so their decode stage is empty and preprocess carries the conversion. Per stage it reads the wall clock and the process's CPU clock
 * (CLOCK_PROCESS_CPUTIME_ID: every thread, so the CPU a worker pool spends waiting counts). */
#include "tools/camclass/bench_modes.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "lib/clock.h"

#define MAX_IMAGE_BYTES (64u << 20)
#define MAX_STEPS_LISTED 400
#define FULL_SIDE 8192 /* a decode target no JPEG reaches: DCT scale 1, the picture as it is */

/* CLOCK_MONOTONIC through lib/clock.h, the process's CPU clock directly */
static double clock_ms(clockid_t id)
{
	if (id == CLOCK_MONOTONIC)
		return (double)mono_now_ns() / 1e6;
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int bench_modes_take(int *argc, char **argv, struct bench_modes *ret)
{
	*ret = (struct bench_modes){ .format = "mjpeg" };
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--per-op") == 0) {
			ret->per_op = true;
			continue;
		}
		if (strcmp(o, "--image") != 0 && strcmp(o, "--format") != 0) {
			argv[out++] = argv[i];
			continue;
		}
		if (i + 1 >= *argc) {
			fprintf(stderr, "camclass bench: %s needs a value\n", o);
			return -EINVAL;
		}
		const char *v = argv[++i];
		if (strcmp(o, "--image") == 0) {
			ret->image = v;
		} else if (strcmp(v, "mjpeg") == 0 || strcmp(v, "yuyv") == 0 || strcmp(v, "nv12") == 0) {
			ret->format = v;
		} else {
			fprintf(stderr, "camclass bench: invalid value '%s' for --format (mjpeg|yuyv|nv12)\n", v);
			return -EINVAL;
		}
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

struct step { int first, end; double ms, min_ms; };

static int by_ms(const void *a, const void *b)
{
	const struct step *x = a, *y = b;
	return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : x->first - y->first;
}

int bench_per_op(struct engine *e, int iters)
{
	const int n = eng_op_count(e);
	double *ms = calloc((size_t)n + 1, sizeof(double)), *cur = calloc((size_t)n + 1, sizeof(double));
	double *min = calloc((size_t)n + 1, sizeof(double));
	int *end = calloc((size_t)n + 1, sizeof(int));
	struct step *steps = calloc((size_t)n + 1, sizeof(struct step));
	int status = 1;
	if (!ms || !cur || !min || !end || !steps) {
		fprintf(stderr, "camclass bench: out of memory\n");
		goto out;
	}
	for (int k = 0; k < iters; k++) {
		for (int i = 0; i < n; i++)
			cur[i] = 0;
		if (eng_invoke_profiled(e, cur, end) < 0) {
			fprintf(stderr, "camclass bench: inference failed\n");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			ms[i] += cur[i];
			min[i] = k == 0 || cur[i] < min[i] ? cur[i] : min[i];
		}
	}
	int nsteps = 0;
	double total = 0;
	for (int i = 0; i < n; i++) {
		if (!end[i])
			continue;
		steps[nsteps++] = (struct step){ .first = i, .end = end[i], .ms = ms[i] / iters,
						 .min_ms = min[i] };
		total += ms[i] / iters;
	}
	qsort(steps, (size_t)nsteps, sizeof(*steps), by_ms);
	printf("per-op profile: %d steps over %d inferences, slowest (mean) first; ms mean / min, "
	       "share of the mean\n", nsteps, iters);
	for (int s = 0; s < nsteps && s < MAX_STEPS_LISTED; s++) {
		const char *name;
		int version;
		char shapes[192];
		eng_op_info(e, steps[s].first, &name, &version);
		eng_op_shapes(e, steps[s].first, shapes, sizeof(shapes));
		if (steps[s].end - steps[s].first > 1)
			printf("op %3d-%-3d xnnpack subgraph of %d ops  %8.4f / %8.4f ms %5.1f%%\n",
			       steps[s].first, steps[s].end - 1, steps[s].end - steps[s].first, steps[s].ms,
			       steps[s].min_ms, total > 0 ? 100 * steps[s].ms / total : 0);
		else
			printf("op %3d     %-18s v%d %8.4f / %8.4f ms %5.1f%%  %s\n", steps[s].first, name,
			       version, steps[s].ms, steps[s].min_ms, total > 0 ? 100 * steps[s].ms / total : 0,
			       shapes);
	}
	printf("per_op_total_ms=%.4f\n", total);
	status = 0;
out:
	free(ms);
	free(cur);
	free(min);
	free(end);
	free(steps);
	return status;
}

static uint8_t *read_file(const char *path, size_t *ret_bytes)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = NULL;
	long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	if (len > 0 && (unsigned long)len <= MAX_IMAGE_BYTES && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len)) != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (!buf)
		errno = len > (long)MAX_IMAGE_BYTES ? EFBIG : EIO;
	*ret_bytes = buf ? (size_t)len : 0;
	return buf;
}

static uint8_t clamp8(double v)
{
	return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5);
}

/* The full-size RGB picture as a YUYV or NV12 frame (BT.601 full range, chroma of the
 * pixel pair / 2×2 block's first pixel), in a malloc'd buffer. */
static uint8_t *to_yuv(const struct cap_image *img, bool nv12, struct cap_frame *ret)
{
	const int w = img->width & ~1, h = img->height & ~1;
	const size_t stride = nv12 ? (size_t)w : (size_t)w * 2;
	const size_t bytes = nv12 ? stride * h * 3 / 2 : stride * h;
	uint8_t *buf = malloc(bytes);
	if (!buf)
		return NULL;
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			const uint8_t *p = img->pixels + (size_t)y * img->stride_bytes + (size_t)x * 3;
			const double r = p[0], g = p[1], b = p[2];
			const uint8_t Y = clamp8(0.299 * r + 0.587 * g + 0.114 * b);
			const uint8_t U = clamp8(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
			const uint8_t V = clamp8(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
			if (nv12) {
				buf[(size_t)y * stride + x] = Y;
				if (!(y & 1) && !(x & 1)) {
					uint8_t *uv = buf + stride * h + (size_t)(y / 2) * stride + x;
					uv[0] = U;
					uv[1] = V;
				}
			} else {
				uint8_t *q = buf + (size_t)y * stride + (size_t)(x / 2) * 4;
				q[(x & 1) * 2] = Y;
				if (!(x & 1)) {
					q[1] = U;
					q[3] = V;
				}
			}
		}
	}
	*ret = (struct cap_frame){ .data = buf, .bytes = bytes, .format = nv12 ? CAP_FMT_NV12 : CAP_FMT_YUYV,
				   .width = w, .height = h, .stride_bytes = (int)stride };
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { ST_DECODE, ST_PREP, ST_INFER, ST_N };

int bench_frame(struct engine *e, const struct bench_modes *m, int iters, int warmup)
{
	static const char *const stage[ST_N] = { "decode", "preprocess", "inference" };
	struct eng_tensor_info in;
	struct cap_decoder *d = NULL;
	uint8_t *file = NULL, *yuv = NULL;
	double *wall[ST_N] = { 0 }, *cpu[ST_N] = { 0 }, *cpu_total = NULL;
	size_t file_bytes = 0;
	int status = 1;
	char err[128];
	eng_input_info(e, &in);
	if (in.ndim != 4 || in.dims[0] != 1 || (in.dims[3] != 1 && in.dims[3] != 3) ||
	    in.type == ENG_INT32 || in.quantized_type == ENG_FLOAT32) {
		fprintf(stderr, "camclass bench: the model's input is not a [1,H,W,1|3] image\n");
		return 1;
	}
	const struct cap_prep prep = {
		.target = { .width = in.dims[2], .height = in.dims[1], .channels = in.dims[3],
			    .is_int8 = in.quantized_type == ENG_INT8, .scale = in.quantized_scale,
			    .zero_point = in.quantized_zero_point, .is_float = in.type == ENG_FLOAT32 },
		.crop = CAP_CROP_CENTER, .resize = CAP_RESIZE_AREA,
	};
	for (int s = 0; s < ST_N; s++) {
		wall[s] = malloc((size_t)iters * sizeof(double));
		cpu[s] = malloc((size_t)iters * sizeof(double));
	}
	cpu_total = malloc((size_t)iters * sizeof(double));
	if (!wall[ST_N - 1] || !cpu[ST_N - 1] || !wall[0] || !cpu[0] || !wall[1] || !cpu[1] ||
	    !cpu_total || cap_decoder_new(&d) < 0) {
		fprintf(stderr, "camclass bench: out of memory\n");
		goto out;
	}
	if (!(file = read_file(m->image, &file_bytes))) {
		fprintf(stderr, "camclass bench: cannot read %s: %s\n", m->image, strerror(errno));
		goto out;
	}
	/* the picture at full size, for its dimensions and the raw formats */
	struct cap_image full;
	const struct cap_prep as_is = { .target = { .width = FULL_SIDE, .height = FULL_SIDE,
						    .channels = 3 }, .crop = CAP_CROP_FULL,
					.resize = CAP_RESIZE_AREA };
	const bool mjpeg = strcmp(m->format, "mjpeg") == 0;
	int r = cap_decode_still(d, file, file_bytes, &as_is, &full);
	if (r < 0 || (mjpeg && file[0] != 0xFF) || full.channels != 3) {
		fprintf(stderr, "camclass bench: %s: %s\n", m->image,
			r < 0 ? cap_strerror(r) : mjpeg ? "not a JPEG picture (--format mjpeg)" : "not an RGB picture");
		goto out;
	}
	struct cap_frame frame = { .data = file, .bytes = file_bytes, .format = CAP_FMT_MJPEG,
				   .width = full.width, .height = full.height };
	if (!mjpeg && !(yuv = to_yuv(&full, strcmp(m->format, "nv12") == 0, &frame))) {
		fprintf(stderr, "camclass bench: out of memory\n");
		goto out;
	}
	for (int k = 0; k < warmup + iters; k++) {
		struct cap_image img;
		double w0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
		const double cstart = c0;
		double w[ST_N], c[ST_N];
		for (int s = 0; s < ST_N; s++) {
			/* as the daemon: YUYV/NV12 are converted inside the resize, where it reads */
			if (s == ST_DECODE)
				r = mjpeg ? cap_decode(d, &frame, &prep, &img) : 0;
			else if (s == ST_PREP)
				r = mjpeg ? cap_preprocess(&img, &prep, eng_input(e), in.bytes)
					  : cap_preprocess_yuv(d, &frame, NULL, &prep, eng_input(e), in.bytes);
			else
				r = eng_invoke(e);
			if (r < 0) {
				snprintf(err, sizeof(err), "%s", s == ST_INFER ? "inference failed" : cap_strerror(r));
				fprintf(stderr, "camclass bench: %s: %s\n", stage[s], err);
				goto out;
			}
			const double w1 = clock_ms(CLOCK_MONOTONIC), c1 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
			w[s] = w1 - w0;
			c[s] = c1 - c0;
			w0 = w1;
			c0 = c1;
		}
		if (k < warmup)
			continue;
		for (int s = 0; s < ST_N; s++) {
			wall[s][k - warmup] = w[s];
			cpu[s][k - warmup] = c[s];
		}
		cpu_total[k - warmup] = c0 - cstart;
	}
	printf("frame path, %s %dx%d -> %dx%dx%d, %d frames after %d:\n", m->format, frame.width,
	       frame.height, in.dims[2], in.dims[1], in.dims[3], iters, warmup);
	double med_wall[ST_N], med_cpu[ST_N];
	for (int s = 0; s < ST_N; s++) {
		med_wall[s] = median_of(wall[s], iters);
		med_cpu[s] = median_of(cpu[s], iters);
		printf("  %-10s wall min %.3f median %.3f ms, cpu median %.3f ms\n", stage[s], wall[s][0],
		       med_wall[s], med_cpu[s]);
	}
	const double total_cpu = median_of(cpu_total, iters);
	/* CPU medians: on one thread the stage's own work, and far steadier than wall time on a
	 * machine shared with other jobs */
	printf("frame format=%s decode_cpu_ms=%.3f preprocess_cpu_ms=%.3f inference_cpu_ms=%.3f "
	       "cpu_ms=%.3f frame_share=%.3f\n", m->format, med_cpu[ST_DECODE], med_cpu[ST_PREP],
	       med_cpu[ST_INFER], total_cpu, med_cpu[ST_INFER] > 0 ?
	       (med_cpu[ST_DECODE] + med_cpu[ST_PREP]) / med_cpu[ST_INFER] : 0);
	status = 0;
out:
	for (int s = 0; s < ST_N; s++) {
		free(wall[s]);
		free(cpu[s]);
	}
	free(cpu_total);
	free(yuv);
	free(file);
	cap_decoder_free(d);
	return status;
}
