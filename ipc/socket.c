/* socket.c — the listening socket: systemd socket activation, or bind the path safely.
 *
 * Why each step:
 * - An fd handed over by systemd is used as is (systemd already applied SocketMode/Group),
 *   after checking it really is a listening AF_UNIX stream socket.
 * - A socket file left by a crashed daemon must not block a restart, but a live daemon's socket
 *   and a non-socket file must never be removed: only a socket whose connect() is refused is
 *   unlinked.
 * - bind() creates the file with the umask applied; with umask 0777 it appears with mode 0000,
 *   then chown (group) and chmod (final mode) widen it. No moment exposes a wider mode. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


#include "ipc/socket.h"
#include "lib/log.h"
#include "lib/service.h"

#define LISTEN_BACKLOG 128
#define GROUP_BUF_BYTES 16384

/* The path the activated socket is bound to (for log lines and status), or "" if unnamed. */
static void bound_path(int fd, char *buf, size_t len)
{
	struct sockaddr_un addr;
	socklen_t alen = sizeof(addr);
	buf[0] = 0;
	if (getsockname(fd, (struct sockaddr *)&addr, &alen) < 0 || addr.sun_family != AF_UNIX ||
	    alen <= offsetof(struct sockaddr_un, sun_path) || !addr.sun_path[0])
		return;
	size_t n = alen - offsetof(struct sockaddr_un, sun_path);
	if (n > sizeof(addr.sun_path))
		n = sizeof(addr.sun_path);
	snprintf(buf, len, "%.*s", (int)strnlen(addr.sun_path, n), addr.sun_path);
}

static int take_activated(int *ret_fd)
{
	int n = svc_listen_fds(true);
	if (n < 0)
		return log_errno(LOG_ERR, n, "Failed to read socket activation fds");
	if (n == 0)
		return 0;
	if (n != 1) {
		log_error("Socket activation passed %d fds, expected one listening Unix socket", n);
		return -EINVAL;
	}
	int fd = SVC_LISTEN_FDS_START;
	if (svc_is_unix_listener(fd, SOCK_STREAM) <= 0) {
		log_error("Socket activation fd %d is not a listening AF_UNIX stream socket", fd);
		return -EINVAL;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return log_errno(LOG_ERR, errno, "Failed to set flags on activated fd %d", fd);
	*ret_fd = fd;
	return 1;
}

static int make_parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	for (char *p = dir + 1; ; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char saved = *p;
		*p = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return log_errno(LOG_ERR, errno, "Failed to create directory %s", dir);
		*p = saved;
		if (saved == 0)
			return 0;
	}
}

/* 0: nothing there or a stale socket was removed; <0: must not bind. */
static int clear_stale(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : log_errno(LOG_ERR, errno, "Failed to stat %s", path);
	if (!S_ISSOCK(st.st_mode)) {
		log_error("%s exists and is not a socket; refusing to replace it", path);
		return -ENOTSOCK;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "Failed to create a probe socket");
	int r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN) {
		log_error("Another process is serving %s (is camclassd already running?)", path);
		return -EADDRINUSE;
	}
	if (r != -ECONNREFUSED)
		return log_errno(LOG_ERR, r, "Failed to probe existing socket %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(LOG_ERR, errno, "Failed to remove stale socket %s", path);
	log_info("Removed stale socket %s", path);
	return 0;
}

static int lookup_group(const char *name, gid_t *ret_gid)
{
	struct group grp, *found = NULL;
	char *buf = malloc(GROUP_BUF_BYTES);
	if (!buf)
		return log_errno(LOG_ERR, ENOMEM, "Failed to look up group %s", name);
	int r = getgrnam_r(name, &grp, buf, GROUP_BUF_BYTES, &found);
	if (r == 0 && found)
		*ret_gid = grp.gr_gid;
	free(buf);
	if (r != 0)
		return log_errno(LOG_ERR, r, "Failed to look up group %s", name);
	if (!found) {
		log_error("Socket group %s does not exist", name);
		return -ENOENT;
	}
	return 0;
}

int sock_listen(const char *path, mode_t mode, const char *group, bool socket_activation,
		int *ret_fd, bool *ret_created, char *ret_path, size_t path_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	gid_t gid = (gid_t)-1;
	int fd = -1, r;

	if (socket_activation) {
		r = take_activated(&fd);
		if (r < 0)
			return r;
		if (r > 0) {
			char bound[sizeof(addr.sun_path) + 1];
			bound_path(fd, bound, sizeof(bound));
			/* the INI's [socket] path does not apply: name the socket actually served */
			if (bound[0])
				snprintf(ret_path, path_len, "%s", bound);
			else
				snprintf(ret_path, path_len, "fd %d from systemd", fd);
			if (bound[0] && strcmp(bound, path) != 0)
				log_info("Using the socket passed by systemd (fd %d) at %s; [socket] path %s "
					 "does not apply", fd, bound, path);
			*ret_fd = fd;
			*ret_created = false;
			return 0;
		}
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("Socket path too long (max %zu bytes): %s", sizeof(addr.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (group && *group && (r = lookup_group(group, &gid)) < 0)
		return r;
	if ((r = make_parent_dirs(path)) < 0)
		return r;
	if ((r = clear_stale(path, &addr)) < 0)
		return r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, errno, "Failed to create socket");
	mode_t old_umask = umask(0777);
	r = bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	umask(old_umask);
	if (r < 0) {
		log_errno(LOG_ERR, r, "Failed to bind %s", path);
		goto fail_close;
	}
	if (gid != (gid_t)-1 && fchownat(AT_FDCWD, path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		r = log_errno(LOG_ERR, errno, "Failed to set group %s on %s", group, path);
		goto fail_unlink;
	}
	if (chmod(path, mode) < 0) {
		r = log_errno(LOG_ERR, errno, "Failed to set mode %04o on %s", (unsigned)mode, path);
		goto fail_unlink;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		r = log_errno(LOG_ERR, errno, "Failed to listen on %s", path);
		goto fail_unlink;
	}
	*ret_fd = fd;
	snprintf(ret_path, path_len, "%s", path);
	*ret_created = true;
	return 0;

fail_unlink:
	unlink(path);
fail_close:
	close(fd);
	return r;
}
