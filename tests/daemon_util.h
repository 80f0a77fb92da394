/* daemon_util.h — setup pieces the end-to-end daemon tests share (compiled into the test library,
 * linked into every tests/test_*): the file-source INI they run camclassd with, and running a
 * built binary with its output captured.
 *
 * Every function fails the current cmocka test on an I/O error instead of returning one.
 * Single-threaded test code only. */
#ifndef CAMCLASS_TESTS_DAEMON_UTIL_H
#define CAMCLASS_TESTS_DAEMON_UTIL_H

#include <stddef.h>

/* Writes ini (atomically: a .tmp file renamed over it, so a running daemon never reads half a
 * file): the file source reading `frames` at `fps`, the builtin engine on the shared
 * mobilenet_v1_0.25_128_quant.tflite with imagenet_labels.txt, the socket at `sock`, log level
 * info. model_extra (may be NULL) is put into [model] before its path (whole "key = value\n"
 * lines); sections_extra (may be NULL) goes between [model] and [socket] (whole sections). */
void du_write_file_ini(const char *ini, const char *frames, int fps, const char *sock,
		       const char *model_extra, const char *sections_extra);

/* Runs the shell command line `cmd` with stdout and stderr into outfile, then reads outfile into
 * out (NUL-terminated, at most outlen - 1 bytes). Fails the test unless the command exited
 * normally; returns its exit status. */
int du_run_shell(const char *cmd, const char *outfile, char *out, size_t outlen);

/* Runs "<build>/camclassd --check-config -c ini" with its output in out (outfile ini.out);
 * returns the exit status. */
int du_check_config(const char *ini, char *out, size_t outlen);

/* Runs "<build>/<prog> --version" and fails the test unless it exits 0 printing exactly
 * "<prog> <camclass_version()>\n" (the one version string of every binary, lib/version.h). */
void du_expect_version(const char *prog);

#endif
