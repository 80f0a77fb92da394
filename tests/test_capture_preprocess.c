/* test_capture_preprocess.c — capture/preprocess.c against a plain double-precision reference
 * written from the definitions (crop rule, exact box filter, half-pixel bilinear, BT.601
 * luma, q = qmin + pixel), over every path: crop center/full × area/bilinear × RGB/grey in ×
 * RGB/grey out × int8/uint8, down- and upscaling; a float32 target gets scale·(q − zp). Also pins the quantization rule to the
 * input conventions of the shared models (MANIFEST.md). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "tests/testutil.h"

struct img {
	int w, h, c;
	uint8_t *px;
};

static struct img random_img(int w, int h, int c, unsigned seed)
{
	struct img m = { w, h, c, malloc((size_t)w * h * c) };
	srand(seed);
	for (int i = 0; i < w * h * c; i++)
		m.px[i] = (uint8_t)rand();
	return m;
}

/* overlap of [i, i+1) with [a, b) */
static double overlap(int i, double a, double b)
{
	double lo = fmax(i, a), hi = fmin(i + 1.0, b);
	return hi > lo ? hi - lo : 0;
}

static double sample_area(const struct img *m, int x0, int y0, int cw, int ch, int ow, int oh,
			  int ox, int oy, int c)
{
	double ax = (double)ox * cw / ow, bx = (double)(ox + 1) * cw / ow;
	double ay = (double)oy * ch / oh, by = (double)(oy + 1) * ch / oh;
	double sum = 0;
	for (int y = (int)floor(ay); y < by && y < ch; y++)
		for (int x = (int)floor(ax); x < bx && x < cw; x++) {
			double a = overlap(x, ax, bx) * overlap(y, ay, by);
			if (a > 0)
				sum += a * m->px[((size_t)(y0 + y) * m->w + (x0 + x)) * m->c + c];
		}
	return sum / ((bx - ax) * (by - ay));
}

static double coord(int o, int n, int len, int *i0, int *i1)
{
	double s = (o + 0.5) * len / n - 0.5;
	s = fmax(0, fmin(s, len - 1));
	*i0 = (int)floor(s);
	*i1 = *i0 + 1 < len ? *i0 + 1 : *i0;
	return s - *i0;
}

static double sample_bilinear(const struct img *m, int x0, int y0, int cw, int ch, int ow, int oh,
			      int ox, int oy, int c)
{
	int xa, xb, ya, yb;
	double fx = coord(ox, ow, cw, &xa, &xb), fy = coord(oy, oh, ch, &ya, &yb);
#define P(x, y) m->px[((size_t)(y0 + (y)) * m->w + (x0 + (x))) * m->c + c]
	return (1 - fy) * ((1 - fx) * P(xa, ya) + fx * P(xb, ya)) +
	       fy * ((1 - fx) * P(xa, yb) + fx * P(xb, yb));
#undef P
}

/* The expected tensor, from the definitions; *ret_tie marks values within 1e-3 of a rounding
 * tie (x.5), where float and double arithmetic may round either way. */
static uint8_t *reference(const struct img *m, const struct cap_prep *p, bool **ret_tie)
{
	const struct cap_target *t = &p->target;
	int cw = m->w, ch = m->h;
	if (p->crop == CAP_CROP_CENTER) {
		if ((double)m->w / m->h > (double)t->width / t->height)
			cw = (int)floor((double)m->h * t->width / t->height + 0.5);
		else
			ch = (int)floor((double)m->w * t->height / t->width + 0.5);
	}
	int x0 = (m->w - cw) / 2, y0 = (m->h - ch) / 2;
	uint8_t *out = malloc((size_t)t->width * t->height * t->channels), *o = out;
	bool *tie = malloc((size_t)t->width * t->height * t->channels);
	*ret_tie = tie;
	for (int oy = 0; oy < t->height; oy++)
		for (int ox = 0; ox < t->width; ox++) {
			double v[3];
			for (int c = 0; c < m->c; c++)
				v[c] = p->resize == CAP_RESIZE_AREA
					? sample_area(m, x0, y0, cw, ch, t->width, t->height, ox, oy, c)
					: sample_bilinear(m, x0, y0, cw, ch, t->width, t->height, ox, oy, c);
			for (int c = 0; c < t->channels; c++) {
				double val = t->channels == m->c ? v[c]
					: m->c == 3 ? 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2] : v[0];
				*tie++ = fabs(val - floor(val) - 0.5) < 1e-3;
				int pix = (int)floor(val + 0.5);
				pix = pix < 0 ? 0 : pix > 255 ? 255 : pix;
				*o++ = (uint8_t)(t->is_int8 ? pix - 128 : pix);
			}
		}
	return out;
}

static void compare(const struct img *m, const struct cap_prep *p)
{
	const struct cap_target *t = &p->target;
	size_t n = (size_t)t->width * t->height * t->channels, off = 0;
	bool *tie;
	uint8_t *got = malloc(n), *want = reference(m, p, &tie);
	struct cap_image ci = { m->px, m->w, m->h, m->c, (size_t)m->w * m->c };
	assert_int_equal(cap_preprocess(&ci, p, got, n), 0);
	for (size_t i = 0; i < n; i++) {
		int d = t->is_int8 ? (int8_t)got[i] - (int8_t)want[i] : got[i] - want[i];
		if (d && !(tie[i] && abs(d) == 1))
			fail_msg("%s/%s %dch→%dch %s %dx%d→%dx%d: element %zu got %d want %d",
				 cap_crop_name(p->crop), cap_resize_name(p->resize), m->c, t->channels,
				 t->is_int8 ? "int8" : "uint8", m->w, m->h, t->width, t->height, i,
				 got[i], want[i]);
		off += d != 0;
	}
	assert_true(off * 20 <= n);   /* ties are rare */
	free(got);
	free(want);
	free(tie);
}

static void every_path_matches_the_reference(void **state)
{
	(void)state;
	static const int sizes[][4] = {   /* source w, h → target w, h */
		{ 37, 23, 8, 8 }, { 23, 37, 8, 8 }, { 64, 48, 16, 5 }, { 5, 4, 9, 7 },
		{ 100, 100, 33, 33 }, { 13, 9, 13, 9 },
	};
	int runs = 0;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int cin = 1; cin <= 3; cin += 2) {
			struct img m = random_img(sizes[s][0], sizes[s][1], cin, (unsigned)(s * 7 + cin));
			for (int crop = 0; crop < 2; crop++)
				for (int rs = 0; rs < 2; rs++)
					for (int cout = 1; cout <= 3; cout += 2)
						for (int q = 0; q < 2; q++) {
							struct cap_prep p = {
								.target = { sizes[s][2], sizes[s][3], cout, q == 1,
									    1.0f / 128, q ? 0 : 128, false, false, { 0 }, { 0 }, false },
								.crop = (enum cap_crop)crop,
								.resize = (enum cap_resize)rs,
							};
							compare(&m, &p);
							runs++;
						}
			free(m.px);
		}
	assert_int_equal(runs, 6 * 2 * 2 * 2 * 2 * 2);
}

static void area_downscale_is_antialiased(void **state)
{
	(void)state;
	/* a 1-pixel checkerboard averages to mid-grey with area; bilinear at an integer factor
	 * with half-pixel centres samples between pixels and also averages, but at 3:1 it aliases */
	struct img m = { 30, 30, 1, malloc(900) };
	for (int y = 0; y < 30; y++)
		for (int x = 0; x < 30; x++)
			m.px[y * 30 + x] = ((x + y) & 1) ? 255 : 0;
	struct cap_prep p = { .target = { 10, 10, 1, false, 1.0f / 128, 128, false, false, { 0 }, { 0 }, false },
			      .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA };
	uint8_t out[100];
	struct cap_image ci = { m.px, 30, 30, 1, 30 };
	assert_int_equal(cap_preprocess(&ci, &p, out, sizeof(out)), 0);
	for (int i = 0; i < 100; i++)
		assert_true(abs(out[i] - 128) <= 15);   /* 4 or 5 of 9 white: 113 or 142 */
	p.resize = CAP_RESIZE_BILINEAR;
	assert_int_equal(cap_preprocess(&ci, &p, out, sizeof(out)), 0);
	int extreme = 0;
	for (int i = 0; i < 100; i++)
		extreme += out[i] == 0 || out[i] == 255;
	assert_int_equal(extreme, 100);   /* 3:1 bilinear lands on pixel centres: pure aliasing */
	free(m.px);
}

static void center_crop_keeps_the_middle(void **state)
{
	(void)state;
	/* 30x10 image: left third 0, middle third 200, right third 50; a square target sees
	 * only the middle */
	struct img m = { 30, 10, 1, malloc(300) };
	for (int y = 0; y < 10; y++)
		for (int x = 0; x < 30; x++)
			m.px[y * 30 + x] = x < 10 ? 0 : x < 20 ? 200 : 50;
	struct cap_prep p = { .target = { 5, 5, 1, true, 1.0f, -128, false, false, { 0 }, { 0 }, false }, .crop = CAP_CROP_CENTER,
			      .resize = CAP_RESIZE_AREA };
	int8_t out[25];
	struct cap_image ci = { m.px, 30, 10, 1, 30 };
	assert_int_equal(cap_preprocess(&ci, &p, out, sizeof(out)), 0);
	for (int i = 0; i < 25; i++)
		assert_int_equal(out[i], 200 - 128);
	assert_int_equal(cap_preprocess(&ci, &p, out, 24), CAP_ERR_INVALID);
	free(m.px);
}

/* A float32 input in front of the model's QUANTIZE: each value is scale·(q − zp) in float for
 * the q the definitions give (reference()), and the model's QUANTIZE rule round(x / scale) + zp
 * gives that q back exactly. */
static void float_target_writes_the_real_value_of_q(void **state)
{
	(void)state;
	static const struct { bool is_int8; float scale; int zp; int cin, cout; } cases[] = {
		{ true, 1.0f / 255, -128, 3, 3 },   /* vww-like */
		{ true, 0.007843f, -1, 3, 1 },      /* person_detect-like, grey out */
		{ false, 1.0f / 128, 128, 1, 1 },
		{ false, 0.02f, 3, 3, 3 },
		{ true, 1.0f, -128, 1, 3 },
	};
	struct img m = random_img(37, 29, 3, 7);
	struct img g = random_img(37, 29, 1, 8);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct img *src = cases[k].cin == 3 ? &m : &g;
		struct cap_prep p = { .target = { .width = 20, .height = 16, .channels = cases[k].cout,
						  .is_int8 = cases[k].is_int8, .scale = cases[k].scale,
						  .zero_point = cases[k].zp, .is_float = true },
				      .crop = k % 2 ? CAP_CROP_CENTER : CAP_CROP_FULL,
				      .resize = k % 3 ? CAP_RESIZE_AREA : CAP_RESIZE_BILINEAR };
		size_t n = (size_t)20 * 16 * cases[k].cout;
		float *got = malloc(n * sizeof(float));
		bool *tie;
		uint8_t *want = reference(src, &p, &tie);
		struct cap_image ci = { src->px, src->w, src->h, src->c, (size_t)src->w * src->c };
		assert_non_null(got);
		assert_int_equal(cap_preprocess(&ci, &p, got, n), CAP_ERR_INVALID);
		assert_int_equal(cap_preprocess(&ci, &p, got, n * sizeof(float)), 0);
		for (size_t i = 0; i < n; i++) {
			int q_want = cases[k].is_int8 ? (int8_t)want[i] : want[i];
			double back = floor((double)got[i] / cases[k].scale + 0.5) + cases[k].zp;
			int q = (int)back;
			if (q != q_want && !(tie[i] && abs(q - q_want) == 1))
				fail_msg("case %zu element %zu: %g quantizes to %d, want %d", k, i,
					 (double)got[i], q, q_want);
			float exact = cases[k].scale * (float)(q - cases[k].zp);
			if (memcmp(&exact, &got[i], sizeof(float)) != 0)
				fail_msg("case %zu element %zu: %.9g is not scale·(q − zp) = %.9g", k, i,
					 (double)got[i], (double)exact);
		}
		p.target.scale = 0.0f;
		assert_int_equal(cap_preprocess(&ci, &p, got, n * sizeof(float)), CAP_ERR_INVALID);
		free(got);
		free(want);
		free(tie);
	}
	free(m.px);
	free(g.px);
}

/* A float model's own input: (pixel − mean[c]) / std[c] for the pixel the uint8 path gives,
 * in NHWC and, for channels_first, the same values in NCHW planes. Bad std is refused. */
static void normalized_float_target_maps_pixels_to_the_model_range(void **state)
{
	(void)state;
	struct img m = random_img(33, 21, 3, 11);
	struct cap_image ci = { m.px, m.w, m.h, m.c, (size_t)m.w * m.c };
	struct cap_prep p8 = { .target = { .width = 12, .height = 9, .channels = 3 }, .crop = CAP_CROP_CENTER,
			       .resize = CAP_RESIZE_AREA };
	struct cap_prep pf = p8;
	pf.target.is_float = true;
	pf.target.normalize = true;
	const float mean[3] = { 123.675f, 116.28f, 103.53f }, std[3] = { 58.395f, 57.12f, 57.375f };
	memcpy(pf.target.mean, mean, sizeof(mean));
	memcpy(pf.target.std, std, sizeof(std));
	const size_t n = 12 * 9 * 3;
	uint8_t px[12 * 9 * 3];
	float got[12 * 9 * 3], planes[12 * 9 * 3];
	assert_int_equal(cap_preprocess(&ci, &p8, px, sizeof(px)), 0);
	assert_int_equal(cap_preprocess(&ci, &pf, got, sizeof(got)), 0);
	pf.target.channels_first = true;
	assert_int_equal(cap_preprocess(&ci, &pf, planes, sizeof(planes)), 0);
	for (size_t i = 0; i < n; i++) {
		size_t c = i % 3, pix = i / 3;
		float want = ((float)px[i] - mean[c]) / std[c];
		assert_true(got[i] == want);
		assert_true(planes[c * 12 * 9 + pix] == want);
	}
	/* −1..1 (127.5/127.5) ends exactly at −1 and 1 for pixels 0 and 255 */
	for (int c = 0; c < 3; c++)
		pf.target.mean[c] = pf.target.std[c] = 127.5f;
	pf.target.channels_first = false;
	assert_int_equal(cap_preprocess(&ci, &pf, got, sizeof(got)), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(got[i] >= -1.0f && got[i] <= 1.0f);
	pf.target.std[1] = 0.0f;
	assert_int_equal(cap_preprocess(&ci, &pf, got, sizeof(got)), CAP_ERR_INVALID);
	free(m.px);
}

/* The real value the model sees for pixel p is scale·(q − zp); compare with what each model
 * was trained on (MANIFEST.md and the models' publishers). */
static void quantization_matches_each_models_convention(void **state)
{
	(void)state;
	static const struct {
		const char *model;
		bool is_int8;
		float scale;
		int zp;
		double lo, hi;   /* trained input range for pixel 0 … 255 */
	} models[] = {
		{ "mobilenet_v2_1.0_224_quant (uint8 1/128, 128)", false, 1.0f / 128, 128, -1, 1 },
		{ "tf2_mobilenet_v2 (uint8 1/127.5, 127)", false, 1.0f / 127.5f, 127, -1, 1 },
		{ "vww_96_int8 (int8 1/255, -128)", true, 1.0f / 255, -128, 0, 1 },
		{ "pretrainedResnet_quant (int8 1, -128)", true, 1.0f, -128, 0, 255 },
		{ "person_detect (int8 0.007843, -1)", true, 0.007843f, -1, -1, 1 },
	};
	for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++)
		for (int pix = 0; pix < 256; pix += 15) {
			uint8_t px[4] = { (uint8_t)pix, (uint8_t)pix, (uint8_t)pix, (uint8_t)pix }, q;
			struct cap_image ci = { px, 2, 2, 1, 2 };
			struct cap_prep p = { .target = { 1, 1, 1, models[k].is_int8, models[k].scale,
							  models[k].zp, false, false, { 0 }, { 0 }, false } };
			assert_int_equal(cap_preprocess(&ci, &p, &q, 1), 0);
			int qv = models[k].is_int8 ? (int8_t)q : q;
			double real = models[k].scale * (qv - models[k].zp);
			double want = models[k].lo + (models[k].hi - models[k].lo) * pix / 255.0;
			/* within one quantization step of the trained mapping */
			if (fabs(real - want) > models[k].scale * 1.01)
				fail_msg("%s pixel %d: q %d real %f want %f", models[k].model, pix, qv,
					 real, want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_path_matches_the_reference),
		cmocka_unit_test(area_downscale_is_antialiased),
		cmocka_unit_test(center_crop_keeps_the_middle),
		cmocka_unit_test(quantization_matches_each_models_convention),
		cmocka_unit_test(float_target_writes_the_real_value_of_q),
		cmocka_unit_test(normalized_float_target_maps_pixels_to_the_model_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
