/* retrain_data.c — see retrain_data.h. The split is per class so every class is represented in
 * both parts whatever the folder sizes, and it depends on the seed alone (xorshift64 over sorted
 * file names), so a run can be repeated exactly. Augmentation works on the decoded image, before
 * crop/resize, because that is where a camera's variations happen (a slightly other framing,
 * another exposure, a mirrored scene), and so the views pass through the daemon's own
 * preprocessing code like every real frame. */
#include "tools/camclass/retrain_data.h"
#include "lib/errbuf.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RD_MAX_CLASSES RT_MAX_CLASSES

int rd_target_of(const struct eng_tensor_info *in, struct cap_target *ret, char *err, size_t errlen)
{
	if (in->ndim != 4 || in->dims[0] != 1 || (in->dims[3] != 1 && in->dims[3] != 3) ||
	    (in->type != ENG_UINT8 && in->type != ENG_INT8 && in->type != ENG_FLOAT32))
		return err_setf(err, errlen, -EINVAL, "input is %s with %d dims: not a [1,H,W,1|3] uint8/int8/float32 image",
			     eng_dtype_name(in->type), in->ndim);
	if (in->quantized_type == ENG_FLOAT32)
		return err_setf(err, errlen, -EINVAL, "input '%s' is float32 but is not read by a single QUANTIZE to "
			     "uint8/int8, so there is no integer input to preprocess for", in->name);
	*ret = (struct cap_target){ .width = in->dims[2], .height = in->dims[1], .channels = in->dims[3],
				    .is_int8 = in->quantized_type == ENG_INT8, .scale = in->quantized_scale,
				    .zero_point = in->quantized_zero_point, .is_float = in->type == ENG_FLOAT32 };
	return 0;
}

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_image_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	static const char *const exts[] = { "jpg", "jpeg", "png", "bmp" };
	if (!dot || name[0] == '.')
		return false;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcasecmp(dot + 1, exts[i]) == 0)
			return true;
	return false;
}

/* Sorted names of entries of dir that are directories (want_dirs) or image files. */
static int list_dir(const char *dir, bool want_dirs, char ***ret, int *ret_n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	int n = 0, cap = 0, r = 0;
	struct dirent *de;
	if (!d)
		return err_setf(err, errlen, -errno, "%s: cannot open folder: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;
		char path[4096];
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) || stat(path, &st) < 0)
			continue;
		if (want_dirs ? !S_ISDIR(st.st_mode) : (!S_ISREG(st.st_mode) || !is_image_name(de->d_name)))
			continue;
		if (n == RD_MAX_IMAGES) {
			r = err_setf(err, errlen, -E2BIG, "%s: more than %d entries", dir, RD_MAX_IMAGES);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, (size_t)cap * sizeof(char *));
			if (!nn) {
				r = err_setf(err, errlen, -ENOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			r = err_setf(err, errlen, -ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return r;
	}
	if (n)
		qsort(names, (size_t)n, sizeof(char *), cmp_str);
	*ret = names;
	*ret_n = n;
	return 0;
}

static void free_names(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static int add_class_images(struct rt_data *d, const struct rd_options *o, int cls, char *err, size_t errlen)
{
	char dir[4096], **files = NULL;
	int nf = 0;
	snprintf(dir, sizeof(dir), "%s/%s", o->dir, d->labels[cls]);
	int r = list_dir(dir, false, &files, &nf, err, errlen);
	if (r < 0)
		return r;
	if (nf == 0) {
		free(files);
		return err_setf(err, errlen, -ENOENT, "%s: no images (*.jpg, *.jpeg, *.png, *.bmp) for class '%s'", dir,
			     d->labels[cls]);
	}
	if (d->n_images + nf > RD_MAX_IMAGES) {
		free_names(files, nf);
		return err_setf(err, errlen, -E2BIG, "%s: more than %d images in all", o->dir, RD_MAX_IMAGES);
	}
	char **np = realloc(d->paths, (size_t)(d->n_images + nf) * sizeof(char *));
	if (np)
		d->paths = np;
	int *nc = np ? realloc(d->image_class, (size_t)(d->n_images + nf) * sizeof(int)) : NULL;
	if (nc)
		d->image_class = nc;
	int *nh = nc ? realloc(d->image_held_out, (size_t)(d->n_images + nf) * sizeof(int)) : NULL;
	if (nh)
		d->image_held_out = nh;
	if (!nh) {
		free_names(files, nf);
		return err_setf(err, errlen, -ENOMEM, "out of memory");
	}
	/* held-out images: a seeded shuffle of this class's images, the first n_val of it */
	int *order = malloc((size_t)nf * sizeof(int));
	if (!order) {
		free_names(files, nf);
		return err_setf(err, errlen, -ENOMEM, "out of memory");
	}
	uint64_t rng = o->seed * 0x9e3779b97f4a7c15ull + (uint64_t)cls + 1;
	for (int i = 0; i < nf; i++)
		order[i] = i;
	for (int i = nf - 1; i > 0; i--) {
		int j = (int)(next_rand(&rng) % (uint64_t)(i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	int n_val = (int)(o->val_split * nf + 0.5);
	if (n_val >= nf)
		n_val = nf - 1;
	if (o->val_split > 0 && n_val == 0 && o->progress)
		fprintf(stderr, "camclass retrain: class '%s' has %d image(s): none held out for measuring "
			"(a useful split needs more)\n", d->labels[cls], nf);
	int first = d->n_images;
	for (int i = 0; i < nf; i++) {
		size_t len = strlen(dir) + strlen(files[i]) + 2;
		d->paths[first + i] = malloc(len);
		if (!d->paths[first + i]) {
			free(order);
			free_names(files, nf);
			return err_setf(err, errlen, -ENOMEM, "out of memory");
		}
		snprintf(d->paths[first + i], len, "%s/%s", dir, files[i]);
		d->image_class[first + i] = cls;
		d->image_held_out[first + i] = 0;
		d->n_images++;
	}
	for (int i = 0; i < n_val; i++)
		d->image_held_out[first + order[i]] = 1;
	free(order);
	free_names(files, nf);
	return 0;
}

int rd_scan(const struct rd_options *o, struct rt_data *ret, char *err, size_t errlen)
{
	struct rt_data d = { 0 };
	int r = list_dir(o->dir, true, &d.labels, &d.classes, err, errlen);
	if (r < 0)
		return r;
	if (d.classes < 2) {
		r = err_setf(err, errlen, -EINVAL, "%s: %s; retrain needs at least 2 class folders (%s/<label>/*.jpg)",
			  o->dir, d.classes ? "only one class folder" : "no class folders", o->dir);
		goto fail;
	}
	if (d.classes > RD_MAX_CLASSES) {
		r = err_setf(err, errlen, -E2BIG, "%s: %d class folders, at most %d", o->dir, d.classes, RD_MAX_CLASSES);
		goto fail;
	}
	for (int c = 0; c < d.classes; c++) {
		if (strlen(d.labels[c]) >= RT_MAX_LABEL_BYTES || strpbrk(d.labels[c], "\r\n")) {
			r = err_setf(err, errlen, -EINVAL, "%s/%s: a folder name must be a one-line label under %d bytes",
				  o->dir, d.labels[c], RT_MAX_LABEL_BYTES);
			goto fail;
		}
		r = add_class_images(&d, o, c, err, errlen);
		if (r < 0)
			goto fail;
	}
	*ret = d;
	return 0;
fail:
	rd_free(&d);
	return r;
}

void rd_free(struct rt_data *d)
{
	free_names(d->labels, d->classes);
	free_names(d->paths, d->n_images);
	free(d->image_class);
	free(d->image_held_out);
	free(d->samples);
	free(d->x);
	free(d->val_inputs);
	memset(d, 0, sizeof(*d));
}
