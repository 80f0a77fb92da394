/* jpeg.c — JPEG framing without decoding: where a JPEG ends, how to split a concatenated MJPEG
 * stream, and which DCT scale to decode at.
 *
 * Why walk markers instead of searching for FF D9: a UVC camera's first buffer reports a
 * bogus bytesused (the whole buffer), and EXIF thumbnails embed complete JPEGs (with their own
 * FF D8…FF D9) inside APP1. Walking segment lengths skips those; inside entropy-coded data
 * 0xFF is always stuffed (FF 00) or a restart marker, so the first other marker there is real.
 * Every read is bounded by `bytes`. */
#include "capture/capture.h"
#include "capture/internal.h"

#include <turbojpeg.h>

#define M_SOI 0xD8
#define M_EOI 0xD9
#define M_SOS 0xDA

static bool is_standalone(uint8_t m)
{
	return (m >= 0xD0 && m <= 0xD7) || m == 0x01;   /* RSTn, TEM: no length field */
}

int cap_jpeg_length(const uint8_t *data, size_t bytes, size_t *ret_len)
{
	size_t i = 2;
	if (!data || bytes < 4 || data[0] != 0xFF || data[1] != M_SOI)
		return CAP_ERR_CORRUPT;
	for (;;) {
		/* at a marker: FF (fill FFs) code */
		if (i >= bytes || data[i] != 0xFF)
			return CAP_ERR_CORRUPT;
		while (i < bytes && data[i] == 0xFF)
			i++;
		if (i >= bytes)
			return CAP_ERR_CORRUPT;
		uint8_t m = data[i++];
		if (m == M_EOI) {
			*ret_len = i;
			return 0;
		}
		if (m == M_SOI || m == 0x00)
			return CAP_ERR_CORRUPT;
		if (!is_standalone(m)) {
			if (bytes - i < 2)
				return CAP_ERR_CORRUPT;
			size_t seg = (size_t)data[i] << 8 | data[i + 1];
			if (seg < 2 || seg > bytes - i)
				return CAP_ERR_CORRUPT;
			i += seg;
		}
		if (m == M_SOS || is_standalone(m)) {
			/* entropy-coded data: runs until FF followed by neither 00 nor RSTn */
			for (;;) {
				while (i < bytes && data[i] != 0xFF)
					i++;
				if (i + 1 >= bytes)
					return CAP_ERR_CORRUPT;
				uint8_t n = data[i + 1];
				if (n == 0x00 || (n >= 0xD0 && n <= 0xD7))
					i += 2;
				else if (n == 0xFF)
					i++;
				else
					break;
			}
		}
	}
}

int cap_mjpeg_next(const uint8_t *data, size_t bytes, size_t *pos, size_t *ret_start,
		   size_t *ret_len)
{
	size_t i = *pos;
	while (i + 2 < bytes) {
		if (data[i] == 0xFF && data[i + 1] == M_SOI && data[i + 2] == 0xFF) {
			size_t len;
			if (cap_jpeg_length(data + i, bytes - i, &len) == 0) {
				*ret_start = i;
				*ret_len = len;
				*pos = i + len;
				return 0;
			}
			/* a damaged image: resynchronise at the next SOI after this one */
		}
		i++;
	}
	*pos = bytes;
	return CAP_ERR_CORRUPT;
}

int cap_jpeg_pick_scale(int src_w, int src_h, int dst_w, int dst_h, enum cap_crop crop,
			int *ret_num, int *ret_denom)
{
	int n = 0;
	tjscalingfactor *f = tjGetScalingFactors(&n);
	int best_num = 1, best_denom = 1;
	int64_t best_area = (int64_t)src_w * src_h;
	if (src_w < 1 || src_h < 1 || dst_w < 1 || dst_h < 1)
		return CAP_ERR_INVALID;
	for (int i = 0; f && i < n; i++) {
		if (f[i].num > f[i].denom)
			continue;
		int sw = TJSCALED(src_w, f[i]), sh = TJSCALED(src_h, f[i]);
		int cw = sw, ch = sh;
		if (crop == CAP_CROP_CENTER)
			cap_center_crop_size(sw, sh, dst_w, dst_h, &cw, &ch);
		if (cw < dst_w || ch < dst_h)
			continue;
		if ((int64_t)sw * sh < best_area) {
			best_area = (int64_t)sw * sh;
			best_num = f[i].num;
			best_denom = f[i].denom;
		}
	}
	*ret_num = best_num;
	*ret_denom = best_denom;
	return 0;
}
