/* service.c — the service-manager interfaces of service.h, on plain sockets and getenv(). */
#include "lib/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A whole decimal number without sign or blanks: 0, or -EINVAL. */
static int parse_u64(const char *s, uint64_t *ret)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Whether $name holds our pid (1), another pid (0), or is malformed (-EINVAL). */
static int names_us(const char *name)
{
	uint64_t pid;
	if (parse_u64(getenv(name), &pid) < 0)
		return -EINVAL;
	return pid == (uint64_t)getpid();
}

int svc_notify(const char *state)
{
	const char *where = getenv("NOTIFY_SOCKET");
	if (!where || !*where)
		return 0;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t n = strlen(where);
	if ((where[0] != '/' && where[0] != '@') || n < 2 || n >= sizeof(addr.sun_path))
		return -EINVAL;
	memcpy(addr.sun_path, where, n);
	if (where[0] == '@')
		addr.sun_path[0] = 0; /* abstract namespace: the name is not NUL-terminated */
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (where[0] == '/'));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, len);
	int rc = sent < 0 ? -errno : 1;
	close(fd);
	return rc;
}

int svc_notifyf(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return svc_notify(msg);
}

int svc_listen_fds(bool unset)
{
	int rc = 0;
	uint64_t n;
	if (!getenv("LISTEN_PID") || !getenv("LISTEN_FDS")) {
		rc = 0;
	} else if ((rc = names_us("LISTEN_PID")) <= 0) {
		/* not ours (0) or malformed (-EINVAL) */
	} else if (parse_u64(getenv("LISTEN_FDS"), &n) < 0 || n > 4096) {
		rc = -EINVAL;
	} else {
		rc = (int)n;
		for (int fd = SVC_LISTEN_FDS_START; fd < SVC_LISTEN_FDS_START + rc; fd++) {
			int flags = fcntl(fd, F_GETFD);
			if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
				rc = -errno;
				break;
			}
		}
	}
	if (unset) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	}
	return rc;
}

int svc_is_unix_listener(int fd, int type)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return 0;
	int v = 0;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0)
		return -errno;
	if (v != type)
		return 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0)
		return -errno;
	if (!v)
		return 0;
	struct sockaddr_storage ss;
	l = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
		return -errno;
	return l >= sizeof(sa_family_t) && ss.ss_family == AF_UNIX;
}

int svc_watchdog_usec(uint64_t *ret_usec)
{
	const char *usec = getenv("WATCHDOG_USEC");
	if (!usec)
		return 0;
	uint64_t v;
	if (parse_u64(usec, &v) < 0 || v == 0)
		return -EINVAL;
	if (getenv("WATCHDOG_PID")) {
		int r = names_us("WATCHDOG_PID");
		if (r <= 0)
			return r;
	}
	*ret_usec = v;
	return 1;
}
