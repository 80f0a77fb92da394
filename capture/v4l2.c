/* v4l2.c — one V4L2 streaming session through libv4l2: open, negotiate, stream, fail, close.
 *
 * Everything goes through libv4l2 (v4l2_open/v4l2_ioctl/v4l2_mmap) so that cameras speaking
 * only odd formats still work: libv4lconvert then offers RGB24 and friends, flagged EMULATED,
 * which the format choice ranks after native ones (under libcamera's compatibility layer the
 * same calls go to libc instead: v4l2_io.c). The session never retries: any fault
 * (POLLERR/POLLHUP, ENODEV, EIO, no frame for CAP_STALL_MS) returns CAP_ERR_DISCONNECTED and
 * source.c closes and reopens. Controls are matched by v4l2-ctl's normalised names from
 * VIDIOC_QUERY_EXT_CTRL (QUERYCTRL where that is missing; v4l2_controls.c); an unknown name is a
 * config error. */
#include "capture/capture.h"
#include "capture/internal.h"
#include "lib/clock.h"

#include <fcntl.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define N_BUFFERS     CAP_BUFFERS
#define MIN_BUFFERS   2   /* v4l2loopback grants 2 by default; one out, one filling */
#define MAX_FORMATS   64

struct cap_session {
	int fd;
	const char *device;
	enum cap_pixfmt format;
	int width, height, stride, fps;
	struct { void *start; size_t length; } bufs[N_BUFFERS];
	unsigned n_bufs;
	bool streaming;
	int held;                 /* index of the buffer out with the caller, or -1 */
	uint64_t last_frame_ns;   /* stall detection */
};

static void fourcc_str(uint32_t f, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)((f >> (8 * i)) & 0x7f);
		out[i] = c >= ' ' ? c : '?';
	}
	out[4] = 0;
}

static int choose_format(struct cap_session *s, const struct cap_config *cfg, uint32_t *ret_fcc,
			 char *err, size_t errlen)
{
	struct cap_offered_format offered[MAX_FORMATS];
	size_t n = 0;
	char list[256] = "";
	for (unsigned i = 0; n < MAX_FORMATS; i++) {
		struct v4l2_fmtdesc d = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
		int r = xioctl(s->fd, VIDIOC_ENUM_FMT, &d);
		if (r == -EINVAL)
			break;
		if (r < 0) {
			snprintf(err, errlen, "%s: ENUM_FMT: %s", s->device, strerror(-r));
			return device_error(r);
		}
		offered[n].fourcc = d.pixelformat;
		offered[n].emulated = d.flags & V4L2_FMT_FLAG_EMULATED;
		char f[5];
		fourcc_str(d.pixelformat, f);
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s%s", l ? " " : "", f,
			 offered[n].emulated ? "(emulated)" : "");
		n++;
	}
	int r = cap_choose_format(offered, n, cfg->format, &s->format);
	if (r < 0) {
		snprintf(err, errlen, "%s: format %s not offered (offered: %s)", s->device,
			 cap_format_name(cfg->format), list[0] ? list : "none");
		return CAP_ERR_UNSUPPORTED;
	}
	*ret_fcc = cap_format_fourcc(s->format);
	if (s->format == CAP_FMT_MJPEG) {
		bool mjpg = false;
		for (size_t i = 0; i < n; i++)
			mjpg |= offered[i].fourcc == V4L2_PIX_FMT_MJPEG;
		if (!mjpg)
			*ret_fcc = V4L2_PIX_FMT_JPEG;
	}
	return 0;
}

/* Nearest offered frame size (discrete: smallest |Δw|+|Δh|; stepwise: the request). */
static void choose_size(struct cap_session *s, uint32_t fcc, int want_w, int want_h, int *w, int *h)
{
	long best = -1;
	*w = want_w;
	*h = want_h;
	for (unsigned i = 0;; i++) {
		struct v4l2_frmsizeenum fs = { .index = i, .pixel_format = fcc };
		if (xioctl(s->fd, VIDIOC_ENUM_FRAMESIZES, &fs) < 0 ||
		    fs.type != V4L2_FRMSIZE_TYPE_DISCRETE)
			break;
		long d = labs((long)fs.discrete.width - want_w) + labs((long)fs.discrete.height - want_h);
		if (best < 0 || d < best) {
			best = d;
			*w = (int)fs.discrete.width;
			*h = (int)fs.discrete.height;
		}
	}
}

/* Nearest offered rate to fps for this size (discrete intervals); 0 if none are listed. */
static int choose_fps(struct cap_session *s, uint32_t fcc, int w, int h, int want)
{
	int best = 0;
	for (unsigned i = 0;; i++) {
		struct v4l2_frmivalenum fi = { .index = i, .pixel_format = fcc, .width = (unsigned)w,
					       .height = (unsigned)h };
		if (xioctl(s->fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) < 0 ||
		    fi.type != V4L2_FRMIVAL_TYPE_DISCRETE || fi.discrete.numerator == 0)
			break;
		int f = (int)(fi.discrete.denominator / fi.discrete.numerator);
		if (!best || abs(f - want) < abs(best - want))
			best = f;
	}
	return best;
}

static void v4l2_session_close(struct cap_session *s)
{
	if (!s)
		return;
	if (s->streaming) {
		enum v4l2_buf_type t = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		xioctl(s->fd, VIDIOC_STREAMOFF, &t);
	}
	for (unsigned i = 0; i < s->n_bufs; i++)
		if (s->bufs[i].start && s->bufs[i].start != MAP_FAILED)
			cap_v4l2_io()->munmap(s->bufs[i].start, s->bufs[i].length);
	if (s->fd >= 0)
		cap_v4l2_io()->close(s->fd);
	free(s);
}

static int setup_buffers(struct cap_session *s, char *err, size_t errlen)
{
	struct v4l2_requestbuffers rb = { .count = N_BUFFERS, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	int r = xioctl(s->fd, VIDIOC_REQBUFS, &rb);
	if (r == -EBUSY) {
		cap_v4l2_explain(s->device, "REQBUFS", EBUSY, err, errlen);
		return CAP_ERR_NO_DEVICE;
	}
	if (r < 0 || rb.count < MIN_BUFFERS) {
		snprintf(err, errlen, "%s: REQBUFS: %s", s->device,
			 r < 0 ? strerror(-r) : "fewer than 2 buffers");
		return r < 0 ? device_error(r) : CAP_ERR_NO_DEVICE;
	}
	s->n_bufs = rb.count > N_BUFFERS ? N_BUFFERS : rb.count;
	for (unsigned i = 0; i < s->n_bufs; i++) {
		struct v4l2_buffer b = { .index = i, .type = rb.type, .memory = V4L2_MEMORY_MMAP };
		r = xioctl(s->fd, VIDIOC_QUERYBUF, &b);
		if (r == 0) {
			s->bufs[i].length = b.length;
			s->bufs[i].start = cap_v4l2_io()->mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
						     s->fd, b.m.offset);
			if (s->bufs[i].start == MAP_FAILED)
				r = -errno;
		}
		if (r == 0)
			r = xioctl(s->fd, VIDIOC_QBUF, &b);
		if (r < 0) {
			snprintf(err, errlen, "%s: buffer %u: %s", s->device, i, strerror(-r));
			return device_error(r) == CAP_ERR_DISCONNECTED ? r : CAP_ERR_NO_DEVICE;
		}
	}
	enum v4l2_buf_type t = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	r = xioctl(s->fd, VIDIOC_STREAMON, &t);
	if (r < 0) {
		cap_v4l2_explain(s->device, "STREAMON", -r, err, errlen);
		return CAP_ERR_NO_DEVICE;
	}
	s->streaming = true;
	return 0;
}

static int v4l2_session_open(const struct cap_config *cfg, struct cap_session **ret, char *err,
			     size_t errlen)
{
	struct cap_session *s = calloc(1, sizeof(*s));
	uint32_t fcc = 0;
	int r;
	if (!s)
		return CAP_ERR_NOMEM;
	s->device = cfg->device;
	s->held = -1;
	cap_v4l2_log_install();
	s->fd = cap_v4l2_io()->open(cfg->device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0) {
		/* libv4l2 fails with EINVAL when the device has no capture format to offer yet;
		 * no node, no permission, busy: the message names the fix (v4l2_explain.c) */
		cap_v4l2_explain(cfg->device, "open", errno, err, errlen);
		r = CAP_ERR_NO_DEVICE;
		goto fail;
	}
	struct v4l2_capability cap = { 0 };
	r = xioctl(s->fd, VIDIOC_QUERYCAP, &cap);
	uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	if (r < 0 || !(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
		/* also what a v4l2loopback node says before its producer starts: retry. A
		 * multi-planar-only device is single-planar to us through libv4l2's mplane
		 * plugin; without the plugin it shows up here. */
		bool mplane = r == 0 && (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE);
		snprintf(err, errlen, "%s: not a streaming video capture device%s", cfg->device,
			 r < 0 ? " (QUERYCAP failed)"
			 : mplane ? " (multi-planar only: install libv4l2's mplane plugin, "
				    "libv4l/plugins/libv4l-mplane.so from package libv4l-0)"
				  : "");
		r = CAP_ERR_NO_DEVICE;
		goto fail;
	}
	r = choose_format(s, cfg, &fcc, err, errlen);
	if (r < 0)
		goto fail;
	int w, h;
	choose_size(s, fcc, cfg->width, cfg->height, &w, &h);
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	f.fmt.pix.width = (unsigned)w;
	f.fmt.pix.height = (unsigned)h;
	f.fmt.pix.pixelformat = fcc;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	r = xioctl(s->fd, VIDIOC_S_FMT, &f);
	if (r == -EBUSY) {
		cap_v4l2_explain(cfg->device, "S_FMT", EBUSY, err, errlen);
		r = CAP_ERR_NO_DEVICE;
		goto fail;
	}
	if (r < 0 || f.fmt.pix.pixelformat != fcc || f.fmt.pix.width < 1 || f.fmt.pix.height < 1) {
		snprintf(err, errlen, "%s: S_FMT %s %dx%d: %s", cfg->device,
			 cap_format_name(s->format), w, h, r < 0 ? strerror(-r) : "refused");
		r = r < 0 ? device_error(r) : CAP_ERR_UNSUPPORTED;
		if (r != CAP_ERR_DISCONNECTED && r != CAP_ERR_UNSUPPORTED)
			r = CAP_ERR_NO_DEVICE;
		goto fail;
	}
	s->width = (int)f.fmt.pix.width;
	s->height = (int)f.fmt.pix.height;
	s->stride = (int)f.fmt.pix.bytesperline;
	if (s->stride == 0 && s->format != CAP_FMT_MJPEG)
		s->stride = s->width * (s->format == CAP_FMT_RGB24 ? 3 : s->format == CAP_FMT_YUYV ? 2 : 1);

	int listed = choose_fps(s, fcc, s->width, s->height, cfg->fps);
	struct v4l2_streamparm sp = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	sp.parm.capture.timeperframe.numerator = 1;
	sp.parm.capture.timeperframe.denominator = (unsigned)(listed ? listed : cfg->fps);
	s->fps = xioctl(s->fd, VIDIOC_S_PARM, &sp) == 0 && sp.parm.capture.timeperframe.numerator
		? (int)(sp.parm.capture.timeperframe.denominator / sp.parm.capture.timeperframe.numerator)
		: cfg->fps;

	r = cap_v4l2_apply_controls(s->fd, s->device, cfg, err, errlen);
	if (r < 0)
		goto fail;
	r = setup_buffers(s, err, errlen);
	if (r < 0)
		goto fail;
	s->last_frame_ns = mono_now_ns();
	*ret = s;
	return 0;
fail:
	v4l2_session_close(s);
	return r;
}

static int v4l2_session_next(struct cap_session *s, int timeout_ms, int stop_fd,
			     struct cap_frame *ret, char *err, size_t errlen)
{
	const uint64_t end = mono_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		/* poll first, even when late: frames already queued (the caller was slow) are not a
		 * stall; only an empty poll past the stall deadline is */
		uint64_t now = mono_now_ns();
		uint64_t stall_at = s->last_frame_ns + (uint64_t)CAP_STALL_MS * 1000000ull;
		uint64_t until = end < stall_at ? end : stall_at;
		int wait_ms = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		int n = poll(p, 2, wait_ms);
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return CAP_ERR_DISCONNECTED;
		}
		if (p[1].revents & POLLIN)
			return CAP_ERR_STOPPED;
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			snprintf(err, errlen, "device error (poll revents 0x%x)", p[0].revents);
			return CAP_ERR_DISCONNECTED;
		}
		if (n <= 0 || !(p[0].revents & POLLIN)) {
			now = mono_now_ns();
			if (now >= stall_at) {
				snprintf(err, errlen, "no frame for %d ms", CAP_STALL_MS);
				return CAP_ERR_DISCONNECTED;
			}
			if (now >= end)
				return CAP_ERR_TIMEOUT;
			continue;
		}
		struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP };
		int r = xioctl(s->fd, VIDIOC_DQBUF, &b);
		if (r == -EAGAIN)
			continue;
		if (r < 0 || b.index >= s->n_bufs) {
			snprintf(err, errlen, "DQBUF: %s", r < 0 ? strerror(-r) : "bad buffer index");
			return CAP_ERR_DISCONNECTED;
		}
		if (b.flags & V4L2_BUF_FLAG_ERROR) {
			/* the driver says this buffer's data is damaged: give it back, keep streaming,
			 * and let the caller count it (a camera that keeps doing this is worth seeing) */
			r = xioctl(s->fd, VIDIOC_QBUF, &b);
			if (r < 0) {
				snprintf(err, errlen, "QBUF: %s", strerror(-r));
				return CAP_ERR_DISCONNECTED;
			}
			snprintf(err, errlen, "frame %u flagged damaged by the driver (V4L2_BUF_FLAG_ERROR)",
				 b.sequence);
			return CAP_ERR_CORRUPT;
		}
		s->last_frame_ns = mono_now_ns();
		s->held = (int)b.index;
		size_t bytes = b.bytesused <= s->bufs[b.index].length ? b.bytesused : s->bufs[b.index].length;
		const uint8_t *data = s->bufs[b.index].start;
		if (s->format == CAP_FMT_MJPEG) {
			size_t len;
			if (cap_jpeg_length(data, bytes, &len) == 0)
				bytes = len;
		}
		ret->data = data;
		ret->bytes = bytes;
		ret->format = s->format;
		ret->width = s->width;
		ret->height = s->height;
		ret->stride_bytes = s->format == CAP_FMT_MJPEG ? 0 : s->stride;
		ret->timestamp_ns = (b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC
			? (uint64_t)b.timestamp.tv_sec * 1000000000ull + (uint64_t)b.timestamp.tv_usec * 1000ull
			: s->last_frame_ns;
		ret->sequence = b.sequence;
		ret->origin[0] = '\0';
		return 0;
	}
}

static void v4l2_session_release(struct cap_session *s)
{
	if (s->held < 0)
		return;
	struct v4l2_buffer b = { .index = (unsigned)s->held, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	s->held = -1;
	/* a failure here shows up as POLLERR/ENODEV or a stall on the next call */
	xioctl(s->fd, VIDIOC_QBUF, &b);
}

static void v4l2_session_negotiated(const struct cap_session *s, enum cap_pixfmt *fmt, int *w,
				    int *h, int *fps)
{
	*fmt = s->format;
	*w = s->width;
	*h = s->height;
	*fps = s->fps;
}

const struct cap_session_ops cap_v4l2_ops = {
	.open = v4l2_session_open,
	.next = v4l2_session_next,
	.release = v4l2_session_release,
	.close = v4l2_session_close,
	.negotiated = v4l2_session_negotiated,
};
