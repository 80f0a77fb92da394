/* encode.c — JPEG out: the daemon's snapshots and preview frames.
 *
 * Why here: capture/ is the one module that owns TurboJPEG (decode.c reads JPEG, this file
 * writes it), so the daemon asks for "this frame as a JPEG" and never touches tj* itself.
 * An MJPEG camera's frame is returned as the camera's own bytes when it fits the asked width:
 * no re-encode, no quality loss, and almost no CPU. Smaller sizes are decoded at the smallest
 * DCT scale that still covers them (cheap), then area-resized by cap_preprocess with an
 * identity uint8 target, which is exactly a resize. */
#include "capture/capture.h"
#include "capture/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

int cap_jpeg_encode(const struct cap_image *img, int quality, uint8_t **ret_jpeg, size_t *ret_len)
{
	unsigned char *jpeg = NULL;
	unsigned long len = 0;
	int r = 0;
	if (!img || (img->channels != 1 && img->channels != 3) || img->width <= 0 ||
	    img->height <= 0 || quality < 1 || quality > 100)
		return -EINVAL;
	tjhandle tj = tjInitCompress();
	if (!tj)
		return -ENOMEM;
	if (tjCompress2(tj, img->pixels, img->width, (int)img->stride_bytes, img->height,
			img->channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg, &len,
			img->channels == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, 0) != 0) {
		r = -EIO;
	} else {
		/* callers free() it: TurboJPEG's buffer must go through tjFree() */
		uint8_t *copy = malloc(len);
		if (!copy) {
			r = -ENOMEM;
		} else {
			memcpy(copy, jpeg, len);
			*ret_jpeg = copy;
			*ret_len = len;
		}
	}
	tjFree(jpeg);
	tjDestroy(tj);
	return r;
}

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
			return -ENOMEM;
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
			return -ENOMEM;
		r = cap_preprocess(&img, &prep, resized, bytes);
		if (r < 0) {
			free(resized);
			return r;
		}
		img = (struct cap_image){ .pixels = resized, .width = w, .height = h,
					  .channels = channels, .stride_bytes = (size_t)w * (size_t)channels };
	}
	r = cap_jpeg_encode(&img, quality, ret_jpeg, ret_len);
	free(resized);
	if (r == 0) {
		*ret_width = w;
		*ret_height = h;
	}
	return r;
}
