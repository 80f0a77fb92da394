/* internal.h — what the files of capture/ share with each other and nobody else: the two
 * session back-ends behind cap_source (V4L2, file), the BMP reader, the crop rule and the YUV
 * row conversion the decoder and the resize share.
 * Sessions are single-shot: open, stream frames, fail or close. The retry loop in source.c
 * owns them; a session never retries by itself. */
#ifndef CAMCLASS_CAPTURE_INTERNAL_H
#define CAMCLASS_CAPTURE_INTERNAL_H

#include <errno.h>

#include "capture/capture.h"

/* The center crop of a w×h image for a dw×dh target: the largest centred rectangle with the
 * target's aspect ratio, rounded to whole pixels (at least 1×1). */
void cap_center_crop_size(int w, int h, int dw, int dh, int *ret_cw, int *ret_ch);

/* Monotonic clock in ns. */

/* Session back-ends. next() waits up to timeout_ms, also waking when stop_fd (an eventfd)
 * becomes readable (→ CAP_ERR_STOPPED). Errors: CAP_ERR_TIMEOUT, CAP_ERR_DISCONNECTED (the
 * session is dead; close it), config errors from open. */
struct cap_session;
struct cap_session_ops {
	int (*open)(const struct cap_config *cfg, struct cap_session **ret, char *err,
		    size_t errlen);
	int (*next)(struct cap_session *s, int timeout_ms, int stop_fd, struct cap_frame *ret,
		    char *err, size_t errlen);
	void (*release)(struct cap_session *s);
	void (*close)(struct cap_session *s);
	void (*negotiated)(const struct cap_session *s, enum cap_pixfmt *fmt, int *w, int *h,
			   int *fps);
};
extern const struct cap_session_ops cap_v4l2_ops;
extern const struct cap_session_ops cap_file_ops;

/* BMP (8-bit palette or 24-bit, bottom-up or top-down, uncompressed) → top-down interleaved
 * pixels in *buf (grown with realloc as needed): 1 channel for a grey palette, else RGB. */
int cap_bmp_decode(const uint8_t *data, size_t bytes, uint8_t **buf, size_t *buf_bytes,
		   struct cap_image *ret_image);

/* PNG (libpng's simplified reader; any bit depth, palette, interlace) → top-down interleaved
 * pixels in *buf as cap_bmp_decode: 1 channel for grey PNGs, else RGB (alpha composited onto
 * black). CAP_ERR_CORRUPT for damaged data, CAP_ERR_UNSUPPORTED beyond CAP_MAX_SIDE. */
bool cap_png_sniff(const uint8_t *data, size_t bytes);
int cap_png_decode(const uint8_t *data, size_t bytes, uint8_t **buf, size_t *buf_bytes,
		   struct cap_image *ret_image);

/* Route libv4l2's messages (its stderr lines) into our log as "capture: libv4l2: ...",
 * rate-limited (v4l2_log.c). Idempotent; the V4L2 session calls it before its first open. */
#define CAP_V4L2_LOG_BURST     10
#define CAP_V4L2_LOG_WINDOW_NS (10ull * 1000000000ull)
void cap_v4l2_log_install(void);

/* v4l2_explain.c. cap_device_holders: up to 4 other processes with `device` open, as
 * "pid N (comm), ..." in out (empty if none visible); returns how many, or -errno if the node
 * or /proc cannot be read. cap_v4l2_explain: the one-line message for errno `err` of step
 * `what` ("open", "S_FMT", ...) on `device`, naming the fix (group, DeviceAllow=, the holder). */
int cap_device_holders(const char *device, char *out, size_t len);
void cap_v4l2_explain(const char *device, const char *what, int err, char *out, size_t len);

/* v4l2_io.c: the calls a V4L2 session makes — libv4l2's, or libc's when libcamera's
 * v4l2-compat.so is in LD_PRELOAD (libv4l2 uses raw syscalls the preload cannot see). */
struct cap_v4l2_io {
	const char *name;
	int (*open)(const char *path, int flags, ...);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, ...);
	void *(*mmap)(void *start, size_t len, int prot, int flags, int fd, int64_t offset);
	int (*munmap)(void *start, size_t len);
};
const struct cap_v4l2_io *cap_v4l2_io(void);

/* The V4L2 files' ioctl (through cap_v4l2_io(), retried on EINTR; 0 or -errno), and the
 * errors of a device that is going away (→ CAP_ERR_DISCONNECTED) vs. anything else. */
static inline int xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do
		r = cap_v4l2_io()->ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static inline int device_error(int r)
{
	return (r == -ENODEV || r == -EIO || r == -ENXIO || r == -EPIPE) ? CAP_ERR_DISCONNECTED : r;
}

/* v4l2_controls.c: cfg's controls set on the open device fd (named `device` in messages).
 * Returns 0, CAP_ERR_UNKNOWN_CONTROL, CAP_ERR_CONTROL_VALUE or CAP_ERR_DISCONNECTED (or
 * -errno listing the controls), with err filled. */
int cap_v4l2_apply_controls(int fd, const char *device, const struct cap_config *cfg, char *err,
			    size_t errlen);

/* Row y of a YUYV or NV12 frame checked by the decoder, columns [x0, x0 + n), converted to RGB
 * (channels 3) or grey (1) as cap_decode converts frames (decode.c). */
void cap_yuv_row(const struct cap_frame *f, int y, int x0, int n, int channels, uint8_t *out);
/* The same values as floats, as the resize reads rows: 4 a pixel for RGB (R, G, B, 0), 1 for
 * grey. */
void cap_yuv_row_floats(const struct cap_frame *f, int y, int x0, int n, int channels, float *out);
/* cap_preprocess of the view of a checked YUYV/NV12 frame (preprocess.c): its rows come from
 * cap_yuv_row. The view must lie inside the frame. */
int cap_preprocess_yuv_view(const struct cap_frame *frame, const struct cap_rect *view,
			    const struct cap_prep *p, void *tensor, size_t tensor_bytes);

/* Largest image side the decoders accept (bounds allocations from untrusted headers). */
#define CAP_MAX_SIDE 16384

#endif
