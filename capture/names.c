/* names.c — the small pure parts of capture/: names of enums, error texts, config checks, the
 * format choice and v4l2-ctl's control-name normalisation. Kept apart from the device code so
 * that tests and the config parser can use them without a camera. */
#include "capture/capture.h"
#include "lib/macros.h"

#include <ctype.h>
#include <limits.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>

static const char *const format_names[] = {
	[CAP_FMT_AUTO] = "auto", [CAP_FMT_MJPEG] = "mjpeg", [CAP_FMT_YUYV] = "yuyv",
	[CAP_FMT_GREY] = "grey", [CAP_FMT_RGB24] = "rgb24", [CAP_FMT_NV12] = "nv12",
};
static const char *const kind_names[] = { [CAP_SOURCE_V4L2] = "v4l2", [CAP_SOURCE_FILE] = "file" };
static const char *const state_names[] = {
	[CAP_STATE_STOPPED] = "stopped", [CAP_STATE_STREAMING] = "streaming",
	[CAP_STATE_DISCONNECTED] = "disconnected",
};
static const char *const crop_names[] = { [CAP_CROP_CENTER] = "center", [CAP_CROP_FULL] = "full" };
static const char *const resize_names[] = { [CAP_RESIZE_AREA] = "area",
					    [CAP_RESIZE_BILINEAR] = "bilinear" };

static int index_of(const char *const *names, size_t n, const char *name)
{
	if (!name)
		return CAP_ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcasecmp(names[i], name) == 0)
			return (int)i;
	return CAP_ERR_INVALID;
}

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] ? names[v] : "?";
}

int cap_format_from_name(const char *name) { return index_of(format_names, ARRAY_SIZE(format_names), name); }
const char *cap_format_name(enum cap_pixfmt f) { return name_of(format_names, ARRAY_SIZE(format_names), f); }
int cap_source_kind_from_name(const char *name) { return index_of(kind_names, ARRAY_SIZE(kind_names), name); }
const char *cap_source_kind_name(enum cap_source_kind k) { return name_of(kind_names, ARRAY_SIZE(kind_names), k); }
const char *cap_state_name(enum cap_state s) { return name_of(state_names, ARRAY_SIZE(state_names), s); }
int cap_crop_from_name(const char *name) { return index_of(crop_names, ARRAY_SIZE(crop_names), name); }
const char *cap_crop_name(enum cap_crop c) { return name_of(crop_names, ARRAY_SIZE(crop_names), c); }
int cap_resize_from_name(const char *name) { return index_of(resize_names, ARRAY_SIZE(resize_names), name); }
const char *cap_resize_name(enum cap_resize r) { return name_of(resize_names, ARRAY_SIZE(resize_names), r); }

const char *cap_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case CAP_ERR_NO_DEVICE: return "no device";
	case CAP_ERR_TIMEOUT: return "timeout";
	case CAP_ERR_DISCONNECTED: return "disconnected";
	case CAP_ERR_CORRUPT: return "corrupt frame";
	case CAP_ERR_UNSUPPORTED: return "unsupported format";
	case CAP_ERR_UNKNOWN_CONTROL: return "unknown control";
	case CAP_ERR_CONTROL_VALUE: return "control value rejected";
	case CAP_ERR_STOPPED: return "stopped";
	case CAP_ERR_INVALID: return "invalid argument";
	case CAP_ERR_NOMEM: return "out of memory";
	case CAP_ERR_IO: return "I/O error";
	default: return strerror(err < 0 ? -err : err);
	}
}

bool cap_error_is_config(int err)
{
	return err == CAP_ERR_UNKNOWN_CONTROL || err == CAP_ERR_CONTROL_VALUE ||
	       err == CAP_ERR_UNSUPPORTED || err == CAP_ERR_INVALID;
}

uint32_t cap_format_fourcc(enum cap_pixfmt f)
{
	switch (f) {
	case CAP_FMT_MJPEG: return V4L2_PIX_FMT_MJPEG;
	case CAP_FMT_YUYV: return V4L2_PIX_FMT_YUYV;
	case CAP_FMT_GREY: return V4L2_PIX_FMT_GREY;
	case CAP_FMT_RGB24: return V4L2_PIX_FMT_RGB24;
	case CAP_FMT_NV12: return V4L2_PIX_FMT_NV12;
	case CAP_FMT_AUTO: break;
	}
	return 0;
}

static bool offers(const struct cap_offered_format *offered, size_t n, uint32_t fourcc,
		   bool emulated)
{
	for (size_t i = 0; i < n; i++)
		if (offered[i].fourcc == fourcc && offered[i].emulated == emulated)
			return true;
	return false;
}

int cap_choose_format(const struct cap_offered_format *offered, size_t n, enum cap_pixfmt want,
		      enum cap_pixfmt *ret_format)
{
	/* AUTO: compressed first (least USB bandwidth, DCT-scaled decode is cheap), then YUYV (every
	 * UVC camera has it), then RGB24; a native format beats the same one libv4l emulates. */
	static const enum cap_pixfmt auto_order[] = { CAP_FMT_MJPEG, CAP_FMT_YUYV, CAP_FMT_RGB24 };
	if (!offered && n)
		return CAP_ERR_INVALID;
	if (want != CAP_FMT_AUTO) {
		uint32_t fcc = cap_format_fourcc(want);
		if (!fcc)
			return CAP_ERR_INVALID;
		if (offers(offered, n, fcc, false) || offers(offered, n, fcc, true) ||
		    (want == CAP_FMT_MJPEG && (offers(offered, n, V4L2_PIX_FMT_JPEG, false) ||
					       offers(offered, n, V4L2_PIX_FMT_JPEG, true)))) {
			*ret_format = want;
			return 0;
		}
		return CAP_ERR_UNSUPPORTED;
	}
	for (int emulated = 0; emulated <= 1; emulated++)
		for (size_t i = 0; i < ARRAY_SIZE(auto_order); i++) {
			uint32_t fcc = cap_format_fourcc(auto_order[i]);
			if (offers(offered, n, fcc, emulated) ||
			    (auto_order[i] == CAP_FMT_MJPEG &&
			     offers(offered, n, V4L2_PIX_FMT_JPEG, emulated))) {
				*ret_format = auto_order[i];
				return 0;
			}
		}
	return CAP_ERR_UNSUPPORTED;
}

void cap_control_name_normalize(const char *name, char *ret_buf, size_t buflen)
{
	/* v4l2-ctl (name2var): alphanumerics lower-cased, every run of anything else becomes one
	 * '_', no leading or trailing '_'. "White Balance, Auto" → "white_balance_auto". */
	size_t o = 0;
	bool pending_sep = false;
	if (!buflen)
		return;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p)) {
			if (pending_sep && o > 0 && o + 1 < buflen)
				ret_buf[o++] = '_';
			pending_sep = false;
			if (o + 1 < buflen)
				ret_buf[o++] = (char)tolower(*p);
		} else {
			pending_sep = true;
		}
	}
	ret_buf[o] = 0;
}

int cap_config_check(const struct cap_config *cfg, char *err, size_t errlen)
{
	if (!cfg) {
		snprintf(err, errlen, "no capture config");
		return CAP_ERR_INVALID;
	}
	if (cfg->kind != CAP_SOURCE_V4L2 && cfg->kind != CAP_SOURCE_FILE) {
		snprintf(err, errlen, "source: unknown kind %d", (int)cfg->kind);
		return CAP_ERR_INVALID;
	}
	if (cfg->kind == CAP_SOURCE_V4L2 && (!cfg->device || !*cfg->device)) {
		snprintf(err, errlen, "device: missing for source v4l2");
		return CAP_ERR_INVALID;
	}
	if (cfg->kind == CAP_SOURCE_FILE && (!cfg->path || !*cfg->path)) {
		snprintf(err, errlen, "path: missing for source file");
		return CAP_ERR_INVALID;
	}
	if (cfg->format < CAP_FMT_AUTO || cfg->format > CAP_FMT_NV12) {
		snprintf(err, errlen, "format: unknown value %d", (int)cfg->format);
		return CAP_ERR_INVALID;
	}
	if (cfg->kind == CAP_SOURCE_V4L2 &&
	    (cfg->width < 16 || cfg->width > 8192 || cfg->height < 16 || cfg->height > 8192)) {
		snprintf(err, errlen, "width/height: %dx%d out of range 16..8192", cfg->width,
			 cfg->height);
		return CAP_ERR_INVALID;
	}
	if (cfg->fps < 1 || cfg->fps > 240) {
		snprintf(err, errlen, "fps: %d out of range 1..240", cfg->fps);
		return CAP_ERR_INVALID;
	}
	if (cfg->n_controls > CAP_MAX_CONTROLS || (cfg->n_controls && !cfg->controls)) {
		snprintf(err, errlen, "controls: at most %d", CAP_MAX_CONTROLS);
		return CAP_ERR_INVALID;
	}
	for (size_t i = 0; i < cfg->n_controls; i++) {
		char norm[CAP_CONTROL_NAME_MAX];
		const char *name = cfg->controls[i].name;
		if (!*name || strnlen(name, sizeof(cfg->controls[i].name)) >= sizeof(norm)) {
			snprintf(err, errlen, "control #%zu: empty or too long name", i + 1);
			return CAP_ERR_INVALID;
		}
		cap_control_name_normalize(name, norm, sizeof(norm));
		if (strcmp(norm, name) != 0) {
			snprintf(err, errlen, "control '%s': not a control name as v4l2-ctl lists it "
				 "(did you mean '%s'?)", name, norm);
			return CAP_ERR_INVALID;
		}
		if (cfg->controls[i].value < INT32_MIN || cfg->controls[i].value > INT32_MAX) {
			snprintf(err, errlen, "control '%s': value out of 32-bit range", name);
			return CAP_ERR_CONTROL_VALUE;
		}
	}
	return 0;
}
