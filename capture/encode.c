/* encode.c — cap_encode_jpeg(): a picture back into a JPEG, for snapshots (capture.h).
 *
 * In capture/ because capture is the one module that talks to TurboJPEG (decode.c, jpeg.c):
 * the daemon hands pixels over and gets bytes back. TurboJPEG's own buffer must be released
 * with tjFree(), while the socket server frees snapshots with free(); so the bytes are copied
 * once into a malloc'd buffer here, and no caller ever sees a TurboJPEG allocation. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "capture/capture.h"

int cap_encode_jpeg(const struct cap_image *img, int quality, uint8_t **ret_jpeg,
		    size_t *ret_len, char *err, size_t errlen)
{
	unsigned char *jpeg = NULL;
	unsigned long jpeg_len = 0;
	int r = 0;

	if (!img || !img->pixels || (img->channels != 1 && img->channels != 3) || img->width < 1 ||
	    img->height < 1 || img->stride_bytes < (size_t)img->width * (size_t)img->channels ||
	    img->stride_bytes > INT_MAX || quality < 1 || quality > 100) {
		snprintf(err, errlen, "JPEG encoding: bad image or quality");
		return CAP_ERR_INVALID;
	}
	tjhandle tj = tjInitCompress();
	if (!tj) {
		snprintf(err, errlen, "JPEG encoding: out of memory");
		return CAP_ERR_NOMEM;
	}
	if (tjCompress2(tj, img->pixels, img->width, (int)img->stride_bytes, img->height,
			img->channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg, &jpeg_len,
			img->channels == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, 0) != 0) {
		snprintf(err, errlen, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
		r = CAP_ERR_IO;
		goto out;
	}
	uint8_t *copy = malloc(jpeg_len);
	if (!copy) {
		snprintf(err, errlen, "JPEG encoding: out of memory");
		r = CAP_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, jpeg, jpeg_len);
	*ret_jpeg = copy;
	*ret_len = jpeg_len;
out:
	tjFree(jpeg);
	tjDestroy(tj);
	return r;
}
