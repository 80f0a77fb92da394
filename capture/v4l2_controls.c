/* v4l2_controls.c — the [camera] control.<name> = <value> lines applied to an open V4L2 device:
 * each name is looked up among the device's controls by v4l2-ctl's normalised name
 * (VIDIOC_QUERY_EXT_CTRL, QUERYCTRL where that is missing), its value checked against the
 * control's range, then set. Split from v4l2.c (the streaming session) to keep each file to one
 * job; an unknown name or a value out of range is a config error naming what is offered. */
#include "capture/capture.h"
#include "capture/internal.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int find_control(int fd, const char *name, uint32_t *ret_id,
			int64_t *ret_min, int64_t *ret_max, char *offered, size_t offered_len)
{
	char norm[64];
	bool ext = true;
	uint32_t id = V4L2_CTRL_FLAG_NEXT_CTRL;
	offered[0] = 0;
	for (int guard = 0; guard < 1024; guard++) {
		struct v4l2_query_ext_ctrl q = { .id = id | V4L2_CTRL_FLAG_NEXT_CTRL };
		struct v4l2_queryctrl qc = { .id = id | V4L2_CTRL_FLAG_NEXT_CTRL };
		int r;
		if (ext) {
			r = xioctl(fd, VIDIOC_QUERY_EXT_CTRL, &q);
			if (r == -ENOTTY && guard == 0) {
				ext = false;
				guard--;
				continue;
			}
		} else {
			r = xioctl(fd, VIDIOC_QUERYCTRL, &qc);
			q.id = qc.id;
			q.type = qc.type;
			q.flags = qc.flags;
			q.minimum = qc.minimum;
			q.maximum = qc.maximum;
			snprintf(q.name, sizeof(q.name), "%.*s", (int)sizeof(qc.name), (const char *)qc.name);
		}
		if (r < 0)
			return r == -EINVAL ? CAP_ERR_UNKNOWN_CONTROL : device_error(r);
		id = q.id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
		if (q.type == V4L2_CTRL_TYPE_CTRL_CLASS || (q.flags & V4L2_CTRL_FLAG_DISABLED))
			continue;
		cap_control_name_normalize(q.name, norm, sizeof(norm));
		size_t l = strlen(offered);
		snprintf(offered + l, offered_len - l, "%s%s", l ? " " : "", norm);
		if (strcmp(norm, name) == 0) {
			*ret_id = id;
			*ret_min = q.minimum;
			*ret_max = q.maximum;
			return 0;
		}
	}
	return CAP_ERR_UNKNOWN_CONTROL;
}

int cap_v4l2_apply_controls(int fd, const char *device, const struct cap_config *cfg, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < cfg->n_controls; i++) {
		const struct cap_control *c = &cfg->controls[i];
		char offered[1024];
		uint32_t id = 0;
		int64_t lo = 0, hi = 0;
		int r = find_control(fd, c->name, &id, &lo, &hi, offered, sizeof(offered));
		if (r == CAP_ERR_UNKNOWN_CONTROL) {
			snprintf(err, errlen, "%s: control '%s' is not offered (offered: %s)",
				 device, c->name, offered);
			return r;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s: listing controls: %s", device, strerror(-r));
			return r;
		}
		if (c->value < lo || c->value > hi) {
			snprintf(err, errlen, "%s: control '%s' = %lld out of range %lld..%lld",
				 device, c->name, (long long)c->value, (long long)lo, (long long)hi);
			return CAP_ERR_CONTROL_VALUE;
		}
		struct v4l2_control ctl = { .id = id, .value = (int32_t)c->value };
		r = xioctl(fd, VIDIOC_S_CTRL, &ctl);
		if (r < 0) {
			snprintf(err, errlen, "%s: setting control '%s' = %lld: %s", device,
				 c->name, (long long)c->value, strerror(-r));
			return device_error(r) == CAP_ERR_DISCONNECTED ? CAP_ERR_DISCONNECTED
								       : CAP_ERR_CONTROL_VALUE;
		}
	}
	return 0;
}
