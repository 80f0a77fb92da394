/* preprocess.c — crop, resize, colour and quantize an 8-bit image into a model input tensor in
 * one pass over the output rows.
 *
 * Both resize methods are separable filters described by per-axis "taps" (source index,
 * weight) computed once per call: `area` is an exact box filter (each output pixel averages
 * the source area it covers, fractional edges weighted by overlap — antialiased downscale,
 * like OpenCV's INTER_AREA); `bilinear` uses half-pixel centres (TF's half_pixel_centers,
 * OpenCV's INTER_LINEAR) without antialiasing. For each output row the vertical taps' source
 * rows are filtered horizontally and accumulated in floats, then converted to grey if needed,
 * rounded to a pixel and quantized as q = qmin + pixel (see capture.h and README.md "Preprocessing rule").
 * A float32 input in front of the model's own QUANTIZE gets scale·(q − zp) instead of q, so the
 * integer body sees the same q either way; a float32 input the model computes on gets
 * (pixel − mean) / std per channel. NCHW targets get the same values in planes. */
#include "capture/capture.h"
#include "capture/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LUMA_R 0.299f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

struct taps {
	int max_taps;    /* per output index */
	int *first;      /* [n][max_taps] source indices */
	float *weight;   /* [n][max_taps] */
	int *count;      /* [n] */
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

static uint8_t to_pixel(float v)
{
	float r = floorf(v + 0.5f);
	return r <= 0.0f ? 0 : r >= 255.0f ? 255 : (uint8_t)r;
}

int cap_preprocess(const struct cap_image *img, const struct cap_prep *p, void *tensor,
		   size_t tensor_bytes)
{
	const struct cap_target *t = &p->target;
	struct taps tx = { 0 }, ty = { 0 };
	int cw, ch, r;
	if (!img || !img->pixels || img->width < 1 || img->height < 1 ||
	    (img->channels != 1 && img->channels != 3) ||
	    img->stride_bytes < (size_t)img->width * img->channels || t->width < 1 ||
	    t->height < 1 || t->width > CAP_MAX_SIDE || t->height > CAP_MAX_SIDE ||
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

	if (p->crop == CAP_CROP_CENTER)
		cap_center_crop_size(img->width, img->height, t->width, t->height, &cw, &ch);
	else {
		cw = img->width;
		ch = img->height;
	}
	int x0 = (img->width - cw) / 2, y0 = (img->height - ch) / 2;
	r = taps_build(&tx, t->width, x0, cw, p->resize);
	if (r == 0)
		r = taps_build(&ty, t->height, y0, ch, p->resize);
	const int cin = img->channels;
	float *acc = malloc(sizeof(float) * (size_t)t->width * cin);
	if (r < 0 || !acc) {
		free(acc);
		taps_free(&tx);
		taps_free(&ty);
		return r < 0 ? r : CAP_ERR_NOMEM;
	}
	/* int8 tensors: qmin = -128, stored as the two's-complement byte of pixel - 128 */
	const int qmin = t->is_int8 ? -128 : 0;
	const size_t esize = t->is_float ? sizeof(float) : 1, plane = (size_t)t->width * t->height;
	uint8_t *out = tensor;
	for (int oy = 0; oy < t->height; oy++) {
		for (int i = 0; i < t->width * cin; i++)
			acc[i] = 0.0f;
		for (int ky = 0; ky < ty.count[oy]; ky++) {
			const float wy = ty.weight[(size_t)oy * ty.max_taps + ky];
			const uint8_t *row = img->pixels +
				(size_t)ty.first[(size_t)oy * ty.max_taps + ky] * img->stride_bytes;
			for (int ox = 0; ox < t->width; ox++) {
				const int *ix = tx.first + (size_t)ox * tx.max_taps;
				const float *wx = tx.weight + (size_t)ox * tx.max_taps;
				for (int c = 0; c < cin; c++) {
					float s = 0.0f;
					for (int kx = 0; kx < tx.count[ox]; kx++)
						s += wx[kx] * row[(size_t)ix[kx] * cin + c];
					acc[ox * cin + c] += wy * s;
				}
			}
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
	free(acc);
	taps_free(&tx);
	taps_free(&ty);
	return 0;
}
