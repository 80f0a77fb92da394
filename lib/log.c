/* log.c — stderr logging with journald priority prefixes; see log.h for the contract.
 *
 * The level is an atomic int so that SIGHUP reloads can change it while other threads log. */
#include "lib/log.h"
#include "lib/macros.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static atomic_int log_level = LOG_INFO;
static atomic_int log_journal = -1; /* -1: not yet decided */

static const struct {
	const char *name;
	int priority;
} log_levels[] = {
	{ "debug", LOG_DEBUG },
	{ "info", LOG_INFO },
	{ "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING },
	{ "error", LOG_ERR },
};

void log_set_level(int priority)
{
	if (priority < LOG_EMERG)
		priority = LOG_EMERG;
	if (priority > LOG_DEBUG)
		priority = LOG_DEBUG;
	atomic_store(&log_level, priority);
}

int log_get_level(void)
{
	return atomic_load(&log_level);
}

int log_level_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].priority;
	return -EINVAL;
}

const char *log_level_name(int priority)
{
	for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
		if (log_levels[i].priority == priority)
			return log_levels[i].name;
	return priority < LOG_ERR ? "error" : "debug";
}

void log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	atomic_store(&log_journal, js && *js ? 1 : 0);
}

static void log_vwrite(int priority, int err, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = 0;
	int r;

	if (atomic_load(&log_journal) < 0)
		log_init();
	if (atomic_load(&log_journal)) {
		r = snprintf(line, sizeof(line), "<%d>", priority);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		r = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-7s ", tm.tm_hour, tm.tm_min,
			     tm.tm_sec, ts.tv_nsec / 1000000L, log_level_name(priority));
	}
	if (r > 0)
		n = (size_t)r < sizeof(line) ? (size_t)r : sizeof(line) - 1;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (err) {
		char ebuf[128];
		const char *e = strerror_r(err, ebuf, sizeof(ebuf));
		size_t elen = strlen(e);
		if (n + 2 + elen < sizeof(line)) {
			memcpy(line + n, ": ", 2);
			memcpy(line + n + 2, e, elen);
			n += 2 + elen;
		}
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line; a short write to stderr is not worth retrying. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;
	if (priority > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	log_vwrite(priority, 0, fmt, ap);
	va_end(ap);
}

int log_errno(int priority, int err, const char *fmt, ...)
{
	va_list ap;
	if (err < 0)
		err = -err;
	if (priority <= atomic_load(&log_level)) {
		va_start(ap, fmt);
		log_vwrite(priority, err, fmt, ap);
		va_end(ap);
	}
	return -err;
}
