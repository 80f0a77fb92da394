/* service.h — talking to the service manager: readiness and status notifications, socket
 * activation, the watchdog.
 *
 * Why not libsystemd: these are five small, documented and stable interfaces (sd_notify(3):
 * "the notification protocol is stable"; sd_listen_fds(3); sd_watchdog_enabled(3)) — one
 * datagram to $NOTIFY_SOCKET and three environment variables — and Debian's libsystemd brings
 * libgcrypt, libgpg-error, liblz4, libzstd, liblzma and libcap along: 1.0 MB of the daemon's
 * resident memory (measured: 1036 kB of mapped library pages), an eighth of its 12 MB budget
 * (issue #18). systemd's own documentation invites reimplementing the notification protocol
 * for exactly this reason. Semantics follow the libsystemd functions named below.
 *
 * Threads: svc_notify/svc_notifyf may be called from any thread (each call opens, sends and
 * closes its own socket); svc_listen_fds and svc_watchdog_usec read (and svc_listen_fds may
 * unset) the environment, so call them from the main thread at start-up, before other threads.
 * Errors: negative errno-style codes; "not under a service manager" is not an error (0). */
#ifndef CAMCLASS_LIB_SERVICE_H
#define CAMCLASS_LIB_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#define SVC_LISTEN_FDS_START 3

/* sd_notify(0, state): sends state ("READY=1\nSTATUS=…") to $NOTIFY_SOCKET (a path, or
 * "@name" for the abstract namespace). 1 when sent, 0 when $NOTIFY_SOCKET is unset. */
int svc_notify(const char *state);
/* The same with printf formatting (the message is cut at 4 KiB). */
int svc_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* sd_listen_fds(unset): the number of sockets passed by socket activation (fds from
 * SVC_LISTEN_FDS_START on, made close-on-exec), 0 when none are meant for this process
 * ($LISTEN_PID is not our pid, or $LISTEN_FDS unset); -EINVAL for malformed variables. With
 * unset, LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed from the environment. */
int svc_listen_fds(bool unset);

/* sd_is_socket_unix(fd, type, listening=1, NULL, 0): 1 when fd is a listening AF_UNIX socket
 * of that type, 0 when it is something else, negative errno when fd cannot be examined. */
int svc_is_unix_listener(int fd, int type);

/* sd_watchdog_enabled(0, &usec): 1 and *ret_usec when the service manager expects keep-alive
 * pings (WATCHDOG=1) at least every *ret_usec µs, 0 when not (unset, or $WATCHDOG_PID is
 * another process), -EINVAL for malformed variables. */
int svc_watchdog_usec(uint64_t *ret_usec);

#endif
