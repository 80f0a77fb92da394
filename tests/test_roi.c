/* test_roi.c — daemon/roi.c: parsing "x,y,w,h" strictly with reasons, and the view it makes of
 * a decoded picture (pixels it points at computed here from the geometry). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/roi.h"

static void parses_four_fractions(void **state)
{
	(void)state;
	struct roi r;
	char err[200];
	assert_int_equal(roi_parse("0.25,0,0.5,1", &r, err, sizeof(err)), 0);
	assert_true(r.x == 0.25 && r.y == 0 && r.w == 0.5 && r.h == 1);
	assert_int_equal(roi_parse(" 0.7 , 0.1,0.3 ,0.9 ", &r, err, sizeof(err)), 0);
	assert_int_equal(roi_parse("0,0,1,1", &r, err, sizeof(err)), 0);
	assert_true(roi_is_full(&r));
	assert_false(roi_is_full(&(struct roi){ 0, 0, 1, 0.5 }));
}

static void refuses_what_is_not_a_region(void **state)
{
	(void)state;
	static const char *const bad_syntax[] = { "", "0,0,1", "0,0,1,1,0", "a,0,1,1", "0;0;1;1",
						  "0,0,1,1x", "nan,0,1,1", "0,,1,1" };
	static const char *const bad_range[] = { "-0.1,0,1,1", "1,0,0.5,1", "0,0,0,1",
						 "0,0,1,1.5", "0.5,0,0.6,1", "0,0.9,1,0.2" };
	struct roi r = ROI_FULL;
	char err[200];
	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++) {
		assert_int_equal(roi_parse(bad_syntax[i], &r, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "is not x,y,w,h"));
	}
	for (size_t i = 0; i < sizeof(bad_range) / sizeof(bad_range[0]); i++) {
		err[0] = 0;
		assert_int_equal(roi_parse(bad_range[i], &r, err, sizeof(err)), -EINVAL);
		assert_true(strstr(err, "must be") != NULL);
	}
	assert_true(roi_is_full(&r)); /* untouched on failure */
}

static void view_points_into_the_same_pixels(void **state)
{
	(void)state;
	static uint8_t pixels[100 * 64 * 3];
	struct cap_image img = { pixels, 60, 40, 3, 100 * 3 }; /* stride wider than a row */
	struct cap_image v = roi_view(&img, &(struct roi){ 0.5, 0.25, 0.25, 0.5 });
	assert_int_equal(v.width, 15);
	assert_int_equal(v.height, 20);
	assert_ptr_equal(v.pixels, pixels + 10 * img.stride_bytes + 30 * 3);
	assert_int_equal(v.stride_bytes, img.stride_bytes);
	assert_int_equal(v.channels, 3);
	struct roi whole = ROI_FULL;
	struct cap_image full = roi_view(&img, &whole);
	assert_ptr_equal(full.pixels, pixels);
	assert_int_equal(full.width, 60);
	/* thinner than a pixel at the far edge: still one pixel, inside the picture */
	struct cap_image thin = roi_view(&img, &(struct roi){ 0.999, 0.999, 0.001, 0.001 });
	assert_int_equal(thin.width, 1);
	assert_int_equal(thin.height, 1);
	assert_ptr_equal(thin.pixels, pixels + 39 * img.stride_bytes + 59 * 3);
}

/* roi_rect is roi_view's cut as a rectangle (YUYV/NV12 frames are resized from it). */
static void rect_is_the_views_cut(void **state)
{
	(void)state;
	static uint8_t pixels[97 * 61];
	static const struct roi rois[] = {
		{ 0, 0, 1, 1 }, { 0.5, 0.25, 0.25, 0.5 }, { 0.999, 0.999, 0.001, 0.001 },
		{ 0.1, 0.7, 0.33, 0.3 }, { 0, 0, 0.0001, 1 },
	};
	static const int sizes[][2] = { { 97, 61 }, { 60, 40 }, { 1, 1 }, { 3, 61 } };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (size_t i = 0; i < sizeof(rois) / sizeof(rois[0]); i++) {
			struct cap_image img = { pixels, sizes[s][0], sizes[s][1], 1, 97 };
			struct cap_image v = roi_view(&img, &rois[i]);
			struct cap_rect r = roi_rect(&rois[i], sizes[s][0], sizes[s][1]);
			assert_int_equal(r.width, v.width);
			assert_int_equal(r.height, v.height);
			assert_ptr_equal(pixels + (size_t)r.y * 97 + (size_t)r.x, v.pixels);
			assert_true(r.x >= 0 && r.y >= 0 && r.width >= 1 && r.height >= 1);
			assert_true(r.x + r.width <= sizes[s][0] && r.y + r.height <= sizes[s][1]);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_four_fractions),
		cmocka_unit_test(refuses_what_is_not_a_region),
		cmocka_unit_test(view_points_into_the_same_pixels),
		cmocka_unit_test(rect_is_the_views_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
