/* internal.h — what the files of capture/ share with each other and nobody else: the two
 * session back-ends behind cap_source (V4L2, file), the BMP reader and the crop rule.
 * Sessions are single-shot: open, stream frames, fail or close. The retry loop in source.c
 * owns them; a session never retries by itself. */
#ifndef CAMCLASS_CAPTURE_INTERNAL_H
#define CAMCLASS_CAPTURE_INTERNAL_H

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

/* Largest image side the decoders accept (bounds allocations from untrusted headers). */
#define CAP_MAX_SIDE 16384

#endif
