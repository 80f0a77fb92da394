/* png.c — PNG stills for `camclass classify` and the file source, read with libpng's simplified
 * API (png_image_*): Debian's libpng does the parsing, CRC checks, interlacing, palettes, 16-bit
 * and gamma; we only bound the size before allocating. Grey PNGs (with or without alpha) stay
 * one channel, everything else becomes RGB; an alpha channel is composited onto black, as
 * libpng does for an output format without alpha. */
#include "capture/internal.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

bool cap_png_sniff(const uint8_t *data, size_t bytes)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	return bytes >= sizeof(sig) && memcmp(data, sig, sizeof(sig)) == 0;
}

int cap_png_decode(const uint8_t *data, size_t bytes, uint8_t **buf, size_t *buf_bytes,
		   struct cap_image *ret_image)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!cap_png_sniff(data, bytes))
		return CAP_ERR_CORRUPT;
	if (!png_image_begin_read_from_memory(&img, data, bytes))
		return CAP_ERR_CORRUPT;
	if (img.width < 1 || img.height < 1 || img.width > CAP_MAX_SIDE || img.height > CAP_MAX_SIDE) {
		png_image_free(&img);
		return CAP_ERR_UNSUPPORTED;
	}
	const int channels = (img.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
	img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
	const size_t stride = (size_t)img.width * channels, need = stride * img.height;
	if (*buf_bytes < need) {
		uint8_t *nb = realloc(*buf, need);
		if (!nb) {
			png_image_free(&img);
			return CAP_ERR_NOMEM;
		}
		*buf = nb;
		*buf_bytes = need;
	}
	if (!png_image_finish_read(&img, NULL, *buf, (png_int_32)stride, NULL)) {
		png_image_free(&img);
		return CAP_ERR_CORRUPT;
	}
	png_image_free(&img);
	ret_image->pixels = *buf;
	ret_image->width = (int)img.width;
	ret_image->height = (int)img.height;
	ret_image->channels = channels;
	ret_image->stride_bytes = stride;
	return 0;
}
