/* cmd_classify.c — `camclass classify --model M --labels L IMAGE...`: the offline classifier.
 *
 * It runs the daemon's own classifier (daemon/classifier.h: the same model and label loading,
 * input checks, decoder — JPEG with DCT scaling, or BMP —, preprocessing, engine and ranking)
 * on image files, so what a user sees here is what the daemon will say about the same picture;
 * this file only parses arguments and prints.
 * Labels: one per line, class index = line number (0-based); imagenet_labels.txt has 1001
 * lines with "background" at line 0, matching the 1001 outputs of the MobileNet models, so
 * 286 is "Egyptian cat". The file must have as many lines as the model has outputs.
 * Defaults: --crop full --resize area. Stretching the whole picture is how the reference
 * tensors in ../shared/models/ref were made (MobileNet ones match --resize bilinear to 1 LSB,
 * vww/ResNet8 ones match area), and area's antialiasing is what the small models need.
 * A float32 input in front of the model's own QUANTIZE is accepted (capture writes the real
 * values of the integers); scores are the dequantized outputs, so a DEQUANTIZE'd float output
 * is used as is. Output: per image the top-k "index score label" lines (preceded by "== PATH" when several
 * images are given), or with --json one JSON object per line (jansson).
 * Exit: 0 all images classified, 1 a model/label/image error (other images still run),
 * 2 usage. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "daemon/classifier.h"
#include "tools/camclass/commands.h"

#define ERR_LEN 512
#define MAX_IMAGE_BYTES (64u << 20)
#define DEFAULT_TOP_K 5

struct classify_args {
	const char *model, *labels;
	struct model_io_settings io;
	int top_k;
	bool json;
	enum cap_crop crop;
	enum cap_resize resize;
	char **images;
	int n_images;
};

static int usage(void)
{
	fprintf(stderr, "usage: camclass classify --model M [--labels L] [--top-k K] [--json] "
			"[--resize area|bilinear] [--crop center|full] [--input-mean M --input-std S] "
			"[--output auto|probabilities|logits] IMAGE...\n"
			"  (no --labels: the labels inside the model)\n");
	return 2;
}

static int parse(int argc, char **argv, struct classify_args *a)
{
	*a = (struct classify_args){ .top_k = DEFAULT_TOP_K, .crop = CAP_CROP_FULL,
				     .resize = CAP_RESIZE_AREA,
				     .io = { .input_mean = NAN, .input_std = NAN, .output = MODEL_OUTPUT_AUTO } };
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(o, "--json") == 0) {
			a->json = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "camclass classify: %s needs a value\n", o);
			return -EINVAL;
		}
		const char *v = argv[++i];
		int r = 0;
		if (strcmp(o, "--model") == 0) {
			a->model = v;
		} else if (strcmp(o, "--labels") == 0) {
			a->labels = v;
		} else if (strcmp(o, "--top-k") == 0) {
			char *end;
			long k = strtol(v, &end, 10);
			r = *end || end == v || k < 1 || k > 100000 ? -EINVAL : 0;
			a->top_k = (int)k;
		} else if (strcmp(o, "--input-mean") == 0 || strcmp(o, "--input-std") == 0) {
			char *end;
			double d = strtod(v, &end);
			const bool is_std = strcmp(o, "--input-std") == 0;
			r = *end || end == v || !isfinite(d) || (is_std ? !(d > 0 && d <= 65536) : fabs(d) > 65536)
				    ? -EINVAL : 0;
			*(is_std ? &a->io.input_std : &a->io.input_mean) = d;
		} else if (strcmp(o, "--output") == 0) {
			r = model_output_from_name(v);
			if (r >= 0)
				a->io.output = (enum model_output)r;
		} else if (strcmp(o, "--resize") == 0) {
			r = cap_resize_from_name(v);
			if (r >= 0)
				a->resize = (enum cap_resize)r;
		} else if (strcmp(o, "--crop") == 0) {
			r = cap_crop_from_name(v);
			if (r >= 0)
				a->crop = (enum cap_crop)r;
		} else {
			fprintf(stderr, "camclass classify: unknown option '%s'\n", o);
			return -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "camclass classify: invalid value '%s' for %s\n", v, o);
			return -EINVAL;
		}
	}
	a->images = argv + i;
	a->n_images = argc - i;
	return a->model && a->n_images > 0 ? 0 : -EINVAL;
}

static uint8_t *read_image(const char *path, size_t *ret_bytes)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1 << 16;
			uint8_t *nb = ncap <= MAX_IMAGE_BYTES ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	*ret_bytes = n;
	return buf;
}

static int print_result(const struct classify_args *a, const char *path,
			const struct clf_rank *top, size_t k, const char *const *labels)
{
	if (!a->json) {
		if (a->n_images > 1)
			printf("== %s\n", path);
		for (size_t i = 0; i < k; i++)
			printf("%u %.4f %s\n", (unsigned)top[i].index, top[i].score, labels[top[i].index]);
		return 0;
	}
	json_t *arr = json_array(), *obj = json_object();
	int r = arr && obj ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < k; i++) {
		json_t *e = json_object();
		if (!e || json_object_set_new(e, "index", json_integer((json_int_t)top[i].index)) ||
		    json_object_set_new(e, "label", json_string(labels[top[i].index])) ||
		    json_object_set_new(e, "score", json_real(top[i].score)) ||
		    json_array_append_new(arr, e))
			r = -ENOMEM;
	}
	if (r == 0 && (json_object_set_new(obj, "image", json_string(path)) ||
		       json_object_set(obj, "labels", arr)))
		r = -ENOMEM;
	char *s = r == 0 ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER |
					       JSON_REAL_PRECISION(6)) : NULL;
	if (s)
		printf("%s\n", s);
	else
		r = -ENOMEM;
	free(s);
	json_decref(arr);
	json_decref(obj);
	return r;
}

static int classify_one(const struct classify_args *a, const char *path, struct classifier *c,
			struct clf_rank *top)
{
	size_t bytes;
	struct cap_image img;
	uint8_t *data = read_image(path, &bytes);
	int r;
	if (!data) {
		fprintf(stderr, "camclass classify: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	r = clf_decode_still(c, data, bytes, &img);
	if (r == 0)
		r = clf_prepare(c, &img);
	free(data);
	if (r < 0) {
		fprintf(stderr, "camclass classify: %s: %s\n", path,
			r == CAP_ERR_UNSUPPORTED ? "not a JPEG, PNG or BMP image this tool reads"
						 : cap_strerror(r));
		return r;
	}
	r = clf_run(c);
	if (r < 0) {
		fprintf(stderr, "camclass classify: %s: inference failed: %s\n", path, clf_run_error(c));
		return r;
	}
	size_t k = clf_top_k(clf_scores(c), clf_class_count(c), (size_t)a->top_k, -INFINITY, top);
	r = print_result(a, path, top, k, clf_labels(c));
	fflush(stdout);
	return r;
}

int cmd_classify(int argc, char **argv)
{
	struct classify_args a;
	struct classifier *c = NULL;
	struct clf_rank *top = NULL;
	char err[ERR_LEN];
	int status = 1;

	if (parse(argc, argv, &a) < 0)
		return usage();
	const struct clf_options opt = { .model_path = a.model, .labels_path = a.labels,
					 .backend = ENG_BACKEND_AUTO, .threads = 1,
					 .crop = a.crop, .resize = a.resize, .io = a.io };
	if (clf_load(&opt, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "camclass classify: %s\n", err);
		return 1;
	}
	size_t k = (size_t)a.top_k < clf_class_count(c) ? (size_t)a.top_k : clf_class_count(c);
	top = malloc(sizeof(*top) * (k ? k : 1));
	if (!top) {
		fprintf(stderr, "camclass classify: out of memory\n");
		goto out;
	}
	status = 0;
	for (int i = 0; i < a.n_images; i++)
		if (classify_one(&a, a.images[i], c, top) < 0)
			status = 1;
out:
	free(top);
	clf_free(c);
	return status;
}
