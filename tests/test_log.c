/* test_log.c — lib/log.c: level names, filtering, journald prefixes, errno helper. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"

/* Runs fn with stderr redirected into a pipe and returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	static char buf[4096];
	int p[2], saved = dup(STDERR_FILENO);
	assert_int_equal(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void say_things(void)
{
	log_error("broken %d", 7);
	log_debug("hidden");
	assert_int_equal(log_errno(LOG_WARNING, ENOENT, "open %s", "x"), -ENOENT);
}

static void level_names_round_trip(void **state)
{
	(void)state;
	assert_int_equal(log_level_from_name("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_name("INFO"), LOG_INFO);
	assert_int_equal(log_level_from_name("warning"), LOG_WARNING);
	assert_int_equal(log_level_from_name("error"), LOG_ERR);
	assert_int_equal(log_level_from_name("loud"), -EINVAL);
	assert_string_equal(log_level_name(LOG_WARNING), "warning");
}

static void journal_prefixes_and_filtering(void **state)
{
	(void)state;
	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init();
	log_set_level(LOG_INFO);
	char *out = capture_stderr(say_things);
	assert_non_null(strstr(out, "<3>broken 7\n"));
	assert_non_null(strstr(out, "<4>open x: No such file or directory\n"));
	assert_null(strstr(out, "hidden"));
}

static void terminal_lines_have_level_names(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init();
	log_set_level(LOG_DEBUG);
	char *out = capture_stderr(say_things);
	assert_non_null(strstr(out, "error   broken 7\n"));
	assert_non_null(strstr(out, "debug   hidden\n"));
	assert_null(strstr(out, "<3>"));
	log_set_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(level_names_round_trip),
		cmocka_unit_test(journal_prefixes_and_filtering),
		cmocka_unit_test(terminal_lines_have_level_names),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
