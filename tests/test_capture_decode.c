/* test_capture_decode.c — capture/decode.c and bmp.c: JPEG at every DCT scale against a plain
 * box-average reference, every truncation and some corruption of a small JPEG (error or image,
 * never a crash), bytes after EOI, YUYV/NV12/GREY/RGB24 against a double-precision BT.601
 * reference, and BMPs (grey palette, 24-bit, bottom-up and top-down, padded rows). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include <cmocka.h>
#include <png.h>

#include "capture/capture.h"
#include "tests/testutil.h"

#define SRC_W 256
#define SRC_H 192

/* A smooth image (gradients) so that JPEG error stays small and comparable. */
static uint8_t *gradient(int w, int h)
{
	uint8_t *rgb = malloc((size_t)w * h * 3);
	assert_non_null(rgb);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = rgb + ((size_t)y * w + x) * 3;
			p[0] = (uint8_t)(x * 255 / (w - 1));
			p[1] = (uint8_t)(y * 255 / (h - 1));
			p[2] = (uint8_t)(128 + 100 * sin(x / 20.0) * cos(y / 25.0));
		}
	return rgb;
}

static uint8_t *encode_rgb(const uint8_t *rgb, int w, int h, int quality, unsigned long *ret_len)
{
	uint8_t *jpg = NULL;
	tjhandle tj = tjInitCompress();
	assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpg, ret_len, TJSAMP_444,
				     quality, TJFLAG_ACCURATEDCT), 0);
	tjDestroy(tj);
	return jpg;
}

/* Reference for a DCT-scaled decode: the mean of the source pixels each output pixel covers. */
static double box_mean(const uint8_t *rgb, int w, int h, int ow, int oh, int ox, int oy, int c)
{
	double x0 = (double)ox * w / ow, x1 = (double)(ox + 1) * w / ow;
	double y0 = (double)oy * h / oh, y1 = (double)(oy + 1) * h / oh;
	double sum = 0, area = 0;
	for (int y = (int)floor(y0); y < y1 && y < h; y++)
		for (int x = (int)floor(x0); x < x1 && x < w; x++) {
			double a = (fmin(x + 1, x1) - fmax(x, x0)) * (fmin(y + 1, y1) - fmax(y, y0));
			sum += a * rgb[((size_t)y * w + x) * 3 + c];
			area += a;
		}
	return sum / area;
}

static void jpeg_decodes_at_every_dct_scale(void **state)
{
	(void)state;
	uint8_t *rgb = gradient(SRC_W, SRC_H);
	unsigned long len;
	uint8_t *jpg = encode_rgb(rgb, SRC_W, SRC_H, 95, &len);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	int n = 0, tested = 0;
	tjscalingfactor *f = tjGetScalingFactors(&n);
	for (int i = 0; i < n; i++) {
		if (f[i].num > f[i].denom)
			continue;
		int sw = TJSCALED(SRC_W, f[i]), sh = TJSCALED(SRC_H, f[i]);
		/* a model exactly the scaled size: that factor is the smallest that covers it */
		struct cap_prep p = { .target = { .width = sw, .height = sh, .channels = 3 },
				      .crop = CAP_CROP_FULL };
		struct cap_image img;
		assert_int_equal(cap_decode_still(d, jpg, len, &p, &img), 0);
		assert_int_equal(img.width, sw);
		assert_int_equal(img.height, sh);
		assert_int_equal(img.channels, 3);
		double sum_err = 0, max_err = 0;
		for (int y = 0; y < sh; y++)
			for (int x = 0; x < sw; x++)
				for (int c = 0; c < 3; c++) {
					double e = fabs(img.pixels[y * img.stride_bytes + x * 3 + c] -
							box_mean(rgb, SRC_W, SRC_H, sw, sh, x, y, c));
					sum_err += e;
					max_err = fmax(max_err, e);
				}
		double mean_err = sum_err / (sw * sh * 3);
		print_message("scale %d/%d → %dx%d: mean |err| %.2f, max %.1f\n", f[i].num, f[i].denom,
			      sw, sh, mean_err, max_err);
		assert_true(mean_err < 1.5);
		assert_true(max_err < 8);
		/* grey straight from the decoder: BT.601 luma of the same reference */
		p.target.channels = 1;
		assert_int_equal(cap_decode_still(d, jpg, len, &p, &img), 0);
		assert_int_equal(img.channels, 1);
		double g_err = 0;
		for (int y = 0; y < sh; y++)
			for (int x = 0; x < sw; x++) {
				double ref = 0.299 * box_mean(rgb, SRC_W, SRC_H, sw, sh, x, y, 0) +
					     0.587 * box_mean(rgb, SRC_W, SRC_H, sw, sh, x, y, 1) +
					     0.114 * box_mean(rgb, SRC_W, SRC_H, sw, sh, x, y, 2);
				g_err += fabs(img.pixels[y * img.stride_bytes + x] - ref);
			}
		assert_true(g_err / (sw * sh) < 1.5);
		tested++;
	}
	assert_int_equal(tested, 8);   /* 1/8, 1/4, 3/8, 1/2, 5/8, 3/4, 7/8, 1 */
	cap_decoder_free(d);
	tjFree(jpg);
	free(rgb);
}

static void mjpeg_frame_decodes_at_scale_for_a_model(void **state)
{
	(void)state;
	uint8_t *rgb = gradient(SRC_W, SRC_H);
	unsigned long len;
	uint8_t *jpg = encode_rgb(rgb, SRC_W, SRC_H, 90, &len);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	/* center crop keeps 192x192; for 96x96 that is 1/2 (96), 3/8 would give 72 */
	struct cap_prep p = { .target = { .width = 96, .height = 96, .channels = 3 },
			      .crop = CAP_CROP_CENTER };
	struct cap_frame fr = { .data = jpg, .bytes = len, .format = CAP_FMT_MJPEG };
	struct cap_image img;
	assert_int_equal(cap_decode(d, &fr, &p, &img), 0);
	assert_int_equal(img.width, 128);
	assert_int_equal(img.height, 96);
	cap_decoder_free(d);
	tjFree(jpg);
	free(rgb);
}

static void truncated_jpegs_are_errors_never_crashes(void **state)
{
	(void)state;
	uint8_t *rgb = gradient(48, 32);
	unsigned long len;
	uint8_t *jpg = encode_rgb(rgb, 48, 32, 80, &len);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = 48, .height = 32, .channels = 3 } };
	struct cap_image img;
	for (unsigned long cut = 0; cut < len; cut++) {
		/* a copy of exactly `cut` bytes so ASan sees any read past the end */
		uint8_t *t = malloc(cut ? cut : 1);
		memcpy(t, jpg, cut);
		int r = cap_decode_still(d, t, cut, &p, &img);
		assert_true(r == CAP_ERR_CORRUPT || r == CAP_ERR_UNSUPPORTED);
		free(t);
	}
	/* the whole thing plus junk after EOI decodes the same as the whole thing */
	uint8_t *longer = malloc(len + 4096);
	memcpy(longer, jpg, len);
	for (int i = 0; i < 4096; i++)
		longer[len + i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(cap_decode_still(d, jpg, len, &p, &img), 0);
	uint8_t *first = malloc(48 * 32 * 3);
	memcpy(first, img.pixels, 48 * 32 * 3);
	assert_int_equal(cap_decode_still(d, longer, len + 4096, &p, &img), 0);
	assert_memory_equal(first, img.pixels, 48 * 32 * 3);
	free(first);
	free(longer);
	cap_decoder_free(d);
	tjFree(jpg);
	free(rgb);
}

static void corrupted_jpegs_are_errors_or_images(void **state)
{
	(void)state;
	uint8_t *rgb = gradient(48, 32);
	unsigned long len;
	uint8_t *jpg = encode_rgb(rgb, 48, 32, 80, &len);
	uint8_t *t = malloc(len);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = 16, .height = 16, .channels = 3 } };
	struct cap_image img;
	int ok = 0, bad = 0;
	for (unsigned long i = 0; i < len; i++) {
		static const uint8_t flips[] = { 0xFF, 0x01, 0x80 };
		for (int k = 0; k < 3; k++) {
			memcpy(t, jpg, len);
			t[i] ^= flips[k];
			int r = cap_decode_still(d, t, len, &p, &img);
			if (r == 0) {
				ok++;
				assert_true(img.width >= 1 && img.height >= 1);
			} else {
				assert_true(r == CAP_ERR_CORRUPT || r == CAP_ERR_UNSUPPORTED);
				bad++;
			}
		}
	}
	print_message("%d corruptions decoded, %d rejected\n", ok, bad);
	assert_true(bad > 0);
	free(t);
	cap_decoder_free(d);
	tjFree(jpg);
	free(rgb);
}

static double clampd(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* BT.601 limited range, straight from the formula */
static void ref_yuv(int y, int u, int v, double out[3])
{
	double c = 255.0 / 219.0 * (y - 16), uu = (u - 128) * 255.0 / 224.0,
	       vv = (v - 128) * 255.0 / 224.0;
	out[0] = clampd(c + 1.402 * vv);
	out[1] = clampd(c - 0.344136 * uu - 0.714136 * vv);
	out[2] = clampd(c + 1.772 * uu);
}

static void check_yuv(enum cap_pixfmt fmt, const uint8_t *data, size_t bytes, int w, int h,
		      int stride, int channels)
{
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = w, .height = h, .channels = channels } };
	struct cap_frame fr = { .data = data, .bytes = bytes, .format = fmt, .width = w, .height = h,
				.stride_bytes = stride };
	struct cap_image img;
	assert_int_equal(cap_decode(d, &fr, &p, &img), 0);
	assert_int_equal(img.channels, channels);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int Y, U, V;
			if (fmt == CAP_FMT_YUYV) {
				const uint8_t *q = data + (size_t)y * stride + (x / 2) * 4;
				Y = q[(x % 2) * 2];
				U = q[1];
				V = q[3];
			} else {
				Y = data[(size_t)y * stride + x];
				const uint8_t *uv = data + (size_t)stride * h + (size_t)(y / 2) * stride;
				U = uv[(x / 2) * 2];
				V = uv[(x / 2) * 2 + 1];
			}
			double rgb[3];
			ref_yuv(Y, U, V, rgb);
			const uint8_t *px = img.pixels + (size_t)y * img.stride_bytes + (size_t)x * channels;
			if (channels == 3)
				for (int c = 0; c < 3; c++)
					assert_true(fabs(px[c] - rgb[c]) <= 1.0);
			else
				assert_true(fabs(px[0] - clampd(255.0 / 219.0 * (Y - 16))) <= 1.0);
		}
	/* one byte short is a corrupt frame */
	fr.bytes = bytes - 1;
	assert_int_equal(cap_decode(d, &fr, &p, &img), CAP_ERR_CORRUPT);
	cap_decoder_free(d);
}

static void yuyv_and_nv12_convert_like_bt601(void **state)
{
	(void)state;
	const int w = 10, h = 7, stride = 24;   /* padded rows */
	uint8_t *buf = malloc((size_t)stride * h * 2);
	srand(42);
	for (int i = 0; i < stride * h * 2; i++)
		buf[i] = (uint8_t)rand();
	check_yuv(CAP_FMT_YUYV, buf, (size_t)stride * (h - 1) + w * 2, w, h, stride, 3);
	check_yuv(CAP_FMT_YUYV, buf, (size_t)stride * (h - 1) + w * 2, w, h, stride, 1);
	size_t nv12 = (size_t)stride * h + (size_t)stride * ((h + 1) / 2 - 1) + w;
	check_yuv(CAP_FMT_NV12, buf, nv12, w, h, stride, 3);
	check_yuv(CAP_FMT_NV12, buf, nv12, w, h, stride, 1);
	free(buf);
}

static void grey_and_rgb24_are_used_in_place(void **state)
{
	(void)state;
	uint8_t buf[8 * 5];
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = 2, .height = 2, .channels = 3 } };
	struct cap_frame fr = { .data = buf, .bytes = sizeof(buf), .format = CAP_FMT_GREY,
				.width = 6, .height = 5, .stride_bytes = 8 };
	struct cap_image img;
	assert_int_equal(cap_decode(d, &fr, &p, &img), 0);
	assert_ptr_equal(img.pixels, buf);
	assert_int_equal(img.channels, 1);
	assert_int_equal(img.stride_bytes, 8);
	fr.format = CAP_FMT_RGB24;
	fr.width = 2;
	assert_int_equal(cap_decode(d, &fr, &p, &img), 0);
	assert_int_equal(img.channels, 3);
	fr.width = 3;   /* 9 bytes per line do not fit a stride of 8 */
	assert_int_equal(cap_decode(d, &fr, &p, &img), CAP_ERR_CORRUPT);
	fr.format = CAP_FMT_AUTO;
	assert_int_equal(cap_decode(d, &fr, &p, &img), CAP_ERR_UNSUPPORTED);
	cap_decoder_free(d);
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }

/* Writes a BMP of pixel(x, y) values; bpp 8 (grey palette) or 24. */
static uint8_t *make_bmp(int w, int h, int bpp, bool top_down, size_t *ret_len)
{
	size_t row = (((size_t)w * bpp + 31) / 32) * 4, pal = bpp == 8 ? 1024 : 0;
	size_t off = 54 + pal, len = off + row * h;
	uint8_t *b = calloc(1, len);
	b[0] = 'B';
	b[1] = 'M';
	put32(b + 2, (uint32_t)len);
	put32(b + 10, (uint32_t)off);
	put32(b + 14, 40);
	put32(b + 18, (uint32_t)w);
	put32(b + 22, (uint32_t)(top_down ? -h : h));
	put16(b + 26, 1);
	put16(b + 28, (unsigned)bpp);
	for (int i = 0; bpp == 8 && i < 256; i++)
		b[54 + 4 * i] = b[55 + 4 * i] = b[56 + 4 * i] = (uint8_t)i;
	for (int y = 0; y < h; y++) {
		uint8_t *r = b + off + row * (size_t)(top_down ? y : h - 1 - y);
		for (int x = 0; x < w; x++) {
			if (bpp == 8) {
				r[x] = (uint8_t)(x * 40 + y);
			} else {   /* stored B, G, R */
				r[3 * x] = (uint8_t)(y * 30);
				r[3 * x + 1] = (uint8_t)(x + y);
				r[3 * x + 2] = (uint8_t)(x * 50);
			}
		}
	}
	*ret_len = len;
	return b;
}

static void bmp_grey_and_rgb_both_row_orders(void **state)
{
	(void)state;
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = 4, .height = 4, .channels = 3 } };
	for (int bpp = 8; bpp <= 24; bpp += 16)
		for (int td = 0; td <= 1; td++) {
			size_t len;
			uint8_t *b = make_bmp(5, 3, bpp, td, &len);
			struct cap_image img;
			assert_int_equal(cap_decode_still(d, b, len, &p, &img), 0);
			assert_int_equal(img.width, 5);
			assert_int_equal(img.height, 3);
			assert_int_equal(img.channels, bpp == 8 ? 1 : 3);
			for (int y = 0; y < 3; y++)
				for (int x = 0; x < 5; x++) {
					const uint8_t *px = img.pixels + y * img.stride_bytes + x * img.channels;
					if (bpp == 8) {
						assert_int_equal(px[0], x * 40 + y);
					} else {
						assert_int_equal(px[0], x * 50);
						assert_int_equal(px[1], x + y);
						assert_int_equal(px[2], y * 30);
					}
				}
			for (size_t cut = 0; cut < len; cut += 7)
				assert_int_not_equal(cap_decode_still(d, b, cut, &p, &img), 0);
			free(b);
		}
	cap_decoder_free(d);
}

/* A w×h PNG written by libpng itself (format PNG_FORMAT_RGB, _RGBA or _GRAY) of the pattern
 * px(x, y, c) = x * 40 + y * 7 + c * 3. */
static uint8_t *make_png(int w, int h, png_uint_32 format, size_t *ret_len)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)w;
	img.height = (png_uint_32)h;
	img.format = format;
	const int ch = (int)PNG_IMAGE_PIXEL_CHANNELS(format);
	uint8_t *px = malloc((size_t)w * h * ch);
	assert_non_null(px);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < ch; c++)
				px[(y * w + x) * ch + c] = (format & PNG_FORMAT_FLAG_ALPHA) && c == ch - 1
								   ? 255 : (uint8_t)(x * 40 + y * 7 + c * 3);
	png_alloc_size_t len = 0;
	assert_true(png_image_write_to_memory(&img, NULL, &len, 0, px, 0, NULL));
	uint8_t *out = malloc(len);
	assert_non_null(out);
	assert_true(png_image_write_to_memory(&img, out, &len, 0, px, 0, NULL));
	free(px);
	*ret_len = len;
	return out;
}

/* PNG through libpng: RGB, RGBA (opaque) and grey keep their pixels; every truncation and a
 * damaged IDAT byte (CRC) are errors, never a crash. */
static void png_rgb_rgba_and_grey(void **state)
{
	(void)state;
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = 4, .height = 4, .channels = 3 } };
	static const png_uint_32 formats[] = { PNG_FORMAT_RGB, PNG_FORMAT_RGBA, PNG_FORMAT_GRAY };
	for (size_t f = 0; f < 3; f++) {
		size_t len;
		uint8_t *b = make_png(6, 5, formats[f], &len);
		struct cap_image img;
		assert_int_equal(cap_decode_still(d, b, len, &p, &img), 0);
		assert_int_equal(img.width, 6);
		assert_int_equal(img.height, 5);
		assert_int_equal(img.channels, formats[f] == PNG_FORMAT_GRAY ? 1 : 3);
		for (int y = 0; y < 5; y++)
			for (int x = 0; x < 6; x++)
				for (int c = 0; c < img.channels; c++)
					assert_int_equal(img.pixels[y * img.stride_bytes + x * img.channels + c],
							 x * 40 + y * 7 + c * 3);
		/* every cut before the end of the image data (IDAT, its CRC included) fails; a file
		 * missing only its IEND trailer still holds the whole picture */
		uint8_t *idat = memmem(b, len, "IDAT", 4);
		assert_non_null(idat);
		const size_t idat_end = (size_t)(idat - b) + 4 +
					((size_t)idat[-4] << 24 | (size_t)idat[-3] << 16 | (size_t)idat[-2] << 8 | idat[-1]) + 4;
		for (size_t cut = 0; cut < idat_end; cut += 3)
			if (cap_decode_still(d, b, cut, &p, &img) == 0)
				fail_msg("format %zu: a PNG cut at %zu of %zu bytes decoded", f, cut, len);
		idat[6] ^= 0x55;
		assert_int_equal(cap_decode_still(d, b, len, &p, &img), CAP_ERR_CORRUPT);
		free(b);
	}
	cap_decoder_free(d);
}

static void shared_photos_decode(void **state)
{
	(void)state;
	static const struct { const char *name; int channels; } photos[] = {
		{ "images/cat.bmp", 3 }, { "images/grace_hopper.bmp", 3 },
		{ "images/person.bmp", 1 }, { "images/no_person.bmp", 1 },
	};
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_prep p = { .target = { .width = 96, .height = 96, .channels = 3 } };
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		uint8_t *b = tu_read_file(tu_model_path(photos[i].name), &len);
		struct cap_image img;
		assert_int_equal(cap_decode_still(d, b, len, &p, &img), 0);
		assert_int_equal(img.channels, photos[i].channels);
		assert_true(img.width >= 96 && img.height >= 96);
		free(b);
	}
	cap_decoder_free(d);
}

/* cap_encode_jpeg (snapshots): a smooth picture survives the round trip through capture's own
 * decoder within JPEG's loss, grey stays grey, and bad arguments are refused. */
static void encoded_jpegs_decode_back(void **state)
{
	(void)state;
	enum { W = 64, H = 48 };
	static uint8_t rgb[H][W][3], grey[H][W];
	char err[256];
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			rgb[y][x][0] = (uint8_t)(x * 4);
			rgb[y][x][1] = (uint8_t)(y * 5);
			rgb[y][x][2] = 128;
			grey[y][x] = (uint8_t)(x * 2 + y);
		}
	for (int ch = 1; ch <= 3; ch += 2) {
		struct cap_image in = { .pixels = ch == 3 ? &rgb[0][0][0] : &grey[0][0], .width = W,
					.height = H, .channels = ch, .stride_bytes = (size_t)W * (size_t)ch };
		uint8_t *jpeg = NULL;
		size_t len = 0;
		assert_int_equal(cap_encode_jpeg(&in, 95, &jpeg, &len, err, sizeof(err)), 0);
		assert_true(len > 100 && jpeg[0] == 0xff && jpeg[1] == 0xd8);
		struct cap_decoder *d;
		struct cap_image out;
		struct cap_prep p = { .target = { .width = W, .height = H, .channels = ch },
				      .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA };
		assert_int_equal(cap_decoder_new(&d), 0);
		assert_int_equal(cap_decode_still(d, jpeg, len, &p, &out), 0);
		assert_int_equal(out.width, W);
		assert_int_equal(out.height, H);
		assert_int_equal(out.channels, ch);
		double err_sum = 0;
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W * ch; x++)
				err_sum += fabs((double)out.pixels[(size_t)y * out.stride_bytes + (size_t)x] -
						(double)in.pixels[(size_t)y * in.stride_bytes + (size_t)x]);
		assert_true(err_sum / (W * H * ch) < 4.0);
		cap_decoder_free(d);
		free(jpeg);
	}
	struct cap_image bad = { .pixels = &grey[0][0], .width = W, .height = H, .channels = 2,
				 .stride_bytes = W * 2 };
	uint8_t *jpeg;
	size_t len;
	assert_int_equal(cap_encode_jpeg(&bad, 90, &jpeg, &len, err, sizeof(err)), CAP_ERR_INVALID);
	bad.channels = 1;
	assert_int_equal(cap_encode_jpeg(&bad, 0, &jpeg, &len, err, sizeof(err)), CAP_ERR_INVALID);
	bad.stride_bytes = W - 1;
	assert_int_equal(cap_encode_jpeg(&bad, 90, &jpeg, &len, err, sizeof(err)), CAP_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jpeg_decodes_at_every_dct_scale),
		cmocka_unit_test(mjpeg_frame_decodes_at_scale_for_a_model),
		cmocka_unit_test(truncated_jpegs_are_errors_never_crashes),
		cmocka_unit_test(corrupted_jpegs_are_errors_or_images),
		cmocka_unit_test(yuyv_and_nv12_convert_like_bt601),
		cmocka_unit_test(grey_and_rgb24_are_used_in_place),
		cmocka_unit_test(bmp_grey_and_rgb_both_row_orders),
		cmocka_unit_test(shared_photos_decode),
		cmocka_unit_test(png_rgb_rgba_and_grey),
		cmocka_unit_test(encoded_jpegs_decode_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
