/* daemon_harness.h — start the real camclassd for end-to-end tests (compiled into the
 * test library: tests/daemon_harness.c).
 *
 * It speaks the real sd_notify protocol: binds an AF_UNIX datagram socket in a private temp
 * dir and passes it as NOTIFY_SOCKET. Frames for the file source are made at test time: the
 * shared BMP photos are decoded by capture and encoded to JPEG with TurboJPEG into the temp
 * dir (nothing is copied into the repository). The daemon's stderr goes to a log file. */
#ifndef CAMCLASS_TESTS_DAEMON_HARNESS_H
#define CAMCLASS_TESTS_DAEMON_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "capture/capture.h"
#include "tests/testutil.h"

struct harness {
	char *dir;
	char ini[4200], sock[4200], notify[4200], log[4200], frames[4200];
	int notify_fd;
	int listen_fd; /* >= 0: passed to the daemon as fd 3, like systemd socket activation */
	pid_t pid;
	char notes[65536]; /* every notify datagram so far, one per line */
	size_t notes_len, notes_seen; /* notes_seen: where the next wait starts looking */
};

void h_bmp_to_jpeg(const char *bmp_name, const char *jpeg_path);
void h_make_frames(struct harness *h, const char *sub, const char *const *bmps, size_t n);
void h_setup(struct harness *h);
void h_write(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void h_start(struct harness *h, unsigned long watchdog_usec);
bool h_wait_notify(struct harness *h, const char *want, int timeout_ms);
bool h_alive(struct harness *h);
int h_wait_exit(struct harness *h, int timeout_ms);
const char *h_log(struct harness *h);
void h_teardown(struct harness *h);

/* One harness per test, torn down by cmocka even when the test fails (kills the daemon):
 * cmocka_unit_test_teardown(test, harness_teardown) with the test using &the_harness. */
extern struct harness the_harness;
int harness_teardown(void **state);

#endif
