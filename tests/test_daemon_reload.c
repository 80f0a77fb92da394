/* test_daemon_reload.c — a reload to a camera source that cannot be opened (issue #13, item 3),
 * with the real build/camclassd: a file source whose folder is missing, then one that is empty.
 * Before the fix the daemon logged "configuration reloaded", exited 1 and dropped every client;
 * now the reload is rejected with the reason, the running configuration stays, a subscriber
 * connected throughout keeps getting results, and a later good reload still works.
 * --check-config reports both cases before start. Waits have generous deadlines. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "tests/daemon_harness.h"
#include "tests/daemon_util.h"

#define START_TIMEOUT_MS 30000

static void write_config(struct harness *h, const char *frames)
{
	du_write_file_ini(h->ini, frames, 10, h->sock, NULL, NULL);
}

/* `n` results on a subscription opened before the reloads, with notify drained meanwhile (the
 * daemon's sd_notify blocks when nobody reads the notify socket). */
static void results_keep_coming(struct harness *h, struct cli_conn *c, int n)
{
	double deadline = tu_now_ms() + 30000;
	for (int got = 0; got < n;) {
		json_t *msg;
		h_wait_notify(h, NULL, 5);
		int r = cli_read_msg(c, 200, &msg, NULL, NULL);
		if (r == -ETIMEDOUT && tu_now_ms() < deadline)
			continue;
		if (r < 0)
			fail_msg("result %d of %d: %s; log:\n%s", got + 1, n, strerror(-r), h_log(h));
		if (strcmp(json_string_value(json_object_get(msg, "type")), "result") == 0)
			got++;
		json_decref(msg);
	}
}

/* SIGHUP with the INI pointing at `frames`; the reload must be rejected for `reason`. */
static void reload_is_rejected(struct harness *h, struct cli_conn *sub, const char *frames,
			       const char *reason)
{
	size_t log_before = strlen(h_log(h));
	write_config(h, frames);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 10000));
	assert_true(h_wait_notify(h, "READY=1", 10000));
	results_keep_coming(h, sub, 3);
	assert_true(h_alive(h));
	const char *log = h_log(h) + log_before;
	char want[4500];
	snprintf(want, sizeof(want), "reload rejected: camera: %.4300s: %s", frames, reason);
	if (!strstr(log, want))
		fail_msg("log lacks '%s':\n%s", want, log);
	assert_null(strstr(log, "configuration reloaded"));
	/* the running source is still the one in use */
	json_t *st;
	assert_int_equal(cli_request(sub, "status", NULL, 10000, &st), 0);
	assert_non_null(strstr(json_string_value(json_object_get(st, "device")), h->frames));
	json_decref(st);
}

static void reload_to_a_source_that_cannot_open_keeps_the_running_one(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	static const char *const photos[] = { "images/cat.bmp" };
	char missing[4400], empty[4400], out[4096];

	h_setup(h);
	h_make_frames(h, "frames", photos, 1);
	snprintf(missing, sizeof(missing), "%.4300s/no-such-folder", h->dir);
	snprintf(empty, sizeof(empty), "%.4300s/empty", h->dir);
	assert_int_equal(mkdir(empty, 0755), 0);

	/* --check-config knows before start */
	write_config(h, missing);
	assert_int_equal(du_check_config(h->ini, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "No such file or directory"));
	assert_non_null(strstr(out, missing));
	write_config(h, empty);
	assert_int_equal(du_check_config(h->ini, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no .jpg, .jpeg or .png files"));
	write_config(h, h->frames);
	assert_int_equal(du_check_config(h->ini, out, sizeof(out)), 0);

	h_start(h, 0);
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	struct cli_conn *sub;
	json_t *msg;
	assert_int_equal(cli_connect(h->sock, &sub), 0);
	assert_int_equal(cli_request(sub, "subscribe", NULL, 10000, &msg), 0);
	json_decref(msg);
	results_keep_coming(h, sub, 2);

	reload_is_rejected(h, sub, missing, "No such file or directory");
	reload_is_rejected(h, sub, empty, "no .jpg, .jpeg or .png files");

	/* a good reload after the rejected ones is applied */
	size_t log_before = strlen(h_log(h));
	write_config(h, h->frames);
	FILE *f = fopen(h->ini, "a");
	assert_non_null(f);
	fprintf(f, "[classify]\ntop_k = 2\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "READY=1", 10000));
	double deadline = tu_now_ms() + 10000;
	while (!strstr(h_log(h) + log_before, "configuration reloaded") && tu_now_ms() < deadline)
		h_wait_notify(h, NULL, 50);
	assert_non_null(strstr(h_log(h) + log_before, "configuration reloaded"));
	results_keep_coming(h, sub, 2);
	cli_close(sub);
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 10000), 0);
}

/* Issue #13, item 5: a reload's model is loaded off the main loop. Its labels file is a FIFO
 * nobody writes to yet, so the load blocks for as long as the test wants; meanwhile clients
 * must be answered and results keep flowing (the old daemon loaded on the main loop and answered
 * nobody). Then the labels arrive and the new model goes into service. */
static void clients_are_answered_while_a_reload_loads_its_model(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	static const char *const photos[] = { "images/cat.bmp" };
	char fifo[4400];

	h_setup(h);
	h_make_frames(h, "frames", photos, 1);
	write_config(h, h->frames);
	h_start(h, 0);
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	struct cli_conn *sub, *other;
	json_t *msg;
	assert_int_equal(cli_connect(h->sock, &sub), 0);
	assert_int_equal(cli_request(sub, "subscribe", NULL, 10000, &msg), 0);
	json_decref(msg);
	results_keep_coming(h, sub, 2);

	snprintf(fifo, sizeof(fifo), "%.4300s/labels.fifo", h->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	h_write(h->ini,
		"[camera]\nsource = file\nfile = %s\nfps = 10\n[model]\nbackend = builtin\npath = %s\n",
		h->frames, tu_model_path("vww_96_int8.tflite"));
	FILE *f = fopen(h->ini, "a");
	assert_non_null(f);
	fprintf(f, "labels = %s\n[socket]\npath = %s\n[log]\nlevel = info\n", fifo, h->sock);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 10000));

	/* the load is stuck on the FIFO: everything else goes on */
	assert_int_equal(cli_connect(h->sock, &other), 0);
	for (int i = 0; i < 3; i++) {
		h_wait_notify(h, NULL, 5);
		int r = cli_request(other, "status", NULL, 10000, &msg);
		if (r < 0)
			fail_msg("status during the reload: %s; log:\n%s", strerror(-r), h_log(h));
		assert_string_equal(json_string_value(json_object_get(msg, "model")),
				    "mobilenet_v1_0.25_128_quant");
		json_decref(msg);
	}
	results_keep_coming(h, sub, 3);
	assert_null(strstr(h_log(h), "configuration reloaded"));

	/* the labels arrive: the new model goes into service */
	FILE *w = fopen(fifo, "w");
	assert_non_null(w);
	fputs("no_person\nperson\n", w);
	assert_int_equal(fclose(w), 0);
	assert_true(h_wait_notify(h, "READY=1", 20000));
	double deadline = tu_now_ms() + 20000;
	bool event = false;
	while (!event && tu_now_ms() < deadline) {
		h_wait_notify(h, NULL, 5);
		if (cli_read_msg(sub, 200, &msg, NULL, NULL) != 0)
			continue;
		event = strcmp(json_string_value(json_object_get(msg, "type")), "event") == 0 &&
			strcmp(json_string_value(json_object_get(msg, "event")), "model_reloaded") == 0;
		json_decref(msg);
	}
	assert_true(event);
	assert_non_null(strstr(h_log(h), "model vww_96_int8 in service"));
	assert_int_equal(cli_request(other, "status", NULL, 10000, &msg), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "model")), "vww_96_int8");
	json_decref(msg);
	cli_close(other);
	cli_close(sub);
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 10000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(reload_to_a_source_that_cannot_open_keeps_the_running_one,
					  harness_teardown),
		cmocka_unit_test_teardown(clients_are_answered_while_a_reload_loads_its_model,
					  harness_teardown),
	};
	if (getenv("CAMCLASS_TEST_FILTER"))      /* e.g. "clients*": run one test alone */
		cmocka_set_test_filter(getenv("CAMCLASS_TEST_FILTER"));
	return cmocka_run_group_tests_name("daemon_reload", tests, NULL, NULL);
}
