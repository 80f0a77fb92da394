/* test_capture_explain.c — camera trouble that explains itself (capture/v4l2_explain.c,
 * capture/v4l2_log.c), without a camera: the holder of a busy node is found in /proc (a child
 * process holding a file), each errno gets the fix in its message, libv4l2's own lines land in
 * our log with our prefix and a rate limit, and the real daemon, denied its "camera" or given a
 * node that never appears, says so in one line while it keeps retrying. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libv4l2.h>
#include <setjmp.h>
#include <signal.h>
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

#include "capture/internal.h"
#include "lib/log.h"
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

static const char *tmp_file(const char *name, mode_t mode)
{
	static char path[4300];
	if (!tmp)
		tmp = tu_tmpdir();
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* A child that opens path and waits; returns its pid once the file is open. */
static pid_t holder(const char *path)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		(void)!write(p[1], fd >= 0 ? "y" : "n", 1);
		pause();
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	close(p[0]);
	close(p[1]);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void comm_of(pid_t pid, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static void holders_names_the_other_process_with_the_node_open(void **state)
{
	(void)state;
	const char *dev = tmp_file("video0", 0600);
	char out[256], want[128], comm[64];
	assert_int_equal(cap_device_holders(dev, out, sizeof(out)), 0); /* nobody yet */
	assert_string_equal(out, "");
	pid_t pid = holder(dev);
	comm_of(pid, comm, sizeof(comm));
	snprintf(want, sizeof(want), "pid %d (%s)", (int)pid, comm);
	assert_int_equal(cap_device_holders(dev, out, sizeof(out)), 1);
	assert_string_equal(out, want);

	cap_v4l2_explain(dev, "S_FMT", EBUSY, out, sizeof(out));
	char full[600];
	snprintf(full, sizeof(full), "%s: S_FMT: busy: another process is using the camera: %s", dev,
		 want);
	assert_string_equal(out, full);
	stop(pid);
	assert_int_equal(cap_device_holders(dev, out, sizeof(out)), 0);
	cap_v4l2_explain(dev, "S_FMT", EBUSY, out, sizeof(out));
	assert_non_null(strstr(out, "fuser -v"));
	assert_int_equal(cap_device_holders("/nonexistent/video0", out, sizeof(out)), -ENOENT);
}

static void each_errno_names_its_fix(void **state)
{
	(void)state;
	char out[600];
	const char *dev = tmp_file("video1", 0660);
	struct group *video = getgrnam("video");
	assert_non_null(video);
	assert_int_equal(chown(dev, 0, video->gr_gid), 0);
	bool member = getegid() == video->gr_gid;
	gid_t groups[256];
	int n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		member = member || groups[i] == video->gr_gid;
	cap_v4l2_explain(dev, "open", EACCES, out, sizeof(out));
	if (!member) {
		assert_non_null(strstr(out, "permission denied: the node is group 'video' mode 0660"));
		assert_non_null(strstr(out, "add SupplementaryGroups=video"));
		assert_non_null(strstr(out, "usermod -aG video USER"));
	} else {
		assert_non_null(strstr(out, "permission denied (node group 'video', mode 0660"));
	}
	cap_v4l2_explain(dev, "open", EPERM, out, sizeof(out));
	assert_non_null(strstr(out, "device cgroup forbids it"));
	assert_non_null(strstr(out, "DeviceAllow=char-video4linux rw"));
	cap_v4l2_explain("/dev/video42", "open", ENOENT, out, sizeof(out));
	assert_string_equal(out, "/dev/video42: no such device node: waiting for it to appear (is "
				 "the camera plugged in? stable names: ls /dev/v4l/by-id/)");
	cap_v4l2_explain(dev, "open", EIO, out, sizeof(out));
	assert_non_null(strstr(out, strerror(EIO)));
}

/* stderr of fn() (our log goes there) */
static char *capture_stderr(void (*fn)(void))
{
	static char buf[16384];
	char path[4300];
	snprintf(path, sizeof(path), "%s/stderr.txt", tmp);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
	int saved = dup(STDERR_FILENO);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[r > 0 ? r : 0] = 0;
	return buf;
}

static void libv4l2_says_things(void)
{
	cap_v4l2_log_install();
	assert_non_null(v4l2_log_file);
	/* as libv4l2 writes them: fprintf, then fflush, sometimes a line in pieces */
	fprintf(v4l2_log_file, "libv4l2: error setting pixformat: %s\n", strerror(EBUSY));
	fflush(v4l2_log_file);
	fprintf(v4l2_log_file, "libv4l2: ENUM_FRAMEINTERVALS Error: v4l-convert: error x\n");
	fprintf(v4l2_log_file, "libv4l2: open: ");
	fprintf(v4l2_log_file, "%d\n", 5);
	fflush(v4l2_log_file);
	for (int i = 0; i < 30; i++)
		fprintf(v4l2_log_file, "libv4l2: error dequeuing buf: frame %d\n", i);
	fflush(v4l2_log_file);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void libv4l2_lines_get_our_prefix_and_a_rate_limit(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	setenv("JOURNAL_STREAM", "1:1", 1); /* priority prefixes, as under journald */
	log_init();
	log_set_level(LOG_INFO);
	char *out = capture_stderr(libv4l2_says_things);
	unsetenv("JOURNAL_STREAM");
	log_init();
	char want[256];
	snprintf(want, sizeof(want), "<4>capture: libv4l2: error setting pixformat: %s\n",
		 strerror(EBUSY));
	if (!strstr(out, want))
		fail_msg("'%s' not in:\n%s", want, out);
	/* status lines (libv4l2 writes them only to a log file): debug level, not shown at info */
	assert_null(strstr(out, "open: 5"));
	assert_null(strstr(out, "ENUM_FRAMEINTERVALS"));
	/* no line of libv4l2's own without our prefix */
	assert_int_equal(count(out, "\nlibv4l2:"), 0);
	assert_false(strncmp(out, "libv4l2:", 8) == 0);
	/* 31 error lines in one burst: CAP_V4L2_LOG_BURST of them are shown */
	assert_int_equal(count(out, "capture: libv4l2: error"), CAP_V4L2_LOG_BURST);
}

/* The real daemon as 'nobody', told to use a root-only file as its camera, or a node that is
 * never created: one line that says why (and the fix), however often it retries. */
static void run_daemon(const char *device, const char *user, char *log, size_t loglen)
{
	char ini[4400], cmd[16000], logpath[4400], sock[4400];
	char model[4096], labels[4096];
	assert_non_null(realpath("models/demo/fashion.tflite", model));
	assert_non_null(realpath("models/demo/labels.txt", labels));
	snprintf(ini, sizeof(ini), "%s/d.ini", tmp);
	snprintf(logpath, sizeof(logpath), "%s/d.log", tmp);
	snprintf(sock, sizeof(sock), "%s/d.sock", tmp);
	FILE *f = fopen(ini, "w");
	assert_non_null(f);
	fprintf(f, "[camera]\ndevice = %s\n[model]\npath = %s\nlabels = %s\nthreads = 1\n"
		   "[socket]\npath = %s\n", device, model, labels, sock);
	fclose(f);
	assert_int_equal(chmod(tmp, 0777), 0);
	assert_int_equal(chmod(ini, 0644), 0);
	/* 5 s: at least four retries (back-off 0.25, 0.5, 1, 2 s) */
	snprintf(cmd, sizeof(cmd), "timeout --preserve-status -s TERM 5 %s %s'%s/camclassd' -c '%s' 2>'%s'", user,
		 tu_exec_prefix(), tu_build_dir(), ini, logpath);
	int st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0); /* it kept serving and stopped cleanly on SIGTERM */
	f = fopen(logpath, "r");
	assert_non_null(f);
	size_t n = fread(log, 1, loglen - 1, f);
	log[n] = 0;
	fclose(f);
}

static void daemon_denied_its_camera_says_why_once(void **state)
{
	(void)state;
	if (getuid() != 0)
		fail_msg("this test switches to user nobody: run it as root");
	char log[16384], want[4800];
	const char *dev = tmp_file("video2", 0600);
	run_daemon(dev, "setpriv --reuid=nobody --regid=nogroup --clear-groups", log, sizeof(log));
	snprintf(want, sizeof(want), "capture: %s: open: permission denied: the node is group "
		 "'root' mode 0600 and this process (uid %u) is not in that group: add "
		 "SupplementaryGroups=root", dev, (unsigned)65534);
	if (count(log, want) != 1)
		fail_msg("wanted '%s' once in:\n%s", want, log);
	assert_int_equal(count(log, "capture:"), 1);
}

static void daemon_with_a_node_that_never_appears_says_so_once(void **state)
{
	(void)state;
	char log[16384], want[4800], dev[4400];
	tmp_file("x", 0600);
	snprintf(dev, sizeof(dev), "%s/video3", tmp);
	run_daemon(dev, "", log, sizeof(log));
	snprintf(want, sizeof(want), "capture: %s: no such device node: waiting for it to appear",
		 dev);
	if (count(log, want) != 1)
		fail_msg("wanted '%s' once in:\n%s", want, log);
	assert_int_equal(count(log, "capture:"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(holders_names_the_other_process_with_the_node_open, teardown),
		cmocka_unit_test_teardown(each_errno_names_its_fix, teardown),
		cmocka_unit_test_teardown(libv4l2_lines_get_our_prefix_and_a_rate_limit, teardown),
		cmocka_unit_test_teardown(daemon_denied_its_camera_says_why_once, teardown),
		cmocka_unit_test_teardown(daemon_with_a_node_that_never_appears_says_so_once, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
