/* test_config_strict.c — daemon/config.c reading what it is given, all of it or nothing (issue
 * #13, item 7): a read error is never taken for the end of the file (/dev/zero under a memory
 * limit used to pass as "configuration OK"); CR-only line ends keep every key; inih's
 * "key: value" form and numbers that are not plain decimals ("+640", "0x1p3", " 7") are
 * refused with FILE:LINE. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "tests/testutil.h"

/* ASan reserves terabytes of address space for its shadow: no RLIMIT_AS under it (the fixed
 * reader stops at the first byte anyway; the plain build checks the limit case). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char *tmp_dir;
static char ini_path[4096];
static char err[CONFIG_ERR_MAX];

static int setup(void **state)
{
	(void)state;
	tmp_dir = tu_tmpdir();
	snprintf(ini_path, sizeof(ini_path), "%s/test.ini", tmp_dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rm_rf(tmp_dir);
	free(tmp_dir);
	return 0;
}

static int load_text(const char *text, struct config *c)
{
	tu_write_text(ini_path, text);
	return config_load(ini_path, c, err, sizeof(err));
}

static void expect_error(const char *text, int line, const char *reason)
{
	struct config c = { 0 };
	char want[4300];
	if (load_text(text, &c) == 0)
		fail_msg("accepted: %s", text);
	snprintf(want, sizeof(want), "%s:%d: ", ini_path, line);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, reason))
		fail_msg("error '%s' is not '%s...%s'", err, want, reason);
}

/* In a child under a 256 MB address-space limit, as the audit ran it: the old reader grew its
 * line buffer until malloc failed and took that for the end of the file. */
static void dev_zero_is_refused_not_read_forever(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 256ul << 20, 256ul << 20 };
		if (!UNDER_ASAN && setrlimit(RLIMIT_AS, &rl) < 0)
			_exit(3);
		struct config c;
		char e[CONFIG_ERR_MAX];
		int r = config_load("/dev/zero", &c, e, sizeof(e));
		if (r == 0)
			_exit(1);      /* "configuration OK" */
		_exit(strstr(e, "/dev/zero:1: ") && strstr(e, "NUL byte") ? 0 : 2);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void read_errors_are_errors(void **state)
{
	(void)state;
	struct config c;
	/* a directory opens but cannot be read */
	assert_true(config_load(tmp_dir, &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot read"));
}

static void cr_only_line_ends_keep_every_key(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(load_text("[camera]\rwidth = 320\rheight = 240\r[classify]\rtop_k = 3\r", &c), 0);
	assert_int_equal(c.camera.width, 320);
	assert_int_equal(c.camera.height, 240);
	assert_int_equal(c.classify.top_k, 3);
	config_free(&c);
	/* mixed with CRLF and LF, lines still counted one by one */
	assert_int_equal(load_text("[camera]\r\nwidth = 320\rheight = 240\n", &c), 0);
	assert_int_equal(c.camera.height, 240);
	config_free(&c);
	expect_error("[camera]\rwidth = 320\rheight = x\r", 3, "[camera] height");
}

static void colon_is_not_a_separator(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth: 320\n", 2, "':' is not a separator");
	/* a colon inside a value is fine */
	struct config c;
	assert_int_equal(load_text("[camera]\ndevice = /dev/v4l/by-id/usb-0:1.0-video-index0\n", &c), 0);
	assert_string_equal(c.camera.device, "/dev/v4l/by-id/usb-0:1.0-video-index0");
	config_free(&c);
}

static void numbers_are_plain_decimals(void **state)
{
	(void)state;
	expect_error("[camera]\nwidth = +640\n", 2, "[camera] width");
	expect_error("[camera]\nwidth = 0x280\n", 2, "[camera] width");
	expect_error("[classify]\nthreshold = 0x1p-3\n", 2, "[classify] threshold");
	expect_error("[classify]\nthreshold = +0.5\n", 2, "[classify] threshold");
	expect_error("[classify]\nthreshold = .5\n", 2, "[classify] threshold");
	expect_error("[classify]\nthreshold = 5.\n", 2, "[classify] threshold");
	expect_error("[classify]\nthreshold = infinity\n", 2, "[classify] threshold");
	expect_error("[camera]\ncontrol.brightness = +5\n", 2, "[camera] control.brightness");
	struct config c;
	assert_int_equal(load_text("[camera]\nwidth = 640\ncontrol.brightness = -5\n"
				   "[classify]\nthreshold = 0.25\nrate = 2.5e-1\n", &c), 0);
	assert_int_equal(c.camera.width, 640);
	assert_true(c.classify.threshold == 0.25);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dev_zero_is_refused_not_read_forever),
		cmocka_unit_test(read_errors_are_errors),
		cmocka_unit_test(cr_only_line_ends_keep_every_key),
		cmocka_unit_test(colon_is_not_a_separator),
		cmocka_unit_test(numbers_are_plain_decimals),
	};
	return cmocka_run_group_tests_name("config_strict", tests, setup, teardown);
}
