/* test_ipc_socket.c — ipc/socket.c through srv_open: the socket file's mode and group, the
 * parent directory, stale-socket replacement (and refusal for a live daemon or a non-socket),
 * and systemd socket activation with an inherited fd (LISTEN_FDS/LISTEN_PID set by the test). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/client.h"
#include "ipc/server.h"
#include "tests/testutil.h"

static const struct srv_hooks no_hooks;

static int bind_at(const char *path, bool do_listen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Connect, let the server accept, and read the hello line. */
static void expect_hello(struct server *srv, const char *path)
{
	struct cli_conn *c;
	assert_int_equal(cli_connect(path, &c), 0);
	assert_int_equal(srv_dispatch(srv), 0);
	json_t *hello;
	assert_int_equal(cli_read_msg(c, 5000, &hello, NULL, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(hello, "type")), "hello");
	assert_int_equal(json_integer_value(json_object_get(hello, "version")), 1);
	json_decref(hello);
	cli_close(c);
}

static void socket_gets_mode_group_and_parent_dir(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[512];
	snprintf(path, sizeof(path), "%s/a/b/camclassd.sock", dir);
	struct group *g = getgrgid(getegid());
	assert_non_null(g);
	char *group = strdup(g->gr_name);
	struct srv_config cfg = { .socket_path = path, .socket_mode = 0640, .socket_group = group };
	struct server *srv;
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), 0);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, getegid());
	expect_hello(srv, path);
	srv_close(srv);
	/* the file srv_open created is removed at close */
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	cfg.socket_group = "no-such-group-camclass";
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), -ENOENT);
	free(group);
	tu_rm_rf(dir);
	free(dir);
}

static void stale_socket_is_replaced(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[512];
	snprintf(path, sizeof(path), "%s/camclassd.sock", dir);
	close(bind_at(path, false)); /* a crashed daemon's leftover: connect is refused */
	struct srv_config cfg = { .socket_path = path };
	struct server *srv;
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), 0);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660); /* the default mode */
	expect_hello(srv, path);
	srv_close(srv);
	tu_rm_rf(dir);
	free(dir);
}

static void live_socket_and_non_socket_are_refused(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[512];
	snprintf(path, sizeof(path), "%s/camclassd.sock", dir);
	struct srv_config cfg = { .socket_path = path };
	struct server *srv, *second;
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), 0);
	assert_int_equal(srv_open(&cfg, &no_hooks, &second), -EADDRINUSE);
	expect_hello(srv, path); /* the first one still serves */
	srv_close(srv);

	FILE *f = fopen(path, "w");
	fputs("precious", f);
	fclose(f);
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), -ENOTSOCK);
	size_t len;
	uint8_t *data = tu_read_file(path, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(data, "precious", 8);
	free(data);
	tu_rm_rf(dir);
	free(dir);
}

/* Put fd at SD_LISTEN_FDS_START (3) as systemd would; returns the saved previous fd 3 or -1. */
static int install_listen_fd(int fd)
{
	int saved = fd == 3 ? -1 : fcntl(3, F_DUPFD_CLOEXEC, 10);
	if (fd != 3) {
		assert_int_equal(dup2(fd, 3), 3);
		close(fd);
	}
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	return saved;
}

static void restore_fd3(int saved)
{
	if (saved >= 0) {
		dup2(saved, 3);
		close(saved);
	} else {
		close(3);
	}
}

static void activated_socket_is_used_as_is(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[512], unused[512];
	snprintf(path, sizeof(path), "%s/activated.sock", dir);
	snprintf(unused, sizeof(unused), "%s/configured.sock", dir);
	int saved = install_listen_fd(bind_at(path, true));
	struct srv_config cfg = { .socket_path = unused, .socket_activation = 1 };
	struct server *srv;
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), 0);
	assert_null(getenv("LISTEN_FDS")); /* consumed, so children do not inherit it */
	struct stat st;
	assert_int_equal(lstat(unused, &st), -1); /* the configured path was not bound */
	expect_hello(srv, path);
	srv_close(srv);
	assert_int_equal(lstat(path, &st), 0); /* systemd's socket file is not ours to remove */
	restore_fd3(saved);
	tu_rm_rf(dir);
	free(dir);
}

static void activated_fd_must_be_a_listening_unix_socket(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[512], unused[512];
	snprintf(path, sizeof(path), "%s/x.sock", dir);
	snprintf(unused, sizeof(unused), "%s/configured.sock", dir);
	struct srv_config cfg = { .socket_path = unused, .socket_activation = 1 };
	struct server *srv;

	int p[2];
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	int saved = install_listen_fd(p[0]);
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), -EINVAL);
	restore_fd3(saved);

	saved = install_listen_fd(bind_at(path, false)); /* bound but not listening */
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), -EINVAL);
	restore_fd3(saved);

	/* LISTEN_PID of another process: not for us, so the configured path is bound */
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", "1", 1);
	assert_int_equal(srv_open(&cfg, &no_hooks, &srv), 0);
	expect_hello(srv, unused);
	srv_close(srv);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	tu_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(socket_gets_mode_group_and_parent_dir),
		cmocka_unit_test(stale_socket_is_replaced),
		cmocka_unit_test(live_socket_and_non_socket_are_refused),
		cmocka_unit_test(activated_socket_is_used_as_is),
		cmocka_unit_test(activated_fd_must_be_a_listening_unix_socket),
	};
	return cmocka_run_group_tests_name("ipc_socket", tests, NULL, NULL);
}
