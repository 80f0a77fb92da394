/* bmp.c — the BMP reader behind `camclass classify` (the shared test photos are BMPs).
 *
 * Only what still images for classification use: uncompressed 8-bit palette (grey or colour)
 * and 24-bit BGR, bottom-up (positive height) or top-down (negative height). Every offset and
 * size from the header is checked against the file length before use. */
#include "capture/internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int cap_bmp_decode(const uint8_t *data, size_t bytes, uint8_t **buf, size_t *buf_bytes,
		   struct cap_image *ret_image)
{
	if (bytes < 54 || data[0] != 'B' || data[1] != 'M')
		return CAP_ERR_CORRUPT;
	uint32_t pix_off = le32(data + 10), dib = le32(data + 14);
	int32_t w = (int32_t)le32(data + 18), h = (int32_t)le32(data + 22);
	uint16_t bpp = le16(data + 28);
	uint32_t compression = le32(data + 30), n_colors = le32(data + 46);
	bool top_down = h < 0;
	if (dib < 40 || dib > bytes - 14 || w < 1 || h == 0 || h == INT32_MIN)
		return CAP_ERR_CORRUPT;
	if (top_down)
		h = -h;
	if (w > CAP_MAX_SIDE || h > CAP_MAX_SIDE)
		return CAP_ERR_UNSUPPORTED;
	if (compression != 0 || (bpp != 8 && bpp != 24))
		return CAP_ERR_UNSUPPORTED;

	uint8_t palette[256][3];   /* R, G, B */
	bool grey_palette = true;
	if (bpp == 8) {
		size_t pal_off = 14 + (size_t)dib;
		if (n_colors == 0 || n_colors > 256)
			n_colors = 256;
		if (pal_off + 4 * (size_t)n_colors > bytes)
			return CAP_ERR_CORRUPT;
		memset(palette, 0, sizeof(palette));
		for (uint32_t i = 0; i < n_colors; i++) {
			const uint8_t *q = data + pal_off + 4 * i;
			palette[i][0] = q[2];
			palette[i][1] = q[1];
			palette[i][2] = q[0];
			grey_palette &= q[0] == q[1] && q[1] == q[2];
		}
	}
	/* grey stays grey; colour stays RGB (preprocess makes grey with the documented weights) */
	const int channels = bpp == 8 && grey_palette ? 1 : 3;
	size_t row_bytes = (((size_t)w * bpp + 31) / 32) * 4;
	if (pix_off > bytes || row_bytes * (size_t)h > bytes - pix_off)
		return CAP_ERR_CORRUPT;
	size_t need = (size_t)w * h * channels;
	if (*buf_bytes < need) {
		uint8_t *nb = realloc(*buf, need);
		if (!nb)
			return CAP_ERR_NOMEM;
		*buf = nb;
		*buf_bytes = need;
	}
	for (int32_t y = 0; y < h; y++) {
		const uint8_t *src = data + pix_off + row_bytes * (size_t)(top_down ? y : h - 1 - y);
		uint8_t *dst = *buf + (size_t)y * w * channels;
		for (int32_t x = 0; x < w; x++) {
			uint8_t rgb[3];
			if (bpp == 8) {
				memcpy(rgb, palette[src[x]], 3);
			} else {
				rgb[0] = src[3 * x + 2];
				rgb[1] = src[3 * x + 1];
				rgb[2] = src[3 * x];
			}
			if (channels == 3)
				memcpy(dst + 3 * x, rgb, 3);
			else
				dst[x] = rgb[0];
		}
	}
	ret_image->pixels = *buf;
	ret_image->width = w;
	ret_image->height = h;
	ret_image->channels = channels;
	ret_image->stride_bytes = (size_t)w * channels;
	return 0;
}
