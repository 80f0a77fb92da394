/* test_capture_decode_recovery.c — one bad JPEG must not poison the decoder (issue #13, item 2).
 *
 * A frame whose header says 0×0 used to leave the decoder's TurboJPEG handle half way through a
 * header ("Empty JPEG image (DNL not supported)"), and every good frame after it failed with
 * "Bogus marker length". Here every kind of bad frame — a 0×0 or 0×N header, each single-byte
 * corruption, each truncation — is followed by the same good frame on the same decoder, which
 * must decode to exactly the pixels a fresh decoder gives. Each failure must also leave a reason
 * in cap_decoder_last_error(), and a success must clear it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include <cmocka.h>

#include "capture/capture.h"

#define W 48
#define H 32

static uint8_t *good_jpeg(unsigned long *ret_len)
{
	uint8_t rgb[W * H * 3];
	for (int i = 0; i < W * H * 3; i++)
		rgb[i] = (uint8_t)(i * 7 + i / (W * 3) * 13);
	uint8_t *jpg = NULL;
	tjhandle tj = tjInitCompress();
	assert_non_null(tj);
	assert_int_equal(tjCompress2(tj, rgb, W, 0, H, TJPF_RGB, &jpg, ret_len, TJSAMP_420, 85, 0), 0);
	tjDestroy(tj);
	return jpg;
}

/* Offset of the SOF segment's height field (FFC0..FFC2 + length(2) + precision(1)). */
static size_t sof_height_at(const uint8_t *jpg, size_t len)
{
	for (size_t i = 2; i + 9 < len;) {
		assert_int_equal(jpg[i], 0xFF);
		uint8_t marker = jpg[i + 1];
		if (marker >= 0xC0 && marker <= 0xC2)
			return i + 5;
		i += 2 + ((size_t)jpg[i + 2] << 8 | jpg[i + 3]);
	}
	fail_msg("no SOF marker");
	return 0;
}

struct fixture {
	uint8_t *jpg;
	unsigned long len;
	uint8_t *want;          /* what a fresh decoder gives for the good frame */
	struct cap_prep prep;
};

static void setup_fixture(struct fixture *fx)
{
	fx->jpg = good_jpeg(&fx->len);
	fx->prep = (struct cap_prep){ .target = { .width = W, .height = H, .channels = 3 } };
	struct cap_decoder *d;
	struct cap_image img;
	assert_int_equal(cap_decoder_new(&d), 0);
	assert_int_equal(cap_decode_still(d, fx->jpg, fx->len, &fx->prep, &img), 0);
	assert_int_equal(img.stride_bytes, (size_t)W * 3);
	fx->want = malloc((size_t)W * H * 3);
	assert_non_null(fx->want);
	memcpy(fx->want, img.pixels, (size_t)W * H * 3);
	assert_string_equal(cap_decoder_last_error(d), "");
	cap_decoder_free(d);
}

static void free_fixture(struct fixture *fx)
{
	tjFree(fx->jpg);
	free(fx->want);
}

/* The good frame on decoder d: success, the same pixels as a fresh decoder, reason cleared. */
static void good_frame_decodes(struct fixture *fx, struct cap_decoder *d, const char *after)
{
	struct cap_image img;
	int r = cap_decode_still(d, fx->jpg, fx->len, &fx->prep, &img);
	if (r != 0)
		fail_msg("good frame after %s: %s (%s)", after, cap_strerror(r), cap_decoder_last_error(d));
	assert_int_equal(img.width, W);
	assert_int_equal(img.height, H);
	assert_memory_equal(img.pixels, fx->want, (size_t)W * H * 3);
	assert_string_equal(cap_decoder_last_error(d), "");
}

static void bad_frame_fails_with_a_reason(struct cap_decoder *d, const uint8_t *data, size_t len,
					  const struct cap_prep *p)
{
	struct cap_image img;
	int r = cap_decode_still(d, data, len, p, &img);
	if (r == 0)
		return;         /* some corruptions still decode; that is allowed */
	assert_true(r == CAP_ERR_CORRUPT || r == CAP_ERR_UNSUPPORTED);
	assert_true(strlen(cap_decoder_last_error(d)) > 0);
}

static void zero_size_header_does_not_poison_the_decoder(void **state)
{
	(void)state;
	struct fixture fx;
	setup_fixture(&fx);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	uint8_t *bad = malloc(fx.len);
	assert_non_null(bad);
	size_t at = sof_height_at(fx.jpg, fx.len);
	static const struct { uint16_t h, w; } sizes[] = { { 0, 0 }, { 0, W }, { H, 0 } };
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			memcpy(bad, fx.jpg, fx.len);
			bad[at] = (uint8_t)(sizes[i].h >> 8);
			bad[at + 1] = (uint8_t)sizes[i].h;
			bad[at + 2] = (uint8_t)(sizes[i].w >> 8);
			bad[at + 3] = (uint8_t)sizes[i].w;
			struct cap_image img;
			int r = cap_decode_still(d, bad, fx.len, &fx.prep, &img);
			assert_true(r == CAP_ERR_CORRUPT || r == CAP_ERR_UNSUPPORTED);
			print_message("%ux%u header: %s\n", sizes[i].w, sizes[i].h, cap_decoder_last_error(d));
			assert_true(strlen(cap_decoder_last_error(d)) > 0);
			good_frame_decodes(&fx, d, "a zero-size header");
		}
	/* the same through cap_decode, as the daemon calls it for MJPEG frames */
	memcpy(bad, fx.jpg, fx.len);
	memset(bad + at, 0, 4);
	struct cap_frame f = { .data = bad, .bytes = fx.len, .format = CAP_FMT_MJPEG };
	struct cap_image img;
	assert_true(cap_decode(d, &f, &fx.prep, &img) < 0);
	f.data = fx.jpg;
	assert_int_equal(cap_decode(d, &f, &fx.prep, &img), 0);
	assert_memory_equal(img.pixels, fx.want, (size_t)W * H * 3);
	free(bad);
	cap_decoder_free(d);
	free_fixture(&fx);
}

static void every_corruption_and_truncation_leaves_the_decoder_working(void **state)
{
	(void)state;
	struct fixture fx;
	setup_fixture(&fx);
	struct cap_decoder *d;
	assert_int_equal(cap_decoder_new(&d), 0);
	uint8_t *bad = malloc(fx.len);
	assert_non_null(bad);
	struct cap_prep small = { .target = { .width = 16, .height = 16, .channels = 1 } };
	char what[64];
	for (unsigned long i = 0; i < fx.len; i++) {
		static const uint8_t flips[] = { 0xFF, 0x01, 0x80, 0x10 };
		for (int k = 0; k < 4; k++) {
			memcpy(bad, fx.jpg, fx.len);
			bad[i] ^= flips[k];
			bad_frame_fails_with_a_reason(d, bad, fx.len, k & 1 ? &small : &fx.prep);
			snprintf(what, sizeof(what), "byte %lu ^ 0x%02x", i, flips[k]);
			good_frame_decodes(&fx, d, what);
		}
		/* truncated at i bytes (an exact-size copy so ASan sees over-reads) */
		uint8_t *cut = malloc(i ? i : 1);
		assert_non_null(cut);
		memcpy(cut, fx.jpg, i);
		bad_frame_fails_with_a_reason(d, cut, i, &fx.prep);
		free(cut);
		snprintf(what, sizeof(what), "a cut at %lu bytes", i);
		good_frame_decodes(&fx, d, what);
	}
	free(bad);
	cap_decoder_free(d);
	free_fixture(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_size_header_does_not_poison_the_decoder),
		cmocka_unit_test(every_corruption_and_truncation_leaves_the_decoder_working),
	};
	return cmocka_run_group_tests_name("capture_decode_recovery", tests, NULL, NULL);
}
