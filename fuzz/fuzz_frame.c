/* fuzz_frame.c — libFuzzer target for everything capture/ does with bytes from outside: JPEG
 * framing and decode (TurboJPEG, DCT-scaled), BMP, raw YUYV/NV12/GREY/RGB24 frames with odd
 * geometry, concatenated-MJPEG splitting, and preprocessing of whatever decoded (YUYV/NV12 also
 * converted inside the resize, which must match their decoded picture bit for bit).
 * Input: byte 0 picks the path, bytes 1..6 the target/frame geometry, the rest is the data.
 * After each input the same decoder must still decode a known good JPEG to the very pixels it
 * gave at start (issue #13: one bad frame used to leave the TurboJPEG handle broken for good).
 * Build: make fuzz (clang); run: build/fuzz/fuzz_frame -max_total_time=60. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "capture/capture.h"

#define GOOD_W 40
#define GOOD_H 24

static struct cap_decoder *decoder;
static unsigned char *good_jpeg;
static unsigned long good_len;
static uint8_t good_pixels[GOOD_W * GOOD_H * 3];
static const struct cap_prep good_prep = { .target = { .width = GOOD_W, .height = GOOD_H,
						       .channels = 3 } };

/* A small JPEG made once, and its pixels as decoded by the fresh decoder. */
static int make_good_frame(void)
{
	uint8_t rgb[GOOD_W * GOOD_H * 3];
	for (size_t i = 0; i < sizeof(rgb); i++)
		rgb[i] = (uint8_t)(i * 5 + i / (GOOD_W * 3) * 11);
	tjhandle tj = tjInitCompress();
	if (!tj || tjCompress2(tj, rgb, GOOD_W, 0, GOOD_H, TJPF_RGB, &good_jpeg, &good_len,
			       TJSAMP_420, 90, 0) != 0)
		abort();
	tjDestroy(tj);
	struct cap_image img;
	if (cap_decode_still(decoder, good_jpeg, good_len, &good_prep, &img) != 0 ||
	    img.width != GOOD_W || img.height != GOOD_H || img.stride_bytes != GOOD_W * 3)
		abort();
	memcpy(good_pixels, img.pixels, sizeof(good_pixels));
	return 0;
}

static void good_frame_still_decodes(void)
{
	struct cap_image img;
	if (cap_decode_still(decoder, good_jpeg, good_len, &good_prep, &img) != 0 ||
	    memcmp(img.pixels, good_pixels, sizeof(good_pixels)) != 0 ||
	    cap_decoder_last_error(decoder)[0] != '\0')
		abort();
}

static void to_tensor(const struct cap_image *img, const struct cap_prep *p)
{
	size_t n = (size_t)p->target.width * p->target.height * p->target.channels;
	uint8_t *t = malloc(n);
	if (t) {
		cap_preprocess(img, p, t, n);
		free(t);
	}
}

/* A YUYV/NV12 frame converted inside the resize must give the very tensor of its decoded
 * picture's view (cap_preprocess_yuv's promise), for a region the input picks. */
static void fused_matches(const struct cap_frame *f, const struct cap_image *img,
			  const struct cap_prep *p, uint8_t a, uint8_t b)
{
	const size_t n = (size_t)p->target.width * p->target.height * p->target.channels;
	const struct cap_rect r = { a % img->width, b % img->height, img->width - a % img->width,
				    img->height - b % img->height };
	struct cap_image view = *img;
	view.pixels += (size_t)r.y * img->stride_bytes + (size_t)r.x * img->channels;
	view.width = r.width;
	view.height = r.height;
	uint8_t *want = malloc(n), *got = malloc(n);
	if (want && got && (cap_preprocess(&view, p, want, n) != 0 ||
			    cap_preprocess_yuv(decoder, f, &r, p, got, n) != 0 || memcmp(want, got, n) != 0))
		abort();
	free(want);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 7)
		return 0;
	if (!decoder && (cap_decoder_new(&decoder) < 0 || make_good_frame() < 0))
		abort();
	const uint8_t mode = data[0] % 4;
	struct cap_prep p = {
		.target = { .width = 1 + data[1] % 64, .height = 1 + data[2] % 64,
			    .channels = (data[3] & 1) ? 3 : 1, .is_int8 = data[3] & 2,
			    .scale = 1.0f / 128, .zero_point = 0 },
		.crop = (data[3] & 4) ? CAP_CROP_FULL : CAP_CROP_CENTER,
		.resize = (data[3] & 8) ? CAP_RESIZE_BILINEAR : CAP_RESIZE_AREA,
	};
	const uint8_t *body = data + 7;
	const size_t len = size - 7;
	struct cap_image img;

	if (mode == 0) {
		if (cap_decode_still(decoder, body, len, &p, &img) == 0)
			to_tensor(&img, &p);
	} else if (mode == 1) {
		static const enum cap_pixfmt fmts[] = { CAP_FMT_YUYV, CAP_FMT_NV12, CAP_FMT_GREY,
							CAP_FMT_RGB24, CAP_FMT_MJPEG, CAP_FMT_AUTO };
		struct cap_frame f = { .data = body, .bytes = len, .format = fmts[data[4] % 6],
				       .width = 1 + data[5] % 48, .height = 1 + data[6] % 48,
				       .stride_bytes = (data[4] / 6) % 200 };
		if (cap_decode(decoder, &f, &p, &img) == 0) {
			to_tensor(&img, &p);
			if (cap_format_is_yuv(f.format))
				fused_matches(&f, &img, &p, data[1], data[2]);
		}
	} else if (mode == 2) {
		size_t pos = 0, start, n;
		while (cap_mjpeg_next(body, len, &pos, &start, &n) == 0) {
			struct cap_frame f = { .data = body + start, .bytes = n, .format = CAP_FMT_MJPEG };
			if (cap_decode(decoder, &f, &p, &img) == 0)
				to_tensor(&img, &p);
		}
	} else {
		size_t n;
		int num, den;
		if (cap_jpeg_length(body, len, &n) == 0 && n > len)
			abort();
		cap_jpeg_pick_scale(1 + data[4] * 37, 1 + data[5] * 29, p.target.width,
				    p.target.height, p.crop, &num, &den);
		if (num < 1 || den < num)
			abort();
	}
	good_frame_still_decodes();
	return 0;
}
