/* preflight.h — `camclassd --check-config`: what the daemon will need at start, checked before
 * it starts (systemd runs it as ExecStartPre=, under the service's own user and sandbox).
 *
 * Checks, in order, each failure a line naming what and where:
 *   - the [model] file loads in the engine, the labels file loads, and their counts match
 *     (the same pl_model_load() the daemon runs, so what passes here loads there);
 *   - [socket] group, when set, exists on this system;
 *   - source = v4l2: [camera] device is a character device this user may open read-write, or
 *     is not there yet — the documented "wait for it" case: the daemon starts and waits for the
 *     node (a note says so; it is not an error). It never opens the device, so a running
 *     stream elsewhere is never disturbed. (A file source is checked by pl_camera_probe(),
 *     which --check-config runs first.)
 * Thread: main thread only. Output: notes and errors to `out`, one line each, prefixed by the
 * configuration file's path. Returns 0 when the daemon can start, a negative errno otherwise
 * (the first failure's). */
#ifndef CAMCLASS_DAEMON_PREFLIGHT_H
#define CAMCLASS_DAEMON_PREFLIGHT_H

#include <stdio.h>

#include "daemon/config.h"

int preflight_check(const struct config *cfg, FILE *out);

#endif
