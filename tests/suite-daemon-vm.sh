#!/bin/bash
# suite-daemon-vm.sh — camclassd with a real V4L2 camera: the vivid driver in a throw-away QEMU
# VM (../shared/infra/vivid-vm.sh). A `camclass watch --json` subscriber must see results, then
# `camera_disconnected` and `camera_connected` around each unplug, and results again after it:
#   1. vivid's `disconnect` control (the stream dies, the node stays);
#   2. a real unplug and replug: unbind the vivid device (/dev/video0 disappears), bind it again;
#   3. another device at the node: vivid unbound, /dev/video0 made to lead to v4l2loopback (no
#      `brightness` control, no YUYV without a producer): the daemon must log why it refuses that
#      device, keep serving `status`, and stream again once vivid is bound back;
#   4. a multi-planar-only camera (vivid multiplanar=2, a second VM boot): without libv4l's
#      mplane plugin the daemon says so and keeps serving; with Debian's plugin (libv4l-0) it
#      streams and classifies.
# The daemon must then stop cleanly on SIGTERM (exit 0). The model is the shared
# mobilenet_v1_0.25_128_quant (fast under TCG); it and the binaries are copied into a temporary
# payload folder, never into the repository.
# Prints one line per check and "daemon-vm: N passed, M failed".
#   CAMCLASS_BUILD  build folder with camclassd and camclass (default build)
set -u
cd "$(dirname "$0")/.."
VM=../shared/infra/vivid-vm.sh
MODELS=${CAMCLASS_MODELS:-../shared/models}
B=${CAMCLASS_BUILD:-build}

if [ ! -x "$VM" ] || [ ! -d "$MODELS" ]; then
	echo "suite-daemon-vm: $VM or $MODELS missing: ../shared is needed (docs/CONTRIBUTING.md)" >&2
	echo "daemon-vm: 0 passed, 1 failed"
	exit 1
fi
if ! make -s BUILD="$B" "$B/camclassd" "$B/camclass"; then
	echo "daemon-vm: 0 passed, 1 failed"
	exit 1
fi

payload=$(mktemp -d /tmp/camclass-dvm.XXXXXX)
trap 'rm -rf "$payload"' EXIT
cp "$B/camclassd" "$B/camclass" "$payload/"
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$payload/loopback_producer" tests/vm/loopback_producer.c; then
	echo "daemon-vm: 0 passed, 1 failed"
	exit 1
fi
cp "$MODELS/mobilenet_v1_0.25_128_quant.tflite" "$payload/model.tflite"
cp "$MODELS/imagenet_labels.txt" "$payload/labels.txt"
cat > "$payload/camclassd.ini" <<'EOF'
[camera]
source = v4l2
device = /dev/video0
format = yuyv
width = 640
height = 480
fps = 15
control.brightness = 140
[model]
path = /payload/model.tflite
labels = /payload/labels.txt
threads = 1
[classify]
rate = 4
[socket]
path = /payload/camclassd.sock
EOF
# Runs inside the guest (busybox sh). Prints "ok|FAIL <check>" lines and a summary.
cat > "$payload/run.sh" <<'EOF'
#!/bin/sh
cd /payload
pass=0; failn=0
check() { if [ "$1" = 0 ]; then echo "ok   $2"; pass=$((pass+1)); else echo "FAIL $2"; failn=$((failn+1)); fi; }
results() { grep -c '"type":"result"' watch.out; }
# after_last PATTERN: results after the last line matching PATTERN
after_last() { awk -v p="$1" 'index($0, p) { n = 0; seen = 1; next } seen && /"type":"result"/ { n++ } END { print n + 0 }' watch.out; }
wait_for() { i=0; while [ $i -lt $2 ]; do eval "$1" && return 0; sleep 0.5; i=$((i+1)); done; return 1; }

./camclassd -c camclassd.ini 2>daemon.log &
D=$!
wait_for '[ -S camclassd.sock ]' 60; check $? "daemon serves its socket"
./camclass --socket camclassd.sock watch --json > watch.out 2>watch.err &
W=$!
wait_for '[ "$(results)" -ge 3 ]' 60; check $? "results from /dev/video0 (vivid, YUYV)"

# vivid marks the next buffer V4L2_BUF_FLAG_ERROR each time its button is pressed
for i in 1 2 3; do v4l2-ctl -d /dev/video0 -c inject_v4l2_buf_flag_error=1; sleep 0.3; done
wait_for 'grep -q "flagged damaged by the driver" daemon.log' 20
check $? "damaged buffers: logged with the reason"
./camclass --socket camclassd.sock status > status.out 2>&1
grep -q "corrupt [3-9]" status.out || { cat status.out; false; }
check $? "damaged buffers: status counts all 3 in frames_corrupt"
n=$(results); wait_for '[ "$(results)" -ge $((n + 2)) ]' 40; check $? "damaged buffers: results go on"

v4l2-ctl -d /dev/video0 -c disconnect=1 >/dev/null 2>&1
wait_for 'grep -q camera_disconnected watch.out' 40; check $? "disconnect control: camera_disconnected"
wait_for 'grep -q camera_connected watch.out' 60; check $? "disconnect control: camera_connected"
wait_for '[ "$(after_last camera_connected)" -ge 2 ]' 60; check $? "disconnect control: results resume"

n_disc=$(grep -c camera_disconnected watch.out)
echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind
wait_for '[ "$(grep -c camera_disconnected watch.out)" -gt "$n_disc" ]' 40; check $? "unplug: camera_disconnected"
[ ! -e /dev/video0 ]; check $? "unplug: /dev/video0 is gone"
sleep 3
kill -0 $D 2>/dev/null; check $? "unplug: daemon keeps running while the camera is away"
n_conn=$(grep -c camera_connected watch.out)
echo vivid.0 > /sys/bus/platform/drivers/vivid/bind
wait_for '[ "$(grep -c camera_connected watch.out)" -gt "$n_conn" ]' 60; check $? "replug: camera_connected"
wait_for '[ "$(after_last camera_connected)" -ge 2 ]' 60; check $? "replug: results resume"

n_disc=$(grep -c camera_disconnected watch.out)
echo vivid.0 > /sys/bus/platform/drivers/vivid/unbind
wait_for '[ "$(grep -c camera_disconnected watch.out)" -gt "$n_disc" ]' 40; check $? "swap: camera_disconnected"
# a producer gives the loopback node a YUYV 640x480 capture side, so only the control differs
./loopback_producer /dev/video10 640 480 2>producer.err &
P=$!
ln -s /dev/video10 /dev/video0
wait_for 'grep -q "not the device configured before" daemon.log' 40
check $? "swap: the other device at /dev/video0 is refused with a reason"
grep "not the device configured before" daemon.log | head -n 1
sleep 3
kill -0 $D 2>/dev/null; check $? "swap: daemon keeps running"
./camclass --socket camclassd.sock status > status.out 2>&1; check $? "swap: status still answers"
grep -q disconnected status.out; check $? "swap: status says the camera is disconnected"
n_conn=$(grep -c camera_connected watch.out)
rm /dev/video0
kill $P 2>/dev/null
echo vivid.0 > /sys/bus/platform/drivers/vivid/bind
wait_for '[ "$(grep -c camera_connected watch.out)" -gt "$n_conn" ]' 60; check $? "swap back: camera_connected"
wait_for '[ "$(after_last camera_connected)" -ge 2 ]' 60; check $? "swap back: results resume"
kill -0 $W 2>/dev/null; check $? "the subscriber stayed connected throughout"

kill $W 2>/dev/null
kill -TERM $D
wait $D
check $? "SIGTERM: daemon exits 0"
if [ $failn -gt 0 ]; then
	echo "--- daemon log"; cat daemon.log
	echo "--- watch (events)"; grep -v '"type":"result"' watch.out; cat watch.err
	echo "--- producer"; cat producer.err
fi
echo "daemon-vm: $pass passed, $failn failed"
[ $failn = 0 ]
EOF
chmod +x "$payload/run.sh"

# vm_run LABEL VM-OPTIONS...: one VM boot; the script inside prints the summary line
status=0
vm_run() {
	local label=$1
	shift
	"$VM" "$@"
	local rc=$?
	case $rc in
		0) ;;
		1) status=1 ;;
		124) status=1; echo "suite-daemon-vm: the $label VM timed out"; echo "daemon-vm: 0 passed, 1 failed" ;;
		*) status=1; echo "suite-daemon-vm: the $label VM failed (exit $rc)"; echo "daemon-vm: 0 passed, 1 failed" ;;
	esac
}
vm_run main --timeout 300 --bin /usr/bin/v4l2-ctl \
	--module 'v4l2loopback:video_nr=10 exclusive_caps=0 card_label=not-the-camera' "$payload" -- ./run.sh

# 4. multi-planar only. The plugin goes where libv4l2 looks for it on this architecture.
plugin=/usr/lib/$(${CC:-cc} -print-multiarch)/libv4l/plugins/libv4l-mplane.so
if [ ! -f "$plugin" ]; then
	echo "FAIL libv4l-mplane.so not found (package libv4l-0)"
	echo "daemon-vm: 0 passed, 1 failed"
	exit 1
fi
cp "$plugin" "$payload/"
cat > "$payload/run-mplane.sh" <<EOF
#!/bin/sh
cd /payload
plugin=$plugin
EOF
cat >> "$payload/run-mplane.sh" <<'EOF'
pass=0; failn=0
check() { if [ "$1" = 0 ]; then echo "ok   $2"; pass=$((pass+1)); else echo "FAIL $2"; failn=$((failn+1)); fi; }
wait_for() { i=0; while [ $i -lt $2 ]; do eval "$1" && return 0; sleep 0.5; i=$((i+1)); done; return 1; }
rm -f camclassd.sock
./camclassd -c camclassd.ini 2>mplane1.log &
D=$!
wait_for 'grep -q "multi-planar only" mplane1.log' 40; check $? "mplane without the plugin: the log names the missing plugin"
./camclass --socket camclassd.sock status >/dev/null 2>&1; check $? "mplane without the plugin: status answers"
kill -TERM $D; wait $D; check $? "mplane without the plugin: SIGTERM exits 0"
mkdir -p "$(dirname "$plugin")" && cp libv4l-mplane.so "$plugin"
./camclassd -c camclassd.ini 2>mplane2.log &
D=$!
wait_for './camclass --socket camclassd.sock latest >latest.out 2>&1' 60
check $? "mplane with libv4l's plugin: results from the multi-planar vivid"
kill -TERM $D; wait $D; check $? "mplane with the plugin: SIGTERM exits 0"
if [ $failn -gt 0 ]; then grep -v pixformat mplane1.log mplane2.log; cat latest.out; fi
echo "daemon-vm: $pass passed, $failn failed"
[ $failn = 0 ]
EOF
chmod +x "$payload/run-mplane.sh"
vm_run mplane --timeout 200 --bin /usr/bin/v4l2-ctl \
	--vivid-opts "n_devs=1 node_types=0x1 num_inputs=1 input_types=0x0 multiplanar=2" "$payload" -- ./run-mplane.sh
exit $status
