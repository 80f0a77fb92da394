/* test_labels.c — label files as other tools write them (daemon/labels_text.c): UTF-8 BOM,
 * CRLF, trailing blank lines, Teachable Machine's `INDEX NAME` lines (only when every line has
 * that shape), inner empty lines kept, and the errors that name file and line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/labels_text.h"

static void expect(const char *text, size_t len, size_t n, const char *const *names)
{
	struct labels l;
	char err[256] = "";
	if (labels_parse_text("l.txt", text, len, &l, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(l.count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l.names[i], names[i]);
	labels_free(&l);
}

#define EXPECT(text, ...)                                                                     \
	do {                                                                                  \
		static const char *const want_[] = { __VA_ARGS__ };                           \
		expect(text, sizeof(text) - 1, sizeof(want_) / sizeof(want_[0]), want_);      \
	} while (0)

static void forms_other_tools_write(void **state)
{
	(void)state;
	EXPECT("cat\ndog\n", "cat", "dog");
	EXPECT("cat\ndog", "cat", "dog");                         /* no final newline */
	EXPECT("\xEF\xBB\xBF" "cat\r\ndog\r\n", "cat", "dog");    /* BOM + CRLF (Windows editors) */
	EXPECT("cat\ndog\n\n\n", "cat", "dog");                   /* trailing blank lines */
	EXPECT("cat\ndog\n \t\r\n", "cat", "dog");
	EXPECT("cat\n\ndog\n", "cat", "", "dog");                 /* inner empty line: a class */
	EXPECT("0 Open\n1 Closed\n", "Open", "Closed");           /* Teachable Machine */
	EXPECT("1 Closed\r\n0 Open door\r\n\r\n", "Open door", "Closed");
	EXPECT("0\tbackground\n1\ttench\n", "background", "tench");
	EXPECT("0 Open\nClosed\n", "0 Open", "Closed");           /* not every line: plain lines */
	EXPECT("1\n2\n3\n", "1", "2", "3");                       /* numbers alone are names */
	EXPECT("0 \n1 x\n", "0 ", "1 x");                         /* an index without a name */
}

static void errors_name_file_and_line(void **state)
{
	(void)state;
	struct labels l;
	char err[256];
	assert_int_equal(labels_parse_text("l.txt", "a\nb\0c\n", 6, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "l.txt:2: NUL byte in label");
	assert_int_equal(labels_parse_text("l.txt", "\n\n", 2, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "l.txt: no labels");
	assert_int_equal(labels_parse_text("l.txt", "\xEF\xBB\xBF", 3, &l, err, sizeof(err)), -EINVAL);
	assert_int_equal(labels_parse_text("l.txt", "0 a\n0 b\n", 8, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "l.txt:2: index 0 repeated"));
	assert_int_equal(labels_parse_text("l.txt", "0 a\n5 b\n", 8, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "l.txt:2: index 5 out of range (INDEX NAME lines need each of 0..1 once)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forms_other_tools_write),
		cmocka_unit_test(errors_name_file_and_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
