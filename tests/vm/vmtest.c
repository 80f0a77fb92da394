/* vmtest.c — capture/ against real V4L2 drivers, run inside the vivid VM by scripts/test-vm.
 *
 * vivid (/dev/video0) is a webcam-like driver with 75% colour bars; v4l2loopback
 * (/dev/video10) becomes an MJPEG camera when a child process of this program writes real
 * JPEGs into it. Checks: YUYV, NV12, GREY and RGB24 capture (size, increasing timestamps and
 * sequence numbers, bar colours in a model-sized tensor), controls by name (unknown name is a
 * config error), MJPEG with DCT-scaled decode, and unplug while streaming — vivid's
 * `disconnect` control and sysfs unbind/bind, 5 times each — after which the source must
 * report `disconnected`, recover by itself, and deliver frames within 2 s of the device being
 * back. One line per check, then "LABEL: N passed, M failed" (argv[2], default "vm").
 * Usage: vmtest [all|formats|controls|mjpeg|unplug] [LABEL] */
#include <fcntl.h>
#include <linux/videodev2.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "capture/capture.h"
#include "lib/log.h"

#define VIVID "/dev/video0"
#define LOOP "/dev/video10"
#define UNBIND "/sys/bus/platform/drivers/vivid/unbind"
#define BIND "/sys/bus/platform/drivers/vivid/bind"
#define RECOVER_MS 2000

static int n_pass, n_fail;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	ok ? n_pass++ : n_fail++;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static struct cap_source *open_v4l2(const char *dev, enum cap_pixfmt fmt, int w, int h,
				    const struct cap_control *ctl, size_t n_ctl)
{
	struct cap_config c = { .kind = CAP_SOURCE_V4L2, .device = dev, .format = fmt, .width = w,
				.height = h, .fps = 25, .controls = ctl, .n_controls = n_ctl };
	struct cap_source *s = NULL;
	char err[256];
	if (cap_open(&c, &s, err, sizeof(err)) < 0) {
		check(false, "cap_open %s: %s", dev, err);
		return NULL;
	}
	return s;
}

/* Waits for a frame for up to ms; returns the cap_next result. */
static int next_frame(struct cap_source *s, struct cap_frame *f, int ms)
{
	double end = now_ms() + ms;
	int r;
	do
		r = cap_next(s, 200, f);
	while ((r == CAP_ERR_TIMEOUT || r == CAP_ERR_DISCONNECTED) && now_ms() < end);
	return r;
}

/* vivid's 75% colour bars, left to right, as R'G'B' */
static const uint8_t bars[8][3] = {
	{ 191, 191, 191 }, { 191, 191, 0 }, { 0, 191, 191 }, { 0, 191, 0 },
	{ 191, 0, 191 }, { 191, 0, 0 }, { 0, 0, 191 }, { 0, 0, 0 },
};

/* Expected tensor colours. A GREY frame carries the driver's own luma, which vivid computes
 * with BT.709 weights (sRGB colourspace); it is passed through, replicated for RGB models. */
static bool bars_match(struct cap_decoder *d, const struct cap_frame *f, int channels,
		       char *why, size_t whylen)
{
	enum { TW = 224, TH = 224 };
	static uint8_t t[TW * TH * 3];
	struct cap_prep p = { .target = { TW, TH, channels, false, 1.0f / 128, 128 },
			      .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA };
	int r = cap_frame_to_tensor(d, f, &p, t, (size_t)TW * TH * channels);
	if (r < 0) {
		snprintf(why, whylen, "preprocess: %s", cap_strerror(r));
		return false;
	}
	why[0] = 0;
	bool ok = true;
	for (int b = 0; b < 8; b++) {
		const uint8_t *px = t + ((size_t)(TH * 2 / 3) * TW + (size_t)((b + 0.5) * TW / 8)) * channels;
		double want[3] = { bars[b][0], bars[b][1], bars[b][2] };
		if (f->format == CAP_FMT_GREY)
			want[0] = want[1] = want[2] = 0.2126 * want[0] + 0.7152 * want[1] + 0.0722 * want[2];
		else if (channels == 1)
			want[0] = 0.299 * want[0] + 0.587 * want[1] + 0.114 * want[2];
		size_t l = strlen(why);
		snprintf(why + l, whylen - l, " [%d %d %d]", px[0], channels == 3 ? px[1] : px[0],
			 channels == 3 ? px[2] : px[0]);
		for (int c = 0; c < channels; c++)
			ok &= fabs(px[c] - want[c]) <= 12;
	}
	return ok;
}

static void test_format(enum cap_pixfmt fmt)
{
	const char *name = cap_format_name(fmt);
	struct cap_source *s = open_v4l2(VIVID, fmt, 640, 480, NULL, 0);
	struct cap_decoder *d;
	struct cap_frame f;
	uint64_t prev_ts = 0, prev_seq = 0;
	bool sizes_ok = true, ts_ok = true, seq_ok = true;
	int got = 0;
	char why[256];
	if (!s || cap_decoder_new(&d) < 0)
		return;
	for (int i = 0; i < 8; i++) {
		int r = next_frame(s, &f, 3000);
		if (r < 0) {
			check(false, "%s: frame %d: %s (%s)", name, i, cap_strerror(r), cap_last_error(s));
			break;
		}
		got++;
		size_t min_bytes = (size_t)f.stride_bytes * f.height * (fmt == CAP_FMT_NV12 ? 3 : 2) / 2;
		if (fmt != CAP_FMT_NV12)
			min_bytes = (size_t)f.stride_bytes * f.height;
		sizes_ok &= f.width == 640 && f.height == 480 && f.format == fmt && f.bytes >= min_bytes;
		ts_ok &= i == 0 || f.timestamp_ns > prev_ts;
		seq_ok &= i == 0 || f.sequence > prev_seq;
		prev_ts = f.timestamp_ns;
		prev_seq = f.sequence;
		if (i == 7) {
			check(bars_match(d, &f, 3, why, sizeof(why)), "%s: colour bars in RGB tensor:%s", name, why);
			check(bars_match(d, &f, 1, why, sizeof(why)), "%s: colour bars in grey tensor:%s", name, why);
		}
		cap_release(s, &f);
	}
	check(got == 8 && sizes_ok, "%s: 8 frames of 640x480, stride %d, %zu bytes", name,
	      f.stride_bytes, f.bytes);
	check(got == 8 && ts_ok && seq_ok, "%s: timestamps and sequence numbers increase", name);
	enum cap_pixfmt nf;
	int w, h, fps;
	if (cap_negotiated(s, &nf, &w, &h, &fps) == 0)
		printf("     %s negotiated %s %dx%d@%d\n", name, cap_format_name(nf), w, h, fps);
	cap_decoder_free(d);
	cap_close(s);
}

static void test_controls(void)
{
	struct cap_control good[] = { { "brightness", 200 }, { "contrast", 100 } };
	struct cap_control bad[] = { { "brightness", 100 }, { "no_such_knob", 1 } };
	struct cap_control range[] = { { "brightness", 100000 } };
	struct cap_frame f;
	struct cap_source *s = open_v4l2(VIVID, CAP_FMT_YUYV, 640, 480, good, 2);
	if (!s)
		return;
	int r = next_frame(s, &f, 3000);
	check(r == 0, "controls by name: brightness=200 contrast=100 accepted (%s)", cap_strerror(r));
	cap_close(s);
	s = open_v4l2(VIVID, CAP_FMT_YUYV, 640, 480, bad, 2);
	r = cap_next(s, 3000, &f);
	check(r == CAP_ERR_UNKNOWN_CONTROL && cap_error_is_config(r) &&
	      strstr(cap_last_error(s), "no_such_knob"),
	      "unknown control is a config error naming it: %s", cap_last_error(s));
	cap_close(s);
	s = open_v4l2(VIVID, CAP_FMT_YUYV, 640, 480, range, 1);
	r = cap_next(s, 3000, &f);
	check(r == CAP_ERR_CONTROL_VALUE, "out-of-range control value rejected: %s", cap_last_error(s));
	cap_close(s);
	s = open_v4l2(VIVID, CAP_FMT_MJPEG, 640, 480, NULL, 0);
	r = cap_next(s, 3000, &f);
	check(r == CAP_ERR_UNSUPPORTED, "format vivid lacks (mjpeg) is a config error: %s",
	      cap_last_error(s));
	cap_close(s);
}

/* A caller that is late (busy for longer than CAP_STALL_MS) finds queued frames: not a stall. */
static void test_slow_caller(void)
{
	struct cap_source *s = open_v4l2(VIVID, CAP_FMT_YUYV, 640, 480, NULL, 0);
	struct cap_frame f;
	if (!s)
		return;
	int r = next_frame(s, &f, 3000);
	usleep((CAP_STALL_MS + 500) * 1000);
	int r2 = cap_next(s, 1000, &f);
	struct cap_stats st;
	cap_get_stats(s, &st);
	check(r == 0 && r2 == 0 && st.disconnects == 0,
	      "a caller %d ms late gets a queued frame, not a stall (%s)", CAP_STALL_MS + 500,
	      cap_strerror(r2));
	cap_close(s);
}

/* --- MJPEG through v4l2loopback ---------------------------------------------------------- */
static pid_t start_mjpeg_producer(void)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	enum { W = 640, H = 480 };
	static uint8_t rgb[W * H * 3];
	int fd = open(LOOP, O_RDWR);
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
	fmt.fmt.pix.width = W;
	fmt.fmt.pix.height = H;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_MJPEG;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	fmt.fmt.pix.sizeimage = W * H * 2;
	if (fd < 0 || ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) {
		perror("mjpeg producer: " LOOP);
		_exit(1);
	}
	tjhandle tj = tjInitCompress();
	for (unsigned n = 0;; n++) {
		/* left half red, right half blue, a moving grey stripe so frames differ */
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++) {
				uint8_t *p = rgb + ((size_t)y * W + x) * 3;
				bool stripe = ((unsigned)y + n * 4) % H < 8;
				p[0] = stripe ? 128 : x < W / 2 ? 200 : 30;
				p[1] = stripe ? 128 : 30;
				p[2] = stripe ? 128 : x < W / 2 ? 30 : 200;
			}
		uint8_t *jpg = NULL;
		unsigned long len = 0;
		if (tjCompress2(tj, rgb, W, 0, H, TJPF_RGB, &jpg, &len, TJSAMP_422, 85, 0) < 0 ||
		    write(fd, jpg, len) != (ssize_t)len)
			_exit(2);
		tjFree(jpg);
		usleep(40000);
	}
}

static void test_mjpeg(void)
{
	pid_t producer = start_mjpeg_producer();
	usleep(500000);
	struct cap_source *s = open_v4l2(LOOP, CAP_FMT_AUTO, 640, 480, NULL, 0);
	struct cap_decoder *d;
	struct cap_frame f;
	int decoded = 0, scaled = 0, colours = 0, first_bytes = -1;
	if (!s || cap_decoder_new(&d) < 0)
		goto out;
	for (int i = 0; i < 20; i++) {
		int r = next_frame(s, &f, 4000);
		if (r < 0) {
			check(false, "mjpeg: frame %d: %s (%s)", i, cap_strerror(r), cap_last_error(s));
			break;
		}
		if (i == 0)
			first_bytes = (int)f.bytes;
		struct cap_prep p = { .target = { 96, 96, 3, true, 1.0f / 255, -128 },
				      .crop = CAP_CROP_CENTER, .resize = CAP_RESIZE_AREA };
		struct cap_image img;
		static int8_t t[96 * 96 * 3];
		if (f.format != CAP_FMT_MJPEG || cap_decode(d, &f, &p, &img) < 0)
			continue;
		decoded++;
		/* 640x480, center crop 480x480 → 1/4 gives 120 ≥ 96, 1/8 gives 60: decoded at 1/4 */
		scaled += img.width == 160 && img.height == 120;
		if (cap_preprocess(&img, &p, t, sizeof(t)) == 0) {
			const int8_t *l = t + (48 * 96 + 10) * 3, *rr = t + (48 * 96 + 85) * 3;
			colours += abs(l[0] - (200 - 128)) < 12 && abs(l[2] - (30 - 128)) < 12 &&
				   abs(rr[0] - (30 - 128)) < 12 && abs(rr[2] - (200 - 128)) < 12;
		}
		cap_release(s, &f);
	}
	enum cap_pixfmt nf = CAP_FMT_AUTO;
	int w = 0, h = 0, fps = 0;
	cap_negotiated(s, &nf, &w, &h, &fps);
	check(nf == CAP_FMT_MJPEG, "mjpeg: format auto picked %s on v4l2loopback", cap_format_name(nf));
	check(decoded == 20, "mjpeg: %d of 20 frames decoded (first frame %d bytes after EOI cut)",
	      decoded, first_bytes);
	check(scaled == 20, "mjpeg: %d of 20 decoded at DCT scale 1/4 (160x120) for a 96x96 model", scaled);
	check(colours == 20, "mjpeg: %d of 20 int8 tensors show red left, blue right", colours);

	/* a stalled camera: the producer stops, no frame for CAP_STALL_MS → disconnected; it
	 * comes back → frames again without anyone reopening by hand */
	kill(producer, SIGKILL);
	waitpid(producer, NULL, 0);
	double t_stop = now_ms(), t_seen = -1;
	while (now_ms() - t_stop < 6000) {
		int r = cap_next(s, 100, &f);
		if (r == CAP_ERR_DISCONNECTED) {
			t_seen = now_ms();
			break;
		}
	}
	check(t_seen >= 0 && t_seen - t_stop >= CAP_STALL_MS - 200 && t_seen - t_stop < CAP_STALL_MS + 1500,
	      "stall: no frames → disconnected after %.0f ms (%s)", t_seen - t_stop, cap_last_error(s));
	producer = start_mjpeg_producer();
	double t_back = now_ms();
	int r = next_frame(s, &f, 5000);
	check(r == 0 && cap_state(s) == CAP_STATE_STREAMING,
	      "stall: producer back → frames again after %.0f ms", now_ms() - t_back);
	cap_decoder_free(d);
	cap_close(s);
out:
	kill(producer, SIGKILL);
	waitpid(producer, NULL, 0);
}

/* --- unplug while streaming ------------------------------------------------------------------ */
static int set_disconnect(void)
{
	int fd = open(VIVID, O_RDWR | O_NONBLOCK);
	int r = -1;
	if (fd < 0)
		return -1;
	struct v4l2_queryctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	while (ioctl(fd, VIDIOC_QUERYCTRL, &q) == 0) {
		if (strcmp((const char *)q.name, "Disconnect") == 0) {
			struct v4l2_control c = { .id = q.id, .value = 1 };
			r = ioctl(fd, VIDIOC_S_CTRL, &c);
			break;
		}
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	close(fd);
	return r;
}

static int write_sysfs(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* One unplug: stream, pull the device, see DISCONNECTED, put it back after down_ms, and time
 * the first frame after that. */
static void unplug_once(struct cap_source *s, bool sysfs, int round, int down_ms)
{
	const char *how = sysfs ? "sysfs unbind/bind" : "disconnect control";
	struct cap_frame f;
	struct cap_stats before, after;
	int r = next_frame(s, &f, 4000);
	if (r < 0) {
		check(false, "%s #%d: not streaming before unplug: %s", how, round, cap_strerror(r));
		return;
	}
	cap_get_stats(s, &before);
	r = sysfs ? write_sysfs(UNBIND, "vivid.0") : set_disconnect();
	if (r < 0) {
		check(false, "%s #%d: could not unplug", how, round);
		return;
	}
	double t_unplug = now_ms(), t_seen = -1, t_back = -1, t_frame = -1;
	bool state_ok = true, back = !sysfs;   /* the control's device comes back on last close */
	while (now_ms() - t_unplug < 10000) {
		if (!back && t_seen >= 0 && now_ms() - t_seen >= down_ms) {
			if (write_sysfs(BIND, "vivid.0") < 0) {
				check(false, "%s #%d: bind failed", how, round);
				return;
			}
			back = true;
			t_back = now_ms();
		}
		double c0 = now_ms();
		r = cap_next(s, 100, &f);
		if (now_ms() - c0 > 1000)
			state_ok = false;   /* cap_next must come back within its timeout */
		if (r == CAP_ERR_DISCONNECTED && t_seen < 0) {
			t_seen = now_ms();
			if (!sysfs)
				t_back = t_seen;
			state_ok &= cap_state(s) == CAP_STATE_DISCONNECTED;
		} else if (r == CAP_ERR_DISCONNECTED) {
			state_ok &= cap_state(s) == CAP_STATE_DISCONNECTED;
		} else if (r == 0 && t_seen >= 0 && back) {
			t_frame = now_ms();
			break;
		}
	}
	cap_get_stats(s, &after);
	check(t_seen >= 0 && state_ok, "%s #%d: reported disconnected %.0f ms after unplug (%s)", how,
	      round, t_seen - t_unplug, cap_last_error(s));
	check(t_frame >= 0 && t_frame - t_back <= RECOVER_MS && cap_state(s) == CAP_STATE_STREAMING &&
	      after.reconnects == before.reconnects + 1,
	      "%s #%d: frames again %.0f ms after the device was back (down %d ms, reconnects %llu)",
	      how, round, t_frame >= 0 ? t_frame - t_back : -1.0, sysfs ? down_ms : 0,
	      (unsigned long long)after.reconnects);
}

static void test_unplug(bool sysfs)
{
	static const int down_ms[] = { 100, 400, 900, 1600, 2600 };
	struct cap_source *s = open_v4l2(VIVID, CAP_FMT_YUYV, 640, 480, NULL, 0);
	if (!s)
		return;
	for (int i = 0; i < 5; i++)
		unplug_once(s, sysfs, i + 1, down_ms[i]);
	cap_close(s);
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : "all";
	const char *label = argc > 2 ? argv[2] : "vm";   /* "vm-san" for the sanitizer build */
	bool all = strcmp(only, "all") == 0;
	log_set_level(LOG_WARNING);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (all || strcmp(only, "formats") == 0) {
		test_format(CAP_FMT_YUYV);
		test_format(CAP_FMT_NV12);
		test_format(CAP_FMT_GREY);
		test_format(CAP_FMT_RGB24);
	}
	if (all || strcmp(only, "controls") == 0) {
		test_controls();
		test_slow_caller();
	}
	if (all || strcmp(only, "mjpeg") == 0)
		test_mjpeg();
	if (all || strcmp(only, "unplug") == 0) {
		test_unplug(false);
		test_unplug(true);
	}
	printf("%s: %d passed, %d failed\n", label, n_pass, n_fail);
	return n_fail ? 1 : 0;
}
