/* test_preflight.c — what an operator runs before starting the service, run on the real
 * binaries: `--version` of camclassd and camclass (the build's one version string; the
 * companions' in test_mqtt_modules.c and test_web.c, which exist where they are built), and
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
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/version.h"
#include "tests/daemon_util.h"
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
	snprintf(cmd, sizeof(cmd), "%s'%s/%s' %s", tu_exec_prefix(), tu_build_dir(), prog, args);
	return du_run_shell(cmd, outfile, out, outlen);
}

static void both_binaries_print_the_builds_version(void **state)
{
	(void)state;
	assert_true(strlen(camclass_version()) > 0);
	du_expect_version("camclassd");
	du_expect_version("camclass");
}

/* An INI in tmp: the demo model and its labels (or the given ones), then `rest`. */
static void write_ini(const char *ini, const char *model, const char *labels, const char *rest)
{
	char model_abs[4096], labels_abs[4096];
	assert_non_null(realpath(model ? model : "models/demo/fashion.tflite", model_abs));
	assert_non_null(realpath(labels ? labels : "models/demo/labels.txt", labels_abs));
	FILE *f = fopen(ini, "w");
	assert_non_null(f);
	fprintf(f, "[model]\npath = %s\nlabels = %s\n%s", model_abs, labels_abs, rest);
	assert_int_equal(fclose(f), 0);
}

/* tmp/<name>, made if it does not exist */
static const char *tmp_path(const char *name)
{
	static char path[4][4300];
	static int next;
	if (!tmp)
		tmp = tu_tmpdir();
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", tmp, name);
	return p;
}

static void expect_failure(const char *ini, const char *want)
{
	char out[8192], args[4400];
	snprintf(args, sizeof(args), "--check-config -c '%s'", ini);
	int st = run("camclassd", args, out, sizeof(out));
	if (st != 1 || !strstr(out, want))
		fail_msg("exit %d, wanted 1 and '%s' in:\n%s", st, want, out);
	assert_null(strstr(out, "configuration OK"));
}

static void expect_ok(const char *ini, const char *want)
{
	char out[8192], args[4400], ok[4400];
	snprintf(args, sizeof(args), "--check-config -c '%s'", ini);
	snprintf(ok, sizeof(ok), "%s: configuration OK\n", ini);
	int st = run("camclassd", args, out, sizeof(out));
	if (st != 0 || !strstr(out, ok) || (want && !strstr(out, want)))
		fail_msg("exit %d, wanted 0, '%s' and '%s' in:\n%s", st, ok, want ? want : "", out);
}

static void demo_model_and_its_labels_are_ok(void **state)
{
	(void)state;
	const char *ini = tmp_path("ok.ini");
	/* a camera of root's (/dev/null stands in: a character device this user may open) */
	write_ini(ini, NULL, NULL, "[camera]\ndevice = /dev/null\n");
	expect_ok(ini, NULL);
}

static void missing_model_names_the_file(void **state)
{
	(void)state;
	const char *ini = tmp_path("m.ini"), *model = tmp_path("gone.tflite");
	FILE *f = fopen(model, "w"); /* realpath needs it; then it goes */
	assert_non_null(f);
	fclose(f);
	char abs[4096];
	assert_non_null(realpath(model, abs));
	write_ini(ini, model, NULL, "[camera]\ndevice = /nonexistent/video0\n");
	assert_int_equal(unlink(model), 0);
	expect_failure(ini, abs);
	expect_failure(ini, "[model]");
}

static void labels_that_do_not_match_the_outputs(void **state)
{
	(void)state;
	const char *ini = tmp_path("l.ini"), *labels = tmp_path("nine.txt");
	/* the demo model has 10 outputs (its own labels.txt: 10 lines); give it 9 */
	FILE *f = fopen(labels, "w");
	assert_non_null(f);
	for (int i = 0; i < 9; i++)
		fprintf(f, "class %d\n", i);
	assert_int_equal(fclose(f), 0);
	write_ini(ini, NULL, labels, "[camera]\ndevice = /nonexistent/video0\n");
	char want[4400];
	snprintf(want, sizeof(want), "has 9 labels but");
	expect_failure(ini, want);
	expect_failure(ini, "has 10 outputs");
}

static void socket_group_that_does_not_exist(void **state)
{
	(void)state;
	const char *ini = tmp_path("g.ini");
	const char *group = "camclass-no-such-group-7q";
	assert_null(getgrnam(group));
	char rest[512];
	snprintf(rest, sizeof(rest), "[camera]\ndevice = /nonexistent/video0\n[socket]\ngroup = %s\n",
		 group);
	write_ini(ini, NULL, NULL, rest);
	expect_failure(ini, "[socket] group: no group 'camclass-no-such-group-7q' on this system");
	/* an existing group passes: root's own */
	struct group *g = getgrgid(0);
	assert_non_null(g);
	snprintf(rest, sizeof(rest), "[camera]\ndevice = /nonexistent/video0\n[socket]\ngroup = %s\n",
		 g->gr_name);
	write_ini(ini, NULL, NULL, rest);
	expect_ok(ini, NULL);
}

static void camera_node_not_there_yet_is_the_wait_case(void **state)
{
	(void)state;
	const char *ini = tmp_path("w.ini"), *dev = tmp_path("video7");
	char rest[4400];
	snprintf(rest, sizeof(rest), "[camera]\ndevice = %s\n", dev);
	write_ini(ini, NULL, NULL, rest);
	char want[4600];
	snprintf(want, sizeof(want), "note: [camera] device %s is not there (yet); camclassd starts "
		 "anyway", dev);
	expect_ok(ini, want);

	/* something that is not a device node at that path is an error */
	FILE *f = fopen(dev, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(want, sizeof(want), "[camera] device %s is not a device node", dev);
	expect_failure(ini, want);
}

/* A 0600 root-owned character node, checked as 'nobody': EACCES without opening anything. */
static void camera_node_this_user_may_not_open_names_the_fix(void **state)
{
	(void)state;
	if (getuid() != 0)
		fail_msg("this test makes a device node and switches user: run it as root");
	const char *ini = tmp_path("p.ini"), *dev = tmp_path("video9");
	/* 81:9: video4linux's major; never opened (and /tmp may be nodev anyway) */
	assert_int_equal(mknod(dev, S_IFCHR | 0600, makedev(81, 9)), 0);
	char rest[4400];
	snprintf(rest, sizeof(rest), "[camera]\ndevice = %s\n", dev);
	write_ini(ini, NULL, NULL, rest);
	expect_ok(ini, NULL); /* root may */

	/* nobody must reach the files: open up the temp dir, the INI, the repo's demo model */
	assert_int_equal(chmod(tmp, 0755), 0);
	assert_int_equal(chmod(ini, 0644), 0);
	char out[8192], args[8800];
	snprintf(args, sizeof(args), "--check-config -c '%s'", ini);
	char cmd[16000], outfile[4400];
	snprintf(outfile, sizeof(outfile), "%s/nobody.out", tmp);
	snprintf(cmd, sizeof(cmd), "setpriv --reuid=nobody --regid=nogroup --clear-groups %s'%s/camclassd' "
		 "%s >'%s' 2>&1", tu_exec_prefix(), tu_build_dir(), args, outfile);
	int st = system(cmd);
	FILE *f = fopen(outfile, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	assert_true(WIFEXITED(st));
	char want[4600];
	snprintf(want, sizeof(want), "[camera] device %s: permission denied for this user: add it "
		 "to the device's group", dev);
	if (WEXITSTATUS(st) != 1 || !strstr(out, want) || !strstr(out, "DeviceAllow="))
		fail_msg("exit %d, wanted 1 and '%s' (and DeviceAllow=) in:\n%s", WEXITSTATUS(st), want,
			 out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(both_binaries_print_the_builds_version, teardown),
		cmocka_unit_test_teardown(demo_model_and_its_labels_are_ok, teardown),
		cmocka_unit_test_teardown(missing_model_names_the_file, teardown),
		cmocka_unit_test_teardown(labels_that_do_not_match_the_outputs, teardown),
		cmocka_unit_test_teardown(socket_group_that_does_not_exist, teardown),
		cmocka_unit_test_teardown(camera_node_not_there_yet_is_the_wait_case, teardown),
		cmocka_unit_test_teardown(camera_node_this_user_may_not_open_names_the_fix, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
