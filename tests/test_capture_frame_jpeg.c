/* test_capture_frame_jpeg.c — capture/frame_jpeg.c: camera frames as JPEGs for snapshots and
 * previews. An MJPEG
 * frame comes back as its own bytes; raw frames (YUYV, GREY) become JPEGs at capture size whose
 * decoded pixels match the frame's colours; max_width scales down keeping the aspect; broken
 * input is refused. Decoding for the checks uses TurboJPEG directly, independent of capture. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include <cmocka.h>

#include "capture/capture.h"

/* Decodes jpeg to RGB; returns the pixels (malloc'd) and its size. */
static uint8_t *decode_rgb(const uint8_t *jpeg, size_t len, int *w, int *h)
{
	tjhandle tj = tjInitDecompress();
	int sub, cs;
	assert_non_null(tj);
	assert_int_equal(tjDecompressHeader3(tj, jpeg, (unsigned long)len, w, h, &sub, &cs), 0);
	uint8_t *px = malloc((size_t)*w * (size_t)*h * 3);
	assert_non_null(px);
	assert_int_equal(tjDecompress2(tj, jpeg, (unsigned long)len, px, *w, 0, *h, TJPF_RGB, 0), 0);
	tjDestroy(tj);
	return px;
}

static uint8_t *rgb_gradient(int w, int h)
{
	uint8_t *px = malloc((size_t)w * (size_t)h * 3);
	assert_non_null(px);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
			p[0] = (uint8_t)(x * 255 / (w - 1));
			p[1] = (uint8_t)(y * 255 / (h - 1));
			p[2] = 128;
		}
	return px;
}

static void mjpeg_frames_are_their_own_bytes(void **state)
{
	(void)state;
	char err[160];
	uint8_t *px = rgb_gradient(64, 48), *jpeg, *out;
	size_t len, out_len;
	int w, h;
	struct cap_image img = { px, 64, 48, 3, 64 * 3 };
	assert_int_equal(cap_encode_jpeg(&img, 90, &jpeg, &len, err, sizeof(err)), 0);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct cap_frame f = { .data = jpeg, .bytes = len, .format = CAP_FMT_MJPEG, .width = 64,
			       .height = 48 };
	assert_int_equal(cap_frame_jpeg(d, &f, 0, 85, &out, &out_len, &w, &h), 0);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, jpeg, len);
	assert_int_equal(w, 64);
	assert_int_equal(h, 48);
	free(out);
	/* max_width at or above the frame's width changes nothing either */
	assert_int_equal(cap_frame_jpeg(d, &f, 64, 85, &out, &out_len, &w, &h), 0);
	assert_memory_equal(out, jpeg, len);
	free(out);
	/* smaller: decoded, scaled, encoded; the picture is still the gradient */
	assert_int_equal(cap_frame_jpeg(d, &f, 32, 85, &out, &out_len, &w, &h), 0);
	assert_int_equal(w, 32);
	assert_int_equal(h, 24);
	int dw, dh;
	uint8_t *dec = decode_rgb(out, out_len, &dw, &dh);
	assert_int_equal(dw, 32);
	assert_int_equal(dh, 24);
	assert_true(dec[0] < 40 && dec[(31) * 3] > 215);            /* red rises left to right */
	assert_true(dec[1] < 40 && dec[(23 * 32) * 3 + 1] > 215);   /* green top to bottom */
	free(dec);
	free(out);
	/* a broken JPEG is refused, not passed on */
	f.bytes = 10;
	assert_int_equal(cap_frame_jpeg(d, &f, 0, 85, &out, &out_len, &w, &h), CAP_ERR_CORRUPT);
	cap_decoder_free(d);
	free(jpeg);
	free(px);
}

static void raw_frames_become_jpegs_at_capture_size(void **state)
{
	(void)state;
	const int w = 64, h = 48;
	/* YUYV of a flat colour: Y=120, U=110, V=150 (BT.601 limited range → R≈156, G≈110, B≈85) */
	uint8_t *yuyv = malloc((size_t)w * (size_t)h * 2), *out;
	assert_non_null(yuyv);
	for (int i = 0; i < w * h / 2; i++) {
		yuyv[i * 4 + 0] = 120;
		yuyv[i * 4 + 1] = 110;
		yuyv[i * 4 + 2] = 120;
		yuyv[i * 4 + 3] = 150;
	}
	double c = 120 - 16, d = 110 - 128, e = 150 - 128;
	double want[3] = { 1.164 * c + 1.596 * e, 1.164 * c - 0.392 * d - 0.813 * e, 1.164 * c + 2.017 * d };
	struct cap_decoder *dec;
	size_t len;
	int ow, oh, dw, dh;
	assert_int_equal(cap_decoder_new(&dec), 0);
	struct cap_frame f = { .data = yuyv, .bytes = (size_t)w * (size_t)h * 2, .format = CAP_FMT_YUYV,
			       .width = w, .height = h, .stride_bytes = w * 2 };
	assert_int_equal(cap_frame_jpeg(dec, &f, 0, 95, &out, &len, &ow, &oh), 0);
	assert_int_equal(ow, w);
	assert_int_equal(oh, h);
	uint8_t *px = decode_rgb(out, len, &dw, &dh);
	assert_int_equal(dw, w);
	assert_int_equal(dh, h);
	for (int k = 0; k < 3; k++)
		if (fabs(px[(10 * w + 10) * 3 + k] - want[k]) > 8)
			fail_msg("channel %d: %d, want %.0f", k, px[(10 * w + 10) * 3 + k], want[k]);
	free(px);
	free(out);

	/* GREY stays grey (one component) */
	uint8_t *grey = malloc((size_t)w * (size_t)h);
	assert_non_null(grey);
	memset(grey, 77, (size_t)w * (size_t)h);
	struct cap_frame g = { .data = grey, .bytes = (size_t)w * (size_t)h, .format = CAP_FMT_GREY,
			       .width = w, .height = h, .stride_bytes = w };
	assert_int_equal(cap_frame_jpeg(dec, &g, 16, 95, &out, &len, &ow, &oh), 0);
	assert_int_equal(ow, 16);
	assert_int_equal(oh, 12);
	tjhandle tj = tjInitDecompress();
	int sub, cs;
	assert_int_equal(tjDecompressHeader3(tj, out, (unsigned long)len, &dw, &dh, &sub, &cs), 0);
	assert_int_equal(cs, TJCS_GRAY);
	tjDestroy(tj);
	free(out);
	cap_decoder_free(dec);
	free(grey);
	free(yuyv);
}

static void bad_images_are_refused(void **state)
{
	(void)state;
	char err[160];
	uint8_t px[12] = { 0 }, *out = (uint8_t *)&out;
	size_t len = 7;
	struct cap_image img = { px, 2, 2, 2, 4 };
	assert_int_equal(cap_encode_jpeg(&img, 90, &out, &len, err, sizeof(err)), -EINVAL);
	img.channels = 3;
	img.stride_bytes = 6;
	assert_int_equal(cap_encode_jpeg(&img, 0, &out, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(cap_encode_jpeg(&img, 101, &out, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(len, 7); /* outputs untouched */
	assert_int_equal(cap_encode_jpeg(&img, 50, &out, &len, err, sizeof(err)), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mjpeg_frames_are_their_own_bytes),
		cmocka_unit_test(raw_frames_become_jpegs_at_capture_size),
		cmocka_unit_test(bad_images_are_refused),
	};
	return cmocka_run_group_tests_name("capture_frame_jpeg", tests, NULL, NULL);
}
