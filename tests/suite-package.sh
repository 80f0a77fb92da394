#!/bin/bash
# suite-package.sh — the Debian packages, built and installed the way a user gets them:
#   1. a clean clone of the committed HEAD builds with `dpkg-buildpackage -us -uc -b`:
#      camclassd, camclass-mqtt and camclass-web;
#   2. lintian reports no errors;
#   3. each .deb holds its files: camclassd the daemon, camclass, units, sysusers file, config
#      (as a conffile), demo model, man pages and examples; camclass-mqtt and camclass-web their
#      binary, units and man page, nothing of the others', and Depend on camclassd of the same
#      version; every packaged binary's --version is the package's version;
#   4. all three install into a throw-away root (dpkg --root --force-script-chrootless: the
#      maintainer scripts run with DPKG_ROOT, as in a bootstrap): the camclass group is created
#      there, camclassd's two units are enabled there (deb-systemd-helper) and the companions'
#      are not (--no-enable), the config is camclassd's conffile, nothing touches this machine;
#      purge removes it all again;
#   5. in the vivid VM (../shared/infra/vivid-vm.sh) the installed trees become the guest's
#      root: /usr/sbin/camclassd --check-config and then the daemon start as the unit starts them,
#      with the installed /etc/camclassd/camclassd.ini unchanged (demo model, /dev/video0), and
#      /usr/bin/camclass gets results on the default socket, /usr/bin/camclass-web serves them
#      over HTTP and camclass-mqtt --check-config accepts the installed config; then the daemon
#      under the libcamera drop-in's ExecStart= (v4l2-compat.so preloaded; vivid passes through
#      it).
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
deb_mqtt=$(ls "$tmp"/camclass-mqtt_*.deb 2>/dev/null | head -n 1)
deb_web=$(ls "$tmp"/camclass-web_*.deb 2>/dev/null | head -n 1)
check "three packages: camclassd, camclass-mqtt, camclass-web" \
	test -n "$deb" -a -n "$deb_mqtt" -a -n "$deb_web"
[ -n "$deb" ] && [ -n "$deb_mqtt" ] && [ -n "$deb_web" ] || { ls "$tmp"; finish; }
version=$(dpkg-deb -f "$deb" Version)

# 2. lintian: no E: tags (W:/I: are printed for the record)
lintian "$tmp"/camclassd_*.changes >"$tmp/lintian.log" 2>&1
grep -v 'running with root privileges' "$tmp/lintian.log"
no_errors() { ! grep -q '^E:' "$tmp/lintian.log"; }
check "lintian: no errors" no_errors

# 3. what each package holds
holds() {  # DEB FILE...: every FILE is in DEB; prints the missing ones
	local deb=$1 missing=""; shift
	dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/files"
	for f in "$@"; do grep -qxF "$f" "$tmp/files" || missing="$missing $f"; done
	[ -z "$missing" ] || echo "  missing in $(basename "$deb"):$missing"
	[ -z "$missing" ]
}
files_d="/usr/sbin/camclassd /usr/bin/camclass /etc/camclassd/camclassd.ini
	/lib/systemd/system/camclassd.service /lib/systemd/system/camclassd.socket
	/lib/systemd/system/camclassd@.service /lib/systemd/system/camclassd@.socket
	/usr/lib/sysusers.d/camclassd.conf /usr/share/camclassd/models/fashion.tflite
	/usr/share/camclassd/models/fashion-labels.txt /usr/share/man/man8/camclassd.8.gz
	/usr/share/man/man1/camclass.1.gz /usr/share/man/man5/camclassd.ini.5.gz
	/usr/share/doc/camclassd/examples/client.py /usr/share/doc/camclassd/copyright
	/usr/share/camclassd/camclassd-libcamera.conf /usr/libexec/camclassd/camclassd-libcamera"
files_m="/usr/bin/camclass-mqtt /lib/systemd/system/camclass-mqtt.service
	/lib/systemd/system/camclass-mqtt@.service /usr/share/man/man1/camclass-mqtt.1.gz
	/usr/share/doc/camclass-mqtt/copyright"
files_w="/usr/bin/camclass-web /lib/systemd/system/camclass-web.service
	/usr/share/man/man1/camclass-web.1.gz /usr/share/doc/camclass-web/copyright"
check "camclassd holds binaries, units, sysusers, config, demo model, man pages, examples" \
	holds "$deb" $files_d
check "camclass-mqtt holds its binary, both units, its man page" holds "$deb_mqtt" $files_m
check "camclass-web holds its binary, its unit, its man page" holds "$deb_web" $files_w
# no file in two packages (dpkg would refuse to install the second), none of a companion's in
# camclassd
all_files() { for d in "$deb" "$deb_mqtt" "$deb_web"; do dpkg-deb -c "$d" | grep -v '^d' |
	awk '{print $6}'; done; }
dups=$(all_files | sort | uniq -d)
check "no file is in two packages" test -z "$dups"
[ -z "$dups" ] || echo "  in two packages: $dups"
check "camclassd holds nothing of camclass-mqtt/camclass-web" \
	sh -c "! dpkg-deb -c '$deb' | grep -q 'camclass-mqtt\|camclass-web'"
# libzip is dlopen()ed (inference/zip_api.h), so dh_shlibdeps cannot add it; libsystemd is not
# used (lib/service.c)
check "camclassd Depends on libzip4 (loaded with dlopen)" \
	sh -c "dpkg-deb -f '$deb' Depends | tr ',' '\n' | grep -qx ' *libzip4'"
check "camclassd does not depend on libsystemd0" \
	sh -c "! dpkg-deb -f '$deb' Depends | grep -q libsystemd"
for d in "$deb_mqtt" "$deb_web"; do
	p=$(dpkg-deb -f "$d" Package)
	check "$p Depends on camclassd (= $version)" \
		sh -c "dpkg-deb -f '$d' Depends | tr ',' '\n' | grep -qx ' *camclassd (= $version)'"
done
dpkg-deb -e "$deb" "$tmp/ctl"
check "the config is a conffile of camclassd" grep -qx /etc/camclassd/camclassd.ini "$tmp/ctl/conffiles"
for d in "$deb_mqtt" "$deb_web"; do
	dpkg-deb -e "$d" "$tmp/ctl-$(dpkg-deb -f "$d" Package)"
done
check "the companions have no conffiles of their own (their config is camclassd's INI)" \
	test ! -e "$tmp/ctl-camclass-mqtt/conffiles" -a ! -e "$tmp/ctl-camclass-web/conffiles"
mkdir -p "$tmp/x"
for d in "$deb" "$deb_mqtt" "$deb_web"; do dpkg-deb -x "$d" "$tmp/x"; done
for b in sbin/camclassd bin/camclass bin/camclass-mqtt bin/camclass-web; do
	check "packaged $(basename $b) --version is the package's ($version)" \
		test "$("$tmp/x/usr/$b" --version)" = "$(basename $b) $version"
done
# the companions accept the shipped config as the package installs it (their ExecStartPre=)
check "camclass-mqtt --check-config accepts the packaged camclassd.ini" \
	"$tmp/x/usr/bin/camclass-mqtt" --check-config -c "$tmp/x/etc/camclassd/camclassd.ini"
check "camclass-web --check-config accepts the packaged camclassd.ini" \
	"$tmp/x/usr/bin/camclass-web" --check-config -c "$tmp/x/etc/camclassd/camclassd.ini"

# 4. install into a throw-away root; maintainer scripts run outside it with DPKG_ROOT set
R=$tmp/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc" "$R/usr/sbin"
: >"$R/var/lib/dpkg/status"; : >"$R/var/lib/dpkg/available"
printf 'root:x:0:\nvideo:x:44:\n' >"$R/etc/group"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
# deny service starts inside the root (deb-systemd-invoke reads $DPKG_ROOT/usr/sbin/policy-rc.d)
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod +x "$R/usr/sbin/policy-rc.d"
dpkgr() { dpkg --root="$R" --force-script-chrootless --force-depends --force-not-root "$@"; }
if dpkgr -i "$deb" "$deb_mqtt" "$deb_web" >"$tmp/install.log" 2>&1; then
	ok "dpkg --root -i camclassd camclass-mqtt camclass-web (postinst ran)"
else
	cat "$tmp/install.log"; bad "dpkg --root -i"
fi
check "postinst created the camclass group (systemd-sysusers --root)" grep -q '^camclass:x:[0-9]*:' "$R/etc/group"
check "camclassd.socket enabled (sockets.target.wants)" \
	test -L "$R/etc/systemd/system/sockets.target.wants/camclassd.socket"
check "camclassd.service enabled (multi-user.target.wants)" \
	test -L "$R/etc/systemd/system/multi-user.target.wants/camclassd.service"
for u in camclass-mqtt.service camclass-web.service; do
	check "$u installed but not enabled (dh_installsystemd --no-enable)" \
		sh -c "test -f '$R/lib/systemd/system/$u' && ! find '$R/etc/systemd' -name '$u' | grep -q ."
done
check "unit: ExecStart is the installed daemon with the installed config" \
	grep -qx 'ExecStart=/usr/sbin/camclassd -c /etc/camclassd/camclassd.ini' "$R/lib/systemd/system/camclassd.service"
check "unit: camclassd.socket's group is camclass" grep -qx 'SocketGroup=camclass' "$R/lib/systemd/system/camclassd.socket"
check "unit: camclass-mqtt.service runs the installed bridge with the installed config" \
	grep -qx 'ExecStart=/usr/bin/camclass-mqtt -c /etc/camclassd/camclassd.ini' "$R/lib/systemd/system/camclass-mqtt.service"
check "unit: camclass-web.service runs the installed server with the installed config" \
	grep -qx 'ExecStart=/usr/bin/camclass-web -c /etc/camclassd/camclassd.ini' "$R/lib/systemd/system/camclass-web.service"
for u in camclass-mqtt.service camclass-mqtt@.service camclass-web.service; do
	check "unit: $u is in the socket's group (SupplementaryGroups=camclass)" \
		grep -qx 'SupplementaryGroups=camclass' "$R/lib/systemd/system/$u"
done
check "unit: camclassd@.socket's group is camclass" grep -qx 'SocketGroup=camclass' "$R/lib/systemd/system/camclassd@.socket"
for m in man8/camclassd.8 man1/camclass.1 man5/camclassd.ini.5 man1/camclass-mqtt.1 man1/camclass-web.1; do
	test -s "$R/usr/share/man/$m.gz" || mmissing="${mmissing:-} $m"
done
check "man pages installed (camclassd.8 camclass.1 camclassd.ini.5 camclass-mqtt.1 camclass-web.1)" \
	test -z "${mmissing:-}"
for p in camclassd camclass-mqtt camclass-web; do
	check "dpkg -s $p: installed" sh -c "dpkg --root='$R' -s $p | grep -q '^Status: install ok installed'"
done
check "dpkg: /etc/camclassd/camclassd.ini is camclassd's conffile (dpkg-query Conffiles)" \
	sh -c "dpkg-query --root='$R' -W -f='\${Conffiles}\n' camclassd | grep -q '^ /etc/camclassd/camclassd.ini [0-9a-f]\{32\}\$'"
check "dpkg -S: /usr/bin/camclass-mqtt belongs to camclass-mqtt" \
	sh -c "dpkg --root='$R' -S /usr/bin/camclass-mqtt | grep -q '^camclass-mqtt: '"
check "installed config names the installed demo model" \
	grep -qx 'path = /usr/share/camclassd/models/fashion.tflite' "$R/etc/camclassd/camclassd.ini"
# an edited conffile survives reinstalling the package (dpkg keeps the admin's version)
echo '; edited by the admin' >>"$R/etc/camclassd/camclassd.ini"
dpkgr --force-confold -i "$deb" >>"$tmp/install.log" 2>&1
check "conffile: an admin's edit survives reinstalling camclassd" \
	grep -qx '; edited by the admin' "$R/etc/camclassd/camclassd.ini"
if dpkgr --purge camclass-mqtt camclass-web >"$tmp/purge.log" 2>&1 &&
	dpkgr --purge camclassd >>"$tmp/purge.log" 2>&1; then
	ok "dpkg --root --purge (all three)"
else
	cat "$tmp/purge.log"; bad "dpkg --root --purge"
fi
left=$(cd "$R" && find usr/sbin/camclassd usr/bin/camclass usr/bin/camclass-mqtt usr/bin/camclass-web \
	etc/camclassd lib/systemd usr/share/camclassd usr/share/man \
	etc/systemd/system/sockets.target.wants/camclassd.socket 2>/dev/null)
check "purge removed files, config and enable links" test -z "$left"
[ -z "$left" ] || echo "left behind: $left"

# 5. the installed files run the daemon, unchanged config, on a real V4L2 camera (vivid)
if [ ! -x "$VM" ]; then
	bad "$VM missing: ../shared is needed (docs/CONTRIBUTING.md)"; finish
fi
P=$tmp/payload
mkdir -p "$P/root"
for d in "$deb" "$deb_mqtt" "$deb_web"; do dpkg-deb -x "$d" "$P/root"; done
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
# camclass-web as its unit starts it (it runs as root here: the group is the unit's business)
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
/usr/bin/camclass-web --check-config -c /etc/camclassd/camclassd.ini >webcheck.out 2>&1
check $? "vm: ExecStartPre= camclass-web --check-config passes with the installed config"
/usr/bin/camclass-web -c /etc/camclassd/camclassd.ini 2>web.log &
H=$!
wait_for 'grep -q "serving http on 127.0.0.1:8080" web.log' 60
check $? "vm: camclass-web serves on 127.0.0.1:8080 (the installed [web] listen)"
wait_for 'wget -q -O api.out http://127.0.0.1:8080/api/latest && grep -q "\"type\":\"result\"" api.out' 60
check $? "vm: camclass-web /api/latest is a result from the daemon"
l=$(sed -n 's/.*"label":"\([^"]*\)".*/\1/p' api.out | head -n 1)
[ -n "$l" ] && grep -qxF "$l" /usr/share/camclassd/models/fashion-labels.txt
check $? "vm: camclass-web's result label is a demo label ($l)"
kill -TERM $H; wait $H; check $? "vm: camclass-web SIGTERM: exit 0"
/usr/bin/camclass-mqtt --check-config -c /etc/camclassd/camclassd.ini >mqcheck.out 2>&1
check $? "vm: ExecStartPre= camclass-mqtt --check-config passes with the installed config"
cat mqcheck.out
kill $W 2>/dev/null
kill -TERM $D; wait $D; check $? "vm: SIGTERM: exit 0"
[ $failn = 0 ] || { echo "--- daemon log"; cat daemon.log; cat watch.err status.out web.log webcheck.out api.out; }

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
