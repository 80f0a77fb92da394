#!/bin/bash
# suite-mqtt.sh — camclass-mqtt end to end against Debian's real mosquitto broker and the real
# camclassd on a file-source clip whose class changes (Trouser ×8, Ankle boot ×8, looping; made
# by tools/demo_clip.py from the demo model's dataset). Checked with mosquitto_sub/mosquitto_pub:
# retained discovery config (valid JSON with its fields), availability, state changes,
# attributes, status, commands, last will on kill -9, offline on a clean stop, recovery after a
# broker restart and a daemon restart, TLS with a throw-away CA, clear log lines for an
# unreachable broker and a wrong password, the shared INI validator, the unit files. Prints the
# bridge's CPU use at the daemon's full rate (a figure, not a check). Ends with
# "mqtt: N passed, N failed".
#
# The broker listens on three free loopback ports (anonymous, password, TLS) with its own
# config file and no persistence; everything lives in a temporary folder removed at the end
# (kept on failure with CAMCLASS_KEEP_LOGS=1).
set -u
cd "$(dirname "$0")/.."
BUILD=${CAMCLASS_BUILD:-build}
PY=/usr/bin/python3
passed=0
failed=0
pids=()

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

for b in camclassd camclass-mqtt; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "suite-mqtt: $BUILD/$b is not built (make)"
		echo "mqtt: 0 passed, 1 failed"
		exit 1
	fi
done
for t in mosquitto mosquitto_sub mosquitto_pub mosquitto_passwd openssl; do
	p=$(command -v $t || ls /usr/sbin/$t 2>/dev/null)
	if [ -z "$p" ]; then
		echo "suite-mqtt: $t not found (scripts/install-deps test)"
		echo "mqtt: 0 passed, 1 failed"
		exit 1
	fi
done
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/camclass-mqtt.XXXXXX")
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$failed" != 0 ] && [ -n "${CAMCLASS_KEEP_LOGS:-}" ]; then
		echo "suite-mqtt: logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
P_ANON=$(free_port); P_PASS=$(free_port); P_TLS=$(free_port); P_NONE=$(free_port)
while [ "$P_PASS" = "$P_ANON" ]; do P_PASS=$(free_port); done
while [ "$P_TLS" = "$P_ANON" ] || [ "$P_TLS" = "$P_PASS" ]; do P_TLS=$(free_port); done

# --- the throw-away CA and the broker -------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=camclass test CA" \
	-keyout "$tmp/ca.key" -out "$tmp/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tmp/server.key" \
	-out "$tmp/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
	-days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" >/dev/null 2>&1
mosquitto_passwd -b -c "$tmp/passwd" camuser rightpass >/dev/null 2>&1
# mosquitto started as root drops to the mosquitto user: let it read its files
chmod 0755 "$tmp"
chmod 0644 "$tmp/server.key" "$tmp/passwd" "$tmp/ca.pem" "$tmp/server.pem"
cat > "$tmp/mosquitto.conf" <<EOF
per_listener_settings true
persistence false
log_dest stderr
listener $P_ANON 127.0.0.1
allow_anonymous true
listener $P_PASS 127.0.0.1
allow_anonymous false
password_file $tmp/passwd
listener $P_TLS 127.0.0.1
allow_anonymous true
cafile $tmp/ca.pem
certfile $tmp/server.pem
keyfile $tmp/server.key
EOF
broker_pid=""
start_broker() {
	"$MOSQUITTO" -c "$tmp/mosquitto.conf" >>"$tmp/broker.log" 2>&1 &
	broker_pid=$!
	pids+=("$broker_pid")
	for _ in $(seq 100); do
		mosquitto_pub -h 127.0.0.1 -p "$P_ANON" -t probe -m x 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
check "broker starts on 127.0.0.1:$P_ANON/$P_PASS/$P_TLS" start_broker

# retained value of a topic ("" if none within 2 s)
retained() { mosquitto_sub -h 127.0.0.1 -p "$P_ANON" -t "$1" -C 1 -W 2 2>/dev/null; }
# waits until the retained value of $1 is $2
wait_retained() {
	local end=$((SECONDS + ${3:-20}))
	while [ $SECONDS -lt $end ]; do
		[ "$(retained "$1")" = "$2" ] && return 0
		sleep 0.3
	done
	return 1
}
wait_log() { # file pattern timeout
	local end=$((SECONDS + ${3:-20}))
	while [ $SECONDS -lt $end ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# --- the clip, the daemon --------------------------------------------------------------------------
if ! "$PY" tools/demo_clip.py --out "$tmp/all" --count 3 >/dev/null 2>&1; then
	echo "suite-mqtt: tools/demo_clip.py failed (scripts/install-deps demo)"
	echo "mqtt: $passed passed, $((failed + 1)) failed"
	exit 1
fi
mkdir "$tmp/clip"
for i in 0 1 2 3 4 5 6 7; do
	cp "$tmp/all/00002_1.jpg" "$tmp/clip/a$i.jpg"  # Trouser
	cp "$tmp/all/00000_9.jpg" "$tmp/clip/b$i.jpg"  # Ankle boot
done
SOCK=$tmp/camclassd.sock
daemon_ini() { # fps
	cat <<EOF
[camera]
source = file
file = $tmp/clip
fps = $1
[model]
path = $PWD/models/demo/fashion.tflite
labels = $PWD/models/demo/labels.txt
threads = 1
[socket]
path = $SOCK
EOF
}
mqtt_ini() { # name port extra...
	local name=$1 port=$2
	shift 2
	daemon_ini 8
	printf '[mqtt]\nhost = 127.0.0.1\nport = %s\nclient_id = %s\ntopic_prefix = camtest/%s\n' \
		"$port" "$name" "$name"
	printf '%s\n' "$@"
}
daemon_ini 8 > "$tmp/daemon.ini"
daemon_pid=""
start_daemon() {
	"$BUILD/camclassd" -c "$tmp/daemon.ini" >>"$tmp/daemon.log" 2>&1 &
	daemon_pid=$!
	pids+=("$daemon_pid")
	for _ in $(seq 200); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
	return 1
}
check "camclassd serves on the clip" start_daemon

start_bridge() { # name ini → $bridge_pid, log $tmp/<name>.log
	"$BUILD/camclass-mqtt" -c "$2" >>"$tmp/$1.log" 2>&1 &
	bridge_pid=$!
	pids+=("$bridge_pid")
}

# --- the main bridge: discovery, availability, state, attributes, status, commands ----------------
P=camtest/cam1
mqtt_ini cam1 "$P_ANON" "binary_labels = Trouser, Ankle boot" "allow_commands = yes" \
	> "$tmp/cam1.ini"
mosquitto_sub -h 127.0.0.1 -p "$P_ANON" -v -t "$P/#" > "$tmp/cam1.sub" 2>/dev/null &
pids+=($!)
sleep 0.3
start_bridge cam1 "$tmp/cam1.ini"
check "availability online" wait_retained "$P/availability" online 20
retained homeassistant/sensor/cam1/state/config > "$tmp/disc.json"
check "discovery config: valid JSON with the fields HA needs" "$PY" - "$tmp/disc.json" "$P" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); p = sys.argv[2]
assert d["state_topic"] == p + "/state", d
assert d["json_attributes_topic"] == p + "/attributes", d
assert d["availability_topic"] == p + "/availability", d
assert d["unique_id"] == "cam1_state", d
dev = d["device"]
assert dev["identifiers"] == ["cam1"] and dev["model"] and dev["sw_version"], dev
assert dev["model"] != "camclassd", dev  # the daemon's model name, from hello
EOF
retained "homeassistant/binary_sensor/cam1/ankle_boot/config" > "$tmp/bin.json"
check "binary_sensor config per binary_labels entry" "$PY" - "$tmp/bin.json" "$P" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); p = sys.argv[2]
assert d["state_topic"] == p + "/state" and d["name"] == "Ankle boot", d
assert "'Ankle boot'" in d["value_template"] and d["unique_id"] == "cam1_ankle_boot", d
EOF
check "state follows the clip: Trouser and Ankle boot both seen" \
	wait_log "$tmp/cam1.sub" "^$P/state Ankle boot" 30
check "state Trouser seen too" wait_log "$tmp/cam1.sub" "^$P/state Trouser" 30
retained "$P/attributes" > "$tmp/attr.json"
check "attributes: state, score, since, seq, labels, model" "$PY" - "$tmp/attr.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
assert set(["state", "score", "since", "seq", "labels", "model"]) <= set(a), a
assert a["state"] in ("Trouser", "Ankle boot") and 0 <= a["score"] <= 1 and a["since"] > 1.6e9, a
assert isinstance(a["labels"], list) and a["labels"] and a["labels"][0]["label"], a
EOF
check "status published" wait_log "$tmp/cam1.sub" "^$P/status {\"type\":\"status\"" 20
mosquitto_pub -h 127.0.0.1 -p "$P_ANON" -t "$P/cmd" -m '{"cmd":"ping","id":42}'
check "command ping answered on reply with the caller's id" \
	wait_log "$tmp/cam1.sub" "^$P/reply {\"type\":\"pong\",\"id\":42}" 10
mosquitto_pub -h 127.0.0.1 -p "$P_ANON" -t "$P/cmd" -m '{"cmd":"subscribe"}'
check "command subscribe refused (not_allowed)" \
	wait_log "$tmp/cam1.sub" "^$P/reply .*\"code\":\"not_allowed\"" 10
mosquitto_pub -h 127.0.0.1 -p "$P_ANON" -t "$P/cmd" -m '{"cmd":'
check "bad command payload answered bad_request" \
	wait_log "$tmp/cam1.sub" "^$P/reply .*\"code\":\"bad_request\"" 10

# --- daemon restart (the bridge, camclass watch and examples/client.py all come back) --------------
"$BUILD/camclass" --socket "$SOCK" watch --on-change > "$tmp/watch.out" 2> "$tmp/watch.err" &
watch_pid=$!; pids+=("$watch_pid")
"$BUILD/camclass" --socket "$SOCK" watch --once > "$tmp/once.out" 2> "$tmp/once.err" &
once_pid=$!; pids+=("$once_pid")
"$PY" examples/client.py --socket "$SOCK" --on-change > "$tmp/py.out" 2> "$tmp/py.err" &
py_pid=$!; pids+=("$py_pid")
check "camclass watch --on-change prints state changes" wait_log "$tmp/watch.out" "^seq " 20
check "examples/client.py prints results" wait_log "$tmp/py.out" "^seq " 20
kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
wait "$once_pid"; rc=$?
check "watch --once exits 1 when the daemon goes away" test "$rc" = 1
check "watch says it waits for the daemon" wait_log "$tmp/watch.err" "went away; waiting" 10
check "client.py says it waits for the daemon" wait_log "$tmp/py.err" "went away; waiting" 10
n_watch=$(grep -c "^seq " "$tmp/watch.out"); n_py=$(grep -c "^seq " "$tmp/py.out")
check "daemon stopped: availability offline" wait_retained "$P/availability" offline 15
check "daemon stopped: bridge says so" wait_log "$tmp/cam1.log" "went away" 5
start_daemon >/dev/null
check "daemon restarted: availability online again" wait_retained "$P/availability" online 40
: > "$tmp/cam1.sub.mark"; n_before=$(grep -c "^$P/state " "$tmp/cam1.sub")
wait_more_states() {
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		[ "$(grep -c "^$P/state " "$tmp/cam1.sub")" -gt "$n_before" ] && return 0
		sleep 0.3
	done
	return 1
}
check "daemon restarted: state changes flow again" wait_more_states
check "watch reconnected and says so" wait_log "$tmp/watch.err" "reconnected to $SOCK, subscribed again" 20
check "client.py reconnected and says so" wait_log "$tmp/py.err" "reconnected to $SOCK" 20
grows() { # file count
	local end=$((SECONDS + 20))
	while [ $SECONDS -lt $end ]; do
		[ "$(grep -c "^seq " "$1")" -gt "$2" ] && return 0
		sleep 0.3
	done
	return 1
}
check "watch prints results again after the restart" grows "$tmp/watch.out" "$n_watch"
check "client.py prints results again after the restart" grows "$tmp/py.out" "$n_py"
kill "$watch_pid" "$py_pid" 2>/dev/null

# --- broker restart (no persistence: retained topics must be published again) ---------------------
kill -TERM "$broker_pid"; wait "$broker_pid" 2>/dev/null
check "bridge notices the broker is gone" wait_log "$tmp/cam1.log" "lost the connection to MQTT broker" 10
start_broker >/dev/null
check "broker restarted: availability online again" wait_retained "$P/availability" online 40
check "broker restarted: discovery config again" \
	test -n "$(retained homeassistant/sensor/cam1/state/config)"
check "broker restarted: state again" test -n "$(retained "$P/state")"

# --- last will and clean stop ------------------------------------------------------------------------
kill -9 "$bridge_pid"; wait "$bridge_pid" 2>/dev/null
check "kill -9 of the bridge: last will sets availability offline" \
	wait_retained "$P/availability" offline 10
start_bridge cam1 "$tmp/cam1.ini"
check "bridge restarted: online" wait_retained "$P/availability" online 20
kill -TERM "$bridge_pid"; wait "$bridge_pid"; rc=$?
check "clean stop exits 0" test "$rc" = 0
check "clean stop: availability offline" wait_retained "$P/availability" offline 5

# --- TLS with the throw-away CA ------------------------------------------------------------------
mqtt_ini tls "$P_TLS" "tls_ca = $tmp/ca.pem" > "$tmp/tls.ini"
sed -i "s/^host = 127.0.0.1/host = localhost/" "$tmp/tls.ini"
start_bridge tls "$tmp/tls.ini"
check "TLS: bridge connects and publishes online" wait_retained camtest/tls/availability online 20
check "TLS: log says so" wait_log "$tmp/tls.log" "connected to MQTT broker localhost:$P_TLS (TLS)" 5
kill -TERM "$bridge_pid"; wait "$bridge_pid" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout "$tmp/other.key" -out "$tmp/other.pem" >/dev/null 2>&1
mqtt_ini tlsbad "$P_TLS" "tls_ca = $tmp/other.pem" > "$tmp/tlsbad.ini"
start_bridge tlsbad "$tmp/tlsbad.ini"
check "TLS with the wrong CA: a clear log line" wait_log "$tmp/tlsbad.log" "TLS handshake failed" 15
kill -TERM "$bridge_pid"; wait "$bridge_pid" 2>/dev/null

# --- bad configurations ---------------------------------------------------------------------------
printf 'wrongpass\n' > "$tmp/wrong.pass"
mqtt_ini wrongpw "$P_PASS" "username = camuser" "password_file = $tmp/wrong.pass" > "$tmp/wrongpw.ini"
start_bridge wrongpw "$tmp/wrongpw.ini"
check "wrong password: log names the refusal" \
	wait_log "$tmp/wrongpw.log" "refused the connection: .*not authori" 15
kill -TERM "$bridge_pid"; wait "$bridge_pid" 2>/dev/null
printf 'rightpass\n' > "$tmp/right.pass"
mqtt_ini rightpw "$P_PASS" "username = camuser" "password_file = $tmp/right.pass" > "$tmp/rightpw.ini"
start_bridge rightpw "$tmp/rightpw.ini"
check "right password: online" wait_retained camtest/rightpw/availability online 20
kill -TERM "$bridge_pid"; wait "$bridge_pid" 2>/dev/null
mqtt_ini nobroker "$P_NONE" > "$tmp/nobroker.ini"
start_bridge nobroker "$tmp/nobroker.ini"
check "unreachable broker: log names host, port and cause" \
	wait_log "$tmp/nobroker.log" "cannot connect to MQTT broker 127.0.0.1:$P_NONE: Connection refused; retrying" 10
kill -TERM "$bridge_pid"; wait "$bridge_pid" 2>/dev/null
mqtt_ini badcfg "$P_ANON" "qos = 5" > "$tmp/badcfg.ini"
out=$("$BUILD/camclass-mqtt" -c "$tmp/badcfg.ini" 2>&1); rc=$?
check "bad [mqtt] value: exit 1 with FILE:LINE: [mqtt] key" \
	test "$rc" = 1 -a -n "$(echo "$out" | grep -F "$tmp/badcfg.ini:16: [mqtt] qos: 5 is out of range")"
out=$("$BUILD/camclassd" --check-config -c "$tmp/badcfg.ini" 2>&1); rc=$?
check "the daemon's validator rejects it the same way" \
	test "$rc" != 0 -a -n "$(echo "$out" | grep -F "[mqtt] qos: 5 is out of range")"
mqtt_ini nopw "$P_PASS" "username = camuser" "password_file = $tmp/missing.pass" > "$tmp/nopw.ini"
out=$("$BUILD/camclass-mqtt" -c "$tmp/nopw.ini" 2>&1); rc=$?
check "missing password_file: exit 1 naming the file" \
	test "$rc" = 1 -a -n "$(echo "$out" | grep -F "password_file $tmp/missing.pass: cannot open")"

# --- units ---------------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	sed "s|@BINDIR@|/usr/bin|g" systemd/camclass-mqtt.service > "$tmp/camclass-mqtt.service"
	exposure=$(systemd-analyze security --offline=true "$tmp/camclass-mqtt.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	echo "     camclass-mqtt.service exposure: ${exposure:-?}"
	check "camclass-mqtt.service exposure <= 2.0" \
		awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
	units=$tmp/units
	mkdir -p "$units"
	for u in camclassd@.service camclassd@.socket camclass-mqtt@.service camclass-mqtt.service; do
		sed "s|@SBINDIR@|$PWD/$BUILD|g; s|@BINDIR@|$PWD/$BUILD|g" "systemd/$u" > "$units/$u"
	done
	out=$(cd "$units" && systemd-analyze verify --man=no camclassd@front.service \
		camclassd@front.socket camclass-mqtt@front.service camclass-mqtt.service 2>&1); rc=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/     /'
	check "template units verify clean (camclassd@, .socket, camclass-mqtt@)" test "$rc" = 0 -a -z "$out"
	units_name_the_instance() {
		grep -q 'ExecStart=.*camclassd -c /etc/camclassd/%i.ini$' "$units/camclassd@.service" &&
			grep -qx 'ListenStream=/run/camclassd/%i.sock' "$units/camclassd@.socket" &&
			grep -q 'ExecStart=.*camclass-mqtt -c /etc/camclassd/%i.ini --instance %i$' \
				"$units/camclass-mqtt@.service"
	}
	check "camclassd@%i reads /etc/camclassd/%i.ini, serves /run/camclassd/%i.sock" \
		units_name_the_instance
	sed -i 's/^client_id = .*//; s/^topic_prefix = .*//' "$tmp/cam1.ini"
	out=$("$BUILD/camclass-mqtt" --check-config --instance front -c "$tmp/cam1.ini" 2>&1)
	check "--instance front: topics camclassd/<hostname>/front" \
		test -n "$(echo "$out" | grep -F "topics camclassd/$(hostname)/front/...")"
	ex=$(systemd-analyze security --offline=true "$units/camclass-mqtt@front.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	check "camclass-mqtt@.service exposure ${ex:-?} <= 2.0" awk -v e="${ex:-99}" 'BEGIN { exit !(e <= 2.0) }'
fi

# --- the bridge's CPU at the daemon's full rate (a figure, not a check) ---------------------------
kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
daemon_ini 240 > "$tmp/daemon.ini"
start_daemon >/dev/null
mqtt_ini cpu "$P_ANON" "publish = results" "max_rate = 100" > "$tmp/cpu.ini"
start_bridge cpu "$tmp/cpu.ini"
wait_retained camtest/cpu/availability online 20 >/dev/null
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
seq_of() { "$BUILD/camclass" --socket "$SOCK" latest --json 2>/dev/null |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["seq"])' 2>/dev/null || echo 0; }
b0=$(ticks "$bridge_pid"); d0=$(ticks "$daemon_pid"); s0=$(seq_of); t0=$(date +%s.%N)
sleep 8
b1=$(ticks "$bridge_pid"); d1=$(ticks "$daemon_pid"); s1=$(seq_of); t1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
awk -v b="$((b1 - b0))" -v d="$((d1 - d0))" -v n="$((s1 - s0))" -v t0="$t0" -v t1="$t1" -v hz="$hz" \
	'BEGIN { dt = t1 - t0; printf "     bridge CPU %.1f%% of one core (daemon %.0f%%) at %.1f results/s (publish = results, max_rate 100)\n", 100 * b / hz / dt, 100 * d / hz / dt, n / dt }'
kill -TERM "$bridge_pid"; wait "$bridge_pid" 2>/dev/null

# under SANITIZE=1 builds (CAMCLASS_BUILD=build/san) every bridge and daemon log must be clean
no_sanitizer_reports() { ! grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/*.log; }
check "no sanitizer reports in the bridge and daemon logs" no_sanitizer_reports

if [ "$failed" != 0 ]; then # what the programs said, for the failure report
	for f in cam1.log daemon.log broker.log; do
		echo "--- tail of $f"
		tail -n 15 "$tmp/$f" 2>/dev/null | sed 's/^/     /'
	done
fi
echo "mqtt: $passed passed, $failed failed"
[ "$failed" = 0 ]
