/* capture.h — frames in, model input tensors out. The public face of capture/.
 *
 * Four parts, used by the daemon as  capture thread: cap_next → cap_slot_put
 *                                    classify thread: cap_slot_take → cap_frame_to_tensor
 *  1. Sources (V4L2 through libv4l2, or a file source replaying JPEGs). cap_open() validates the
 *     config and returns at once, even when the camera is absent; cap_next() runs the
 *     "open, stream, on error close and retry" loop inside itself: after a fault it reports
 *     CAP_ERR_DISCONNECTED, and while in back-off (0.25 s doubling to 2 s) every call returns
 *     CAP_ERR_DISCONNECTED after at most timeout_ms, so the owner's loop keeps running (watchdog).
 *  2. A "newest frame only" slot between the capture thread and the classify thread.
 *  3. Decode: MJPEG/JPEG (TurboJPEG, DCT-scaled to just above the model size), YUYV, NV12,
 *     GREY, RGB24, BMP stills → an RGB or grey image.
 *  4. Preprocess: crop, resize, colour, quantize into the model's input tensor.
 *
 * Memory: a frame returned by cap_next() points into the source's buffers (mmap'd V4L2 buffer
 * or the file source's read buffer); it stays valid until cap_release() or the next cap_next()
 * (which releases a frame still held: at most one frame is out at a time). cap_slot_put()
 * copies the frame; a frame from cap_slot_take() is owned by the slot and valid until the
 * next cap_slot_take(). Images from cap_decode*() are owned by the decoder and valid until its
 * next decode. Strings in cap_config are copied by cap_open(); the config may be freed after.
 * Threads: a source, a decoder, a slot end are each used by one thread at a time; cap_stop(),
 * cap_state() and cap_slot_close() may be called from any thread (stop/close wake the
 * blocked call).
 * Errors: functions return 0 or a negative code; the CAP_ERR_* names below are negative errno
 * values meant to be switched on. cap_open()/cap_config_check() fill err with a message naming
 * what and where; for errors found later by cap_next() (a control the device lacks, a fault,
 * a failed reopen) cap_last_error() has the message ("/dev/video0: control 'brightnes' is not
 * offered (offered: brightness contrast …)") and cap_last_error_code() the cause's code. */
#ifndef CAMCLASS_CAPTURE_H
#define CAMCLASS_CAPTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	CAP_ERR_NO_DEVICE       = -ENODEV,    /* node missing / not a capture device (a cause: cap_next
					       * reports it as DISCONNECTED and keeps retrying) */
	CAP_ERR_TIMEOUT         = -ETIMEDOUT, /* no frame within the caller's timeout_ms */
	CAP_ERR_DISCONNECTED    = -ENOTCONN,  /* stream lost / in back-off; cap_next retries by itself */
	CAP_ERR_CORRUPT         = -EBADMSG,   /* frame data truncated or corrupt: skip it and count */
	CAP_ERR_UNSUPPORTED     = -ENOTSUP,   /* format or size not offered / not decodable */
	CAP_ERR_UNKNOWN_CONTROL = -ENOENT,    /* control name not offered by the device (config error) */
	CAP_ERR_CONTROL_VALUE   = -ERANGE,    /* control value rejected by the device (config error) */
	CAP_ERR_STOPPED         = -ECANCELED, /* cap_stop() / cap_slot_close() was called */
	CAP_ERR_INVALID         = -EINVAL,    /* bad argument or config */
	CAP_ERR_NOMEM           = -ENOMEM,
	CAP_ERR_IO              = -EIO,       /* file source read error */
};
/* "no device", "timeout", … for any of the codes above; strerror-like text otherwise. */
const char *cap_strerror(int err);
/* True for errors that retrying cannot fix (config errors): the daemon should report and stop. */
bool cap_error_is_config(int err);

/* Timing of the retry loop and fault detection. */
#define CAP_BACKOFF_MIN_MS 250
#define CAP_BACKOFF_MAX_MS 2000
#define CAP_STALL_MS       2000   /* no frame for this long while streaming = disconnected */
#define CAP_BUFFERS        4      /* mmap buffers requested; drivers may grant fewer (≥ 2) */
#define CAP_MAX_CONTROLS   32
#define CAP_ORIGIN_BYTES   80     /* cap_frame.origin, NUL included */

enum cap_source_kind { CAP_SOURCE_V4L2, CAP_SOURCE_FILE };
enum cap_pixfmt { CAP_FMT_AUTO, CAP_FMT_MJPEG, CAP_FMT_YUYV, CAP_FMT_GREY, CAP_FMT_RGB24,
		  CAP_FMT_NV12 };
enum cap_state { CAP_STATE_STOPPED, CAP_STATE_STREAMING, CAP_STATE_DISCONNECTED };

/* Name ↔ value: "v4l2"/"file"; "auto","mjpeg","yuyv","grey","rgb24","nv12";
 * "stopped","streaming","disconnected". *_from_name return the value or CAP_ERR_INVALID. */
int cap_source_kind_from_name(const char *name);
const char *cap_source_kind_name(enum cap_source_kind k);
int cap_format_from_name(const char *name);
const char *cap_format_name(enum cap_pixfmt f);
const char *cap_state_name(enum cap_state s);

#define CAP_CONTROL_NAME_MAX 64  /* bytes including the terminating NUL */

/* A control setting by value, so that a parsed config can hold an array of them and hand it to
 * cap_open() as it is. */
struct cap_control {
	char name[CAP_CONTROL_NAME_MAX]; /* as v4l2-ctl lists it: "brightness", "white_balance_automatic" */
	int64_t value;
};

struct cap_config {
	enum cap_source_kind kind;
	const char *device;       /* V4L2: "/dev/video0" */
	const char *path;         /* file: a directory of .jpg/.jpeg files or a concatenated .mjpeg */
	enum cap_pixfmt format;   /* V4L2 only; AUTO prefers MJPEG, then YUYV, then RGB24 */
	int width, height;        /* requested size (V4L2; the driver may pick the nearest) */
	int fps;                  /* V4L2: S_PARM request; file: replay rate. 1..240 */
	const struct cap_control *controls;   /* V4L2 only, applied in order after each open */
	size_t n_controls;                    /* ≤ CAP_MAX_CONTROLS */
};

/* Checks what can be checked without a device (ranges, control-name syntax). */
int cap_config_check(const struct cap_config *cfg, char *err, size_t errlen);
/* cap_config_check, plus what can be checked without disturbing a camera in use: a file
 * source is opened and closed (the folder exists and holds .jpg/.jpeg/.png files, or the clip holds
 * a complete JPEG). A V4L2 device is not opened (it may be streaming for us, or be plugged in
 * later); its errors (unknown control, format not offered) come from cap_next(). For a reload
 * and --check-config. Errors as cap_open(), with the message in err. */
int cap_probe(const struct cap_config *cfg, char *err, size_t errlen);

struct cap_frame {
	const uint8_t *data;
	size_t bytes;             /* MJPEG: up to and including EOI when found, else bytesused */
	enum cap_pixfmt format;   /* never AUTO */
	int width, height;
	int stride_bytes;         /* bytes per line of the (first) plane; 0 for MJPEG */
	uint64_t timestamp_ns;    /* V4L2 buffer timestamp (CLOCK_MONOTONIC); file: delivery time */
	uint64_t sequence;        /* driver sequence (V4L2) or running count (file) */
	char origin[CAP_ORIGIN_BYTES]; /* file source: "frame-0001.jpg" or "clip.mjpeg#12" (the
				   * file's name, cut to fit); V4L2: "" (the sequence names it) */
};

struct cap_stats {
	uint64_t frames;          /* frames delivered by cap_next */
	uint64_t disconnects;     /* stream faults (each one reported once as DISCONNECTED) */
	uint64_t reconnects;      /* successful re-opens after a fault */
	uint64_t open_failures;   /* failed open attempts while in back-off */
	uint64_t damaged;         /* frames the driver flagged V4L2_BUF_FLAG_ERROR (CAP_ERR_CORRUPT) */
};

struct cap_source;

/* Validate cfg and create the source (no device access yet, so an absent camera is fine).
 * Config errors (not device errors) come back here with a message in err. */
int cap_open(const struct cap_config *cfg, struct cap_source **ret_source, char *err,
	     size_t errlen);
/* Wait up to timeout_ms for the next frame, (re)opening the device as needed.
 * 0: *ret_frame filled. CAP_ERR_TIMEOUT: nothing yet (still streaming).
 * CAP_ERR_DISCONNECTED: the stream just failed or the source is in back-off (see cap_state).
 * Config errors found at the first open (CAP_ERR_UNKNOWN_CONTROL, CAP_ERR_CONTROL_VALUE,
 * CAP_ERR_UNSUPPORTED): permanent; cap_last_error() has the message. The same errors on a
 * reopen after streaming (another device at the node) give CAP_ERR_DISCONNECTED and retries
 * every 2 s, with the message in cap_last_error(). CAP_ERR_CORRUPT: the driver flagged a
 * frame damaged (V4L2_BUF_FLAG_ERROR); it was given back, streaming goes on (counted in
 * cap_stats.damaged, described by cap_last_error()). CAP_ERR_STOPPED. */
int cap_next(struct cap_source *s, int timeout_ms, struct cap_frame *ret_frame);
/* Give the frame's buffer back (V4L2: QBUF). Idempotent. */
void cap_release(struct cap_source *s, struct cap_frame *frame);
/* Make the current and all later cap_next calls return CAP_ERR_STOPPED. Any thread. */
void cap_stop(struct cap_source *s);
void cap_close(struct cap_source *s);

enum cap_state cap_state(const struct cap_source *s);
void cap_get_stats(const struct cap_source *s, struct cap_stats *ret_stats);
/* The message of the last error (open failure, fault) — for logs and STATUS=; "" if none. */
const char *cap_last_error(const struct cap_source *s);
/* Its code: the cause behind a DISCONNECTED (CAP_ERR_NO_DEVICE while the node is missing,
 * CAP_ERR_DISCONNECTED after a stream fault, …) or the config error; 0 if none. */
int cap_last_error_code(const struct cap_source *s);
/* What the device actually gave after the last successful open (format, size, fps). */
int cap_negotiated(const struct cap_source *s, enum cap_pixfmt *ret_format, int *ret_width,
		   int *ret_height, int *ret_fps);

/* --- 2. newest-frame slot (one producer thread, one consumer thread) ------------------------ */
struct cap_slot;
int cap_slot_new(struct cap_slot **ret_slot);
void cap_slot_free(struct cap_slot *slot);
/* Copy the frame in. A frame put earlier and not yet taken is dropped and counted skipped. */
int cap_slot_put(struct cap_slot *slot, const struct cap_frame *frame);
/* Wait up to timeout_ms for a frame newer than the last one taken. 0, CAP_ERR_TIMEOUT or
 * CAP_ERR_STOPPED. The frame's data is owned by the slot until the next cap_slot_take. */
int cap_slot_take(struct cap_slot *slot, int timeout_ms, struct cap_frame *ret_frame);
/* Wake a waiting consumer with CAP_ERR_STOPPED (and every later take). Any thread. */
void cap_slot_close(struct cap_slot *slot);
uint64_t cap_slot_skipped(const struct cap_slot *slot);

/* --- 3/4. decode and preprocess ------------------------------------------------------------- */
enum cap_crop { CAP_CROP_CENTER, CAP_CROP_FULL };     /* "center" keeps aspect, "full" stretches */
enum cap_resize { CAP_RESIZE_AREA, CAP_RESIZE_BILINEAR };
int cap_crop_from_name(const char *name);
const char *cap_crop_name(enum cap_crop c);
int cap_resize_from_name(const char *name);
const char *cap_resize_name(enum cap_resize r);

/* The model input, in capture's own terms (convert from eng_tensor_info: width=dims[2],
 * height=dims[1], channels=dims[3], is_float = type==ENG_FLOAT32, and from its effective
 * 8-bit quantization: is_int8 = quantized_type==ENG_INT8, scale = quantized_scale,
 * zero_point = quantized_zero_point). */
struct cap_target {
	int width, height;
	int channels;             /* 1 (grey) or 3 (RGB) */
	bool is_int8;             /* the (effective) quantized type is int8, else uint8 */
	float scale;
	int32_t zero_point;
	bool is_float;            /* a float32 tensor (4 bytes a value) */
	/* A float32 input the model reads as floats (no QUANTIZE in front): each value is
	 * (pixel − mean[c]) / std[c] (std > 0), scale and zero_point unused. mean 0 / std 255 gives
	 * 0..1, 127.5 / 127.5 gives −1..1, 0 / 1 gives 0..255. Requires is_float. */
	bool normalize;
	float mean[3], std[3];
	bool channels_first;      /* NCHW tensor (PyTorch exports): planes of height × width */
};

struct cap_prep {
	struct cap_target target;
	enum cap_crop crop;
	enum cap_resize resize;
};

/* An 8-bit interleaved image: channels 1 (grey) or 3 (R,G,B). */
struct cap_image {
	const uint8_t *pixels;
	int width, height, channels;
	size_t stride_bytes;
};

struct cap_decoder;
int cap_decoder_new(struct cap_decoder **ret_decoder);
void cap_decoder_free(struct cap_decoder *d);
/* Decode a frame into an image with the target's channel count; JPEG is DCT-scaled to the
 * smallest factor that keeps the cropped region ≥ the target size. CAP_ERR_CORRUPT for
 * truncated/corrupt data, CAP_ERR_UNSUPPORTED for unknown formats. */
int cap_decode(struct cap_decoder *d, const struct cap_frame *frame, const struct cap_prep *p,
	       struct cap_image *ret_image);
/* A still image file's bytes (JPEG, PNG or BMP, sniffed by magic) → image, as cap_decode. */
int cap_decode_still(struct cap_decoder *d, const uint8_t *data, size_t bytes,
		     const struct cap_prep *p, struct cap_image *ret_image);
/* Why the decoder's last cap_decode/cap_decode_still/cap_frame_to_tensor failed, in the
 * decoder's own words ("JPEG header: Empty JPEG image (DNL not supported)"); "" after a
 * success. Owned by the decoder, valid until its next call. A failed decode never affects
 * the next one: after a TurboJPEG error the decoder's handle is replaced. */
const char *cap_decoder_last_error(const struct cap_decoder *d);
/* Crop + resize + colour + quantize img into tensor (target.height × width × channels bytes,
 * NHWC). Grey from RGB: Y = 0.299 R + 0.587 G + 0.114 B (BT.601, as JPEG's own luma).
 * Quantization: the pixel range 0…255 is mapped linearly onto the real range the input's
 * quantization represents, [scale·(qmin−zp), scale·(qmax−zp)], so q = qmin + pixel:
 * uint8 inputs take the pixel, int8 inputs pixel − 128, whatever scale/zp say (see
 * README.md "Preprocessing rule" for why this matches every TFLite image model in ../shared/models).
 * A float target (is_float) gets the real value of that q, scale·(q − zero_point) computed in
 * float, which the model's own QUANTIZE (round(x / scale) + zero_point) turns back into exactly
 * q; its scale must be > 0. A normalize target gets (pixel − mean[c]) / std[c] instead.
 * channels_first writes the same values in NCHW order. tensor_bytes: width·height·channels,
 * times 4 for a float target. */
int cap_preprocess(const struct cap_image *img, const struct cap_prep *p, void *tensor,
		   size_t tensor_bytes);
/* A rectangle of a frame or image, in pixels. */
struct cap_rect {
	int x, y, width, height;
};
/* True for YUYV and NV12, the formats cap_preprocess_yuv takes. */
bool cap_format_is_yuv(enum cap_pixfmt f);
/* cap_decode + cap_preprocess of a region of a YUYV or NV12 frame in one pass: exactly the
 * tensor cap_preprocess gives for the region of the image cap_decode makes (same BT.601
 * conversion, same crop, resize and quantization, bit for bit), but the frame is converted
 * only where the crop keeps it, row by row as the resize reads it, into no whole-frame image.
 * region: NULL for the whole frame, else inside it. Errors: as cap_decode for the frame
 * (CAP_ERR_CORRUPT when stride or bytes do not fit, with the reason in
 * cap_decoder_last_error), CAP_ERR_UNSUPPORTED for other formats, CAP_ERR_INVALID for a
 * region outside the frame or a target cap_preprocess refuses. d only keeps the reason. */
int cap_preprocess_yuv(struct cap_decoder *d, const struct cap_frame *frame,
		       const struct cap_rect *region, const struct cap_prep *p, void *tensor,
		       size_t tensor_bytes);
/* cap_decode + cap_preprocess (YUYV and NV12 through cap_preprocess_yuv). */
int cap_frame_to_tensor(struct cap_decoder *d, const struct cap_frame *frame,
			const struct cap_prep *p, void *tensor, size_t tensor_bytes);

/* --- 5. encode (snapshots, previews) -------------------------------------------------------- */
/* An image (channels 1 or 3) → a baseline JPEG of quality 1..100 (4:2:0, or grey), with
 * TurboJPEG: capture is the one module that uses it. *ret_jpeg is malloc'd (the caller frees
 * it with free()). CAP_ERR_INVALID (bad image or quality), CAP_ERR_NOMEM, CAP_ERR_IO (the
 * encoder failed; err says why). Any thread; no state. */
int cap_encode_jpeg(const struct cap_image *img, int quality, uint8_t **ret_jpeg,
		    size_t *ret_len, char *err, size_t errlen);
/* A camera frame as a JPEG no wider than max_width (0: any): an MJPEG frame that fits is its
 * own bytes (copied, never re-encoded); otherwise it is decoded with d (DCT-scaled where
 * possible), resized (area) to fit, and encoded. ret_width, ret_height: the JPEG's size.
 * CAP_ERR_CORRUPT for undecodable frames, CAP_ERR_NOMEM, CAP_ERR_IO. */
int cap_frame_jpeg(struct cap_decoder *d, const struct cap_frame *frame, int max_width,
		   int quality, uint8_t **ret_jpeg, size_t *ret_len, int *ret_width,
		   int *ret_height);

/* --- pure helpers, public for tests and tools ------------------------------------------------ */
/* Pick the capture format from what the device offers (V4L2 fourccs, n entries; entries
 * flagged emulated came from libv4lconvert). want=AUTO: MJPEG (or JPEG), then YUYV, then
 * RGB24 (native before emulated). Otherwise the wanted one, if offered. */
struct cap_offered_format {
	uint32_t fourcc;
	bool emulated;
};
int cap_choose_format(const struct cap_offered_format *offered, size_t n, enum cap_pixfmt want,
		      enum cap_pixfmt *ret_format);
uint32_t cap_format_fourcc(enum cap_pixfmt f);   /* V4L2_PIX_FMT_*; 0 for AUTO */
/* v4l2-ctl's control name: lower-case, runs of non-alphanumerics → one '_', trimmed. */
void cap_control_name_normalize(const char *name, char *ret_buf, size_t buflen);
/* DCT scale num/denom (from tjGetScalingFactors, ≤ 1) so the cropped source region, scaled, is
 * still ≥ dst in both directions; the smallest such. */
int cap_jpeg_pick_scale(int src_w, int src_h, int dst_w, int dst_h, enum cap_crop crop,
			int *ret_num, int *ret_denom);
/* Length of a JPEG: up to and including the EOI marker found by walking the segments and the
 * entropy-coded data; CAP_ERR_CORRUPT if there is no complete image. */
int cap_jpeg_length(const uint8_t *data, size_t bytes, size_t *ret_len);
/* Split the next JPEG out of a concatenated-JPEG buffer starting at *pos: the SOI..EOI span,
 * skipping garbage before SOI. *pos advances past it. CAP_ERR_CORRUPT when none is left. */
int cap_mjpeg_next(const uint8_t *data, size_t bytes, size_t *pos, size_t *ret_start,
		   size_t *ret_len);

#endif
