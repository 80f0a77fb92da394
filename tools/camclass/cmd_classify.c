/* cmd_classify.c — `camclass classify --model M --labels L IMAGE...`: the offline classifier.
 *
 * It runs exactly the path the daemon runs on a camera frame — capture's decoder (JPEG with
 * DCT scaling, or BMP), capture's preprocessing into the model's input tensor, the engine —
 * so that what a user sees here is what the daemon will say about the same picture.
 * Labels: one per line, class index = line number (0-based); imagenet_labels.txt has 1001
 * lines with "background" at line 0, matching the 1001 outputs of the MobileNet models, so
 * 286 is "Egyptian cat". The file must have as many lines as the model has outputs.
 * Defaults: --crop full --resize area. Stretching the whole picture is how the reference
 * tensors in ../shared/models/ref were made (MobileNet ones match --resize bilinear to 1 LSB,
 * vww/ResNet8 ones match area), and area's antialiasing is what the small models need.
 * A float32 input in front of the model's own QUANTIZE is accepted (capture writes the real
 * values of the integers); scores are eng_output_value(), so a DEQUANTIZE'd float output is
 * used as is. Output: per image the top-k "index score label" lines (preceded by "== PATH" when several
 * images are given), or with --json one JSON object per line (jansson).
 * Exit: 0 all images classified, 1 a model/label/image error (other images still run),
 * 2 usage. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "daemon/postproc.h"
#include "inference/engine.h"
#include "tools/camclass/commands.h"

#define ERR_LEN 512
#define MAX_IMAGE_BYTES (64u << 20)
#define DEFAULT_TOP_K 5

struct classify_args {
	const char *model, *labels;
	int top_k;
	bool json;
	struct cap_prep prep;
	char **images;
	int n_images;
};

static int usage(void)
{
	fprintf(stderr, "usage: camclass classify --model M --labels L [--top-k K] [--json] "
			"[--resize area|bilinear] [--crop center|full] IMAGE...\n");
	return 2;
}

static int parse(int argc, char **argv, struct classify_args *a)
{
	*a = (struct classify_args){ .top_k = DEFAULT_TOP_K,
				     .prep = { .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA } };
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
		} else if (strcmp(o, "--resize") == 0) {
			r = cap_resize_from_name(v);
			if (r >= 0)
				a->prep.resize = (enum cap_resize)r;
		} else if (strcmp(o, "--crop") == 0) {
			r = cap_crop_from_name(v);
			if (r >= 0)
				a->prep.crop = (enum cap_crop)r;
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
	return a->model && a->labels && a->n_images > 0 ? 0 : -EINVAL;
}

/* The model input as capture's target; err says why a model does not fit. */
static int target_of(const struct eng_tensor_info *in, struct cap_target *ret, char *err,
		     size_t errlen)
{
	if (in->ndim != 4 || in->dims[0] != 1 || (in->dims[3] != 1 && in->dims[3] != 3) ||
	    (in->type != ENG_UINT8 && in->type != ENG_INT8 && in->type != ENG_FLOAT32)) {
		snprintf(err, errlen, "input is %s with %d dims: not a [1,H,W,1|3] uint8/int8/float32 image",
			 eng_dtype_name(in->type), in->ndim);
		return -EINVAL;
	}
	if (in->quantized_type == ENG_FLOAT32) {
		snprintf(err, errlen, "input '%s' is float32 but is not read by a single QUANTIZE to "
			 "uint8/int8, so there is no integer input to preprocess for", in->name);
		return -EINVAL;
	}
	*ret = (struct cap_target){ .width = in->dims[2], .height = in->dims[1],
				    .channels = in->dims[3], .is_int8 = in->quantized_type == ENG_INT8,
				    .scale = in->quantized_scale, .zero_point = in->quantized_zero_point,
				    .is_float = in->type == ENG_FLOAT32 };
	return 0;
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

struct ranked { size_t index; float score; };

static int by_score(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;   /* ties: lower index first */
}

static int print_result(const struct classify_args *a, const char *path,
			const struct ranked *top, size_t k, const struct labels *l)
{
	if (!a->json) {
		if (a->n_images > 1)
			printf("== %s\n", path);
		for (size_t i = 0; i < k; i++)
			printf("%zu %.4f %s\n", top[i].index, top[i].score, l->names[top[i].index]);
		return 0;
	}
	json_t *arr = json_array(), *obj = json_object();
	int r = arr && obj ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < k; i++) {
		json_t *e = json_object();
		if (!e || json_object_set_new(e, "index", json_integer((json_int_t)top[i].index)) ||
		    json_object_set_new(e, "label", json_string(l->names[top[i].index])) ||
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

static int classify_one(const struct classify_args *a, const char *path, struct engine *e,
			struct cap_decoder *d, const struct labels *l, struct ranked *scores,
			size_t n_out, size_t in_bytes)
{
	size_t bytes;
	struct cap_image img;
	uint8_t *data = read_image(path, &bytes);
	int r;
	if (!data) {
		fprintf(stderr, "camclass classify: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	r = cap_decode_still(d, data, bytes, &a->prep, &img);
	if (r == 0)
		r = cap_preprocess(&img, &a->prep, eng_input(e), in_bytes);
	free(data);
	if (r < 0) {
		fprintf(stderr, "camclass classify: %s: %s\n", path,
			r == CAP_ERR_UNSUPPORTED ? "not a JPEG or BMP image this tool reads"
						 : cap_strerror(r));
		return r;
	}
	r = eng_invoke(e);
	if (r < 0) {
		fprintf(stderr, "camclass classify: %s: inference failed: %s\n", path, eng_invoke_error(e));
		return r;
	}
	for (size_t i = 0; i < n_out; i++)
		scores[i] = (struct ranked){ i, eng_output_value(e, i) };
	qsort(scores, n_out, sizeof(*scores), by_score);
	r = print_result(a, path, scores, (size_t)a->top_k < n_out ? (size_t)a->top_k : n_out, l);
	fflush(stdout);
	return r;
}

int cmd_classify(int argc, char **argv)
{
	struct classify_args a;
	struct eng_options opt = { .backend = ENG_BACKEND_AUTO, .threads = 1 };
	struct eng_tensor_info in;
	struct engine *e = NULL;
	struct cap_decoder *d = NULL;
	struct labels l = { 0 };
	struct ranked *scores = NULL;
	char err[ERR_LEN];
	int status = 1;

	if (parse(argc, argv, &a) < 0)
		return usage();
	if (eng_load(a.model, &opt, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "camclass classify: %s\n", err);
		return 1;
	}
	if (eng_input_info(e, &in) < 0 || target_of(&in, &a.prep.target, err, sizeof(err)) < 0) {
		fprintf(stderr, "camclass classify: %s: %s\n", a.model, err);
		goto out;
	}
	size_t n_out = eng_output_count(e);
	if (labels_load(a.labels, &l, err, sizeof(err)) < 0) {
		fprintf(stderr, "camclass classify: %s\n", err);
		goto out;
	}
	if (l.count != n_out) {
		fprintf(stderr, "camclass classify: %s has %zu labels but %s has %zu outputs\n",
			a.labels, l.count, a.model, n_out);
		goto out;
	}
	scores = malloc(sizeof(*scores) * (n_out ? n_out : 1));
	if (!scores || cap_decoder_new(&d) < 0) {
		fprintf(stderr, "camclass classify: out of memory\n");
		goto out;
	}
	status = 0;
	for (int i = 0; i < a.n_images; i++)
		if (classify_one(&a, a.images[i], e, d, &l, scores, n_out, in.bytes) < 0)
			status = 1;
out:
	free(scores);
	cap_decoder_free(d);
	labels_free(&l);
	eng_free(e);
	return status;
}
