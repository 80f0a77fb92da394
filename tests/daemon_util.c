/* daemon_util.c — see daemon_util.h. One copy of the INI writer and the output-capturing runner
 * that the daemon end-to-end tests used to carry each. */
#include "tests/daemon_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "lib/version.h"
#include "tests/testutil.h"

void du_write_file_ini(const char *ini, const char *frames, int fps, const char *sock,
		       const char *model_extra, const char *sections_extra)
{
	char tmp[4400], model[4200], labels[4200];
	/* tu_model_path returns a static buffer: copy each before the next call */
	snprintf(model, sizeof(model), "%s", tu_model_path("mobilenet_v1_0.25_128_quant.tflite"));
	snprintf(labels, sizeof(labels), "%s", tu_model_path("imagenet_labels.txt"));
	snprintf(tmp, sizeof(tmp), "%s.tmp", ini);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f,
		"[camera]\nsource = file\nfile = %s\nfps = %d\n"
		"[model]\nbackend = builtin\n%spath = %s\nlabels = %s\n"
		"%s[socket]\npath = %s\n[log]\nlevel = info\n",
		frames, fps, model_extra ? model_extra : "", model, labels,
		sections_extra ? sections_extra : "", sock);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, ini), 0); /* the daemon never sees half a file */
}

int du_run_shell(const char *cmd, const char *outfile, char *out, size_t outlen)
{
	char line[9000];
	assert_true(outlen > 0);
	assert_true((size_t)snprintf(line, sizeof(line), "%s >'%s' 2>&1", cmd, outfile) < sizeof(line));
	int st = system(line);
	FILE *f = fopen(outfile, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, outlen - 1, f);
	out[n] = 0;
	fclose(f);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

int du_check_config(const char *ini, char *out, size_t outlen)
{
	char cmd[9000], outfile[4300];
	snprintf(outfile, sizeof(outfile), "%.4200s.out", ini);
	snprintf(cmd, sizeof(cmd), "'%s/camclassd' --check-config -c '%s'", tu_build_dir(), ini);
	return du_run_shell(cmd, outfile, out, outlen);
}

void du_expect_version(const char *prog)
{
	char *dir = tu_tmpdir();
	char cmd[8600], outfile[4300], out[4096], want[512];
	snprintf(outfile, sizeof(outfile), "%.4200s/version.out", dir);
	snprintf(cmd, sizeof(cmd), "%s'%s/%s' --version", tu_exec_prefix(), tu_build_dir(), prog);
	int st = du_run_shell(cmd, outfile, out, sizeof(out));
	tu_rm_rf(dir);
	free(dir);
	/* the Makefile always knows a version here: git describe, VERSION or CAMCLASS_VERSION= */
	assert_string_not_equal(camclass_version(), "unknown");
	snprintf(want, sizeof(want), "%s %s\n", prog, camclass_version());
	if (st != 0 || strcmp(out, want) != 0)
		fail_msg("%s --version: exit %d, printed '%s', wanted exit 0 and '%s'", prog, st, out,
			 want);
}
