/* test_capture_preprocess_yuv.c — cap_preprocess_yuv (a YUYV or NV12 frame converted inside
 * the resize, only where it reads) against the two steps it replaces: cap_decode of the whole
 * frame, the region's view of that picture, cap_preprocess. Bit for bit, on odd sizes, strides
 * wider than a row, regions at odd offsets (the chroma of YUYV pairs and NV12 2×2 blocks),
 * every crop × resize × grey/RGB × uint8/int8/float/normalized × NHWC/NCHW target; then its
 * errors, which are cap_decode's and cap_preprocess's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/capture.h"

/* A frame of pseudo-random bytes (every Y, U, V value occurs, clamping included). */
static struct cap_frame random_frame(enum cap_pixfmt fmt, int w, int h, int pad, unsigned seed)
{
	const int stride = (fmt == CAP_FMT_YUYV ? (w + 1) / 2 * 4 : (w + 1) / 2 * 2) + pad;
	const size_t bytes = (size_t)stride * h + (fmt == CAP_FMT_NV12 ? (size_t)stride * ((h + 1) / 2) : 0);
	uint8_t *data = malloc(bytes);
	assert_non_null(data);
	srand(seed);
	for (size_t i = 0; i < bytes; i++)
		data[i] = (uint8_t)rand();
	return (struct cap_frame){ .data = data, .bytes = bytes, .format = fmt, .width = w,
				   .height = h, .stride_bytes = stride };
}

static size_t tensor_bytes(const struct cap_target *t)
{
	return (size_t)t->width * t->height * t->channels * (t->is_float ? sizeof(float) : 1);
}

/* The two steps: decode the whole frame, cut the region out of the picture, preprocess. */
static void two_steps(struct cap_decoder *d, const struct cap_frame *f, const struct cap_rect *r,
		      const struct cap_prep *p, void *out)
{
	struct cap_image img;
	if (cap_decode(d, f, p, &img) != 0)
		fail_msg("cap_decode: %s", cap_decoder_last_error(d));
	assert_int_equal(img.width, f->width);
	struct cap_image view = img;
	view.pixels = img.pixels + (size_t)r->y * img.stride_bytes + (size_t)r->x * img.channels;
	view.width = r->width;
	view.height = r->height;
	assert_int_equal(cap_preprocess(&view, p, out, tensor_bytes(&p->target)), 0);
}

static const struct cap_target targets[] = {
	{ .width = 8, .height = 8, .channels = 3 },
	{ .width = 9, .height = 7, .channels = 1, .is_int8 = true },
	{ .width = 16, .height = 5, .channels = 3, .scale = 1.0f / 128, .zero_point = 128, .is_float = true },
	{ .width = 6, .height = 6, .channels = 1, .is_int8 = true, .scale = 0.007843f, .zero_point = -1,
	  .is_float = true },
	{ .width = 7, .height = 5, .channels = 3, .is_float = true, .normalize = true,
	  .mean = { 123.675f, 116.28f, 103.53f }, .std = { 58.395f, 57.12f, 57.375f } },
	{ .width = 7, .height = 5, .channels = 3, .channels_first = true },
	{ .width = 4, .height = 11, .channels = 1, .is_float = true, .normalize = true,
	  .mean = { 127.5f }, .std = { 127.5f }, .channels_first = true },
	{ .width = 31, .height = 29, .channels = 3, .is_int8 = true },   /* upscales the small frames */
};

static void fused_equals_decode_then_resize(void **state)
{
	(void)state;
	static const int sizes[][2] = { { 37, 23 }, { 23, 37 }, { 64, 48 }, { 5, 4 }, { 13, 9 },
					{ 1, 1 }, { 2, 3 } };
	static const enum cap_pixfmt fmts[] = { CAP_FMT_YUYV, CAP_FMT_NV12 };
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	int runs = 0;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (size_t f = 0; f < 2; f++) {
			const int w = sizes[s][0], h = sizes[s][1];
			struct cap_frame fr = random_frame(fmts[f], w, h, (int)s % 3 * 3, (unsigned)(s * 2 + f));
			const struct cap_rect regions[] = {
				{ 0, 0, w, h },
				{ w > 2 ? 1 : 0, h > 3 ? 1 : 0, w > 2 ? w - 2 : w, h > 3 ? h - 3 : h },
				{ w / 3 | (w > 1), h / 2 | (h > 1), w - (w / 3 | (w > 1)), h - (h / 2 | (h > 1)) },
				{ w - 1, h - 1, 1, 1 },
			};
			for (size_t g = 0; g < sizeof(regions) / sizeof(regions[0]); g++)
				for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
					for (int crop = 0; crop < 2; crop++)
						for (int rs = 0; rs < 2; rs++) {
							const struct cap_prep p = { .target = targets[t],
										    .crop = (enum cap_crop)crop,
										    .resize = (enum cap_resize)rs };
							const size_t n = tensor_bytes(&p.target);
							uint8_t *want = malloc(n), *got = malloc(n);
							assert_non_null(want);
							assert_non_null(got);
							two_steps(d, &fr, &regions[g], &p, want);
							memset(got, 0xA5, n);
							assert_int_equal(cap_preprocess_yuv(d, &fr, &regions[g], &p, got, n), 0);
							if (memcmp(got, want, n) != 0)
								fail_msg("%s %dx%d region %dx%d at %d,%d target %zu crop %d resize %d differs",
									 cap_format_name(fr.format), w, h, regions[g].width,
									 regions[g].height, regions[g].x, regions[g].y, t, crop, rs);
							free(want);
							free(got);
							runs++;
						}
			free((void *)fr.data);
		}
	assert_int_equal(runs, 7 * 2 * 4 * 8 * 2 * 2);
	cap_decoder_free(d);
}

/* No region is the whole frame, and cap_frame_to_tensor takes this path for YUV frames. */
static void whole_frame_and_frame_to_tensor_agree(void **state)
{
	(void)state;
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	const struct cap_prep p = { .target = { .width = 24, .height = 24, .channels = 3 },
				    .crop = CAP_CROP_CENTER, .resize = CAP_RESIZE_AREA };
	uint8_t want[24 * 24 * 3], got[24 * 24 * 3], via[24 * 24 * 3];
	for (int f = 0; f < 2; f++) {
		struct cap_frame fr = random_frame(f ? CAP_FMT_NV12 : CAP_FMT_YUYV, 81, 47, 2, 99);
		const struct cap_rect all = { 0, 0, 81, 47 };
		two_steps(d, &fr, &all, &p, want);
		assert_int_equal(cap_preprocess_yuv(d, &fr, NULL, &p, got, sizeof(got)), 0);
		assert_memory_equal(got, want, sizeof(want));
		assert_int_equal(cap_frame_to_tensor(d, &fr, &p, via, sizeof(via)), 0);
		assert_memory_equal(via, want, sizeof(want));
		free((void *)fr.data);
	}
	cap_decoder_free(d);
}

static void refuses_what_decode_and_preprocess_refuse(void **state)
{
	(void)state;
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	const struct cap_prep p = { .target = { .width = 4, .height = 4, .channels = 3 } };
	uint8_t out[4 * 4 * 3];
	struct cap_frame fr = random_frame(CAP_FMT_NV12, 20, 10, 0, 5);
	static const struct cap_rect outside[] = {
		{ 0, 0, 21, 10 }, { 0, 0, 20, 11 }, { -1, 0, 5, 5 }, { 0, -1, 5, 5 },
		{ 16, 0, 5, 5 }, { 0, 6, 5, 5 }, { 0, 0, 0, 5 }, { 0, 0, 5, 0 },
	};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		assert_int_equal(cap_preprocess_yuv(d, &fr, &outside[i], &p, out, sizeof(out)), CAP_ERR_INVALID);
		assert_non_null(strstr(cap_decoder_last_error(d), "not inside"));
	}
	assert_int_equal(cap_preprocess_yuv(d, &fr, NULL, &p, out, sizeof(out) - 1), CAP_ERR_INVALID);
	/* a frame one byte short: the decoder's own error and reason */
	struct cap_image img;
	struct cap_frame shortf = fr;
	shortf.bytes--;
	assert_int_equal(cap_decode(d, &shortf, &p, &img), CAP_ERR_CORRUPT);
	char why[160];
	snprintf(why, sizeof(why), "%s", cap_decoder_last_error(d));
	assert_true(why[0] != '\0');
	assert_int_equal(cap_preprocess_yuv(d, &shortf, NULL, &p, out, sizeof(out)), CAP_ERR_CORRUPT);
	assert_string_equal(cap_decoder_last_error(d), why);
	/* a good call clears the reason */
	assert_int_equal(cap_preprocess_yuv(d, &fr, NULL, &p, out, sizeof(out)), 0);
	assert_string_equal(cap_decoder_last_error(d), "");
	/* other formats are not converted on the fly */
	static const enum cap_pixfmt others[] = { CAP_FMT_MJPEG, CAP_FMT_GREY, CAP_FMT_RGB24, CAP_FMT_AUTO };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		struct cap_frame o = fr;
		o.format = others[i];
		assert_false(cap_format_is_yuv(others[i]));
		assert_int_equal(cap_preprocess_yuv(d, &o, NULL, &p, out, sizeof(out)), CAP_ERR_UNSUPPORTED);
	}
	assert_true(cap_format_is_yuv(CAP_FMT_YUYV) && cap_format_is_yuv(CAP_FMT_NV12));
	assert_int_equal(cap_preprocess_yuv(NULL, &fr, NULL, &p, out, sizeof(out)), CAP_ERR_INVALID);
	free((void *)fr.data);
	cap_decoder_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fused_equals_decode_then_resize),
		cmocka_unit_test(whole_frame_and_frame_to_tensor_agree),
		cmocka_unit_test(refuses_what_decode_and_preprocess_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
