/* test_daemon_health.c — the real build/camclassd when frames arrive but do not decode
 * (issue #13, item 2): a JPEG whose header says 0×0 among good frames must not stop the good
 * ones from being classified; a camera whose every frame fails to decode must stop the
 * watchdog and say why — in `status` ("health") and in the log, naming the frame and the
 * decoder's reason; good frames again bring the pings back. Frames come from the file source
 * (a folder read file by file, so a file replaced on disk changes the next frames). Waits are
 * bounded by generous deadlines, never rates in tight windows. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "ipc/client.h"
#include "tests/testutil.h"
#include "tests/daemon_harness.h"
#include "tests/daemon_util.h"

#define START_TIMEOUT_MS 30000

static uint8_t *read_all(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	uint8_t *b = malloc((size_t)n);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*ret_len = (size_t)n;
	return b;
}

static void write_all(const char *path, const uint8_t *b, size_t len)
{
	char tmp[8300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);  /* the daemon never reads half a file */
}

/* The JPEG with its SOF saying 0×0 ("Empty JPEG image (DNL not supported)"). */
static void zero_size(uint8_t *jpg, size_t len)
{
	for (size_t i = 2; i + 9 < len;) {
		assert_int_equal(jpg[i], 0xFF);
		if (jpg[i + 1] >= 0xC0 && jpg[i + 1] <= 0xC2) {
			memset(jpg + i + 5, 0, 4);
			return;
		}
		i += 2 + ((size_t)jpg[i + 2] << 8 | jpg[i + 3]);
	}
	fail_msg("no SOF marker");
}

/* The daemon's sd_notify blocks once the notify socket's queue is full (systemd always reads
 * it): keep reading it while the test does other things. */
static void drain_notes(struct harness *h)
{
	h_wait_notify(h, NULL, 5);
}

static json_t *status_of(struct harness *h)
{
	struct cli_conn *c;
	json_t *st;
	drain_notes(h);
	assert_int_equal(cli_connect(h->sock, &c), 0);
	int r = cli_request(c, "status", NULL, 10000, &st);
	if (r < 0)
		fail_msg("status: %s; daemon log:\n%s", strerror(-r), h_log(h));
	cli_close(c);
	return st;
}

/* Waits (generously) until the daemon has classified `n` more results. */
static void wait_results(struct harness *h, int n)
{
	struct cli_conn *c;
	json_t *msg;
	assert_int_equal(cli_connect(h->sock, &c), 0);
	assert_int_equal(cli_request(c, "subscribe", NULL, 10000, &msg), 0);
	json_decref(msg);
	double deadline = tu_now_ms() + 30000;
	for (int got = 0; got < n;) {
		drain_notes(h);
		int r = cli_read_msg(c, 200, &msg, NULL, NULL);
		if (r == -ETIMEDOUT && tu_now_ms() < deadline)
			continue;
		if (r < 0)
			fail_msg("waiting for result %d of %d: %s", got + 1, n, strerror(-r));
		if (strcmp(json_string_value(json_object_get(msg, "type")), "result") == 0)
			got++;
		json_decref(msg);
	}
	cli_close(c);
}

static int count_notes(const struct harness *h, size_t from, const char *what)
{
	int n = 0;
	for (const char *p = h->notes + from; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void undecodable_frames_stop_the_watchdog_and_say_why(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	static const char *const photos[] = { "images/cat.bmp", "images/grace_hopper.bmp" };
	char good_path[8192], bad_path[8192];
	size_t good_len, bad_len;

	h_setup(h);
	h_make_frames(h, "frames", photos, 2);
	snprintf(good_path, sizeof(good_path), "%.4300s/00-cat.bmp.jpg", h->frames);
	snprintf(bad_path, sizeof(bad_path), "%.4300s/01-grace_hopper.bmp.jpg", h->frames);
	uint8_t *good = read_all(good_path, &good_len), *bad = read_all(bad_path, &bad_len);
	zero_size(bad, bad_len);
	write_all(bad_path, bad, bad_len);   /* one good frame, one 0×0 frame, in turn */
	du_write_file_ini(h->ini, h->frames, 10, h->sock, NULL, NULL);
	h_start(h, 900000);                  /* the daemon checks health every 0.3 s */
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));

	/* the 0×0 frame does not poison the decoder: good frames keep being classified */
	wait_results(h, 6);
	json_t *st;
	double until = tu_now_ms() + 30000;  /* the slot keeps the newest frame: wait for a bad one */
	for (;;) {
		st = status_of(h);
		if (json_integer_value(json_object_get(st, "frames_corrupt")) >= 1)
			break;
		json_decref(st);
		if (tu_now_ms() > until)
			fail_msg("no bad frame was counted in 30 s");
		usleep(200 * 1000);
	}
	assert_string_equal(json_string_value(json_object_get(st, "health")), "ok");
	json_decref(st);
	wait_results(h, 2);                   /* good frames still classified after the bad one */
	assert_true(h_wait_notify(h, "WATCHDOG=1", 5000));
	assert_non_null(strstr(h_log(h), "frame 01-grace_hopper.bmp.jpg skipped: JPEG header: Empty JPEG image"));

	/* every frame bad: frames still arrive, but after the window no more pings */
	write_all(good_path, bad, bad_len);
	double deadline = tu_now_ms() + 30000;
	for (;;) {
		st = status_of(h);
		const char *health = json_string_value(json_object_get(st, "health"));
		assert_non_null(health);
		if (strcmp(health, "ok") != 0) {
			assert_non_null(strstr(health, "frames arrive but none can be decoded (last: frame "));
			assert_non_null(strstr(health, "Empty JPEG image"));
			assert_string_equal(json_string_value(json_object_get(st, "camera")), "streaming");
			json_decref(st);
			break;
		}
		json_decref(st);
		if (tu_now_ms() > deadline)
			fail_msg("status never reported the undecodable frames");
		usleep(200 * 1000);
	}
	h->notes_seen = h->notes_len;
	h_wait_notify(h, NULL, 1500);      /* a ping already on its way may still arrive */
	size_t mark = h->notes_len;
	h_wait_notify(h, NULL, 2500);
	assert_int_equal(count_notes(h, mark, "WATCHDOG=1"), 0);
	assert_true(h_alive(h));
	assert_non_null(strstr(h_log(h), "pipeline unhealthy (frames arrive but none can be decoded "
					 "(last: frame 0"));

	/* good frames again: classified, healthy, pinging */
	write_all(good_path, good, good_len);
	write_all(bad_path, good, good_len);
	h->notes_seen = h->notes_len;
	assert_true(h_wait_notify(h, "WATCHDOG=1", 10000));
	assert_non_null(strstr(h_log(h), "pipeline healthy again"));
	assert_non_null(strstr(h_log(h), "frames decode again after"));
	st = status_of(h);
	assert_string_equal(json_string_value(json_object_get(st, "health")), "ok");
	json_decref(st);

	free(good);
	free(bad);
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 10000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(undecodable_frames_stop_the_watchdog_and_say_why,
					  harness_teardown),
	};
	return cmocka_run_group_tests_name("daemon_health", tests, NULL, NULL);
}
