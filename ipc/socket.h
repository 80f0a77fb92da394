/* socket.h — internal to ipc/: get the listening socket, from systemd or by binding the path.
 *
 * sock_listen returns a non-blocking, close-on-exec, listening AF_UNIX stream socket in
 * *ret_fd; *ret_created tells whether a socket file was created (and should be unlinked at
 * exit); ret_path gets the path actually served (the activated socket's own path, which may
 * differ from `path`, or "fd N from systemd" when it has none). Errors as in server.h
 * (srv_open), logged here. Main thread, at startup: binding
 * briefly changes the process umask. */
#ifndef CAMCLASS_IPC_SOCKET_H
#define CAMCLASS_IPC_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

int sock_listen(const char *path, mode_t mode, const char *group, bool socket_activation,
		int *ret_fd, bool *ret_created, char *ret_path, size_t path_len);

#endif
