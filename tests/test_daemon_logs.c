/* test_daemon_logs.c — what the real build/camclassd says about itself (issue #13, item 7):
 * the socket it serves is named once ("serving on", no second "Listening on" line), under
 * socket activation it is the passed socket's own path, not the INI's [socket] path; and
 * `camclass status` says "1 thread", not "1 threads". */
#include <errno.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "tests/daemon_harness.h"
#include "tests/daemon_util.h"

#define START_TIMEOUT_MS 30000

static void write_config(struct harness *h, int threads)
{
	char model_extra[64];
	snprintf(model_extra, sizeof(model_extra), "threads = %d\n", threads);
	du_write_file_ini(h->ini, h->frames, 5, h->sock, model_extra, NULL);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void start(struct harness *h, int threads)
{
	static const char *const photos[] = { "images/cat.bmp" };
	h_make_frames(h, "frames", photos, 1);
	write_config(h, threads);
	h_start(h, 0);
	if (!h_wait_notify(h, "READY=1", START_TIMEOUT_MS))
		fail_msg("no READY=1; log:\n%s", h_log(h));
}

static void stop(struct harness *h)
{
	assert_true(h_alive(h));
	assert_int_equal(kill(h->pid, SIGTERM), 0);
	assert_int_equal(h_wait_exit(h, 10000), 0);
}

static void the_socket_is_named_once(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	char want[4400];
	h_setup(h);
	start(h, 1);
	snprintf(want, sizeof(want), "serving on %.4300s (continuous mode)", h->sock);
	assert_int_equal(count(h_log(h), want), 1);
	assert_int_equal(count(h_log(h), "Listening on"), 0);

	/* camclass status: "1 thread" */
	char cmd[9000], out[4096];
	snprintf(cmd, sizeof(cmd), "'%.4000s/camclass' --socket '%.4000s' status 2>&1", tu_build_dir(),
		 h->sock);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	assert_int_equal(pclose(p), 0);
	if (!strstr(out, "(backend builtin, 1 thread)\n"))
		fail_msg("camclass status printed:\n%s", out);
	stop(h);
}

static void socket_activation_names_the_passed_socket(void **state)
{
	(void)state;
	struct harness *h = &the_harness;
	char path[4300], want[4400];
	h_setup(h);
	snprintf(path, sizeof(path), "%.4000s/activated.sock", h->dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(h->listen_fd >= 0);
	assert_int_equal(bind(h->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->listen_fd, 16), 0);
	start(h, 2);
	snprintf(want, sizeof(want), "serving on %.4300s (continuous mode)", path);
	if (count(h_log(h), want) != 1)
		fail_msg("log lacks '%s' once:\n%s", want, h_log(h));
	/* the INI's path is only mentioned as not applying */
	snprintf(want, sizeof(want), "serving on %.4300s", h->sock);
	assert_int_equal(count(h_log(h), want), 0);
	snprintf(want, sizeof(want), "STATUS=serving on %.4300s", path);
	assert_non_null(strstr(h->notes, want));
	stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_socket_is_named_once, harness_teardown),
		cmocka_unit_test_teardown(socket_activation_names_the_passed_socket, harness_teardown),
	};
	return cmocka_run_group_tests_name("daemon_logs", tests, NULL, NULL);
}
