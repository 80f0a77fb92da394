/* frame_jpeg.c — cap_frame_jpeg(): a camera frame as a JPEG, for snapshots and previews.
 *
 * Why it is built this way: an MJPEG camera's frame is returned as the camera's own bytes when
 * it fits the asked width: no re-encode, no quality loss, and almost no CPU. Raw formats and
 * smaller sizes are decoded at the smallest DCT scale that still covers them (cheap), then
 * area-resized by cap_preprocess with an identity uint8 target, which is exactly a resize, and
 * encoded by cap_encode_jpeg (encode.c, the module's one TurboJPEG encoder). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

int cap_frame_jpeg(struct cap_decoder *d, const struct cap_frame *frame, int max_width,
		   int quality, uint8_t **ret_jpeg, size_t *ret_len, int *ret_width,
		   int *ret_height)
{
	if (frame->width <= 0 || frame->height <= 0)
		return CAP_ERR_CORRUPT;
	int w = frame->width, h = frame->height;
	if (max_width > 0 && w > max_width) {
		h = (int)(((int64_t)h * max_width + w / 2) / w);
		w = max_width;
		if (h < 1)
			h = 1;
	}
	if (frame->format == CAP_FMT_MJPEG && w == frame->width) {
		size_t len;
		if (cap_jpeg_length(frame->data, frame->bytes, &len) < 0)
			return CAP_ERR_CORRUPT;
		uint8_t *copy = malloc(len);
		if (!copy)
			return CAP_ERR_NOMEM;
		memcpy(copy, frame->data, len);
		*ret_jpeg = copy;
		*ret_len = len;
		*ret_width = w;
		*ret_height = h;
		return 0;
	}
	int channels = frame->format == CAP_FMT_GREY ? 1 : 3;
	struct cap_prep prep = { .target = { .width = w, .height = h, .channels = channels,
					     .scale = 1.0f },
				 .crop = CAP_CROP_FULL, .resize = CAP_RESIZE_AREA };
	struct cap_image img;
	int r = cap_decode(d, frame, &prep, &img);
	if (r < 0)
		return r;
	uint8_t *resized = NULL;
	if (img.width != w || img.height != h || img.channels != channels) {
		size_t bytes = (size_t)w * (size_t)h * (size_t)channels;
		resized = malloc(bytes);
		if (!resized)
			return CAP_ERR_NOMEM;
		r = cap_preprocess(&img, &prep, resized, bytes);
		if (r < 0) {
			free(resized);
			return r;
		}
		img = (struct cap_image){ .pixels = resized, .width = w, .height = h,
					  .channels = channels, .stride_bytes = (size_t)w * (size_t)channels };
	}
	char err[160];
	r = cap_encode_jpeg(&img, quality, ret_jpeg, ret_len, err, sizeof(err));
	free(resized);
	if (r == 0) {
		*ret_width = w;
		*ret_height = h;
	}
	return r;
}
