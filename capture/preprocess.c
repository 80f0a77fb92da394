/* preprocess.c — crop, resize, colour and quantize an 8-bit image into a model input tensor in
 * one pass over the output rows.
 *
 * Both resize methods are separable filters described by per-axis "taps" (source index,
 * weight) computed once per call: `area` is an exact box filter (each output pixel averages
 * the source area it covers, fractional edges weighted by overlap — antialiased downscale,
 * like OpenCV's INTER_AREA); `bilinear` uses half-pixel centres (TF's half_pixel_centers,
 * OpenCV's INTER_LINEAR) without antialiasing. Each source row the vertical taps name is
 * filtered horizontally once, into a small ring of filtered rows (the taps of consecutive
 * output rows overlap, and a row's horizontal sums do not depend on the output row); each
 * output row accumulates its ring rows in floats, then is converted to grey if needed, rounded
 * to a pixel and quantized as q = qmin + pixel (see capture.h and README.md "Preprocessing
 * rule"). Every value goes through the same float operations in the same order as when each
 * output row filtered its source rows itself (s = Σ wx·p over the taps in order, acc = Σ wy·s),
 * so the cache changes the cost, not one output bit.
 * A float32 input in front of the model's own QUANTIZE gets scale·(q − zp) instead of q, so the
 * integer body sees the same q either way; a float32 input the model computes on gets
 * (pixel − mean) / std per channel. NCHW targets get the same values in planes.
 *
 * Rows come from a fetcher as floats: an 8-bit image's bytes, or a YUYV/NV12 frame converted
 * to RGB or grey on the fly (cap_preprocess_yuv_view, for decode.c: cap_yuv_row_floats gives
 * the values cap_decode's cap_yuv_row gives), only over the columns the crop keeps and only for
 * the rows the taps name: the frame is never converted as a whole. */
#include "capture/capture.h"
#include "capture/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

/* Floats a pixel takes in a fetched source row (sum3). */
#define LANES(cin) ((cin) == 3 ? 4 : 1)

/* Upper bound of the ring of filtered rows (resize_rows); 224×3 floats a row need 2.7 KB. */
#define RING_MAX_BYTES (4u << 20)

struct taps {
	int max_taps;    /* per output index: the stride of first/weight */
	int *first;      /* [n][max_taps] source indices */
	float *weight;   /* [n][max_taps] */
	int *count;      /* [n] */
};

/* Where the resize reads: columns [x0, x0 + n) of row y of a w×h view, as floats (the exact
 * byte values), LANES(cin) a pixel. */
struct rows {
	int w, h, cin;
	void (*fetch)(const struct rows *r, int y, int x0, int n, float *out);
	const struct cap_image *img;        /* fetch_image */
	const struct cap_frame *frame;      /* fetch_yuv: the view's origin in it is (fx, fy) */
	int fx, fy;
};

void cap_center_crop_size(int w, int h, int dw, int dh, int *ret_cw, int *ret_ch)
{
	int cw, ch;
	if ((int64_t)w * dh > (int64_t)h * dw) {
		ch = h;
		cw = (int)(((int64_t)h * dw + dh / 2) / dh);
	} else {
		cw = w;
		ch = (int)(((int64_t)w * dh + dw / 2) / dw);
	}
	*ret_cw = cw < 1 ? 1 : cw > w ? w : cw;
	*ret_ch = ch < 1 ? 1 : ch > h ? h : ch;
}

static void taps_free(struct taps *t)
{
	free(t->first);
	free(t->weight);
	free(t->count);
	*t = (struct taps){ 0 };
}

/* Taps for n outputs over source pixels [off, off+len). */
static int taps_build(struct taps *t, int n, int off, int len, enum cap_resize method)
{
	double step = (double)len / n;
	t->max_taps = method == CAP_RESIZE_AREA ? (int)ceil(step) + 2 : 2;
	t->first = malloc(sizeof(int) * (size_t)n * (size_t)t->max_taps);
	t->weight = malloc(sizeof(float) * (size_t)n * (size_t)t->max_taps);
	t->count = malloc(sizeof(int) * (size_t)n);
	if (!t->first || !t->weight || !t->count) {
		taps_free(t);
		return CAP_ERR_NOMEM;
	}
	for (int o = 0; o < n; o++) {
		int *idx = t->first + (size_t)o * t->max_taps;
		float *w = t->weight + (size_t)o * t->max_taps;
		int k = 0;
		if (method == CAP_RESIZE_AREA) {
			double a = o * step, b = (o + 1) * step;
			for (int i = (int)floor(a); i < b && i < len && k < t->max_taps; i++) {
				double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
				if (hi <= lo)
					continue;
				idx[k] = off + i;
				w[k++] = (float)((hi - lo) / step);
			}
		} else {
			double s = (o + 0.5) * step - 0.5;
			if (s < 0)
				s = 0;
			if (s > len - 1)
				s = len - 1;
			int i0 = (int)floor(s), i1 = i0 + 1 < len ? i0 + 1 : i0;
			float f = (float)(s - i0);
			idx[k] = off + i0;
			w[k++] = 1.0f - f;
			idx[k] = off + i1;
			w[k++] = f;
		}
		t->count[o] = k;
	}
	return 0;
}

/* floor(v + 0.5) clamped to 0..255, without libm's floorf: r = v + 0.5 clamped to [0, 255]
 * then truncated toward zero, which is floor for r ≥ 0 (r < 1 and NaN give 0, r ≥ 255 gives
 * 255). Branch-free selects, so that a loop of them vectorizes. */
static inline uint8_t to_pixel(float v)
{
	float r = v + 0.5f;
	r = r > 0.0f ? r : 0.0f;
	r = r < 255.0f ? r : 255.0f;
	return (uint8_t)(int)r;
}

/* n pixels of cin interleaved bytes → floats, LANES(cin) a pixel. In blocks of a fixed count,
 * which gcc -O2 vectorizes (its cheap cost model takes no loop of unknown count). */
static void bytes_to_floats(const uint8_t *restrict p, int n, int cin, float *restrict out)
{
	int i = 0;
	if (cin == 1) {
		for (; i + 16 <= n; i += 16)
			for (int j = 0; j < 16; j++)
				out[i + j] = p[i + j];
		for (; i < n; i++)
			out[i] = p[i];
		return;
	}
	for (; i < n; i++) {
		out[4 * i] = p[3 * i];
		out[4 * i + 1] = p[3 * i + 1];
		out[4 * i + 2] = p[3 * i + 2];
		out[4 * i + 3] = 0.0f;
	}
}

static void fetch_image(const struct rows *r, int y, int x0, int n, float *out)
{
	bytes_to_floats(r->img->pixels + (size_t)y * r->img->stride_bytes + (size_t)x0 * r->cin, n,
			r->cin, out);
}

static void fetch_yuv(const struct rows *r, int y, int x0, int n, float *out)
{
	cap_yuv_row_floats(r->frame, r->fy + y, r->fx + x0, n, r->cin, out);
}

/* The horizontal sum of n taps, for RGB pixels of 4 lanes (the fourth is 0 and dropped: one
 * 4-wide multiply and add a tap, each lane the scalar sum) / for grey. Inlined with a constant
 * n for the common counts (then unrolled by the compiler). */
static inline void sum3(const float *row, const int *ix, const float *wx, const int n, float *out)
{
	float s[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
	for (int k = 0; k < n; k++) {
		const float *p = row + (size_t)ix[k] * 4;
		for (int c = 0; c < 4; c++)
			s[c] += wx[k] * p[c];
	}
	out[0] = s[0];
	out[1] = s[1];
	out[2] = s[2];
}

static inline void sum1(const float *row, const int *ix, const float *wx, const int n, float *out)
{
	float s = 0.0f;
	for (int k = 0; k < n; k++)
		s += wx[k] * row[ix[k]];
	out[0] = s;
}

/* One source row (cropped, as floats) → its horizontal sums for every output column. The
 * counts repeat with the ratio of the sizes, a pattern the branch predictor learns. */
static void filter_row(const float *row, const struct taps *tx, int width, int cin, float *out)
{
	for (int ox = 0; ox < width; ox++) {
		const int *ix = tx->first + (size_t)ox * tx->max_taps;
		const float *wx = tx->weight + (size_t)ox * tx->max_taps;
		const int n = tx->count[ox];
		if (cin == 3) {
			float *o = out + (size_t)ox * 3;
			switch (n) {
			case 1: sum3(row, ix, wx, 1, o); break;
			case 2: sum3(row, ix, wx, 2, o); break;
			case 3: sum3(row, ix, wx, 3, o); break;
			case 4: sum3(row, ix, wx, 4, o); break;
			default: sum3(row, ix, wx, n, o); break;
			}
		} else {
			switch (n) {
			case 1: sum1(row, ix, wx, 1, out + ox); break;
			case 2: sum1(row, ix, wx, 2, out + ox); break;
			case 3: sum1(row, ix, wx, 3, out + ox); break;
			case 4: sum1(row, ix, wx, 4, out + ox); break;
			default: sum1(row, ix, wx, n, out + ox); break;
			}
		}
	}
}

/* acc += wy · h, element by element (in blocks of 8 the compiler vectorizes). */
static void accumulate(float *restrict acc, const float *restrict h, float wy, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (size_t j = 0; j < 8; j++)
			acc[i + j] += wy * h[i + j];
	for (; i < n; i++)
		acc[i] += wy * h[i];
}

/* One accumulated output row → tensor row oy. */
static void emit_row(const struct cap_target *t, int cin, const float *acc, int oy, uint8_t *out)
{
	/* int8 tensors: qmin = -128, stored as the two's-complement byte of pixel - 128 */
	const int qmin = t->is_int8 ? -128 : 0;
	const size_t esize = t->is_float ? sizeof(float) : 1, plane = (size_t)t->width * t->height;
	if (!t->is_float && !t->channels_first && t->channels == cin) {
		uint8_t *o = out + (size_t)oy * t->width * cin;
		const int n = t->width * cin;
		int i = 0;
		for (; i + 16 <= n; i += 16)      /* a block of known count: vectorized at -O2 */
			for (int j = 0; j < 16; j++)
				o[i + j] = (uint8_t)(qmin + to_pixel(acc[i + j]));
		for (; i < n; i++)
			o[i] = (uint8_t)(qmin + to_pixel(acc[i]));
		return;
	}
	for (int ox = 0; ox < t->width; ox++) {
		const float *v = acc + (size_t)ox * cin;
		for (int c = 0; c < t->channels; c++) {
			float val;
			if (t->channels == cin)
				val = v[c];
			else if (cin == 3)
				val = LUMA_R * v[0] + LUMA_G * v[1] + LUMA_B * v[2];
			else
				val = v[0];
			const size_t at = t->channels_first ? ((size_t)c * plane + (size_t)oy * t->width + ox)
							    : (((size_t)oy * t->width + ox) * t->channels + c);
			if (t->normalize) {
				const float x = ((float)to_pixel(val) - t->mean[c]) / t->std[c];
				memcpy(out + at * esize, &x, sizeof(x));
				continue;
			}
			const int q = qmin + to_pixel(val);
			if (t->is_float) {
				const float x = t->scale * (float)(q - t->zero_point);
				memcpy(out + at * esize, &x, sizeof(x));
			} else {
				out[at] = (uint8_t)q;
			}
		}
	}
}

static int check_target(const struct cap_target *t, const void *tensor, size_t tensor_bytes)
{
	if (t->width < 1 || t->height < 1 || t->width > CAP_MAX_SIDE || t->height > CAP_MAX_SIDE ||
	    (t->channels != 1 && t->channels != 3) || !tensor)
		return CAP_ERR_INVALID;
	if (t->is_float && !t->normalize && !(t->scale > 0.0f))
		return CAP_ERR_INVALID;
	if (t->normalize && !t->is_float)
		return CAP_ERR_INVALID;
	for (int c = 0; t->normalize && c < t->channels; c++)
		if (!(t->std[c] > 0.0f) || !isfinite(t->std[c]) || !isfinite(t->mean[c]))
			return CAP_ERR_INVALID;
	if (tensor_bytes != (size_t)t->width * t->height * t->channels * (t->is_float ? sizeof(float) : 1))
		return CAP_ERR_INVALID;
	return 0;
}

static int resize_rows(const struct rows *src, const struct cap_prep *p, uint8_t *out)
{
	const struct cap_target *t = &p->target;
	const int cin = src->cin;
	struct taps tx = { 0 }, ty = { 0 };
	int cw, ch, r;
	if (p->crop == CAP_CROP_CENTER)
		cap_center_crop_size(src->w, src->h, t->width, t->height, &cw, &ch);
	else {
		cw = src->w;
		ch = src->h;
	}
	const int x0 = (src->w - cw) / 2, y0 = (src->h - ch) / 2;
	/* horizontal indices relative to the crop's first column: the fetched row starts there */
	r = taps_build(&tx, t->width, 0, cw, p->resize);
	if (r == 0)
		r = taps_build(&ty, t->height, y0, ch, p->resize);
	if (r < 0) {
		taps_free(&tx);
		taps_free(&ty);
		return r;
	}
	/* An output row's vertical taps are consecutive source rows, taken in order, and the first
	 * one never moves back. With a ring of as many filtered rows as the largest count, row y
	 * in slot y % ring, the rows an output needs fall in distinct slots and each source row is
	 * fetched and filtered once. Each row is summed right after it is looked up, so a smaller
	 * ring (a very tall source into a wide, flat target: RING_MAX_BYTES) only filters some
	 * rows again; the sums are the same. */
	const size_t out_row = (size_t)t->width * cin;
	int ring = 1;
	for (int oy = 0; oy < t->height; oy++)
		ring = ty.count[oy] > ring ? ty.count[oy] : ring;
	if ((size_t)ring * out_row * sizeof(float) > RING_MAX_BYTES)
		ring = (int)(RING_MAX_BYTES / (out_row * sizeof(float))) + 1;
	float *acc = malloc(sizeof(float) * out_row);
	float *filtered = malloc(sizeof(float) * out_row * (size_t)ring);
	float *row = malloc(sizeof(float) * (size_t)cw * LANES(cin));
	int *tag = malloc(sizeof(int) * (size_t)ring);
	if (!acc || !filtered || !row || !tag) {
		r = CAP_ERR_NOMEM;
		goto out;
	}
	for (int i = 0; i < ring; i++)
		tag[i] = -1;
	for (int oy = 0; oy < t->height; oy++) {
		for (size_t i = 0; i < out_row; i++)
			acc[i] = 0.0f;
		for (int ky = 0; ky < ty.count[oy]; ky++) {
			const float wy = ty.weight[(size_t)oy * ty.max_taps + ky];
			const int y = ty.first[(size_t)oy * ty.max_taps + ky];
			float *h = filtered + (size_t)(y % ring) * out_row;
			if (tag[y % ring] != y) {
				src->fetch(src, y, x0, cw, row);
				filter_row(row, &tx, t->width, cin, h);
				tag[y % ring] = y;
			}
			accumulate(acc, h, wy, out_row);
		}
		emit_row(t, cin, acc, oy, out);
	}
	r = 0;
out:
	free(acc);
	free(filtered);
	free(row);
	free(tag);
	taps_free(&tx);
	taps_free(&ty);
	return r;
}

int cap_preprocess(const struct cap_image *img, const struct cap_prep *p, void *tensor,
		   size_t tensor_bytes)
{
	if (!img || !img->pixels || img->width < 1 || img->height < 1 ||
	    (img->channels != 1 && img->channels != 3) ||
	    img->stride_bytes < (size_t)img->width * img->channels || !p)
		return CAP_ERR_INVALID;
	int r = check_target(&p->target, tensor, tensor_bytes);
	if (r < 0)
		return r;
	const struct rows src = { .w = img->width, .h = img->height, .cin = img->channels,
				  .fetch = fetch_image, .img = img };
	return resize_rows(&src, p, tensor);
}

int cap_preprocess_yuv_view(const struct cap_frame *frame, const struct cap_rect *view,
			    const struct cap_prep *p, void *tensor, size_t tensor_bytes)
{
	int r = check_target(&p->target, tensor, tensor_bytes);
	if (r < 0)
		return r;
	const struct rows src = { .w = view->width, .h = view->height,
				  .cin = p->target.channels == 1 ? 1 : 3, .fetch = fetch_yuv,
				  .frame = frame, .fx = view->x, .fy = view->y };
	return resize_rows(&src, p, tensor);
}
