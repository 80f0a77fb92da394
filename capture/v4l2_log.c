/* v4l2_log.c — libv4l2's own messages, brought into our log.
 *
 * libv4l2 prints its errors ("libv4l2: error setting pixformat: Device or resource busy") with
 * fprintf to stderr, or to the FILE in its public v4l2_log_file when one is set. Stderr is
 * ours, and a raw line there has no priority prefix, so journald files it as a plain notice
 * and nobody can tell it from the daemon. Redirecting fd 2 would catch our own log lines too,
 * so instead v4l2_log_file becomes a fopencookie() stream that cuts what libv4l2 writes into
 * lines and logs each as "capture: libv4l2: ..." — its "libv4l2: error ..." and "libv4l2:
 * warning ..." lines (the ones it prints to stderr without a log file) at warning level, the
 * status lines it writes only to a set log file (e.g. "ENUM_FRAMEINTERVALS Error: ..." on every
 * open of an emulated format) at debug level.
 * Rate limit: a camera that fails every frame would make libv4l2 say so 30 times a second, so
 * at most CAP_V4L2_LOG_BURST lines are logged per CAP_V4L2_LOG_WINDOW_NS; the rest are counted
 * and one line says how many were left out.
 * Threads: the cookie runs under the stream's lock, and the counters under a mutex of their
 * own, so libv4l2 may be called from any thread. */
#include "capture/internal.h"

#include <libv4l2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/log.h"

#define LINE_MAX_BYTES 512

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char line[LINE_MAX_BYTES];
static size_t line_len;
static bool line_truncated;
static uint64_t window_start_ns;
static unsigned window_lines, suppressed;

/* One complete line (without its newline), under lock. */
static void emit(const char *text)
{
	/* what libv4l2 prints to stderr without a log file: its V4L2_LOG_ERR/_WARN lines */
	bool problem = strncmp(text, "libv4l2: error ", 15) == 0 ||
		       strncmp(text, "libv4l2: warning ", 17) == 0;
	int prio = problem ? LOG_WARNING : LOG_DEBUG;
	if (prio > log_get_level() || !text[0])
		return;
	uint64_t now = mono_now_ns();
	if (!window_start_ns || now - window_start_ns >= CAP_V4L2_LOG_WINDOW_NS) {
		if (suppressed)
			log_warning("capture: libv4l2: %u more lines left out in %.0f s", suppressed,
				    CAP_V4L2_LOG_WINDOW_NS / 1e9);
		window_start_ns = now;
		window_lines = suppressed = 0;
	}
	if (window_lines >= CAP_V4L2_LOG_BURST) {
		suppressed++;
		return;
	}
	window_lines++;
	const char *msg = strncmp(text, "libv4l2: ", 9) == 0 ? text + 9 : text;
	log_msg(prio, "capture: libv4l2: %s%s", msg, line_truncated ? "…" : "");
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			line[line_len] = 0;
			emit(line);
			line_len = 0;
			line_truncated = false;
		} else if (line_len + 1 < sizeof(line)) {
			line[line_len++] = buf[i];
		} else {
			line_truncated = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return (ssize_t)size;
}

static void install(void)
{
	cookie_io_functions_t io = { .write = cookie_write };
	FILE *f = fopencookie(NULL, "w", io);
	if (!f) {
		log_warning("capture: libv4l2's messages stay unprefixed on stderr (out of memory)");
		return;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	v4l2_log_file = f;
}

void cap_v4l2_log_install(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install);
}
