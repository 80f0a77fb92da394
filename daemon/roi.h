/* roi.h — [model] roi: the region of the frame that is classified, as fractions of the frame.
 *
 * Contract
 * - roi_parse() reads "x,y,w,h" (four numbers, blanks allowed around them): 0 ≤ x, y < 1,
 *   0 < w, h ≤ 1, x + w ≤ 1, y + h ≤ 1. Errors: -EINVAL with a reason in err (the config
 *   loader adds FILE:LINE). ROI_FULL is the whole frame (the default).
 * - roi_view() narrows a decoded image to the region without copying (same pixels, stride
 *   kept): at least one pixel each way, edges rounded to the nearest pixel. The model's crop
 *   and resize then apply to that view, so roi comes before crop.
 * - roi_rect() is the same cut as a rectangle, for frames resized without a decoded image.
 * - Pure; any thread. */
#ifndef CAMCLASS_DAEMON_ROI_H
#define CAMCLASS_DAEMON_ROI_H

#include <stdbool.h>
#include <stddef.h>

#include "capture/capture.h"

struct roi {
	double x, y, w, h;
};

#define ROI_FULL ((struct roi){ 0, 0, 1, 1 })

int roi_parse(const char *text, struct roi *ret, char *err, size_t errlen);
bool roi_is_full(const struct roi *r);
struct cap_image roi_view(const struct cap_image *img, const struct roi *r);
/* The pixels roi_view() keeps of a width × height picture (width, height ≥ 1), as a rectangle:
 * for a YUYV/NV12 frame, which is decoded at its own size (cap_preprocess_yuv). */
struct cap_rect roi_rect(const struct roi *r, int width, int height);

#endif
