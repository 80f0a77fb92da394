/* retrain_embed.c — rd_embed(): images → the base's embeddings (see retrain_data.h).
 *
 * One decode per image; its augmented views are made from that decoded image (the decoder's
 * buffer stays valid until the next decode) into one scratch copy: brightness and mirroring
 * change the pixels, the crop/zoom jitter only narrows the view (pointer and size inside the
 * copy), and cap_preprocess() does the daemon's crop and resize of whatever view it gets. */
#include "tools/camclass/retrain_data.h"
#include "lib/errbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RD_MAX_FILE_BYTES ((size_t)64 << 20)
#define JITTER_MIN_SIDE 0.8  /* a view keeps 80..100 % of each side */
#define BRIGHTNESS_RANGE 0.2 /* pixels scaled by 0.8..1.2 */

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static double rand_unit(uint64_t *s)
{
	return (double)(next_rand(s) >> 11) / 9007199254740992.0;
}

static uint8_t *read_file(const char *path, size_t *ret_len, int *ret_errno)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size = -1;
	*ret_errno = 0;
	if (!f) {
		*ret_errno = errno;
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size <= 0 || (unsigned long)size > RD_MAX_FILE_BYTES || fseek(f, 0, SEEK_SET) != 0)
		*ret_errno = size == 0 ? ENODATA : EFBIG;
	else if (!(buf = malloc((size_t)size)))
		*ret_errno = ENOMEM;
	else if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		*ret_errno = EIO;
	fclose(f);
	if (*ret_errno) {
		free(buf);
		return NULL;
	}
	*ret_len = (size_t)size;
	return buf;
}

/* An augmented view of img in scratch (large enough for img's pixels). */
static struct cap_image augment_view(const struct cap_image *img, uint8_t *scratch, uint64_t *rng)
{
	const int w = img->width, h = img->height, c = img->channels;
	const bool mirror = next_rand(rng) & 1;
	const double gain = 1.0 + BRIGHTNESS_RANGE * (2 * rand_unit(rng) - 1);
	const size_t stride = (size_t)w * c;
	for (int y = 0; y < h; y++) {
		const uint8_t *src = img->pixels + (size_t)y * img->stride_bytes;
		uint8_t *dst = scratch + (size_t)y * stride;
		for (int x = 0; x < w; x++) {
			int sx = mirror ? w - 1 - x : x;
			for (int k = 0; k < c; k++) {
				double v = src[(size_t)sx * c + k] * gain + 0.5;
				dst[(size_t)x * c + k] = (uint8_t)(v > 255 ? 255 : v);
			}
		}
	}
	double side = JITTER_MIN_SIDE + (1 - JITTER_MIN_SIDE) * rand_unit(rng);
	int vw = (int)(w * side), vh = (int)(h * side);
	vw = vw < 1 ? 1 : vw;
	vh = vh < 1 ? 1 : vh;
	int x0 = (int)((w - vw) * rand_unit(rng)), y0 = (int)((h - vh) * rand_unit(rng));
	return (struct cap_image){ .pixels = scratch + (size_t)y0 * stride + (size_t)x0 * c, .width = vw,
				   .height = vh, .channels = c, .stride_bytes = stride };
}

struct embedder {
	const struct rd_options *o;
	struct engine *e;
	const struct rt_embedding *emb;
	struct rt_data *d;
	size_t in_bytes;
};

/* Preprocess view into the engine, run it, append the embedding as sample (cls, image, view). */
static int embed_view(struct embedder *m, const struct cap_image *view, int image, int view_no)
{
	struct rt_data *d = m->d;
	int r = cap_preprocess(view, &m->o->prep, eng_input(m->e), m->in_bytes);
	if (r < 0)
		return r;
	r = eng_invoke(m->e);
	if (r < 0)
		return r;
	const uint8_t *q = eng_probe(m->e);
	float *x = d->x + d->n * (size_t)d->depth;
	for (int j = 0; j < d->depth; j++) {
		int v = m->emb->type == ENG_INT8 ? (int8_t)q[j] : q[j];
		x[j] = m->emb->scale * (float)(v - m->emb->zero_point);
	}
	d->samples[d->n++] = (struct rd_sample){ .cls = d->image_class[image], .image = image,
						 .held_out = d->image_held_out[image], .view = view_no };
	if (d->image_held_out[image] && view_no == 0) {
		memcpy(d->val_inputs + d->n_val * d->input_bytes, eng_input(m->e), d->input_bytes);
		d->n_val++;
	}
	return 0;
}

static int embed_image(struct embedder *m, struct cap_decoder *dec, int i, uint8_t **scratch, size_t *scratch_len,
		       uint64_t *rng)
{
	struct rt_data *d = m->d;
	struct cap_image img;
	size_t len = 0;
	int e;
	uint8_t *bytes = read_file(d->paths[i], &len, &e);
	if (!bytes) {
		fprintf(stderr, "camclass retrain: %s: skipped: %s\n", d->paths[i],
			e == ENODATA ? "empty file" : e == EFBIG ? "larger than 64 MiB" : strerror(e));
		return 1;
	}
	int r = cap_decode_still(dec, bytes, len, &m->o->prep, &img);
	free(bytes);
	if (r < 0) {
		fprintf(stderr, "camclass retrain: %s: skipped: %s\n", d->paths[i],
			r == CAP_ERR_UNSUPPORTED ? "not an image format this build decodes" : cap_strerror(r));
		return 1;
	}
	r = embed_view(m, &img, i, 0);
	int views = d->image_held_out[i] ? 0 : m->o->augment;
	size_t need = (size_t)img.width * img.height * img.channels;
	if (r >= 0 && views > 0 && need > *scratch_len) {
		uint8_t *ns = realloc(*scratch, need);
		if (!ns)
			return -ENOMEM;
		*scratch = ns;
		*scratch_len = need;
	}
	for (int v = 1; r >= 0 && v <= views; v++) {
		struct cap_image view = augment_view(&img, *scratch, rng);
		r = embed_view(m, &view, i, v);
	}
	if (r < 0) {
		fprintf(stderr, "camclass retrain: %s: skipped: %s\n", d->paths[i], cap_strerror(r));
		return 1;
	}
	return 0;
}

int rd_embed(const struct rd_options *o, struct engine *e, const struct rt_embedding *emb,
	     struct rt_data *d, char *err, size_t errlen)
{
	struct eng_tensor_info in;
	struct cap_decoder *dec = NULL;
	uint8_t *scratch = NULL;
	size_t scratch_len = 0, n_val = 0, n_train = 0;
	uint64_t rng = o->seed ^ 0xa5a5a5a5a5a5a5a5ull;
	int r = eng_input_info(e, &in);
	if (r < 0)
		return err_setf(err, errlen, r, "cannot read the base's input");
	for (int i = 0; i < d->n_images; i++)
		d->image_held_out[i] ? n_val++ : n_train++;
	size_t total = n_train * (size_t)(1 + o->augment) + n_val;
	d->depth = emb->depth;
	d->input_bytes = in.bytes;
	d->samples = calloc(total, sizeof(*d->samples));
	d->x = malloc(total * (size_t)emb->depth * sizeof(float));
	d->val_inputs = malloc((n_val ? n_val : 1) * in.bytes);
	if (!d->samples || !d->x || !d->val_inputs || cap_decoder_new(&dec) < 0) {
		cap_decoder_free(dec);
		return err_setf(err, errlen, -ENOMEM, "out of memory for %zu embeddings of %d features", total, emb->depth);
	}
	struct embedder m = { .o = o, .e = e, .emb = emb, .d = d, .in_bytes = in.bytes };
	for (int i = 0; i < d->n_images; i++) {
		r = embed_image(&m, dec, i, &scratch, &scratch_len, &rng);
		if (r < 0) {
			r = err_setf(err, errlen, r, "%s: %s", d->paths[i], strerror(-r));
			break;
		}
		d->skipped += r;
		if (o->progress && ((i + 1) % 25 == 0 || i + 1 == d->n_images))
			fprintf(stderr, "camclass retrain: embedded %d/%d images (%zu embeddings)\n", i + 1, d->n_images,
				d->n);
	}
	cap_decoder_free(dec);
	free(scratch);
	if (r < 0)
		return r;
	for (int c = 0; c < d->classes; c++) {
		int train = 0;
		for (size_t k = 0; k < d->n; k++)
			train += d->samples[k].cls == c && !d->samples[k].held_out;
		if (train == 0)
			return err_setf(err, errlen, -ENOENT, "%s/%s: no usable training image for class '%s'", o->dir,
				     d->labels[c], d->labels[c]);
	}
	return 0;
}
