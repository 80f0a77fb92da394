/* test_view.c — daemon/view.c's `"view":"model"` snapshot: nothing before a frame is kept
 * (-ENODATA); for an MJPEG frame, the JPEG is the kept frame decoded again with the kept
 * settings (DCT-scaled: a 640×480 frame for a 224×224 model comes back at 320×240, a grey
 * model's view is grey) and equals cap_decode's own picture within JPEG noise; for a YUYV frame
 * (never decoded as a whole by the classify thread) the same, at the frame's size; and the seq
 * is the kept one. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <turbojpeg.h>

#include "capture/capture.h"
#include "daemon/view.h"

enum { W = 640, H = 480 };

/* A smooth RGB test picture (so JPEG noise stays small). */
static void picture(uint8_t *rgb, int w, int h)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = rgb + ((size_t)y * w + x) * 3;
			p[0] = (uint8_t)(x * 255 / (w - 1));
			p[1] = (uint8_t)(y * 255 / (h - 1));
			p[2] = (uint8_t)(128 + 100 * sin(x / 40.0) * cos(y / 30.0));
		}
}

/* Mean absolute difference between the snapshot's JPEG (decoded) and an image. */
static double jpeg_vs_image(const struct srv_snapshot *s, const struct cap_image *img)
{
	tjhandle tj = tjInitDecompress();
	int w, h, sub, cs;
	assert_int_equal(tjDecompressHeader3(tj, s->jpeg, (unsigned long)s->len, &w, &h, &sub, &cs), 0);
	assert_int_equal(w, img->width);
	assert_int_equal(h, img->height);
	const int ch = img->channels;
	uint8_t *pix = malloc((size_t)w * h * ch);
	assert_non_null(pix);
	assert_int_equal(tjDecompress2(tj, s->jpeg, (unsigned long)s->len, pix, w, 0, h,
				       ch == 1 ? TJPF_GRAY : TJPF_RGB, 0), 0);
	double diff = 0;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w * ch; x++)
			diff += fabs((double)pix[(size_t)y * w * ch + x] -
				     img->pixels[(size_t)y * img->stride_bytes + x]);
	free(pix);
	tjDestroy(tj);
	return diff / ((double)w * h * ch);
}

static const struct cap_prep rgb224 = {
	.target = { .width = 224, .height = 224, .channels = 3 },
	.crop = CAP_CROP_CENTER, .resize = CAP_RESIZE_AREA,
};

static void nothing_before_the_first_frame(void **state)
{
	(void)state;
	struct pl_view *v;
	struct srv_snapshot s;
	assert_int_equal(view_new(&v), 0);
	assert_int_equal(view_snapshot_model(v, 90, &s), -ENODATA);
	view_free(v);
}

static void mjpeg_model_view_is_the_dct_scaled_decode(void **state)
{
	(void)state;
	uint8_t *rgb = malloc((size_t)W * H * 3), *jpeg = NULL;
	unsigned long jlen = 0;
	assert_non_null(rgb);
	picture(rgb, W, H);
	tjhandle tj = tjInitCompress();
	assert_int_equal(tjCompress2(tj, rgb, W, 0, H, TJPF_RGB, &jpeg, &jlen, TJSAMP_420, 92, 0), 0);
	tjDestroy(tj);
	const struct cap_frame frame = { .data = jpeg, .bytes = jlen, .format = CAP_FMT_MJPEG,
					 .width = W, .height = H };
	const struct cap_prep grey = { .target = { .width = 96, .height = 96, .channels = 1 },
				       .crop = CAP_CROP_CENTER, .resize = CAP_RESIZE_AREA };
	const struct cap_prep *preps[] = { &rgb224, &grey };
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	struct pl_view *v;
	assert_int_equal(view_new(&v), 0);
	for (int i = 0; i < 2; i++) {
		view_keep_frame(v, &frame, preps[i], 41 + i);
		struct srv_snapshot s;
		assert_int_equal(view_snapshot_model(v, 90, &s), 0);
		assert_int_equal(s.seq, 41 + i);
		assert_int_equal(s.view_model, 1);
		struct cap_image want;
		assert_int_equal(cap_decode(d, &frame, preps[i], &want), 0);
		assert_int_equal(want.width, i == 0 ? 320 : 160); /* DCT-scaled: ≥ the target */
		assert_int_equal(s.width, want.width);
		assert_int_equal(s.height, want.height);
		double diff = jpeg_vs_image(&s, &want);
		if (diff > 2.5)
			fail_msg("model view %d: mean difference %.2f", i, diff);
		free(s.jpeg);
	}
	view_free(v);
	cap_decoder_free(d);
	tjFree(jpeg);
	free(rgb);
}

/* A YUYV frame: luma from the picture's red, a constant tint in chroma. */
static void fill_yuyv(uint8_t *yuyv, const uint8_t *rgb, int w, int h)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x += 2) {
			uint8_t *q = yuyv + ((size_t)y * w + x) * 2;
			const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
			q[0] = p[0];
			q[1] = 110;
			q[2] = p[3];
			q[3] = 150;
		}
}

static void yuyv_model_view_is_the_converted_frame(void **state)
{
	(void)state;
	enum { FW = 320, FH = 240 };
	uint8_t *rgb = malloc((size_t)FW * FH * 3), *yuyv = malloc((size_t)FW * FH * 2);
	assert_non_null(rgb);
	assert_non_null(yuyv);
	picture(rgb, FW, FH);
	fill_yuyv(yuyv, rgb, FW, FH);
	const struct cap_frame frame = { .data = yuyv, .bytes = (size_t)FW * FH * 2,
					 .format = CAP_FMT_YUYV, .width = FW, .height = FH,
					 .stride_bytes = FW * 2 };
	struct pl_view *v;
	assert_int_equal(view_new(&v), 0);
	view_keep_frame(v, &frame, &rgb224, 7);
	memset(yuyv, 0, (size_t)FW * FH * 2); /* the view keeps its own copy */
	struct srv_snapshot s;
	assert_int_equal(view_snapshot_model(v, 90, &s), 0);
	assert_int_equal(s.seq, 7);
	assert_int_equal(s.width, FW);
	assert_int_equal(s.height, FH);

	/* what the classifier's conversion gives for the same bytes */
	fill_yuyv(yuyv, rgb, FW, FH);
	struct cap_decoder *d;
	struct cap_image want;
	assert_int_equal(cap_decoder_new(&d), 0);
	assert_int_equal(cap_decode(d, &frame, &rgb224, &want), 0);
	double diff = jpeg_vs_image(&s, &want);
	if (diff > 2.5)
		fail_msg("YUYV model view: mean difference %.2f", diff);
	free(s.jpeg);
	cap_decoder_free(d);
	view_free(v);
	free(yuyv);
	free(rgb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nothing_before_the_first_frame),
		cmocka_unit_test(mjpeg_model_view_is_the_dct_scaled_decode),
		cmocka_unit_test(yuyv_model_view_is_the_converted_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
