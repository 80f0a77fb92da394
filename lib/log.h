/* log.h — the one logging facility of camclassd and camclass.
 *
 * Messages go to stderr, one write() per line, so lines from different threads never interleave.
 * Under journald (JOURNAL_STREAM set) each line starts with a syslog priority prefix ("<3>"),
 * which journald turns into the message priority; on a terminal each line starts with a
 * timestamp and the level name instead.
 *
 * Convention (see STYLE.md): functions return 0 or a negative errno-style code; the place that
 * decides what to do about an error logs it, once. log_errno() returns -abs(err) so that
 * "return log_errno(LOG_ERR, r, ...)" logs and propagates in one statement.
 * Thread safety: every function may be called from any thread. */
#ifndef CAMCLASS_LOG_H
#define CAMCLASS_LOG_H

#include <syslog.h>

/* Set the most verbose priority that is still printed (LOG_ERR … LOG_DEBUG). Default LOG_INFO. */
void log_set_level(int priority);
int log_get_level(void);

/* Parse "debug|info|warning|error" into a priority; returns -EINVAL for anything else. */
int log_level_from_name(const char *name);
const char *log_level_name(int priority);

/* Re-read the environment (JOURNAL_STREAM) to choose prefixes. Called by main(); optional. */
void log_init(void);

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs "<message>: <strerror(err)>" and returns -abs(err). */
int log_errno(int priority, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)

#endif
