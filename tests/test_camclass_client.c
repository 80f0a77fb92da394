/* test_camclass_client.c — the camclass binary (CAMCLASS_BUILD, default build/) as a client of
 * the in-process server of tests/ipc_harness.h: every client command's output and exit code,
 * --json, and the connect errors with their explanations (no socket, stale socket, no
 * permission — the last one run as user nobody). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/ipc_harness.h"

#define NOBODY_UID 65534

struct run {
	pid_t pid;
	int in_fd, out_fd, err_fd;
};

/* Start argv[0] (a path) with pipes on stdin/stdout/stderr, as user as_uid if non-zero. */
static struct run spawn_argv(const char *const *argv, uid_t as_uid)
{
	int in[2], out[2], err[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		if (as_uid && (setgid(as_uid) < 0 || setuid(as_uid) < 0))
			_exit(99);
		execvp(argv[0], (char *const *)argv);
		_exit(98);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	return (struct run){ pid, in[1], out[0], err[0] };
}

static struct run spawn(const char *socket_path, const char *const *args, uid_t as_uid)
{
	char camclass[512];
	const char *argv[16] = { camclass, "--socket", socket_path };
	int argc = 3;
	snprintf(camclass, sizeof(camclass), "%s/camclass", tu_build_dir());
	if (access(camclass, X_OK) != 0)
		fail_msg("%s not built (set CAMCLASS_BUILD)", camclass);
	for (; *args && argc < 15; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	return spawn_argv(argv, as_uid);
}

static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

static int finish(struct run r, char **ret_out, char **ret_err)
{
	close(r.in_fd);
	*ret_out = slurp(r.out_fd);
	*ret_err = slurp(r.err_fd);
	int status;
	assert_int_equal(waitpid(r.pid, &status, 0), r.pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* watch runs until killed: stop it and check it died of that signal, not of an error. */
static void stop_watch(struct run r)
{
	close(r.in_fd);
	kill(r.pid, SIGTERM);
	free(slurp(r.out_fd));
	char *err = slurp(r.err_fd);
	int status;
	assert_int_equal(waitpid(r.pid, &status, 0), r.pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		fail_msg("watch ended on its own (status %d): %s", status, err);
	free(err);
}

static int run(const char *socket_path, const char *const *args, char **ret_out, char **ret_err)
{
	return finish(spawn(socket_path, args, 0), ret_out, ret_err);
}

static void expect_in(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("\"%s\" not in:\n%s", part, text);
}

static void ping_and_status_print_readable_lines(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	char *out, *err;
	assert_int_equal(run(h->path, (const char *[]){ "ping", NULL }, &out, &err), 0);
	expect_in(out, "pong from ");
	free(out);
	free(err);
	assert_int_equal(run(h->path, (const char *[]){ "status", NULL }, &out, &err), 0);
	expect_in(out, "camera      streaming (/dev/video0, MJPG 640x480)\n");
	expect_in(out, "frames      skipped 17, corrupt 2\n");
	expect_in(out, "model       m.tflite (backend reference, 2 threads)\n");
	expect_in(out, "inference 31.2/40.5");
	expect_in(out, "clients     1 (0 subscribed)\n");
	free(out);
	free(err);
	assert_int_equal(run(h->path, (const char *[]){ "status", "--json", NULL }, &out, &err), 0);
	json_t *st = json_loads(out, 0, NULL);
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "type")), "status");
	json_decref(st);
	free(out);
	free(err);
	harness_close(h);
}

static void latest_prints_labels_or_fails_with_the_daemons_error(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	char *out, *err;
	assert_int_equal(run(h->path, (const char *[]){ "latest", NULL }, &out, &err), 1);
	expect_in(err, "no_result");
	free(out);
	free(err);
	struct srv_result r = make_result(7, 5, 4);
	publish(h, &r);
	assert_int_equal(run(h->path, (const char *[]){ "latest", "--top-k", "2", NULL }, &out, &err), 0);
	assert_string_equal(out, "seq 7  label 5 0.50, label 6 0.25\n");
	free(out);
	free(err);
	assert_int_equal(run(h->path, (const char *[]){ "latest", "--json", NULL }, &out, &err), 0);
	json_t *m = json_loads(out, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), 7);
	assert_int_equal(json_array_size(json_object_get(m, "labels")), 4);
	json_decref(m);
	free(out);
	free(err);
	harness_close(h);
}

/* Reads one line from the child's stdout; fails the test if none comes within WAIT_MS. */
static char *read_line(int fd)
{
	static char line[1024];
	size_t len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, WAIT_MS) != 1)
			fail_msg("no line from the child (so far: \"%.*s\")", (int)len, line);
		if (len + 1 >= sizeof(line) || read(fd, line + len, 1) != 1 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = 0;
	return line;
}

static void watch_prints_each_result_and_event(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct run w = spawn(h->path, (const char *[]){ "watch", "--top-k", "2", "--threshold", "0.3",
							NULL }, 0);
	struct srv_stats st;
	WAIT_FOR(h, st, st.subscribers == 1);
	struct srv_result r = make_result(1, 10, 3);
	publish(h, &r);
	assert_string_equal(read_line(w.out_fd), "seq 1  label 10 0.50");
	assert_int_equal(srv_publish_event(h->srv, "camera_disconnected", NULL), 0);
	assert_string_equal(read_line(w.out_fd), "event camera_disconnected");
	stop_watch(w);
	WAIT_FOR(h, st, st.clients == 0);

	w = spawn(h->path, (const char *[]){ "watch", "--json", "--on-change", NULL }, 0);
	WAIT_FOR(h, st, st.subscribers == 1);
	publish(h, &r);
	json_t *m = json_loads(read_line(w.out_fd), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(m, "type")), "result");
	json_decref(m);
	stop_watch(w);
	harness_close(h);
}

static void classify_and_snapshot_talk_to_the_daemon(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct run c = spawn(h->path, (const char *[]){ "classify", NULL }, 0);
	struct srv_stats st;
	WAIT_FOR(h, st, st.classify_pending == 1);
	struct srv_result r = make_result(3, 20, 2);
	publish(h, &r);
	char *out, *err;
	assert_int_equal(finish(c, &out, &err), 0);
	assert_string_equal(out, "seq 3  label 20 0.50, label 21 0.25\n");
	free(out);
	free(err);

	stop_loop(h); /* the hooks read h->jpeg on the loop thread */
	h->jpeg_len = 5000;
	h->jpeg = malloc(h->jpeg_len);
	for (size_t i = 0; i < h->jpeg_len; i++)
		h->jpeg[i] = (uint8_t)(i ^ (i >> 3));
	start_loop(h);
	char file[600];
	snprintf(file, sizeof(file), "%s/snap.jpg", h->dir);
	assert_int_equal(run(h->path, (const char *[]){ "snapshot", "-o", file, NULL }, &out, &err), 0);
	expect_in(out, "wrote 5000 bytes");
	size_t len;
	uint8_t *data = tu_read_file(file, &len);
	assert_int_equal(len, h->jpeg_len);
	assert_memory_equal(data, h->jpeg, len);
	free(data);
	free(out);
	free(err);
	assert_int_equal(run(h->path, (const char *[]){ "snapshot", NULL }, &out, &err), 2);
	free(out);
	free(err);
	harness_close(h);
}

static void connect_failures_exit_2_with_the_likely_cause(void **state)
{
	(void)state;
	char *dir = tu_tmpdir(), path[100], *out, *err;
	snprintf(path, sizeof(path), "%s/none.sock", dir);
	assert_int_equal(run(path, (const char *[]){ "ping", NULL }, &out, &err), 2);
	expect_in(err, path);
	expect_in(err, "not running");
	free(out);
	free(err);

	/* a socket file nobody listens on */
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(run(path, (const char *[]){ "status", NULL }, &out, &err), 2);
	expect_in(err, "nobody is listening");
	free(out);
	free(err);
	assert_int_equal(run(path, (const char *[]){ "frobnicate", NULL }, &out, &err), 2);
	free(out);
	free(err);
	tu_rm_rf(dir);
	free(dir);

	/* no permission on the socket: as root, run as nobody (the socket is 0660 root:root);
	 * otherwise take the mode bits away from our own socket */
	struct harness *h = harness_open(8);
	assert_int_equal(chmod(h->dir, 0755), 0); /* mkdtemp made it 0700 */
	uid_t as_uid = 0;
	if (getuid() == 0)
		as_uid = NOBODY_UID;
	else
		assert_int_equal(chmod(h->path, 0), 0);
	int code = finish(spawn(h->path, (const char *[]){ "ping", NULL }, as_uid), &out, &err);
	if (code == 98)
		fail_msg("user %u cannot run %s/camclass", (unsigned)as_uid, tu_build_dir());
	assert_int_equal(code, 2);
	expect_in(err, "permission denied");
	expect_in(err, "group");
	free(out);
	free(err);
	harness_close(h);
}

static void example_python_client_prints_labels(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	struct run py = spawn_argv((const char *[]){ "python3", "examples/client.py", "--socket", h->path,
						     "--top-k", "2", NULL }, 0);
	struct srv_stats st;
	WAIT_FOR(h, st, st.subscribers == 1);
	struct srv_result r = make_result(12, 30, 4);
	publish(h, &r);
	assert_string_equal(read_line(py.out_fd),
			    "model mobilenet_v1_1.0_224_quant, 1000 labels, camera streaming");
	assert_string_equal(read_line(py.out_fd), "seq 12  label 30 0.50, label 31 0.25");
	stop_watch(py);
	harness_close(h);
}

/* The session README.md shows ("A session with socat"), with socat as the client. */
static void socat_session_from_the_docs_works(void **state)
{
	(void)state;
	struct harness *h = harness_open(8);
	char target[600];
	snprintf(target, sizeof(target), "UNIX-CONNECT:%s", h->path);
	struct run so = spawn_argv((const char *[]){ "socat", "-", target, NULL }, 0);
	json_t *m = json_loads(read_line(so.out_fd), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(m, "type")), "hello");
	json_decref(m);
	const char *req = "{\"cmd\":\"ping\",\"id\":1}\n";
	assert_int_equal(write(so.in_fd, req, strlen(req)), (ssize_t)strlen(req));
	assert_string_equal(read_line(so.out_fd), "{\"type\":\"pong\",\"id\":1}");
	char *out, *err;
	kill(so.pid, SIGTERM);
	finish(so, &out, &err);
	free(out);
	free(err);
	harness_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ping_and_status_print_readable_lines),
		cmocka_unit_test(latest_prints_labels_or_fails_with_the_daemons_error),
		cmocka_unit_test(watch_prints_each_result_and_event),
		cmocka_unit_test(classify_and_snapshot_talk_to_the_daemon),
		cmocka_unit_test(connect_failures_exit_2_with_the_likely_cause),
		cmocka_unit_test(example_python_client_prints_labels),
		cmocka_unit_test(socat_session_from_the_docs_works),
	};
	return cmocka_run_group_tests_name("camclass_client", tests, NULL, NULL);
}
