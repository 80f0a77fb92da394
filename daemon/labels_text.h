/* labels_text.h — a label file's text → struct labels, forgiving the forms other tools write:
 * a UTF-8 byte order mark, CRLF line ends, trailing blank lines (ignored), and Teachable
 * Machine's `INDEX NAME` lines ("0 Open") — recognised only when every line has that shape, the
 * indices then placing each name (they must be 0..n−1, each once). Otherwise one label per line,
 * class N on line N, inner empty lines kept as empty labels. Used for label files and for the
 * labels file inside a model (TFLite metadata).
 * Errors (-EINVAL/-ENOMEM, err naming `name` and the line): a NUL byte, more than LABELS_MAX
 * labels, no labels, an INDEX NAME file with a repeated or out-of-range index. */
#ifndef CAMCLASS_DAEMON_LABELS_TEXT_H
#define CAMCLASS_DAEMON_LABELS_TEXT_H

#include <stddef.h>

#include "daemon/classifier.h"

#define LABELS_TEXT_MAX 100000

int labels_parse_text(const char *name, const char *text, size_t len, struct labels *ret, char *err,
		      size_t errlen);

#endif
