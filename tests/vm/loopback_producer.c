/* loopback_producer.c — feeds a v4l2loopback node YUYV frames through write(), so that its
 * capture side looks like a camera without the controls a real one has. The daemon VM suite
 * uses it as "another device at the camera's node". Busybox in the VM has no such tool, and
 * v4l2-ctl's own output streaming is refused by v4l2loopback's mmap path.
 *   loopback_producer DEVICE WIDTH HEIGHT     (runs until killed) */
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: loopback_producer DEVICE WIDTH HEIGHT\n");
		return 2;
	}
	long w = strtol(argv[2], NULL, 10), h = strtol(argv[3], NULL, 10);
	if (w < 16 || w > 4096 || h < 16 || h > 4096 || w % 2) {
		fprintf(stderr, "loopback_producer: bad size %sx%s\n", argv[2], argv[3]);
		return 2;
	}
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
	fmt.fmt.pix.width = (uint32_t)w;
	fmt.fmt.pix.height = (uint32_t)h;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	fmt.fmt.pix.bytesperline = (uint32_t)w * 2;
	fmt.fmt.pix.sizeimage = (uint32_t)(w * h * 2);
	if (ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) {
		perror("loopback_producer: VIDIOC_S_FMT");
		return 1;
	}
	size_t bytes = (size_t)w * (size_t)h * 2;
	uint8_t *frame = malloc(bytes);
	if (!frame) {
		perror("loopback_producer");
		return 1;
	}
	for (unsigned n = 0;; n++) {
		memset(frame, 0x80, bytes);             /* grey */
		memset(frame + (n % (unsigned)h) * (size_t)w * 2, 0xeb, (size_t)w * 2); /* a moving line */
		if (write(fd, frame, bytes) != (ssize_t)bytes) {
			perror("loopback_producer: write");
			return 1;
		}
		usleep(66000);
	}
}
