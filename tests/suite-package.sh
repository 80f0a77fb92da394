#!/bin/bash
# suite-package.sh — the Debian package, built and installed the way a user gets it:
#   1. a clean clone of the committed HEAD builds with `dpkg-buildpackage -us -uc -b`;
#   2. lintian reports no errors;
#   3. the .deb holds the daemon, camclass, units, sysusers file, config (as a conffile), demo
#      model, man pages and examples;
#   4. it installs into a throw-away root (dpkg --root --force-script-chrootless: the maintainer
#      scripts run with DPKG_ROOT, as in a bootstrap): the camclass group is created there,
#      both units are enabled there (deb-systemd-helper), nothing touches this machine; purge
#      removes it all again;
#   5. in the vivid VM (../shared/infra/vivid-vm.sh) the installed tree becomes the guest's
#      root: /usr/sbin/camclassd --check-config and then the daemon start as the unit starts them,
#      with the installed /etc/camclassd/camclassd.ini unchanged (demo model, /dev/video0), and
#      /usr/bin/camclass gets results on the default socket; then the same under the libcamera
#      drop-in's ExecStart= (v4l2-compat.so preloaded; vivid passes through it).
# Prints one line per check and "package: N passed, M failed". About 2-3 minutes.
set -u
cd "$(dirname "$0")/.."
repo=$PWD
VM=../shared/infra/vivid-vm.sh
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "package: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

scripts/install-deps --check package vm >/dev/null 2>&1 || scripts/install-deps package vm ||
	{ bad "scripts/install-deps package vm"; finish; }
tmp=$(mktemp -d /tmp/camclass-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# 1. build in a clean clone of HEAD (the package must not need files git does not have)
head=$(git rev-parse HEAD)
git clone -q --no-checkout "$repo" "$tmp/src" && git -C "$tmp/src" checkout -q "$head" ||
	{ bad "git clone of $head"; finish; }
if (cd "$tmp/src" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b in a clean clone of ${head:0:12}"
else
	tail -n 30 "$tmp/build.log"; bad "dpkg-buildpackage"; finish
fi
deb=$(ls "$tmp"/camclassd_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { bad "no camclassd_*.deb"; finish; }

# 2. lintian: no E: tags (W:/I: are printed for the record)
lintian "$tmp"/camclassd_*.changes >"$tmp/lintian.log" 2>&1
grep -v 'running with root privileges' "$tmp/lintian.log"
no_errors() { ! grep -q '^E:' "$tmp/lintian.log"; }
check "lintian: no errors" no_errors

# 3. what the package holds
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/sbin/camclassd /usr/bin/camclass /etc/camclassd/camclassd.ini \
	/lib/systemd/system/camclassd.service /lib/systemd/system/camclassd.socket \
	/usr/lib/sysusers.d/camclassd.conf /usr/share/camclassd/models/fashion.tflite \
	/usr/share/camclassd/models/fashion-labels.txt /usr/share/man/man8/camclassd.8.gz \
	/usr/share/man/man1/camclass.1.gz /usr/share/man/man5/camclassd.ini.5.gz \
	/usr/share/doc/camclassd/examples/client.py /usr/share/doc/camclassd/copyright \
	/usr/share/camclassd/camclassd-libcamera.conf /usr/libexec/camclassd/camclassd-libcamera; do
	grep -qxF "$f" "$tmp/files" || missing="${missing:-} $f"
done
check "the .deb holds binaries, units, sysusers, config, demo model, man pages, examples" \
	test -z "${missing:-}"
[ -z "${missing:-}" ] || echo "missing:$missing"
dpkg-deb -e "$deb" "$tmp/ctl"
check "the config is a conffile" grep -qx /etc/camclassd/camclassd.ini "$tmp/ctl/conffiles"
check "dpkg-deb: version is the package's (camclassd --version inside says the same)" \
	test "$(dpkg-deb -f "$deb" Version)" = "$(cd "$tmp" && dpkg-deb -x "$deb" x && x/usr/sbin/camclassd --version | cut -d' ' -f2)"

# 4. install into a throw-away root; maintainer scripts run outside it with DPKG_ROOT set
R=$tmp/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc" "$R/usr/sbin"
: >"$R/var/lib/dpkg/status"; : >"$R/var/lib/dpkg/available"
printf 'root:x:0:\nvideo:x:44:\n' >"$R/etc/group"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
# deny service starts inside the root (deb-systemd-invoke reads $DPKG_ROOT/usr/sbin/policy-rc.d)
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod +x "$R/usr/sbin/policy-rc.d"
dpkgr() { dpkg --root="$R" --force-script-chrootless --force-depends --force-not-root "$@"; }
if dpkgr -i "$deb" >"$tmp/install.log" 2>&1; then ok "dpkg --root -i (postinst ran)"; else cat "$tmp/install.log"; bad "dpkg --root -i"; fi
check "postinst created the camclass group (systemd-sysusers --root)" grep -q '^camclass:x:[0-9]*:' "$R/etc/group"
check "camclassd.socket enabled (sockets.target.wants)" \
	test -L "$R/etc/systemd/system/sockets.target.wants/camclassd.socket"
check "camclassd.service enabled (multi-user.target.wants)" \
	test -L "$R/etc/systemd/system/multi-user.target.wants/camclassd.service"
check "unit: ExecStart is the installed daemon with the installed config" \
	grep -qx 'ExecStart=/usr/sbin/camclassd -c /etc/camclassd/camclassd.ini' "$R/lib/systemd/system/camclassd.service"
check "unit: camclassd.socket's group is camclass" grep -qx 'SocketGroup=camclass' "$R/lib/systemd/system/camclassd.socket"
check "dpkg -s: installed" sh -c "dpkg --root='$R' -s camclassd | grep -q '^Status: install ok installed'"
check "installed config names the installed demo model" \
	grep -qx 'path = /usr/share/camclassd/models/fashion.tflite' "$R/etc/camclassd/camclassd.ini"
if dpkgr --purge camclassd >"$tmp/purge.log" 2>&1; then ok "dpkg --root --purge"; else cat "$tmp/purge.log"; bad "dpkg --root --purge"; fi
left=$(cd "$R" && find usr/sbin/camclassd usr/bin/camclass etc/camclassd lib/systemd usr/share/camclassd \
	etc/systemd/system/sockets.target.wants/camclassd.socket 2>/dev/null)
check "purge removed files, config and enable links" test -z "$left"
[ -z "$left" ] || echo "left behind: $left"

# 5. the installed files run the daemon, unchanged config, on a real V4L2 camera (vivid)
if [ ! -x "$VM" ]; then
	bad "$VM missing: ../shared is needed (docs/CONTRIBUTING.md)"; finish
fi
P=$tmp/payload
mkdir -p "$P/root"
dpkg-deb -x "$deb" "$P/root"
# libcamera's compatibility layer from this machine (the package only Suggests it); executable
# so that vivid-vm.sh copies its libraries too
compat=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/v4l2-compat.so
mkdir -p "$P/root$(dirname "$compat")"
install -m 0755 "$compat" "$P/root$compat"
cat >"$P/run.sh" <<'GUEST'
#!/bin/sh
# the package's tree becomes the guest's root; then what systemd would do for the unit
cp -a /payload/root/. /
mkdir -p /run/camclassd            # RuntimeDirectory=camclassd
pass=0; failn=0
check() { if [ "$1" = 0 ]; then echo "ok   $2"; pass=$((pass+1)); else echo "FAIL $2"; failn=$((failn+1)); fi; }
wait_for() { i=0; while [ $i -lt $2 ]; do eval "$1" && return 0; sleep 0.5; i=$((i+1)); done; return 1; }
/usr/sbin/camclassd --check-config -c /etc/camclassd/camclassd.ini >check.out 2>&1
check $? "vm: ExecStartPre= camclassd --check-config passes with the installed config"
cat check.out
/usr/sbin/camclassd -c /etc/camclassd/camclassd.ini 2>daemon.log &
D=$!
wait_for '[ -S /run/camclassd/camclassd.sock ]' 60; check $? "vm: the daemon serves /run/camclassd/camclassd.sock"
/usr/bin/camclass watch --json >watch.out 2>watch.err &
W=$!
wait_for '[ "$(grep -c "\"type\":\"result\"" watch.out)" -ge 3 ]' 90
check $? "vm: camclass watch gets results from /dev/video0 with the demo model"
grep -m1 '"type":"result"' watch.out
# the labels are the installed demo labels
l=$(grep -m1 '"type":"result"' watch.out | sed -n 's/.*"label":"\([^"]*\)".*/\1/p')
[ -n "$l" ] && grep -qxF "$l" /usr/share/camclassd/models/fashion-labels.txt
check $? "vm: result labels come from fashion-labels.txt ($l)"
/usr/bin/camclass status >status.out 2>&1; check $? "vm: camclass status"
grep -q fashion status.out; check $? "vm: status names the demo model"
kill $W 2>/dev/null
kill -TERM $D; wait $D; check $? "vm: SIGTERM: exit 0"
[ $failn = 0 ] || { echo "--- daemon log"; cat daemon.log; cat watch.err status.out; }

# the libcamera drop-in's ExecStart= as installed, under libcamera's v4l2-compat.so (vivid is
# no libcamera camera: its node passes through the layer to the kernel)
cmd=$(sed -n 's/^ExecStart=\(.\{1,\}\)$/\1/p' /usr/share/camclassd/camclassd-libcamera.conf)
[ -n "$cmd" ]; check $? "vm: libcamera drop-in has an ExecStart= ($cmd)"
rm -f watch.out
$cmd 2>daemon2.log &
D=$!
wait_for '[ -S /run/camclassd/camclassd.sock ]' 60
/usr/bin/camclass watch --json >watch.out 2>watch.err &
W=$!
wait_for '[ "$(grep -c "\"type\":\"result\"" watch.out)" -ge 3 ]' 90
check $? "vm: under the drop-in's command: results from /dev/video0"
grep -q "camera calls go through libc, for libcamera's V4L2 compatibility layer" daemon2.log
check $? "vm: under the drop-in's command: camera calls go through libc (v4l2-compat sees them)"
kill $W 2>/dev/null
kill -TERM $D; wait $D; check $? "vm: under the drop-in's command: SIGTERM: exit 0"
[ $failn = 0 ] || { echo "--- daemon log (libcamera)"; cat daemon2.log; }

# a busy camera: another process streams from it; the daemon names it and keeps serving
v4l2-ctl -d /dev/video0 --stream-mmap --stream-count=100000 >/dev/null 2>&1 &
V=$!
sleep 1
/usr/sbin/camclassd -c /etc/camclassd/camclassd.ini 2>daemon3.log &
D=$!
wait_for 'grep -q "busy: another process is using the camera: pid $V (v4l2-ctl)" daemon3.log' 40
check $? "vm: busy camera: the log names the holder (pid $V, v4l2-ctl)"
grep -m1 busy daemon3.log
! grep -q "^libv4l2" daemon3.log; check $? "vm: busy camera: no unprefixed libv4l2 line in the log"
grep -q "capture: libv4l2: error setting pixformat: Device or resource busy" daemon3.log
check $? "vm: busy camera: libv4l2's own error line is in our log with our prefix"
/usr/bin/camclass status >/dev/null 2>&1; check $? "vm: busy camera: status still answers"
kill $V; wait $V 2>/dev/null
wait_for '[ "$(grep -c "capture: /dev/video0 back, streaming\|capture: /dev/video0 streaming" daemon3.log)" -ge 1 ]' 60
check $? "vm: busy camera: streams once the other process is gone"
kill -TERM $D; wait $D; check $? "vm: busy camera: SIGTERM: exit 0"
[ $failn = 0 ] || { echo "--- daemon log (busy)"; cat daemon3.log; }
echo "package-vm: $pass passed, $failn failed"
[ $failn = 0 ]
GUEST
chmod +x "$P/run.sh"
# no_timer_check: a loaded host can make TCG fail the kernel's IO-APIC timer check (panic)
"$VM" --timeout 300 --append no_timer_check --bin /usr/bin/v4l2-ctl "$P" -- ./run.sh >"$tmp/vm.log" 2>&1
rc=$?
grep -E '^(ok|FAIL) ' "$tmp/vm.log" | sed 's/^/  /'
line=$(grep -E '^package-vm: [0-9]+ passed, [0-9]+ failed' "$tmp/vm.log" | tail -n 1)
if [ -n "$line" ]; then
	set -- $line
	pass=$((pass + $2)); fail=$((fail + $4))
	[ "$rc" = 0 ] || [ "$4" != 0 ] || bad "VM exit status $rc"
else
	tail -n 40 "$tmp/vm.log"; bad "VM run (exit $rc)"
fi
finish
