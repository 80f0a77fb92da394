#!/bin/sh
# camclassd-libcamera — run a command under libcamera's V4L2 compatibility layer, as libcamerify
# does (Debian 12's libcamera-v4l2 ships v4l2-compat.so but not the libcamerify script, and the
# library's folder differs between Debian and Raspberry Pi OS). Used by the drop-in
# camclassd.service.d/libcamera.conf for Raspberry Pi CSI cameras; camclassd sees v4l2-compat
# in LD_PRELOAD and sends its camera calls through libc, where the layer intercepts them.
# @TRIPLET@ is the target's multiarch triplet, filled in by make install.
for so in /usr/lib/@TRIPLET@/libcamera/v4l2-compat.so /usr/lib/@TRIPLET@/v4l2-compat.so \
	/usr/local/lib/@TRIPLET@/libcamera/v4l2-compat.so; do
	if [ -e "$so" ]; then
		LD_PRELOAD="$so${LD_PRELOAD:+:$LD_PRELOAD}"
		export LD_PRELOAD
		exec "$@"
	fi
done
echo "camclassd-libcamera: no v4l2-compat.so for @TRIPLET@: install libcamera-v4l2" >&2
exit 1
