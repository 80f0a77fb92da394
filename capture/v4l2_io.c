/* v4l2_io.c — which calls reach the camera: libv4l2's, or libc's when libcamera's V4L2
 * compatibility layer is preloaded.
 *
 * Why two: libv4l2 gives cameras with odd formats RGB24 through libv4lconvert, so it is the
 * normal path. But it talks to the kernel with raw syscall()s, past any LD_PRELOAD, so under
 * libcamera's v4l2-compat.so (libcamerify, Raspberry Pi CSI cameras) it would open the raw
 * sensor node and get Bayer data. With v4l2-compat.so in LD_PRELOAD the session uses libc's
 * open/ioctl/mmap instead, which the compatibility layer intercepts: libcamera then runs the
 * ISP and offers YUYV/RGB/NV12 frames itself, and nodes that are not libcamera cameras pass
 * through to the kernel unchanged. CAMCLASS_V4L2_IO=libc|libv4l2 overrides the choice.
 * Threads: cap_v4l2_io() decides once (pthread_once) and may be called from any thread. */
#include "capture/internal.h"

#include <fcntl.h>
#include <libv4l2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"

static int libc_open(const char *path, int flags, ...)
{
	return open(path, flags);
}

static int libc_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return ioctl(fd, req, arg);
}

/* V4L2 buffer offsets are small cookies, so off_t's width (32 bits on armhf) is enough */
static void *libc_mmap(void *start, size_t len, int prot, int flags, int fd, int64_t offset)
{
	return mmap(start, len, prot, flags, fd, (off_t)offset);
}

static const struct cap_v4l2_io io_libv4l2 = {
	.name = "libv4l2", .open = v4l2_open, .close = v4l2_close, .ioctl = v4l2_ioctl,
	.mmap = v4l2_mmap, .munmap = v4l2_munmap,
};
static const struct cap_v4l2_io io_libc = {
	.name = "libc (libcamera v4l2-compat)", .open = libc_open, .close = close,
	.ioctl = libc_ioctl, .mmap = libc_mmap, .munmap = munmap,
};
static const struct cap_v4l2_io *chosen;

static void choose(void)
{
	const char *force = getenv("CAMCLASS_V4L2_IO");
	const char *preload = getenv("LD_PRELOAD");
	if (force && strcmp(force, "libc") == 0)
		chosen = &io_libc;
	else if (force && strcmp(force, "libv4l2") == 0)
		chosen = &io_libv4l2;
	else
		chosen = preload && strstr(preload, "v4l2-compat") ? &io_libc : &io_libv4l2;
	if (chosen == &io_libc)
		log_info("capture: camera calls go through libc, for libcamera's V4L2 compatibility "
			 "layer (LD_PRELOAD=%s)", preload ? preload : "");
}

const struct cap_v4l2_io *cap_v4l2_io(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, choose);
	return chosen;
}
