/* test_service.c — lib/service.c: notifications reach a path or abstract $NOTIFY_SOCKET as one
 * datagram each and nothing is sent without it; socket activation counts only fds meant for
 * this pid, marks them close-on-exec and unsets the variables; a listening AF_UNIX stream
 * socket is told from other fds; the watchdog interval and its pid check; malformed variables
 * are refused. (The daemon's own use is covered end to end by the test_daemon_* tests.) */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/service.h"

/* A datagram socket bound at path (or "@name"); its fd. */
static int bind_dgram(const char *where)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(where);
	memcpy(a.sun_path, where, n);
	if (where[0] == '@')
		a.sun_path[0] = 0;
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (where[0] == '/'));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[8192];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n >= 0);
	buf[n] = 0;
	assert_string_equal(buf, want);
}

static void notify_reaches_path_and_abstract_sockets(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(svc_notify("READY=1"), 0); /* not under a service manager */

	char path[64];
	snprintf(path, sizeof(path), "/tmp/camclass-test-notify-%d", (int)getpid());
	unlink(path);
	int fd = bind_dgram(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(svc_notify("READY=1\nSTATUS=serving"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=serving");
	assert_int_equal(svc_notifyf("STATUS=%d fps", 15), 1);
	expect_datagram(fd, "STATUS=15 fps");
	close(fd);
	unlink(path);
	assert_true(svc_notify("READY=1") < 0); /* nobody listens there any more */

	char abstract[64];
	snprintf(abstract, sizeof(abstract), "@camclass-test-notify-%d", (int)getpid());
	fd = bind_dgram(abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	assert_int_equal(svc_notify("WATCHDOG=1"), 1);
	expect_datagram(fd, "WATCHDOG=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(svc_notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(svc_notify("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void listen_fds_only_for_this_pid(void **state)
{
	(void)state;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	assert_int_equal(svc_listen_fds(true), 0);

	/* fd 3 without close-on-exec, as systemd passes it */
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int saved = dup(SVC_LISTEN_FDS_START);
	assert_int_equal(dup2(sv[0], SVC_LISTEN_FDS_START), SVC_LISTEN_FDS_START);
	assert_int_equal(fcntl(SVC_LISTEN_FDS_START, F_GETFD) & FD_CLOEXEC, 0);

	setenv("LISTEN_PID", "1", 1); /* another process's */
	setenv("LISTEN_FDS", "1", 1);
	assert_int_equal(svc_listen_fds(false), 0);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "x1", 1);
	assert_int_equal(svc_listen_fds(false), -EINVAL);
	setenv("LISTEN_FDS", "-1", 1);
	assert_int_equal(svc_listen_fds(false), -EINVAL);
	setenv("LISTEN_PID", "12ab", 1);
	setenv("LISTEN_FDS", "1", 1);
	assert_int_equal(svc_listen_fds(false), -EINVAL);

	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "camclassd.socket", 1);
	assert_int_equal(svc_listen_fds(true), 1);
	assert_int_not_equal(fcntl(SVC_LISTEN_FDS_START, F_GETFD) & FD_CLOEXEC, 0);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));

	if (saved >= 0) {
		dup2(saved, SVC_LISTEN_FDS_START);
		close(saved);
	} else {
		close(SVC_LISTEN_FDS_START);
	}
	close(sv[0]);
	close(sv[1]);
}

static void unix_listener_is_told_from_other_fds(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/camclass-test-listen-%d", (int)getpid());
	unlink(path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(svc_is_unix_listener(s, SOCK_STREAM), 0); /* bound, not listening */
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(svc_is_unix_listener(s, SOCK_STREAM), 1);
	assert_int_equal(svc_is_unix_listener(s, SOCK_DGRAM), 0);

	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* loopback, any free port */
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(tcp, (struct sockaddr *)&lo, sizeof(lo)), 0);
	assert_int_equal(listen(tcp, 1), 0);
	assert_int_equal(svc_is_unix_listener(tcp, SOCK_STREAM), 0);
	int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(svc_is_unix_listener(file, SOCK_STREAM), 0);
	assert_int_equal(svc_is_unix_listener(-1, SOCK_STREAM), -EBADF);
	close(file);
	close(tcp);
	close(s);
	unlink(path);
}

static void watchdog_interval_and_pid(void **state)
{
	(void)state;
	uint64_t usec = 7;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(svc_watchdog_usec(&usec), 0);
	assert_int_equal(usec, 7);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(svc_watchdog_usec(&usec), 1);
	assert_int_equal(usec, 30000000);
	setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
	assert_int_equal(svc_watchdog_usec(&usec), 0);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(svc_watchdog_usec(&usec), 1);
	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(svc_watchdog_usec(&usec), -EINVAL);
	setenv("WATCHDOG_USEC", "30s", 1);
	assert_int_equal(svc_watchdog_usec(&usec), -EINVAL);
	setenv("WATCHDOG_USEC", " 5", 1);
	assert_int_equal(svc_watchdog_usec(&usec), -EINVAL);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(notify_reaches_path_and_abstract_sockets),
		cmocka_unit_test(listen_fds_only_for_this_pid),
		cmocka_unit_test(unix_listener_is_told_from_other_fds),
		cmocka_unit_test(watchdog_interval_and_pid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
