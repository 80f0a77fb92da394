/* test_capture_format.c — capture/names.c and capture/jpeg.c: the pure decisions. Format
 * choice over enumerated format lists, v4l2-ctl control names, config checks, JPEG framing
 * (EOI, concatenated MJPEG splitting) and the DCT scale choice. */
#include <linux/videodev2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include <cmocka.h>

#include "capture/capture.h"

#define F(fcc) { fcc, false }
#define E(fcc) { fcc, true }

static enum cap_pixfmt choose(const struct cap_offered_format *o, size_t n, enum cap_pixfmt want,
			      int *ret_rc)
{
	enum cap_pixfmt got = CAP_FMT_AUTO;
	*ret_rc = cap_choose_format(o, n, want, &got);
	return got;
}

static void auto_prefers_mjpeg_then_yuyv_then_rgb24(void **state)
{
	(void)state;
	int rc;
	const struct cap_offered_format uvc[] = { F(V4L2_PIX_FMT_YUYV), F(V4L2_PIX_FMT_MJPEG),
						  E(V4L2_PIX_FMT_RGB24), E(V4L2_PIX_FMT_BGR24) };
	assert_int_equal(choose(uvc, 4, CAP_FMT_AUTO, &rc), CAP_FMT_MJPEG);
	assert_int_equal(rc, 0);
	const struct cap_offered_format yuyv_only[] = { E(V4L2_PIX_FMT_RGB24), F(V4L2_PIX_FMT_YUYV) };
	assert_int_equal(choose(yuyv_only, 2, CAP_FMT_AUTO, &rc), CAP_FMT_YUYV);
	const struct cap_offered_format odd[] = { F(V4L2_PIX_FMT_SGRBG10), E(V4L2_PIX_FMT_BGR24),
						  E(V4L2_PIX_FMT_RGB24) };
	assert_int_equal(choose(odd, 3, CAP_FMT_AUTO, &rc), CAP_FMT_RGB24);
	assert_int_equal(rc, 0);
	const struct cap_offered_format jpeg[] = { F(V4L2_PIX_FMT_JPEG) };
	assert_int_equal(choose(jpeg, 1, CAP_FMT_AUTO, &rc), CAP_FMT_MJPEG);
}

static void auto_ranks_native_before_emulated(void **state)
{
	(void)state;
	int rc;
	/* libv4l emulates MJPEG decoding into RGB24; a native RGB24 beats an emulated YUYV */
	const struct cap_offered_format o[] = { E(V4L2_PIX_FMT_YUYV), F(V4L2_PIX_FMT_RGB24) };
	assert_int_equal(choose(o, 2, CAP_FMT_AUTO, &rc), CAP_FMT_RGB24);
	const struct cap_offered_format m[] = { E(V4L2_PIX_FMT_MJPEG), F(V4L2_PIX_FMT_YUYV) };
	assert_int_equal(choose(m, 2, CAP_FMT_AUTO, &rc), CAP_FMT_YUYV);
}

static void auto_with_nothing_usable_is_unsupported(void **state)
{
	(void)state;
	int rc;
	const struct cap_offered_format o[] = { F(V4L2_PIX_FMT_SGRBG10), F(V4L2_PIX_FMT_NV12) };
	choose(o, 2, CAP_FMT_AUTO, &rc);
	assert_int_equal(rc, CAP_ERR_UNSUPPORTED);
	choose(NULL, 0, CAP_FMT_AUTO, &rc);
	assert_int_equal(rc, CAP_ERR_UNSUPPORTED);
}

static void explicit_format_must_be_offered(void **state)
{
	(void)state;
	int rc;
	const struct cap_offered_format o[] = { F(V4L2_PIX_FMT_YUYV), F(V4L2_PIX_FMT_NV12),
						E(V4L2_PIX_FMT_RGB24) };
	assert_int_equal(choose(o, 3, CAP_FMT_NV12, &rc), CAP_FMT_NV12);
	assert_int_equal(rc, 0);
	assert_int_equal(choose(o, 3, CAP_FMT_RGB24, &rc), CAP_FMT_RGB24);
	assert_int_equal(rc, 0);
	choose(o, 3, CAP_FMT_GREY, &rc);
	assert_int_equal(rc, CAP_ERR_UNSUPPORTED);
	choose(o, 3, CAP_FMT_MJPEG, &rc);
	assert_int_equal(rc, CAP_ERR_UNSUPPORTED);
}

static void format_names_round_trip(void **state)
{
	(void)state;
	const char *names[] = { "auto", "mjpeg", "yuyv", "grey", "rgb24", "nv12" };
	for (int i = 0; i < 6; i++) {
		int f = cap_format_from_name(names[i]);
		assert_true(f >= 0);
		assert_string_equal(cap_format_name((enum cap_pixfmt)f), names[i]);
	}
	assert_int_equal(cap_format_from_name("gray16"), CAP_ERR_INVALID);
	assert_int_equal(cap_format_from_name(NULL), CAP_ERR_INVALID);
	assert_int_equal(cap_crop_from_name("center"), CAP_CROP_CENTER);
	assert_int_equal(cap_crop_from_name("full"), CAP_CROP_FULL);
	assert_int_equal(cap_resize_from_name("area"), CAP_RESIZE_AREA);
	assert_int_equal(cap_resize_from_name("bilinear"), CAP_RESIZE_BILINEAR);
	assert_int_equal(cap_resize_from_name("nearest"), CAP_ERR_INVALID);
	assert_int_equal(cap_source_kind_from_name("file"), CAP_SOURCE_FILE);
	assert_int_equal(cap_format_fourcc(CAP_FMT_YUYV), V4L2_PIX_FMT_YUYV);
	assert_int_equal(cap_format_fourcc(CAP_FMT_AUTO), 0);
	assert_true(cap_error_is_config(CAP_ERR_UNKNOWN_CONTROL));
	assert_false(cap_error_is_config(CAP_ERR_DISCONNECTED));
	assert_string_equal(cap_strerror(CAP_ERR_DISCONNECTED), "disconnected");
}

static void control_names_follow_v4l2_ctl(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "Brightness", "brightness" },
		{ "White Balance, Automatic", "white_balance_automatic" },
		{ "Exposure Time, Absolute", "exposure_time_absolute" },
		{ "Power Line Frequency", "power_line_frequency" },
		{ "Inject VIDIOC_REQBUFS Error", "inject_vidioc_reqbufs_error" },
		{ "  Gain (dB)  ", "gain_db" },
		{ "H.264 Profile", "h_264_profile" },
		{ "", "" },
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cap_control_name_normalize(cases[i][0], buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1]);
	}
	cap_control_name_normalize("Very Long Name", buf, 5);
	assert_string_equal(buf, "very");
}

static void config_check_names_what_is_wrong(void **state)
{
	(void)state;
	char err[256];
	struct cap_control ok_ctl[] = { { "brightness", 10 } };
	struct cap_control bad_ctl[] = { { "White Balance", 1 } };
	struct cap_config c = { .kind = CAP_SOURCE_V4L2, .device = "/dev/video0", .width = 640,
				.height = 480, .fps = 30, .controls = ok_ctl, .n_controls = 1 };
	assert_int_equal(cap_config_check(&c, err, sizeof(err)), 0);
	c.controls = bad_ctl;
	assert_int_equal(cap_config_check(&c, err, sizeof(err)), CAP_ERR_INVALID);
	assert_non_null(strstr(err, "white_balance"));
	c.controls = ok_ctl;
	c.fps = 0;
	assert_int_equal(cap_config_check(&c, err, sizeof(err)), CAP_ERR_INVALID);
	assert_non_null(strstr(err, "fps"));
	c.fps = 30;
	c.device = NULL;
	assert_int_equal(cap_config_check(&c, err, sizeof(err)), CAP_ERR_INVALID);
	assert_non_null(strstr(err, "device"));
	struct cap_config f = { .kind = CAP_SOURCE_FILE, .path = "x.mjpeg", .fps = 5 };
	assert_int_equal(cap_config_check(&f, err, sizeof(err)), 0);
}

/* A small real JPEG made by TurboJPEG. */
static uint8_t *encode(int w, int h, unsigned long *ret_len)
{
	uint8_t *rgb = malloc((size_t)w * h * 3), *jpg = NULL;
	for (int i = 0; i < w * h * 3; i++)
		rgb[i] = (uint8_t)(i * 7);
	tjhandle tj = tjInitCompress();
	assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpg, ret_len, TJSAMP_420, 90, 0), 0);
	tjDestroy(tj);
	free(rgb);
	return jpg;
}

static void jpeg_length_stops_at_eoi(void **state)
{
	(void)state;
	unsigned long len;
	uint8_t *jpg = encode(40, 30, &len);
	uint8_t *buf = malloc(len + 1000);
	memcpy(buf, jpg, len);
	memset(buf + len, 0xA5, 1000);   /* like a first MJPEG buffer: bytesused = whole buffer */
	buf[len] = 0xFF;
	buf[len + 1] = 0xD9;             /* a stray EOI after the real one must not matter */
	size_t got = 0;
	assert_int_equal(cap_jpeg_length(buf, len + 1000, &got), 0);
	assert_int_equal(got, len);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(cap_jpeg_length(buf, cut, &got), CAP_ERR_CORRUPT);
	tjFree(jpg);
	free(buf);
}

static void mjpeg_split_skips_garbage_and_damage(void **state)
{
	(void)state;
	unsigned long l1, l2, l3;
	uint8_t *a = encode(16, 16, &l1), *b = encode(24, 8, &l2), *c = encode(8, 8, &l3);
	size_t total = 3 + l1 + l2 / 2 + 5 + l2 + l3 + 4;
	uint8_t *buf = malloc(total), *p = buf;
	memcpy(p, "xyz", 3), p += 3;                    /* junk before the first SOI */
	memcpy(p, a, l1), p += l1;
	memcpy(p, b, l2 / 2), p += l2 / 2;              /* a truncated image */
	memcpy(p, "\xff\x00\xff\xd8\x00", 5), p += 5;   /* junk with a fake SOI */
	memcpy(p, b, l2), p += l2;
	memcpy(p, c, l3), p += l3;
	memcpy(p, "\xff\xd8\xff\xe0", 4);               /* a start and nothing more */
	size_t pos = 0, start, len;
	assert_int_equal(cap_mjpeg_next(buf, total, &pos, &start, &len), 0);
	assert_int_equal(start, 3);
	assert_int_equal(len, l1);
	assert_int_equal(cap_mjpeg_next(buf, total, &pos, &start, &len), 0);
	assert_int_equal(start, 3 + l1 + l2 / 2 + 5);
	assert_int_equal(len, l2);
	assert_int_equal(cap_mjpeg_next(buf, total, &pos, &start, &len), 0);
	assert_int_equal(len, l3);
	assert_int_equal(cap_mjpeg_next(buf, total, &pos, &start, &len), CAP_ERR_CORRUPT);
	tjFree(a);
	tjFree(b);
	tjFree(c);
	free(buf);
}

static void dct_scale_is_smallest_that_covers_the_target(void **state)
{
	(void)state;
	int num, den;
	/* 1280x720 → 224x224, center crop keeps 720x720: 720·3/8 = 270 ≥ 224, 720/4 = 180 < 224 */
	assert_int_equal(cap_jpeg_pick_scale(1280, 720, 224, 224, CAP_CROP_CENTER, &num, &den), 0);
	assert_int_equal(num * 8, 3 * den);
	/* full crop: width 1280/8 = 160 < 224, 1280/4 = 320 ok, height 720·3/8 = 270 ok → 3/8 */
	assert_int_equal(cap_jpeg_pick_scale(1280, 720, 224, 224, CAP_CROP_FULL, &num, &den), 0);
	assert_int_equal(num * 8, 3 * den);
	/* 640x480 → 96x96: 480/4 = 120 ≥ 96, 480/8 = 60 < 96 → 1/4 */
	assert_int_equal(cap_jpeg_pick_scale(640, 480, 96, 96, CAP_CROP_CENTER, &num, &den), 0);
	assert_int_equal(num * 4, den);
	/* 640x480 → 32x32: 1/8 */
	assert_int_equal(cap_jpeg_pick_scale(640, 480, 32, 32, CAP_CROP_CENTER, &num, &den), 0);
	assert_int_equal(num * 8, den);
	/* smaller than the target: full size, never an upscaling factor */
	assert_int_equal(cap_jpeg_pick_scale(100, 80, 224, 224, CAP_CROP_CENTER, &num, &den), 0);
	assert_int_equal(num, den);
	assert_int_equal(cap_jpeg_pick_scale(0, 80, 224, 224, CAP_CROP_CENTER, &num, &den),
			 CAP_ERR_INVALID);
}

static void dct_scale_matches_brute_force(void **state)
{
	(void)state;
	int n = 0;
	tjscalingfactor *f = tjGetScalingFactors(&n);
	for (int sw = 40; sw <= 1920; sw += 97)
		for (int sh = 30; sh <= 1080; sh += 131)
			for (int d = 24; d <= 256; d += 58) {
				int num, den, best = -1;
				long best_area = 0;
				assert_int_equal(cap_jpeg_pick_scale(sw, sh, d, d, CAP_CROP_FULL, &num, &den), 0);
				for (int i = 0; i < n; i++) {
					if (f[i].num > f[i].denom)
						continue;
					int w = TJSCALED(sw, f[i]), h = TJSCALED(sh, f[i]);
					if (w >= d && h >= d && (best < 0 || (long)w * h < best_area)) {
						best = i;
						best_area = (long)w * h;
					}
				}
				if (best < 0)
					assert_int_equal(num, den);
				else
					assert_int_equal((long)num * f[best].denom, (long)den * f[best].num);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auto_prefers_mjpeg_then_yuyv_then_rgb24),
		cmocka_unit_test(auto_ranks_native_before_emulated),
		cmocka_unit_test(auto_with_nothing_usable_is_unsupported),
		cmocka_unit_test(explicit_format_must_be_offered),
		cmocka_unit_test(format_names_round_trip),
		cmocka_unit_test(control_names_follow_v4l2_ctl),
		cmocka_unit_test(config_check_names_what_is_wrong),
		cmocka_unit_test(jpeg_length_stops_at_eoi),
		cmocka_unit_test(mjpeg_split_skips_garbage_and_damage),
		cmocka_unit_test(dct_scale_is_smallest_that_covers_the_target),
		cmocka_unit_test(dct_scale_matches_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
