/* fuzz_frame.c — libFuzzer target for everything capture/ does with bytes from outside: JPEG
 * framing and decode (TurboJPEG, DCT-scaled), BMP, raw YUYV/NV12/GREY/RGB24 frames with odd
 * geometry, concatenated-MJPEG splitting, and preprocessing of whatever decoded.
 * Input: byte 0 picks the path, bytes 1..6 the target/frame geometry, the rest is the data.
 * Build: make fuzz (clang); run: build/fuzz/fuzz_frame -max_total_time=60. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

static struct cap_decoder *decoder;

static void to_tensor(const struct cap_image *img, const struct cap_prep *p)
{
	size_t n = (size_t)p->target.width * p->target.height * p->target.channels;
	uint8_t *t = malloc(n);
	if (t) {
		cap_preprocess(img, p, t, n);
		free(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 7)
		return 0;
	if (!decoder && cap_decoder_new(&decoder) < 0)
		return 0;
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
		if (cap_decode(decoder, &f, &p, &img) == 0)
			to_tensor(&img, &p);
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
	return 0;
}
