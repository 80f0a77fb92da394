/* daemon_harness.c — the end-to-end tests' way to start the real camclassd (see daemon_harness.h);
 * compiled once into the test library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/daemon_harness.h"

/* One shared photo as a JPEG file. */
void h_bmp_to_jpeg(const char *bmp_name, const char *jpeg_path)
{
	size_t len;
	uint8_t *bmp = tu_read_file(tu_model_path(bmp_name), &len);
	struct cap_decoder *dec;
	struct cap_image img;
	/* a target as large as the photo keeps it at full size (stills are never scaled up) */
	struct cap_prep prep = { .target = { .width = 1, .height = 1, .channels = 3 },
				 .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA };
	assert_int_equal(cap_decoder_new(&dec), 0);
	assert_int_equal(cap_decode_still(dec, bmp, len, &prep, &img), 0);
	assert_int_equal(img.channels, 3);
	tjhandle tj = tjInitCompress();
	unsigned char *jpeg = NULL;
	unsigned long jlen = 0;
	assert_non_null(tj);
	assert_int_equal(tjCompress2(tj, img.pixels, img.width, (int)img.stride_bytes, img.height,
				     TJPF_RGB, &jpeg, &jlen, TJSAMP_444, 95, 0),
			 0);
	FILE *f = fopen(jpeg_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(jpeg, 1, jlen, f), jlen);
	assert_int_equal(fclose(f), 0);
	tjFree(jpeg);
	tjDestroy(tj);
	cap_decoder_free(dec);
	free(bmp);
}

/* A frames folder with the given photos (BMP names from ../shared/models/images). */
void h_make_frames(struct harness *h, const char *sub, const char *const *bmps, size_t n)
{
	char dir[4300], path[4400];
	snprintf(dir, sizeof(dir), "%s/%s", h->dir, sub);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(bmps[i], '/');
		snprintf(path, sizeof(path), "%s/%02zu-%s.jpg", dir, i, base ? base + 1 : bmps[i]);
		h_bmp_to_jpeg(bmps[i], path);
	}
}

void h_setup(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->dir = tu_tmpdir();
	h->pid = -1;
	h->listen_fd = -1;
	snprintf(h->ini, sizeof(h->ini), "%s/camclassd.ini", h->dir);
	snprintf(h->sock, sizeof(h->sock), "%s/camclassd.sock", h->dir);
	snprintf(h->notify, sizeof(h->notify), "%s/notify.sock", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/daemon.log", h->dir);
	snprintf(h->frames, sizeof(h->frames), "%s/frames", h->dir);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(h->notify) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, h->notify);
	h->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(h->notify_fd >= 0);
	assert_int_equal(bind(h->notify_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

void h_write(const char *path, const char *fmt, ...)
{
	va_list ap;
	char *tmp = NULL;
	assert_true(asprintf(&tmp, "%s.tmp", path) > 0);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0); /* the daemon never sees half a file */
	free(tmp);
}

/* Starts build/camclassd -c h->ini; watchdog_usec 0 = no WATCHDOG_USEC. */
void h_start(struct harness *h, unsigned long watchdog_usec)
{
	char bin[4200];
	snprintf(bin, sizeof(bin), "%s/camclassd", tu_build_dir());
	if (access(bin, X_OK) != 0)
		fail_msg("%s not built", bin);
	h->notes_len = h->notes_seen = 0;
	h->notes[0] = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		setenv("NOTIFY_SOCKET", h->notify, 1);
		unsetenv("JOURNAL_STREAM");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDNAMES");
		if (h->listen_fd >= 0) {
			char v[32];
			if (dup2(h->listen_fd, 3) != 3) /* dup2 also clears FD_CLOEXEC */
				_exit(126);
			snprintf(v, sizeof(v), "%d", (int)getpid());
			setenv("LISTEN_PID", v, 1);
			setenv("LISTEN_FDS", "1", 1);
		}
		if (watchdog_usec) {
			char v[32];
			snprintf(v, sizeof(v), "%lu", watchdog_usec);
			setenv("WATCHDOG_USEC", v, 1);
		} else {
			unsetenv("WATCHDOG_USEC");
		}
		unsetenv("WATCHDOG_PID");
		execl(bin, bin, "-c", h->ini, (char *)NULL);
		_exit(127);
	}
	h->pid = pid;
}

/* Reads every datagram available within timeout_ms (or until `want` shows up in a datagram
 * received after the last successful wait). Returns true when `want` was seen. */
bool h_wait_notify(struct harness *h, const char *want, int timeout_ms)
{
	double end = tu_now_ms() + timeout_ms;
	for (;;) {
		if (want) {
			const char *hit = strstr(h->notes + h->notes_seen, want);
			if (hit) {
				const char *eol = strchr(hit, '\n');
				h->notes_seen = eol ? (size_t)(eol - h->notes) + 1 : h->notes_len;
				return true;
			}
		}
		double left = end - tu_now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = h->notify_fd, .events = POLLIN };
		if (poll(&p, 1, (int)left + 1) <= 0)
			continue;
		char buf[4096];
		ssize_t n = recv(h->notify_fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* one line per datagram: its assignments joined with '|' */
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		size_t room = sizeof(h->notes) - h->notes_len;
		int w = snprintf(h->notes + h->notes_len, room, "%s\n", buf);
		if (w > 0 && (size_t)w < room)
			h->notes_len += (size_t)w;
	}
}

bool h_alive(struct harness *h)
{
	int st;
	return h->pid > 0 && waitpid(h->pid, &st, WNOHANG) == 0;
}

/* Waits for the daemon to exit; returns its exit status, or -signal. */
int h_wait_exit(struct harness *h, int timeout_ms)
{
	double end = tu_now_ms() + timeout_ms;
	int st;
	while (tu_now_ms() < end) {
		pid_t r = waitpid(h->pid, &st, WNOHANG);
		if (r == h->pid) {
			h->pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
		}
		usleep(10000);
	}
	fail_msg("camclassd did not exit within %d ms", timeout_ms);
	return -1;
}

/* The daemon's log so far (static buffer). */
const char *h_log(struct harness *h)
{
	static char buf[262144];
	FILE *f = fopen(h->log, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

void h_teardown(struct harness *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	if (getenv("CAMCLASS_KEEP_LOGS"))
		fprintf(stderr, "--- daemon log:\n%s--- notify:\n%s", h_log(h), h->notes);
	if (h->notify_fd > 0)
		close(h->notify_fd);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	tu_rm_rf(h->dir);
	free(h->dir);
}

struct harness the_harness;

int harness_teardown(void **state)
{
	(void)state;
	if (the_harness.dir)
		h_teardown(&the_harness);
	memset(&the_harness, 0, sizeof(the_harness));
	return 0;
}
