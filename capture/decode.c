/* decode.c — frame bytes → an 8-bit RGB or grey image, as cheaply as the model allows.
 *
 * JPEG goes through TurboJPEG (2.1 API: tjDecompressHeader3/tjDecompress2) at the smallest
 * DCT scale whose cropped output still covers the model input, straight to grey when the
 * model wants one channel: a 1280×720 MJPEG frame for a 224×224 model decodes at 1/2, for a
 * 96×96 one at 1/4, which is most of the CPU saved on a Pi. The data is cut at EOI first
 * (the first MJPEG buffer's bytesused is bogus); anything libjpeg complains about, warning or
 * error, makes the frame CAP_ERR_CORRUPT — a half-grey frame must not be classified — and
 * replaces the TurboJPEG handle (see tj_fail). cap_decoder_last_error() keeps the reason.
 * GREY and RGB24 frames are used in place (no copy); YUYV and NV12 are converted with BT.601
 * limited-range coefficients (what V4L2 drivers mean by default for YUV), to grey directly
 * from Y when the model wants grey. cap_decode converts the whole frame (for callers that
 * want the picture); cap_preprocess_yuv and cap_frame_to_tensor hand the same row conversion
 * (cap_yuv_row) to the resize, which converts only the rows and columns it reads. */
#include "capture/capture.h"
#include "capture/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

struct cap_decoder {
	tjhandle tj;
	uint8_t *buf;
	size_t buf_bytes;
	char reason[160];               /* why the last decode failed; "" after a success */
};

static int fail(struct cap_decoder *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct cap_decoder *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return err;
}

const char *cap_decoder_last_error(const struct cap_decoder *d)
{
	return d ? d->reason : "";
}

int cap_decoder_new(struct cap_decoder **ret_decoder)
{
	struct cap_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return CAP_ERR_NOMEM;
	d->tj = tjInitDecompress();
	if (!d->tj) {
		free(d);
		return CAP_ERR_NOMEM;
	}
	*ret_decoder = d;
	return 0;
}

void cap_decoder_free(struct cap_decoder *d)
{
	if (!d)
		return;
	if (d->tj)
		tjDestroy(d->tj);
	free(d->buf);
	free(d);
}

static int grow(struct cap_decoder *d, size_t need)
{
	if (d->buf_bytes >= need)
		return 0;
	uint8_t *nb = realloc(d->buf, need);
	if (!nb)
		return CAP_ERR_NOMEM;
	d->buf = nb;
	d->buf_bytes = need;
	return 0;
}

/* TurboJPEG 2.1 leaves its libjpeg object wherever the error struck (e.g. inside a header:
 * "Empty JPEG image" for a 0×0 SOF), and the next call carries on from there ("Bogus marker
 * length" for every good frame after). Its API offers no reset, so after any error the handle
 * is replaced; the reason is read first, as it lives in the handle. Errors are rare, a new
 * handle costs a few KB and microseconds. */
static int tj_fail(struct cap_decoder *d, const char *what)
{
	fail(d, CAP_ERR_CORRUPT, "JPEG %s: %s", what, tjGetErrorStr2(d->tj));
	tjDestroy(d->tj);
	d->tj = tjInitDecompress();     /* NULL: retried by the next decode */
	return CAP_ERR_CORRUPT;
}

static int decode_jpeg(struct cap_decoder *d, const uint8_t *data, size_t bytes,
		       const struct cap_prep *p, struct cap_image *ret_image)
{
	int w, h, subsamp, colorspace, num, denom, r;
	size_t len;
	if (!d->tj && !(d->tj = tjInitDecompress()))
		return fail(d, CAP_ERR_NOMEM, "cannot create a TurboJPEG decompressor");
	r = cap_jpeg_length(data, bytes, &len);
	if (r < 0)
		return fail(d, r, "no complete JPEG in %zu bytes (no end-of-image marker)", bytes);
	if (len > (size_t)0xffffffffUL)
		return fail(d, CAP_ERR_CORRUPT, "JPEG of %zu bytes is too large", len);
	if (tjDecompressHeader3(d->tj, data, (unsigned long)len, &w, &h, &subsamp, &colorspace) != 0)
		return tj_fail(d, "header");
	if (w < 1 || h < 1 || w > CAP_MAX_SIDE || h > CAP_MAX_SIDE)
		return fail(d, CAP_ERR_UNSUPPORTED, "JPEG is %dx%d, outside 1..%d", w, h, CAP_MAX_SIDE);
	r = cap_jpeg_pick_scale(w, h, p->target.width, p->target.height, p->crop, &num, &denom);
	if (r < 0)
		return fail(d, r, "no DCT scale for a %dx%d JPEG", w, h);
	tjscalingfactor sf = { num, denom };
	const int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
	const int channels = p->target.channels == 1 ? 1 : 3;
	const size_t stride = (size_t)sw * channels;
	r = grow(d, stride * sh);
	if (r < 0)
		return fail(d, r, "out of memory for a %dx%d image", sw, sh);
	if (tjDecompress2(d->tj, data, (unsigned long)len, d->buf, sw, (int)stride, sh,
			  channels == 1 ? TJPF_GRAY : TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
		return tj_fail(d, "data");
	ret_image->pixels = d->buf;
	ret_image->width = sw;
	ret_image->height = sh;
	ret_image->channels = channels;
	ret_image->stride_bytes = stride;
	return 0;
}

static uint8_t clamp8(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* BT.601 limited range, ×1024 fixed point: the chroma terms of one U, V pair (shared by the two
 * pixels of a YUYV macropixel or an NV12 2×2 block), then each pixel from its Y. |terms| <
 * 2^20, no overflow in int. Inlined with a constant channel count by the row loops below. */
struct chroma {
	int r, g, b;
};

static inline struct chroma chroma_of(int u, int v)
{
	u -= 128;
	v -= 128;
	return (struct chroma){ 1634 * v + 512, -401 * u - 833 * v + 512, 2066 * u + 512 };
}

/* clamp(v) to 0..255 as a float, for v = index − CLAMP_F_OFFSET: the row conversion for the
 * resize (cap_yuv_row_floats) looks the clamped value up instead of clamping and converting. The
 * sums below shift to −277 … 534, inside the table. */
#define CLAMP_F_OFFSET 320
#define X4(v) v, v, v, v
#define X16(v) X4(v), X4(v), X4(v), X4(v)
#define X64(v) X16(v), X16(v), X16(v), X16(v)
#define R4(b) b, b + 1, b + 2, b + 3
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define R64(b) R16(b), R16(b + 16), R16(b + 32), R16(b + 48)
static const float clamp_f[CLAMP_F_OFFSET + 256 + 320] = {
	X64(0.0f), X64(0.0f), X64(0.0f), X64(0.0f), X64(0.0f),
	R64(0.0f), R64(64.0f), R64(128.0f), R64(192.0f),
	X64(255.0f), X64(255.0f), X64(255.0f), X64(255.0f), X64(255.0f),
};

/* Pixel i of a row from its Y and chroma: `channels` bytes (RGB or grey) when floats is false,
 * else floats as the resize reads them: 4 lanes for RGB (the fourth 0), 1 for grey. The same
 * integer sums either way; inlined with constant channels and floats by the row loops. */
static inline void yuv_to(void *out, int i, const int channels, const bool floats, int y,
			  struct chroma k)
{
	const int c = (y - 16) * 1192;
	if (floats) {
		float *o = (float *)out + (size_t)i * (channels == 1 ? 1 : 4);
		if (channels == 1) {
			o[0] = clamp_f[((c + 512) >> 10) + CLAMP_F_OFFSET];
			return;
		}
		o[0] = clamp_f[((c + k.r) >> 10) + CLAMP_F_OFFSET];
		o[1] = clamp_f[((c + k.g) >> 10) + CLAMP_F_OFFSET];
		o[2] = clamp_f[((c + k.b) >> 10) + CLAMP_F_OFFSET];
		o[3] = 0.0f;
		return;
	}
	uint8_t *o = (uint8_t *)out + (size_t)i * channels;
	if (channels == 1) {
		o[0] = clamp8((c + 512) >> 10);
		return;
	}
	o[0] = clamp8((c + k.r) >> 10);
	o[1] = clamp8((c + k.g) >> 10);
	o[2] = clamp8((c + k.b) >> 10);
}

/* YUYV: pixels 2m and 2m + 1 are bytes 0 and 2 of macropixel m, which holds U at 1, V at 3. */
static inline void yuyv_row(const uint8_t *row, int x0, int n, const int channels,
			    const bool floats, void *out)
{
	int i = 0;
	if (n > 0 && (x0 & 1)) {
		const uint8_t *q = row + (size_t)(x0 / 2) * 4;
		yuv_to(out, 0, channels, floats, q[2], chroma_of(q[1], q[3]));
		i = 1;
	}
	for (; i + 1 < n; i += 2) {
		const uint8_t *q = row + (size_t)((x0 + i) / 2) * 4;
		const struct chroma k = chroma_of(q[1], q[3]);
		yuv_to(out, i, channels, floats, q[0], k);
		yuv_to(out, i + 1, channels, floats, q[2], k);
	}
	if (i < n) {
		const uint8_t *q = row + (size_t)((x0 + i) / 2) * 4;
		yuv_to(out, i, channels, floats, q[0], chroma_of(q[1], q[3]));
	}
}

/* NV12: Y plane, then one interleaved CbCr pair per 2×2 pixels. */
static inline void nv12_row(const uint8_t *row, const uint8_t *uv, int x0, int n,
			    const int channels, const bool floats, void *out)
{
	int i = 0;
	if (n > 0 && (x0 & 1)) {
		yuv_to(out, 0, channels, floats, row[x0], chroma_of(uv[x0 - 1], uv[x0]));
		i = 1;
	}
	for (; i + 1 < n; i += 2) {
		const int x = x0 + i;
		const struct chroma k = chroma_of(uv[x], uv[x + 1]);
		yuv_to(out, i, channels, floats, row[x], k);
		yuv_to(out, i + 1, channels, floats, row[x + 1], k);
	}
	if (i < n)
		yuv_to(out, i, channels, floats, row[x0 + i], chroma_of(uv[x0 + i], uv[x0 + i + 1]));
}

static inline void yuv_row(const struct cap_frame *f, int y, int x0, int n, const int channels,
			   const bool floats, void *out)
{
	const size_t stride = (size_t)f->stride_bytes;
	const uint8_t *row = f->data + (size_t)y * stride;
	if (f->format == CAP_FMT_YUYV)
		yuyv_row(row, x0, n, channels, floats, out);
	else
		nv12_row(row, f->data + stride * (size_t)f->height + stride * (size_t)(y / 2), x0, n,
			 channels, floats, out);
}

void cap_yuv_row(const struct cap_frame *f, int y, int x0, int n, int channels, uint8_t *out)
{
	if (channels == 1)
		yuv_row(f, y, x0, n, 1, false, out);
	else
		yuv_row(f, y, x0, n, 3, false, out);
}

void cap_yuv_row_floats(const struct cap_frame *f, int y, int x0, int n, int channels, float *out)
{
	if (channels == 1)
		yuv_row(f, y, x0, n, 1, true, out);
	else
		yuv_row(f, y, x0, n, 3, true, out);
}

bool cap_format_is_yuv(enum cap_pixfmt f)
{
	return f == CAP_FMT_YUYV || f == CAP_FMT_NV12;
}

/* A raw frame's geometry against its bytes: 0, or CAP_ERR_CORRUPT / CAP_ERR_UNSUPPORTED with
 * the reason kept. */
static int raw_check(struct cap_decoder *d, const struct cap_frame *f)
{
	const int w = f->width, h = f->height;
	const size_t stride = (size_t)f->stride_bytes;
	size_t min_stride, need;
	if (w < 1 || h < 1 || w > CAP_MAX_SIDE || h > CAP_MAX_SIDE || f->stride_bytes < 1)
		return fail(d, CAP_ERR_CORRUPT, "%s frame %dx%d stride %d is out of range",
			    cap_format_name(f->format), w, h, f->stride_bytes);
	switch (f->format) {
	case CAP_FMT_GREY: min_stride = (size_t)w; break;
	case CAP_FMT_RGB24: min_stride = (size_t)w * 3; break;
	case CAP_FMT_YUYV: min_stride = (size_t)(w + 1) / 2 * 4; break;
	case CAP_FMT_NV12: min_stride = (size_t)w; break;
	default: return fail(d, CAP_ERR_UNSUPPORTED, "cannot decode %s frames",
			     cap_format_name(f->format));
	}
	need = stride * (size_t)(h - 1) + min_stride;
	if (f->format == CAP_FMT_NV12)   /* interleaved CbCr plane, half height, after Y */
		need = stride * (size_t)h + stride * (size_t)((h + 1) / 2 - 1) + (size_t)(w + 1) / 2 * 2;
	if (stride < min_stride || f->bytes < need)
		return fail(d, CAP_ERR_CORRUPT, "%s frame %dx%d stride %zu needs %zu bytes, has %zu",
			    cap_format_name(f->format), w, h, stride, need, f->bytes);
	return 0;
}

static int decode_raw(struct cap_decoder *d, const struct cap_frame *f, const struct cap_prep *p,
		      struct cap_image *ret_image)
{
	const int w = f->width, h = f->height;
	int r = raw_check(d, f);
	if (r < 0)
		return r;
	if (f->format == CAP_FMT_GREY || f->format == CAP_FMT_RGB24) {
		ret_image->pixels = f->data;
		ret_image->width = w;
		ret_image->height = h;
		ret_image->channels = f->format == CAP_FMT_GREY ? 1 : 3;
		ret_image->stride_bytes = (size_t)f->stride_bytes;
		return 0;
	}
	const int channels = p->target.channels == 1 ? 1 : 3;
	r = grow(d, (size_t)w * h * channels);
	if (r < 0)
		return fail(d, r, "out of memory for a %dx%d image", w, h);
	for (int y = 0; y < h; y++)
		cap_yuv_row(f, y, 0, w, channels, d->buf + (size_t)y * w * channels);
	ret_image->pixels = d->buf;
	ret_image->width = w;
	ret_image->height = h;
	ret_image->channels = channels;
	ret_image->stride_bytes = (size_t)w * channels;
	return 0;
}

int cap_preprocess_yuv(struct cap_decoder *d, const struct cap_frame *frame,
		       const struct cap_rect *region, const struct cap_prep *p, void *tensor,
		       size_t tensor_bytes)
{
	if (!d || !frame || !frame->data || !p)
		return CAP_ERR_INVALID;
	d->reason[0] = '\0';
	if (!cap_format_is_yuv(frame->format))
		return fail(d, CAP_ERR_UNSUPPORTED, "%s frames are not converted while resizing",
			    cap_format_name(frame->format));
	int r = raw_check(d, frame);
	if (r < 0)
		return r;
	const struct cap_rect whole = { 0, 0, frame->width, frame->height };
	const struct cap_rect *v = region ? region : &whole;
	if (v->width < 1 || v->height < 1 || v->x < 0 || v->y < 0 ||
	    v->x > frame->width - v->width || v->y > frame->height - v->height)
		return fail(d, CAP_ERR_INVALID, "region %dx%d at %d,%d is not inside the %dx%d frame",
			    v->width, v->height, v->x, v->y, frame->width, frame->height);
	r = cap_preprocess_yuv_view(frame, v, p, tensor, tensor_bytes);
	return r < 0 ? fail(d, r, "preprocess: %s", cap_strerror(r)) : 0;
}

int cap_decode(struct cap_decoder *d, const struct cap_frame *frame, const struct cap_prep *p,
	       struct cap_image *ret_image)
{
	if (!d || !frame || !frame->data || !p || !ret_image)
		return CAP_ERR_INVALID;
	d->reason[0] = '\0';
	if (frame->format == CAP_FMT_MJPEG)
		return decode_jpeg(d, frame->data, frame->bytes, p, ret_image);
	return decode_raw(d, frame, p, ret_image);
}

int cap_decode_still(struct cap_decoder *d, const uint8_t *data, size_t bytes,
		     const struct cap_prep *p, struct cap_image *ret_image)
{
	if (!d || !data || !p || !ret_image)
		return CAP_ERR_INVALID;
	d->reason[0] = '\0';
	if (bytes >= 2 && data[0] == 0xFF && data[1] == 0xD8)
		return decode_jpeg(d, data, bytes, p, ret_image);
	if (bytes >= 2 && data[0] == 'B' && data[1] == 'M') {
		int r = cap_bmp_decode(data, bytes, &d->buf, &d->buf_bytes, ret_image);
		return r < 0 ? fail(d, r, "BMP: %s", cap_strerror(r)) : 0;
	}
	if (cap_png_sniff(data, bytes)) {
		int r = cap_png_decode(data, bytes, &d->buf, &d->buf_bytes, ret_image);
		return r < 0 ? fail(d, r, "PNG: %s", cap_strerror(r)) : 0;
	}
	return fail(d, CAP_ERR_UNSUPPORTED, "neither JPEG, PNG nor BMP (first bytes %02x %02x)",
		    bytes > 0 ? data[0] : 0, bytes > 1 ? data[1] : 0);
}

int cap_frame_to_tensor(struct cap_decoder *d, const struct cap_frame *frame,
			const struct cap_prep *p, void *tensor, size_t tensor_bytes)
{
	if (frame && cap_format_is_yuv(frame->format))
		return cap_preprocess_yuv(d, frame, NULL, p, tensor, tensor_bytes);
	struct cap_image img;
	int r = cap_decode(d, frame, p, &img);
	if (r < 0)
		return r;
	r = cap_preprocess(&img, p, tensor, tensor_bytes);
	return r < 0 ? fail(d, r, "preprocess: %s", cap_strerror(r)) : 0;
}
