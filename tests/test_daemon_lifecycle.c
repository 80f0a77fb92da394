/* test_daemon_lifecycle.c — the real build/camclassd under the real sd_notify protocol:
 * READY=1 only once it serves, STATUS=, reload (good and broken INI), SIGTERM → STOPPING=1 and
 * exit 0, --check-config exit codes and messages, and WATCHDOG=1 only while the pipeline is
 * healthy (the capture thread is frozen with ptrace to make it unhealthy, then released). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "lib/version.h"
#include "tests/daemon_harness.h"
#include "tests/daemon_util.h"

#define START_TIMEOUT_MS 30000

static void write_config(struct harness *h, int fps)
{
	/* e2e runs XNNPACK; this the builtin engine */
	du_write_file_ini(h->ini, h->frames, fps, h->sock, NULL, "[classify]\ntop_k = 3\n");
}

static void make_photo_frames(struct harness *h)
{
	static const char *const photos[] = { "images/cat.bmp", "images/grace_hopper.bmp" };
	h_make_frames(h, "frames", photos, 2);
}

static void check_config_exit_codes_and_messages(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	char out[4096], want[4400];
	h_setup(h);
	make_photo_frames(h);   /* --check-config opens a file source's folder (issue #13) */
	write_config(h, 5);
	assert_int_equal(du_check_config(h->ini, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%.4000s: configuration OK\n", h->ini);
	assert_string_equal(out, want);

	h_write(h->ini, "[camera]\nsource = file\nwidth = 99999\n");
	assert_int_equal(du_check_config(h->ini, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "%.4000s:3: [camera] width: 99999 is out of range", h->ini);
	if (!strstr(out, want))
		fail_msg("'%s' lacks '%s'", out, want);

	char missing[4300];
	snprintf(missing, sizeof(missing), "%s/nope.ini", h->dir);
	assert_int_equal(du_check_config(missing, out, sizeof(out)), 1);
	assert_non_null(strstr(out, missing));
}

static void bad_config_refuses_to_start(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	h_setup(h);
	h_write(h->ini, "[camera]\nsource = file\nfile = /x\n[bogus]\n");
	h_start(h, 0);
	assert_int_equal(h_wait_exit(h, 10000), 1);
	assert_false(h_wait_notify(h, "READY=1", 200));
	char want[4400];
	snprintf(want, sizeof(want), "%.4000s:4: [bogus]: unknown section", h->ini);
	assert_non_null(strstr(h_log(h), want));
}

static void ready_status_reload_and_stop(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	struct cli_conn *conn;
	json_t *msg;
	h_setup(h);
	make_photo_frames(h);
	write_config(h, 10);
	h_start(h, 0);
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	/* READY means serving: the socket answers at once with a hello */
	assert_int_equal(cli_connect(h->sock, &conn), 0);
	assert_int_equal(cli_read_msg(conn, 5000, &msg, NULL, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "type")), "hello");
	/* the daemon's build version, the same string this test was linked with */
	assert_string_equal(json_string_value(json_object_get(msg, "daemon_version")),
			    camclass_version());
	json_decref(msg);
	assert_int_equal(cli_request(conn, "status", NULL, 5000, &msg), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "daemon_version")),
			    camclass_version());
	json_decref(msg);
	assert_true(h_wait_notify(h, "STATUS=streaming", 10000));
	assert_false(h_wait_notify(h, "WATCHDOG=1", 1500)); /* no WATCHDOG_USEC, no pings */

	/* a broken file: rejected, logged with its line, old config kept, still serving */
	h_write(h->ini, "[camera]\nsource = file\nfile = %s\n[model]\nthreads = 0\n", h->frames);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 5000));
	assert_true(h_wait_notify(h, "READY=1", 10000));
	assert_true(h_alive(h));
	char want[4400];
	snprintf(want, sizeof(want), "reload rejected, keeping the running configuration: %.4000s:5: "
		 "[model] threads: 0 is out of range", h->ini);
	if (!strstr(h_log(h), want))
		fail_msg("log lacks '%s':\n%s", want, h_log(h));
	assert_int_equal(cli_request(conn, "ping", NULL, 5000, &msg), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "type")), "pong");
	json_decref(msg);

	/* a good file with a new log level: accepted */
	write_config(h, 10);
	assert_int_equal(kill(h->pid, SIGHUP), 0);
	assert_true(h_wait_notify(h, "RELOADING=1", 5000));
	assert_true(h_wait_notify(h, "READY=1", 10000));
	assert_non_null(strstr(h_log(h), "configuration reloaded"));

	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_true(h_wait_notify(h, "STOPPING=1", 10000));
	assert_int_equal(h_wait_exit(h, 10000), 0);
	struct stat st;
	assert_int_equal(stat(h->sock, &st), -1); /* it removed its socket */
	cli_close(conn);
}

static void sigint_also_stops_cleanly(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	h_setup(h);
	make_photo_frames(h);
	write_config(h, 10);
	h_start(h, 0);
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	assert_int_equal(kill(h->pid, SIGINT), 0);
	assert_true(h_wait_notify(h, "STOPPING=1", 10000));
	assert_int_equal(h_wait_exit(h, 10000), 0);
}

static void serves_a_socket_passed_by_systemd(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	struct cli_conn *conn;
	json_t *msg;
	char path[4300];
	struct stat st;
	h_setup(h);
	make_photo_frames(h);
	write_config(h, 10);
	/* what systemd does for camclassd.socket: bind + listen, then pass it as fd 3 */
	snprintf(path, sizeof(path), "%.4000s/activated.sock", h->dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(h->listen_fd >= 0);
	assert_int_equal(bind(h->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->listen_fd, 16), 0);
	h_start(h, 0);
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	assert_int_equal(cli_connect(path, &conn), 0);
	assert_int_equal(cli_read_msg(conn, 5000, &msg, NULL, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "type")), "hello");
	json_decref(msg);
	assert_int_equal(stat(h->sock, &st), -1); /* the configured path was not used */
	cli_close(conn);
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 10000), 0);
	assert_int_equal(stat(path, &st), 0); /* systemd's socket file is systemd's to remove */
}

/* tid of the daemon thread called `name` (threads are named by the pipeline). */
static pid_t thread_named(pid_t pid, const char *name)
{
	char dir[64], path[400], comm[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	pid_t found = -1;
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strncmp(comm, name, strlen(name)) == 0 &&
		    comm[strlen(name)] == '\n')
			found = (pid_t)atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

static int count_notes(const struct harness *h, size_t from, const char *what)
{
	int n = 0;
	for (const char *p = h->notes + from; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void watchdog_only_while_frames_flow(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	h_setup(h);
	make_photo_frames(h);
	write_config(h, 10);
	h_start(h, 900000); /* 0.9 s: the daemon checks health every 0.3 s */
	assert_true(h_wait_notify(h, "READY=1", START_TIMEOUT_MS));
	assert_true(h_wait_notify(h, "WATCHDOG=1", 3000));
	assert_true(h_wait_notify(h, "WATCHDOG=1", 3000));

	/* Freeze only the capture thread: frames stop, everything else keeps running. */
	pid_t tid = thread_named(h->pid, "capture");
	assert_true(tid > 0);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
		fail_msg("ptrace(SEIZE) of the capture thread: %s", strerror(errno));
	assert_int_equal(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL), 0);
	int st;
	assert_int_equal(waitpid(tid, &st, __WALL), tid);
	double frozen_at = tu_now_ms();

	/* health allows 2×CAP_STALL_MS plus a few frames; after that, silence */
	h_wait_notify(h, NULL, 6500);
	size_t mark = h->notes_len;
	h_wait_notify(h, NULL, 2500);
	assert_int_equal(count_notes(h, mark, "WATCHDOG=1"), 0);
	assert_true(h_alive(h));
	assert_non_null(strstr(h_log(h), "pipeline unhealthy (no frame from the camera)"));
	assert_true(tu_now_ms() - frozen_at >= 9000);

	/* release it: frames flow again, and so do the pings */
	assert_int_equal(ptrace(PTRACE_DETACH, tid, NULL, NULL), 0);
	h->notes_seen = h->notes_len;
	assert_true(h_wait_notify(h, "WATCHDOG=1", 5000));
	assert_non_null(strstr(h_log(h), "pipeline healthy again"));

	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 10000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(check_config_exit_codes_and_messages, harness_teardown),
		cmocka_unit_test_teardown(bad_config_refuses_to_start, harness_teardown),
		cmocka_unit_test_teardown(ready_status_reload_and_stop, harness_teardown),
		cmocka_unit_test_teardown(sigint_also_stops_cleanly, harness_teardown),
		cmocka_unit_test_teardown(serves_a_socket_passed_by_systemd, harness_teardown),
		cmocka_unit_test_teardown(watchdog_only_while_frames_flow, harness_teardown),
	};
	return cmocka_run_group_tests_name("daemon_lifecycle", tests, NULL, NULL);
}
