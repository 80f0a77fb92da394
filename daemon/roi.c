/* roi.c — the classified region (contract in roi.h).
 *
 * A view instead of a copy: the decoded picture stays where the decoder put it, only the pixel
 * pointer and the size change, so a region costs nothing per frame. Fractions rather than
 * pixels keep one setting valid when the camera's size changes or the JPEG decoder scales the
 * picture down (DCT scaling picks the size per frame). */
#include "daemon/roi.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int roi_parse(const char *text, struct roi *ret, char *err, size_t errlen)
{
	double v[4];
	const char *p = text;
	for (int i = 0; i < 4; i++) {
		char *end;
		while (*p == ' ' || *p == '\t')
			p++;
		v[i] = strtod(p, &end);
		if (end == p || !isfinite(v[i])) {
			snprintf(err, errlen, "'%s' is not x,y,w,h (four fractions of the frame, "
				 "like 0.25,0,0.5,1)", text);
			return -EINVAL;
		}
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != (i < 3 ? ',' : '\0')) {
			snprintf(err, errlen, "'%s' is not x,y,w,h (four fractions of the frame, "
				 "like 0.25,0,0.5,1)", text);
			return -EINVAL;
		}
		p++;
	}
	struct roi r = { v[0], v[1], v[2], v[3] };
	if (r.x < 0 || r.y < 0 || r.x >= 1 || r.y >= 1 || r.w <= 0 || r.h <= 0 || r.w > 1 ||
	    r.h > 1) {
		snprintf(err, errlen, "x and y must be in 0..1 (below 1), w and h in (0..1]");
		return -EINVAL;
	}
	/* a tolerance for decimal fractions that add up to exactly 1 (0.7 + 0.3) */
	if (r.x + r.w > 1 + 1e-9 || r.y + r.h > 1 + 1e-9) {
		snprintf(err, errlen, "the region leaves the frame (x + w and y + h must be <= 1)");
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

bool roi_is_full(const struct roi *r)
{
	return r->x == 0 && r->y == 0 && r->w == 1 && r->h == 1;
}

static int edge(double fraction, int size)
{
	long v = lround(fraction * size);
	return v < 0 ? 0 : v > size ? size : (int)v;
}

struct cap_rect roi_rect(const struct roi *r, int width, int height)
{
	if (roi_is_full(r))
		return (struct cap_rect){ 0, 0, width, height };
	int x0 = edge(r->x, width), x1 = edge(r->x + r->w, width);
	int y0 = edge(r->y, height), y1 = edge(r->y + r->h, height);
	/* a region thinner than a pixel still covers one */
	if (x1 <= x0) {
		x0 = x0 < width ? x0 : width - 1;
		x1 = x0 + 1;
	}
	if (y1 <= y0) {
		y0 = y0 < height ? y0 : height - 1;
		y1 = y0 + 1;
	}
	return (struct cap_rect){ x0, y0, x1 - x0, y1 - y0 };
}

struct cap_image roi_view(const struct cap_image *img, const struct roi *r)
{
	if (roi_is_full(r))
		return *img;
	const struct cap_rect c = roi_rect(r, img->width, img->height);
	struct cap_image v = *img;
	v.pixels = img->pixels + (size_t)c.y * img->stride_bytes + (size_t)c.x * (size_t)img->channels;
	v.width = c.width;
	v.height = c.height;
	return v;
}
