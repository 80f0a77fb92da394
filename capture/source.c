/* source.c — cap_source: the one outer loop "open, stream, on error close and retry after a
 * pause" around a single-shot session (v4l2.c or filesrc.c).
 *
 * The loop lives inside cap_next() rather than in a thread of its own so that the caller
 * keeps control: every call returns within timeout_ms whatever the camera does, which is
 * what lets the daemon feed the systemd watchdog and publish STATUS= while the camera is
 * away. Back-off runs 0.25 s, 0.5 s, 1 s, 2 s, 2 s …; while waiting, an inotify watch on the
 * device's directory cuts the wait short when a node appears or changes (a replugged camera
 * is picked up at once instead of up to 2 s later). Logging happens here, once per event:
 * the fault, the first failed reopen of a burst, the recovery. A configuration the device
 * refuses (unknown control, format not offered) is permanent on the first open, but on a
 * reopen it means another device answered at the node: that is retried like an absent camera
 * (at the slow pace), so a swapped camera never takes the daemon down. */
#include "capture/capture.h"
#include "capture/internal.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <libgen.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>


struct cap_source {
	struct cap_config cfg;   /* strings and controls point into the copies below */
	char *device, *path;
	struct cap_control controls[CAP_MAX_CONTROLS];

	const struct cap_session_ops *ops;
	struct cap_session *sess;
	bool frame_out;
	int stop_fd;             /* eventfd: readable once cap_stop() ran */
	int watch_fd;            /* inotify on the device's directory, or -1 */
	atomic_bool stopped;

	atomic_int state;        /* enum cap_state; read by any thread */
	int config_error;        /* sticky: retrying cannot help */
	uint64_t retry_at_ns;
	int backoff_ms;
	bool had_stream;         /* a session was streaming before; the next open is a reconnect */
	bool logged_open_failure;
	int logged_failure_code; /* the error of the open failure logged last */

	struct cap_stats stats;
	enum cap_pixfmt neg_format;
	int neg_w, neg_h, neg_fps;
	char last_error[256];
	int last_error_code;
};

static void watch_device_dir(struct cap_source *s)
{
	char dir[4096];
	if (s->cfg.kind != CAP_SOURCE_V4L2)
		return;
	snprintf(dir, sizeof(dir), "%s", s->device);
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch_fd < 0)
		return;
	if (inotify_add_watch(s->watch_fd, dirname(dir), IN_CREATE | IN_ATTRIB) < 0) {
		close(s->watch_fd);
		s->watch_fd = -1;
	}
}

int cap_open(const struct cap_config *cfg, struct cap_source **ret_source, char *err,
	     size_t errlen)
{
	int r = cap_config_check(cfg, err, errlen);
	if (r < 0)
		return r;
	struct cap_source *s = calloc(1, sizeof(*s));
	if (!s)
		return CAP_ERR_NOMEM;
	s->cfg = *cfg;
	s->device = cfg->device ? strdup(cfg->device) : NULL;
	s->path = cfg->path ? strdup(cfg->path) : NULL;
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->watch_fd = -1;
	if ((cfg->device && !s->device) || (cfg->path && !s->path) || s->stop_fd < 0) {
		snprintf(err, errlen, "capture: out of memory or file descriptors");
		cap_close(s);
		return CAP_ERR_NOMEM;
	}
	s->cfg.device = s->device;
	s->cfg.path = s->path;
	if (cfg->n_controls)
		memcpy(s->controls, cfg->controls, cfg->n_controls * sizeof(s->controls[0]));
	s->cfg.controls = s->controls;
	s->ops = cfg->kind == CAP_SOURCE_V4L2 ? &cap_v4l2_ops : &cap_file_ops;
	s->state = CAP_STATE_DISCONNECTED;
	s->backoff_ms = CAP_BACKOFF_MIN_MS;
	watch_device_dir(s);
	*ret_source = s;
	return 0;
}

int cap_probe(const struct cap_config *cfg, char *err, size_t errlen)
{
	struct cap_session *sess;
	int r = cap_config_check(cfg, err, errlen);
	if (r < 0 || cfg->kind != CAP_SOURCE_FILE)
		return r;
	/* a file source's open is a read-only look at the folder or clip: it disturbs nothing */
	r = cap_file_ops.open(cfg, &sess, err, errlen);
	if (r < 0)
		return r;
	cap_file_ops.close(sess);
	return 0;
}

/* Sleep until `until_ns`, cap_stop() or a device-node event, whichever comes first. */
static void wait_until(struct cap_source *s, uint64_t until_ns)
{
	struct pollfd p[2] = { { .fd = s->stop_fd, .events = POLLIN },
			       { .fd = s->watch_fd, .events = POLLIN } };
	uint64_t now = mono_now_ns();
	if (until_ns <= now)
		return;
	int ms = (int)((until_ns - now + 999999) / 1000000);
	if (poll(p, s->watch_fd >= 0 ? 2 : 1, ms) > 0 && s->watch_fd >= 0 && (p[1].revents & POLLIN)) {
		char buf[4096];
		while (read(s->watch_fd, buf, sizeof(buf)) > 0)
			;
		/* let udev finish permissions; then try now */
		s->retry_at_ns = mono_now_ns() + 50 * 1000000ull;
	}
}

static void session_end(struct cap_source *s)
{
	if (s->sess)
		s->ops->close(s->sess);
	s->sess = NULL;
	s->frame_out = false;
}

static int try_open(struct cap_source *s)
{
	char err[sizeof(s->last_error)];
	const char *what = s->cfg.kind == CAP_SOURCE_V4L2 ? s->device : s->path;
	int r = s->ops->open(&s->cfg, &s->sess, err, sizeof(err));
	if (r == 0) {
		s->ops->negotiated(s->sess, &s->neg_format, &s->neg_w, &s->neg_h, &s->neg_fps);
		if (s->had_stream) {
			s->stats.reconnects++;
			log_info("capture: %s back, streaming %s %dx%d@%d", what,
				 cap_format_name(s->neg_format), s->neg_w, s->neg_h, s->neg_fps);
		} else {
			log_info("capture: %s streaming %s %dx%d@%d", what,
				 cap_format_name(s->neg_format), s->neg_w, s->neg_h, s->neg_fps);
		}
		s->state = CAP_STATE_STREAMING;
		s->had_stream = true;
		s->backoff_ms = CAP_BACKOFF_MIN_MS;
		s->logged_open_failure = false;
		return 0;
	}
	s->sess = NULL;
	snprintf(s->last_error, sizeof(s->last_error), "%s", err);
	s->last_error_code = r;
	if (r == CAP_ERR_NOMEM || (cap_error_is_config(r) && !s->had_stream)) {
		s->config_error = r;
		s->state = CAP_STATE_STOPPED;
		log_error("capture: %s", err);
		return r;
	}
	s->stats.open_failures++;
	if (cap_error_is_config(r)) {
		/* The configuration worked with the device that was here before: what came back at
		 * this node is another device (or one set up differently). Not fatal: say so each
		 * time the reason changes, and keep trying at the slow pace for the right one. */
		if (!s->logged_open_failure || r != s->logged_failure_code)
			log_error("capture: %s — not the device configured before; retrying every %.0f s",
				  err, CAP_BACKOFF_MAX_MS / 1000.0);
		s->backoff_ms = CAP_BACKOFF_MAX_MS;
	} else if (!s->logged_open_failure) {
		log_warning("capture: %s (retrying every %.2f…%.0f s)", err,
			    CAP_BACKOFF_MIN_MS / 1000.0, CAP_BACKOFF_MAX_MS / 1000.0);
	}
	s->logged_open_failure = true;
	s->logged_failure_code = r;
	s->retry_at_ns = mono_now_ns() + (uint64_t)s->backoff_ms * 1000000ull;
	s->backoff_ms = s->backoff_ms * 2 > CAP_BACKOFF_MAX_MS ? CAP_BACKOFF_MAX_MS : s->backoff_ms * 2;
	return CAP_ERR_DISCONNECTED;
}

int cap_next(struct cap_source *s, int timeout_ms, struct cap_frame *ret_frame)
{
	const uint64_t deadline = mono_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
	if (!s || !ret_frame)
		return CAP_ERR_INVALID;
	if (atomic_load(&s->stopped))
		return CAP_ERR_STOPPED;
	if (s->config_error)
		return s->config_error;
	if (s->frame_out)
		cap_release(s, NULL);
	for (;;) {
		if (atomic_load(&s->stopped))
			return CAP_ERR_STOPPED;
		if (!s->sess) {
			if (mono_now_ns() < s->retry_at_ns) {
				if (deadline <= mono_now_ns())
					return CAP_ERR_DISCONNECTED;
				wait_until(s, s->retry_at_ns < deadline ? s->retry_at_ns : deadline);
				continue;
			}
			int r = try_open(s);
			if (r == CAP_ERR_DISCONNECTED && mono_now_ns() < deadline)
				continue;
			if (r < 0)
				return r;
		}
		uint64_t now = mono_now_ns();
		int left_ms = deadline > now ? (int)((deadline - now) / 1000000) : 0;
		char err[sizeof(s->last_error)] = "";
		int r = s->ops->next(s->sess, left_ms, s->stop_fd, ret_frame, err, sizeof(err));
		if (r == 0) {
			s->frame_out = true;
			s->stats.frames++;
			return 0;
		}
		if (r == CAP_ERR_TIMEOUT || r == CAP_ERR_STOPPED)
			return r;
		if (r == CAP_ERR_CORRUPT) { /* one damaged frame: the session goes on */
			snprintf(s->last_error, sizeof(s->last_error), "%s", err[0] ? err : cap_strerror(r));
			s->last_error_code = r;
			s->stats.damaged++;
			return r;
		}
		/* any other failure ends this session: report once, then back off */
		snprintf(s->last_error, sizeof(s->last_error), "%s", err[0] ? err : cap_strerror(r));
		s->last_error_code = r;
		log_warning("capture: %s: %s; closing, will reopen",
			    s->cfg.kind == CAP_SOURCE_V4L2 ? s->device : s->path, s->last_error);
		session_end(s);
		s->stats.disconnects++;
		s->state = CAP_STATE_DISCONNECTED;
		s->backoff_ms = CAP_BACKOFF_MIN_MS;
		s->retry_at_ns = mono_now_ns() + (uint64_t)s->backoff_ms * 1000000ull;
		s->backoff_ms *= 2;
		return CAP_ERR_DISCONNECTED;
	}
}

void cap_release(struct cap_source *s, struct cap_frame *frame)
{
	(void)frame;
	if (!s || !s->frame_out || !s->sess)
		return;
	s->ops->release(s->sess);
	s->frame_out = false;
}

void cap_stop(struct cap_source *s)
{
	uint64_t one = 1;
	atomic_store(&s->stopped, true);
	if (write(s->stop_fd, &one, sizeof(one)) < 0)
		return;   /* the counter is already non-zero: a stop is pending */
}

void cap_close(struct cap_source *s)
{
	if (!s)
		return;
	session_end(s);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->watch_fd >= 0)
		close(s->watch_fd);
	free(s->device);
	free(s->path);
	free(s);
}

enum cap_state cap_state(const struct cap_source *s)
{
	if (atomic_load(&s->stopped))
		return CAP_STATE_STOPPED;
	return (enum cap_state)atomic_load(&s->state);
}

void cap_get_stats(const struct cap_source *s, struct cap_stats *ret_stats)
{
	*ret_stats = s->stats;
}

const char *cap_last_error(const struct cap_source *s)
{
	return s->last_error;
}

int cap_last_error_code(const struct cap_source *s)
{
	return s->last_error_code;
}

int cap_negotiated(const struct cap_source *s, enum cap_pixfmt *ret_format, int *ret_width,
		   int *ret_height, int *ret_fps)
{
	if (!s->had_stream)
		return CAP_ERR_DISCONNECTED;
	*ret_format = s->neg_format;
	*ret_width = s->neg_w;
	*ret_height = s->neg_h;
	*ret_fps = s->neg_fps;
	return 0;
}
