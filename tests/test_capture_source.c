/* test_capture_source.c — capture/source.c + filesrc.c + slot.c without a camera: the file
 * source over a directory and over a concatenated .mjpeg (order, looping, approximate fps
 * pacing, timestamps, damaged pieces skipped), config errors, cap_stop from another thread,
 * and the newest-frame slot (freshest wins, overwritten frames counted as skipped). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>

#include "capture/capture.h"
#include "tests/testutil.h"

static uint8_t *encode(int w, int h, unsigned long *ret_len)
{
	uint8_t *rgb = calloc((size_t)w * h, 3), *jpg = NULL;
	tjhandle tj = tjInitCompress();
	assert_int_equal(tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &jpg, ret_len, TJSAMP_420, 80, 0), 0);
	tjDestroy(tj);
	free(rgb);
	return jpg;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_jpeg(const char *dir, const char *name, int w, int h)
{
	unsigned long len;
	uint8_t *j = encode(w, h, &len);
	write_file(dir, name, j, len);
	tjFree(j);
}

static struct cap_source *open_file_source(const char *path, int fps)
{
	struct cap_config c = { .kind = CAP_SOURCE_FILE, .path = path, .fps = fps };
	struct cap_source *s = NULL;
	char err[256];
	assert_int_equal(cap_open(&c, &s, err, sizeof(err)), 0);
	return s;
}

static void directory_replays_sorted_and_loops(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	write_jpeg(dir, "b.jpg", 24, 16);
	write_jpeg(dir, "a.jpg", 16, 16);
	write_jpeg(dir, "c.JPEG", 32, 16);
	write_file(dir, "notes.txt", "hello", 5);
	struct cap_source *s = open_file_source(dir, 100);
	static const int widths[] = { 16, 24, 32 };
	uint64_t prev_ts = 0;
	for (int i = 0; i < 7; i++) {
		struct cap_frame f;
		assert_int_equal(cap_next(s, 2000, &f), 0);
		assert_int_equal(f.format, CAP_FMT_MJPEG);
		assert_int_equal(f.width, widths[i % 3]);
		assert_int_equal(f.height, 16);
		assert_int_equal(f.sequence, (uint64_t)i);
		assert_true(f.timestamp_ns > prev_ts);
		prev_ts = f.timestamp_ns;
		cap_release(s, &f);
	}
	assert_int_equal(cap_state(s), CAP_STATE_STREAMING);
	struct cap_stats st;
	cap_get_stats(s, &st);
	assert_int_equal(st.frames, 7);
	assert_int_equal(st.disconnects, 0);
	cap_close(s);
	tu_rm_rf(dir);
	free(dir);
}

/* PNGs in the folder are decoded by the source (libpng) and delivered as raw RGB24 or GREY
 * frames with their own size and stride; JPEGs next to them stay MJPEG. */
static void png_files_become_raw_frames(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	static const png_uint_32 formats[] = { PNG_FORMAT_RGB, PNG_FORMAT_GRAY };
	for (int k = 0; k < 2; k++) {
		png_image img;
		uint8_t px[20 * 10 * 3];
		char name[32];
		memset(&img, 0, sizeof(img));
		img.version = PNG_IMAGE_VERSION;
		img.width = 20;
		img.height = 10;
		img.format = formats[k];
		for (size_t i = 0; i < sizeof(px); i++)
			px[i] = (uint8_t)(i * 7 + (size_t)k);
		png_alloc_size_t len = sizeof(px) * 2 + 1024;
		uint8_t *buf = malloc(len);
		assert_non_null(buf);
		assert_true(png_image_write_to_memory(&img, buf, &len, 0, px, 0, NULL));
		snprintf(name, sizeof(name), "%c.png", 'a' + k);
		write_file(dir, name, buf, len);
		free(buf);
	}
	write_jpeg(dir, "c.jpg", 16, 8);
	struct cap_source *s = open_file_source(dir, 100);
	for (int i = 0; i < 3; i++) {
		struct cap_frame f;
		assert_int_equal(cap_next(s, 2000, &f), 0);
		if (i == 2) {
			assert_int_equal(f.format, CAP_FMT_MJPEG);
			assert_int_equal(f.width, 16);
		} else {
			const int ch = i == 0 ? 3 : 1;
			assert_int_equal(f.format, i == 0 ? CAP_FMT_RGB24 : CAP_FMT_GREY);
			assert_int_equal(f.width, 20);
			assert_int_equal(f.height, 10);
			assert_int_equal(f.stride_bytes, 20 * ch);
			assert_int_equal(f.bytes, (size_t)20 * 10 * ch);
			for (size_t b = 0; b < f.bytes; b++)
				assert_int_equal(f.data[b], (uint8_t)(b * 7 + (size_t)i));
		}
		cap_release(s, &f);
	}
	cap_close(s);
	tu_rm_rf(dir);
	free(dir);
}

static void mjpeg_file_is_split_and_loops(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[4096];
	unsigned long l1, l2, l3;
	uint8_t *a = encode(16, 8, &l1), *b = encode(40, 8, &l2), *c = encode(8, 8, &l3);
	snprintf(path, sizeof(path), "%s/clip.mjpeg", dir);
	FILE *f = fopen(path, "wb");
	fwrite(a, 1, l1, f);
	fwrite(b, 1, l2 / 3, f);          /* a damaged (truncated) frame */
	fwrite("\0\0junk", 1, 6, f);
	fwrite(b, 1, l2, f);
	fwrite(c, 1, l3, f);
	fclose(f);
	struct cap_source *s = open_file_source(path, 200);
	static const int widths[] = { 16, 40, 8 };
	for (int i = 0; i < 6; i++) {
		struct cap_frame fr;
		assert_int_equal(cap_next(s, 2000, &fr), 0);
		assert_int_equal(fr.width, widths[i % 3]);
		/* each frame decodes */
		struct cap_decoder *d;
		struct cap_image img;
		struct cap_prep p = { .target = { .width = 8, .height = 8, .channels = 3 } };
		assert_int_equal(cap_decoder_new(&d), 0);
		assert_int_equal(cap_decode(d, &fr, &p, &img), 0);
		cap_decoder_free(d);
	}
	cap_close(s);
	tjFree(a);
	tjFree(b);
	tjFree(c);
	tu_rm_rf(dir);
	free(dir);
}

static void replay_is_paced_at_fps(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	write_jpeg(dir, "x.jpg", 8, 8);
	struct cap_source *s = open_file_source(dir, 20);
	struct cap_frame f;
	assert_int_equal(cap_next(s, 2000, &f), 0);
	double t0 = tu_now_ms();
	for (int i = 0; i < 10; i++)
		assert_int_equal(cap_next(s, 2000, &f), 0);
	double ms = tu_now_ms() - t0;
	/* 10 periods of 50 ms; only a loose lower bound (no timing assertions that load can break) */
	print_message("10 frames at 20 fps took %.0f ms\n", ms);
	assert_true(ms >= 450);
	/* a timeout shorter than the period returns TIMEOUT, and the source keeps streaming */
	assert_int_equal(cap_next(s, 5, &f), CAP_ERR_TIMEOUT);
	assert_int_equal(cap_state(s), CAP_STATE_STREAMING);
	cap_close(s);
	tu_rm_rf(dir);
	free(dir);
}

static void missing_or_empty_path_is_a_config_error(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[4096];
	struct cap_frame f;
	struct cap_source *s = open_file_source(dir, 10);   /* empty directory */
	int r = cap_next(s, 1000, &f);
	assert_int_equal(r, CAP_ERR_INVALID);
	assert_true(cap_error_is_config(r));
	assert_non_null(strstr(cap_last_error(s), "no .jpg"));
	assert_int_equal(cap_last_error_code(s), CAP_ERR_INVALID);
	assert_int_equal(cap_next(s, 1000, &f), CAP_ERR_INVALID);   /* sticky */
	cap_close(s);
	snprintf(path, sizeof(path), "%s/nothing.mjpeg", dir);
	s = open_file_source(path, 10);
	assert_int_equal(cap_next(s, 1000, &f), CAP_ERR_INVALID);
	assert_non_null(strstr(cap_last_error(s), "nothing.mjpeg"));
	cap_close(s);
	write_file(dir, "bad.mjpeg", "not a jpeg at all", 17);
	snprintf(path, sizeof(path), "%s/bad.mjpeg", dir);
	s = open_file_source(path, 10);
	assert_int_equal(cap_next(s, 1000, &f), CAP_ERR_INVALID);
	cap_close(s);
	char err[256];
	struct cap_config c = { .kind = CAP_SOURCE_FILE, .path = dir, .fps = 0 };
	assert_int_equal(cap_open(&c, &s, err, sizeof(err)), CAP_ERR_INVALID);
	tu_rm_rf(dir);
	free(dir);
}

static void *stop_later(void *arg)
{
	usleep(100 * 1000);
	cap_stop(arg);
	return NULL;
}

static void stop_wakes_a_waiting_next(void **state)
{
	(void)state;
	char *dir = tu_tmpdir();
	write_jpeg(dir, "x.jpg", 8, 8);
	struct cap_source *s = open_file_source(dir, 1);
	struct cap_frame f;
	pthread_t t;
	assert_int_equal(cap_next(s, 2000, &f), 0);
	pthread_create(&t, NULL, stop_later, s);
	double t0 = tu_now_ms();
	assert_int_equal(cap_next(s, 10000, &f), CAP_ERR_STOPPED);
	assert_true(tu_now_ms() - t0 < 5000);
	pthread_join(t, NULL);
	assert_int_equal(cap_state(s), CAP_STATE_STOPPED);
	assert_int_equal(cap_next(s, 0, &f), CAP_ERR_STOPPED);
	cap_close(s);
	tu_rm_rf(dir);
	free(dir);
}

static void absent_camera_reports_disconnected_and_backs_off(void **state)
{
	(void)state;
	struct cap_config c = { .kind = CAP_SOURCE_V4L2, .device = "/nonexistent/video7",
				.width = 640, .height = 480, .fps = 30 };
	struct cap_source *s;
	struct cap_frame f;
	char err[256];
	assert_int_equal(cap_open(&c, &s, err, sizeof(err)), 0);
	double t0 = tu_now_ms();
	int calls = 0;
	while (tu_now_ms() - t0 < 1300) {
		/* every call returns within its timeout, so the owner's loop keeps running */
		double c0 = tu_now_ms();
		assert_int_equal(cap_next(s, 100, &f), CAP_ERR_DISCONNECTED);
		assert_true(tu_now_ms() - c0 < 1000);
		assert_int_equal(cap_state(s), CAP_STATE_DISCONNECTED);
		calls++;
	}
	struct cap_stats st;
	cap_get_stats(s, &st);
	/* attempts at 0, 0.25, 0.75, 1.75 s…: 3 within 1.3 s, not one per call */
	print_message("%d calls, %llu open attempts in 1.3 s\n", calls,
		      (unsigned long long)st.open_failures);
	assert_true(st.open_failures >= 2 && st.open_failures <= 4);
	assert_true(calls >= 5);
	assert_non_null(strstr(cap_last_error(s), "/nonexistent/video7"));
	assert_int_equal(cap_last_error_code(s), CAP_ERR_NO_DEVICE);
	cap_close(s);
}

/* --- slot ------------------------------------------------------------------------------------ */
static struct cap_frame frame_with(uint64_t seq, uint8_t *buf, size_t len)
{
	memset(buf, (int)(seq & 0xff), len);
	return (struct cap_frame){ .data = buf, .bytes = len, .format = CAP_FMT_GREY, .width = (int)len,
				   .height = 1, .stride_bytes = (int)len, .sequence = seq };
}

static void slot_keeps_only_the_newest(void **state)
{
	(void)state;
	struct cap_slot *slot;
	uint8_t buf[64];
	struct cap_frame got;
	assert_int_equal(cap_slot_new(&slot), 0);
	assert_int_equal(cap_slot_take(slot, 10, &got), CAP_ERR_TIMEOUT);
	for (uint64_t i = 1; i <= 5; i++) {
		struct cap_frame f = frame_with(i, buf, 10 + i);
		assert_int_equal(cap_slot_put(slot, &f), 0);
	}
	memset(buf, 0xEE, sizeof(buf));   /* the slot copied: the producer may reuse its buffer */
	assert_int_equal(cap_slot_take(slot, 10, &got), 0);
	assert_int_equal(got.sequence, 5);
	assert_int_equal(got.bytes, 15);
	for (size_t i = 0; i < got.bytes; i++)
		assert_int_equal(got.data[i], 5);
	assert_int_equal(cap_slot_skipped(slot), 4);
	assert_int_equal(cap_slot_take(slot, 10, &got), CAP_ERR_TIMEOUT);
	struct cap_frame f = frame_with(6, buf, 3);
	assert_int_equal(cap_slot_put(slot, &f), 0);
	assert_int_equal(cap_slot_take(slot, 10, &got), 0);
	assert_int_equal(got.sequence, 6);
	assert_int_equal(cap_slot_skipped(slot), 4);
	cap_slot_close(slot);
	assert_int_equal(cap_slot_take(slot, 10, &got), CAP_ERR_STOPPED);
	assert_int_equal(cap_slot_put(slot, &f), CAP_ERR_STOPPED);
	cap_slot_free(slot);
}

#define N_PUT 3000
struct race { struct cap_slot *slot; int put_failures; };

static void *producer(void *arg)
{
	struct race *r = arg;
	uint8_t buf[257];
	for (uint64_t i = 1; i <= N_PUT; i++) {
		struct cap_frame f = frame_with(i, buf, 1 + i % 257);
		r->put_failures += cap_slot_put(r->slot, &f) != 0;   /* no cmocka asserts off the main thread */
		if (i % 64 == 0)
			usleep(200);
	}
	return NULL;
}

static void slot_under_a_slow_consumer(void **state)
{
	(void)state;
	struct race r = { 0 };
	pthread_t t;
	uint64_t taken = 0, last = 0;
	assert_int_equal(cap_slot_new(&r.slot), 0);
	pthread_create(&t, NULL, producer, &r);
	while (last < N_PUT) {
		struct cap_frame got;
		int rc = cap_slot_take(r.slot, 2000, &got);
		assert_int_equal(rc, 0);
		assert_true(got.sequence > last);   /* never an older frame */
		assert_int_equal(got.bytes, 1 + got.sequence % 257);
		for (size_t i = 0; i < got.bytes; i++)   /* never a torn frame */
			assert_int_equal(got.data[i], got.sequence & 0xff);
		last = got.sequence;
		taken++;
		usleep(300);   /* busy classifying */
	}
	pthread_join(t, NULL);
	assert_int_equal(r.put_failures, 0);
	print_message("taken %llu, skipped %llu\n", (unsigned long long)taken,
		      (unsigned long long)cap_slot_skipped(r.slot));
	assert_int_equal(taken + cap_slot_skipped(r.slot), N_PUT);
	assert_true(cap_slot_skipped(r.slot) > 0);
	cap_slot_free(r.slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(directory_replays_sorted_and_loops),
		cmocka_unit_test(mjpeg_file_is_split_and_loops),
		cmocka_unit_test(png_files_become_raw_frames),
		cmocka_unit_test(replay_is_paced_at_fps),
		cmocka_unit_test(missing_or_empty_path_is_a_config_error),
		cmocka_unit_test(stop_wakes_a_waiting_next),
		cmocka_unit_test(absent_camera_reports_disconnected_and_backs_off),
		cmocka_unit_test(slot_keeps_only_the_newest),
		cmocka_unit_test(slot_under_a_slow_consumer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
