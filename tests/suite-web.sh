#!/bin/bash
# suite-web.sh — camclass-web end to end: a real camclassd on a file-source clip (the demo
# model on Fashion-MNIST frames from tools/demo_clip.py), camclass-web in front of it, and real
# HTTP clients: curl, Python's http.client (tests/web_check.py: MJPEG framing, /metrics through
# prometheus_client's parser, a stalled reader, 100 viewers with bounded RSS, the connection
# limit) and Debian's chromium headless (the page's DOM after its scripts ran, a screenshot kept
# in $B/artifacts/web-page.png). Also auth refusals (token, htpasswd), teach forwarding, bad
# paths and methods, teaching end to end (POST /api/teach twice on two clips, /api/samples,
# /api/train, then /api/latest from the trained model), a daemon that is not there, and
# systemd-analyze security of the unit.
# Ends with one line `web: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
PY=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "web: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

make -s -j2 BUILD="$B" "$B/camclassd" "$B/camclass" "$B/camclass-web" >/dev/null ||
	{ bad "build camclassd camclass camclass-web"; finish; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/camclass-web-XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Runs web_check.py and adds its ok/FAIL lines to the totals.
check() {
	local out
	out=$($PY tests/web_check.py "$@" 2>&1)
	echo "$out"
	pass=$((pass + $(grep -c '^ok ' <<< "$out")))
	fail=$((fail + $(grep -c '^FAIL ' <<< "$out")))
	grep -qE '^(ok|FAIL) ' <<< "$out" || bad "web_check.py $1 printed no result"
}

# --- the daemon on a clip ------------------------------------------------------------------------
$PY tools/demo_clip.py --out "$tmp/clip" --count 12 >/dev/null || { bad "demo clip"; finish; }
sock=$tmp/camclassd.sock
base_ini() { # $1 = extra [web] lines
	cat <<-EOF
	[camera]
	source = file
	file = $tmp/clip
	fps = 5
	[model]
	path = $PWD/models/demo/fashion.tflite
	labels = $PWD/models/demo/labels.txt
	[socket]
	path = $sock
	[web]
	listen = 127.0.0.1:0
	$1
	EOF
}
base_ini "" > "$tmp/d.ini"
"$B/camclassd" -c "$tmp/d.ini" 2> "$tmp/daemon.log" &
pids+=($!)
for _ in $(seq 100); do
	"$B/camclass" --socket "$sock" latest >/dev/null 2>&1 && break
	sleep 0.2
done
"$B/camclass" --socket "$sock" latest >/dev/null 2>&1 || { bad "daemon gave no result"; cat "$tmp/daemon.log"; finish; }
ok "camclassd classifies the clip"

# Starts camclass-web on the INI $1, log $2; sets web_pid and port.
start_web() {
	"$B/camclass-web" -c "$1" 2> "$2" &
	web_pid=$!
	pids+=($web_pid)
	port=""
	for _ in $(seq 100); do
		port=$(sed -n 's/.*serving http on .* (port \([0-9]*\)).*/\1/p' "$2")
		[ -n "$port" ] && return 0
		kill -0 "$web_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# code URL [curl args]: prints "HTTP_CODE CONTENT_TYPE" and leaves the body in $tmp/body
req() {
	local url=$1
	shift
	curl -s -o "$tmp/body" -w '%{http_code} %{content_type}' --max-time 20 "$@" "http://127.0.0.1:$port$url"
}
expect() { # what "CODE TYPE-prefix" url [curl args]
	local what=$1 want=$2 url=$3 got
	shift 3
	got=$(req "$url" "$@")
	if [[ "$got" == "$want"* ]]; then ok "$what: $got"; else bad "$what: got '$got', want '$want'"; fi
}

base_ini "stream_fps = 10
max_connections = 120" > "$tmp/w.ini"
start_web "$tmp/w.ini" "$tmp/web.log" || { bad "camclass-web did not start"; cat "$tmp/web.log"; finish; }
ok "camclass-web serves on 127.0.0.1:$port (port 0 = any free one)"

# --- endpoints -----------------------------------------------------------------------------------
expect "GET /" "200 text/html" /
grep -q '<img id="live"' "$tmp/body" && ok "/ is the page" || bad "/ is not the page"
expect "GET /app.js" "200 text/javascript" /app.js
expect "GET /style.css" "200 text/css" /style.css
expect "GET /api/status" "200 application/json" /api/status
$PY -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["type"]=="status" and "id" not in m and m["model"]' "$tmp/body" &&
	ok "/api/status is the daemon's status (no id of the web's own request)" || bad "/api/status body: $(head -c 200 "$tmp/body")"
expect "GET /api/latest" "200 application/json" /api/latest
labels_json=$(cat "$tmp/body")
$PY -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["type"]=="result" and m["labels"][0]["label"]' "$tmp/body" &&
	ok "/api/latest is a result with labels" || bad "/api/latest body: $labels_json"
expect "GET /snapshot.jpg" "200 image/jpeg" /snapshot.jpg
# jpeg_size FILE: "WIDTHxHEIGHT" from the JPEG's SOF marker (exit 1 if not a whole JPEG)
jpeg_size() {
	$PY - "$1" <<'PYEOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9"
i = 2
while b[i] == 0xFF:
    m, n = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
    if m in (0xC0, 0xC1, 0xC2):
        h, w = struct.unpack(">HH", b[i + 5:i + 9])
        print(f"{w}x{h}"); break
    i += 2 + n
PYEOF
}
size=$(jpeg_size "$tmp/body")
one_of_clip() { local f; for f in "$tmp"/clip/*.jpg; do cmp -s "$f" "$1" && return 0; done; return 1; }
if [ "$size" = 640x480 ] && one_of_clip "$tmp/body"; then
	ok "/snapshot.jpg is the camera's own JPEG, byte for byte ($size, $(stat -c %s "$tmp/body") bytes)"
else
	bad "/snapshot.jpg is not one of the clip's frames ($size)"
fi
expect "snapshot ?max_width=320" "200 image/jpeg" "/snapshot.jpg?max_width=320"
size=$(jpeg_size "$tmp/body")
[ "$size" = 320x240 ] && ok "max_width=320 gives a 320x240 JPEG" || bad "max_width=320 gave '$size'"
expect "snapshot ?view=model" "200 image/jpeg" "/snapshot.jpg?view=model"
size=$(jpeg_size "$tmp/body")
[ -n "$size" ] && [ "${size%x*}" -lt 640 ] && ok "view=model is what the classifier saw ($size)" || bad "view=model gave '$size'"
expect "snapshot with a bad max_width" "400 application/json" "/snapshot.jpg?max_width=12x"
expect "snapshot with a bad view" "400 application/json" "/snapshot.jpg?view=side"
expect "unknown path" "404 application/json" /etc/passwd
expect "path escape" "404 application/json" /../../etc/passwd --path-as-is
expect "POST to a read endpoint" "405 application/json" /api/status -X POST
expect "GET of a teach endpoint" "405 application/json" /api/train
expect "teach while allow_teach = no" "403 application/json" /api/train -X POST -H 'Content-Type: application/json' -d '{}'
got=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/" | tr -d '\r')
grep -q "^Content-Security-Policy: default-src 'self'" <<< "$got" && grep -q '^X-Content-Type-Options: nosniff' <<< "$got" &&
	ok "hardening headers (CSP self only, nosniff)" || bad "hardening headers missing: $got"
check mjpeg "$port" 4
check metrics "$port"
check slow "$port" 8
check viewers "$port" 100 6 "$web_pid"
# after the viewers left, the feed stops: no daemon connection held for an idle page
sleep 2
viewers=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^camclass_web_stream_viewers //p')
[ "$viewers" = 0 ] && ok "viewers back to 0 after they left" || bad "viewers after leaving: $viewers"
clients=$(curl -s "http://127.0.0.1:$port/api/status" | $PY -c 'import json,sys; print(json.load(sys.stdin)["clients"])')
[ "$clients" = 1 ] && ok "nobody watches: camclass-web holds no preview connection (daemon clients: only this request)" ||
	bad "daemon clients with nobody watching: $clients"
kill -0 "$web_pid" && ok "camclass-web alive after the load" || bad "camclass-web died"

# --- the page in a real browser ------------------------------------------------------------------
if command -v chromium >/dev/null; then
	mkdir -p "$B/artifacts"
	chrome=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run
		--user-data-dir="$tmp/chrome")
	timeout 60 "${chrome[@]}" --virtual-time-budget=6000 --dump-dom "http://127.0.0.1:$port/" \
		> "$tmp/dom.html" 2> "$tmp/chrome.log"
	label=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["labels"][0]["label"])' "$labels_json")
	if grep -q 'data-picture="shown"' "$tmp/dom.html"; then ok "chromium: the picture loaded (img load event)"; else bad "chromium: no picture in the DOM"; fi
	if $PY - "$tmp/dom.html" models/demo/labels.txt <<'PYEOF'
import re, sys
dom = open(sys.argv[1]).read()
names = [l.strip() for l in open(sys.argv[2]) if l.strip()]
ol = re.search(r'<ol id="labels"[^>]*>(.*?)</ol>', dom, re.S)
items = re.findall(r'<span class="name">([^<]*)</span>.*?aria-valuenow="([0-9.]+)"', ol.group(1), re.S) if ol else []
sys.exit(0 if items and all(n in names for n, _ in items) else 1)
PYEOF
	then ok "chromium: labels with score bars in the DOM after scripts ran"; else bad "chromium: no labels in the DOM"; fi
	grep -q '<dt>Model</dt><dd>fashion</dd>' "$tmp/dom.html" && ok "chromium: camera/model status shown" || bad "chromium: no status"
	timeout 60 "${chrome[@]}" --virtual-time-budget=6000 --window-size=1100,720 \
		--screenshot="$B/artifacts/web-page.png" "http://127.0.0.1:$port/" >/dev/null 2>&1
	if $PY -c 'import sys; b=open(sys.argv[1],"rb").read(); assert b[:8]==b"\x89PNG\r\n\x1a\n" and len(b) > 10000' "$B/artifacts/web-page.png" 2>/dev/null; then
		ok "chromium: screenshot kept in $B/artifacts/web-page.png"
	else
		bad "chromium: no screenshot"
	fi
else
	bad "chromium not installed (scripts/install-deps test)"
fi

# --- auth ----------------------------------------------------------------------------------------
token=$(openssl rand -hex 24)
printf '%s\n' "$token" > "$tmp/token"
base_ini "auth = token
auth_file = $tmp/token" > "$tmp/t.ini"
start_web "$tmp/t.ini" "$tmp/web-t.log" || { bad "camclass-web (token) did not start"; cat "$tmp/web-t.log"; finish; }
expect "token: no credentials" "401 application/json" /api/status
got=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/" | tr -d '\r')
grep -q '^WWW-Authenticate: Bearer' <<< "$got" && ok "token: WWW-Authenticate: Bearer" || bad "token: no WWW-Authenticate"
expect "token: wrong token" "401 application/json" /api/status -H "Authorization: Bearer ${token}x"
expect "token: a prefix of the token" "401 application/json" "/api/status?token=${token:0:20}"
expect "token: Bearer header" "200 application/json" /api/status -H "Authorization: Bearer $token"
expect "token: ?token= (the page's links)" "200 image/jpeg" "/snapshot.jpg?token=$token"
expect "token: stream refused without it" "401 application/json" /stream.mjpg

printf 'alice:%s\n# comment\n\nbob:%s\n' "$(openssl passwd -6 'correct horse')" "$(openssl passwd -5 hunter2)" > "$tmp/htpasswd"
base_ini "auth = htpasswd
auth_file = $tmp/htpasswd" > "$tmp/h.ini"
start_web "$tmp/h.ini" "$tmp/web-h.log" || { bad "camclass-web (htpasswd) did not start"; cat "$tmp/web-h.log"; finish; }
expect "htpasswd: no credentials" "401 application/json" /
expect "htpasswd: wrong password" "401 application/json" / -u 'alice:correct hors'
expect "htpasswd: unknown user" "401 application/json" / -u 'carol:hunter2'
expect "htpasswd: alice (sha512)" "200 text/html" / -u 'alice:correct horse'
expect "htpasswd: bob (sha256)" "200 application/json" /api/latest -u 'bob:hunter2'
expect "htpasswd: a token is no password" "401 application/json" "/?token=hunter2"

printf 'alice:$apr1$xyz$abcdefghijklmnopqrstuv\n' > "$tmp/apr1"
base_ini "auth = htpasswd
auth_file = $tmp/apr1" > "$tmp/a.ini"
if "$B/camclass-web" --check-config -c "$tmp/a.ini" 2> "$tmp/apr1.log"; then
	bad "an \$apr1\$ htpasswd file was accepted"
elif grep -q "$tmp/apr1:1: user alice: hash format not supported" "$tmp/apr1.log"; then
	ok "an \$apr1\$ hash is refused naming FILE:LINE: $(head -1 "$tmp/apr1.log" | sed 's/.*\] //')"
else
	bad "apr1 message: $(cat "$tmp/apr1.log")"
fi
base_ini "auth = token
auth_file = $tmp/none" > "$tmp/n.ini"
"$B/camclass-web" --check-config -c "$tmp/n.ini" 2> "$tmp/n.log" && bad "missing token file accepted" ||
	{ grep -q "$tmp/none: cannot open" "$tmp/n.log" && ok "a missing auth_file is named" || bad "missing auth_file: $(cat "$tmp/n.log")"; }
sed 's/^listen = .*/listen = 0.0.0.0:http/' "$tmp/d.ini" > "$tmp/l.ini"
if "$B/camclassd" --check-config -c "$tmp/l.ini" 2> "$tmp/l.log"; then bad "daemon accepted listen = 0.0.0.0:http"
else grep -q "l.ini:11: \[web\] listen: '0.0.0.0:http' is not ADDRESS:PORT" "$tmp/l.log" &&
	ok "the daemon's --check-config checks [web] too: $(cat "$tmp/l.log" | head -1 | sed 's/.*ini://')" || bad "daemon message: $(cat "$tmp/l.log")"; fi

# --- teach forwarding ----------------------------------------------------------------------------
base_ini "allow_teach = yes" > "$tmp/teach.ini"
start_web "$tmp/teach.ini" "$tmp/web-teach.log" || { bad "camclass-web (teach) did not start"; finish; }
expect "teach: no Content-Type" "415 application/json" /api/samples -X POST -d '{}'
expect "teach: form post (CSRF)" "415 application/json" /api/samples -X POST -H 'Content-Type: application/x-www-form-urlencoded' -d 'a=b'
expect "teach: not JSON" "400 application/json" /api/samples -X POST -H 'Content-Type: application/json' -d '{"a":'
expect "teach: duplicate keys" "400 application/json" /api/samples -X POST -H 'Content-Type: application/json' -d '{"a":1,"a":2}'
expect "teach: cmd smuggled in the body" "400 application/json" /api/samples -X POST -H 'Content-Type: application/json' -d '{"cmd":"status"}'
head -c 20000 /dev/zero | tr '\0' ' ' > "$tmp/big"
expect "teach: body over 16 KiB" "413 application/json" /api/samples -X POST -H 'Content-Type: application/json' --data-binary @"$tmp/big"
# What the daemon itself answers to "samples" decides what the web must say.
direct=$($PY - "$sock" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.readline(); f.write(b'{"cmd":"samples","id":7}\n'); f.flush()
while True:
    m = json.loads(f.readline())
    if m.get("id") == 7:
        print(m["type"], m.get("code", "")); break
PYEOF
)
got=$(req /api/samples -X POST -H 'Content-Type: application/json' -d '{}')
gtype=$($PY -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["type"], m.get("code",""))' "$tmp/body")
case "$direct" in
"error unknown_cmd") want=501 ;;
"error unavailable" | "error busy") want=503 ;; # no [teach] on this daemon: service unavailable
error*) want=4 ;;
*) want=200 ;;
esac
if [[ "$got" == "$want"* && "$gtype" == "$direct" ]]; then
	ok "POST /api/samples forwards 'samples': daemon says '$direct', web $got"
else
	bad "POST /api/samples: daemon '$direct', web '$got' '$gtype'"
fi

# --- teaching end to end through the page's endpoints --------------------------------------------
# A second daemon with [teach] on the clip of trousers: POST /api/teach A, the file source switched
# to the clip of bags by a reload (as tests/suite-teach.sh does), POST /api/teach B, POST /api/train;
# then /api/latest must come from the trained model, over the same camclass-web process.
M=${CAMCLASS_MODELS:-../shared/models}
tsock=$tmp/teach.sock
teach_ini() { # clip
	cat <<-EOF
	[camera]
	source = file
	file = $tmp/tclips/$1
	fps = 10
	[model]
	path = $M/mobilenet_v1_0.25_128_quant.tflite
	labels = $M/imagenet_labels.txt
	backend = builtin
	threads = 1
	[classify]
	top_k = 2
	threshold = 0
	[socket]
	path = $tsock
	[teach]
	dir = $tmp/teachdir
	max_samples_per_label = 40
	[web]
	listen = 127.0.0.1:0
	allow_teach = yes
	EOF
}
post() { req "$1" -X POST -H 'Content-Type: application/json' -d "$2"; }
# samples_of LABEL: the label's count in the last /api/samples body (0 if absent)
samples_of() {
	$PY -c 'import json,sys; m=json.load(open(sys.argv[1])); print(sum(l["samples"] for l in m["labels"] if l["label"]==sys.argv[2]))' "$tmp/body" "$1" 2>/dev/null || echo -1
}
# wait_samples LABEL N: polls POST /api/samples (120 s) until LABEL has N samples
wait_samples() {
	local got=-1
	for _ in $(seq 600); do
		post /api/samples '{}' >/dev/null
		got=$(samples_of "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	echo "$got"
	return 1
}
# teach_label LABEL N: POST /api/teach, check the immediate reply, wait for the samples
teach_label() {
	local got
	got=$(post /api/teach "{\"label\":\"$1\",\"count\":$2}")
	if [[ "$got" == "200 application/json"* ]] && $PY -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["type"]=="teach" and m["label"]==sys.argv[2] and m["count"]==int(sys.argv[3]) and m["samples"]==0' "$tmp/body" "$1" "$2"; then
		ok "POST /api/teach $1 ×$2: $got $(cat "$tmp/body")"
	else
		bad "POST /api/teach $1: $got $(cat "$tmp/body")"; return 1
	fi
	if got=$(wait_samples "$1" "$2"); then ok "POST /api/samples: $1 has $2 samples"; else bad "POST /api/samples: $1 has '$got', want $2"; fi
}
# top1 [LABEL]: waits (120 s) for GET /api/latest whose top label is LABEL (any of A/B if none); prints it
top1_web() {
	local got=
	for _ in $(seq 400); do
		req /api/latest >/dev/null
		got=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["labels"][0]["label"])' "$tmp/body" 2>/dev/null)
		case "$got" in "${1:-A}" | "${1:-B}") echo "$got"; return 0 ;; esac
		sleep 0.3
	done
	echo "$got"
	return 1
}
if ! scripts/install-deps retrain >/dev/null 2>&1 ||
	! $PY tools/train/retrain_task.py "$tmp/tclips" --classes 1,8 --per-class 12 --split t10k >/dev/null; then
	bad "teach: clips (scripts/install-deps retrain, tools/train/retrain_task.py)"
else
	teach_ini trouser > "$tmp/td.ini"
	"$B/camclassd" -c "$tmp/td.ini" 2> "$tmp/teach-daemon.log" &
	tdpid=$!
	pids+=($tdpid)
	start_web "$tmp/td.ini" "$tmp/web-td.log" || { bad "camclass-web (teach e2e) did not start"; cat "$tmp/web-td.log"; finish; }
	tweb=$web_pid
	for _ in $(seq 150); do req /api/latest | grep -q '^200' && break; sleep 0.2; done
	expect "teach e2e: the daemon classifies through the web" "200 application/json" /api/latest
	teach_label A 8
	teach_ini bag > "$tmp/td.ini"
	kill -HUP "$tdpid"
	switched=no
	for _ in $(seq 300); do
		req /api/status >/dev/null
		grep -q "tclips/bag" "$tmp/body" && { switched=yes; break; }
		sleep 0.2
	done
	[ "$switched" = yes ] && ok "teach e2e: reload switched the file source to the second clip" ||
		bad "teach e2e: the source did not switch: $(head -c 300 "$tmp/body")"
	sleep 1 # frames of the new clip are classified before teaching starts
	teach_label B 8
	got=$(post /api/train '{}')
	if [[ "$got" == "200 application/json"* ]] && $PY -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["type"]=="train" and m["training"] is True and m["labels"]==2 and m["samples"]==16' "$tmp/body"; then
		ok "POST /api/train: $got $(cat "$tmp/body")"
	else
		bad "POST /api/train: $got $(cat "$tmp/body")"
	fi
	got=$(top1_web B) && ok "after train: /api/latest on the second clip says 'B' (the trained model)" ||
		bad "after train: /api/latest top label '$got', want B; $(tail -3 "$tmp/teach-daemon.log")"
	teach_ini trouser > "$tmp/td.ini"
	kill -HUP "$tdpid"
	got=$(top1_web A) && ok "after train: the first clip is 'A' again through the same web process" ||
		bad "after train: first clip top label '$got', want A"
	post /api/samples '{}' >/dev/null
	$PY -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["training"] is False' "$tmp/body" &&
		ok "/api/samples: training over" || bad "/api/samples after train: $(cat "$tmp/body")"
	if kill -0 "$tweb" 2>/dev/null && ! grep -qE '^(<[0-4]>|[0-9:.]+ (error|warning) )' "$tmp/web-td.log"; then
		ok "camclass-web alive and logged no error or warning through teach, reload and train"
	else
		bad "camclass-web: $(cat "$tmp/web-td.log")"
	fi
	kill "$tdpid" 2>/dev/null; wait "$tdpid" 2>/dev/null
	kill "$tweb" 2>/dev/null; wait "$tweb" 2>/dev/null
fi

# --- no daemon -----------------------------------------------------------------------------------
sed "s|^path = $sock|path = $tmp/absent.sock|" "$tmp/d.ini" > "$tmp/x.ini"
start_web "$tmp/x.ini" "$tmp/web-x.log" || { bad "camclass-web (no daemon) did not start"; finish; }
expect "no daemon: /api/status" "502 application/json" /api/status
grep -q '"code":"daemon_unreachable"' "$tmp/body" && grep -q "absent.sock" "$tmp/body" &&
	ok "no daemon: the error names the socket" || bad "no daemon body: $(cat "$tmp/body")"
curl -s "http://127.0.0.1:$port/metrics" | grep -qx 'camclass_up 0' && ok "no daemon: /metrics says camclass_up 0" || bad "no daemon: camclass_up"

# --- connection limit ----------------------------------------------------------------------------
base_ini "max_connections = 4" > "$tmp/m.ini"
start_web "$tmp/m.ini" "$tmp/web-m.log" || { bad "camclass-web (limit) did not start"; finish; }
check limit "$port" 4

# --- the unit's sandbox --------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	sed 's|@BINDIR@|/usr/bin|g' systemd/camclass-web.service > "$tmp/camclass-web.service"
	score=$(systemd-analyze security --offline=true --no-pager "$tmp/camclass-web.service" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		ok "systemd-analyze security camclass-web.service: $score (≤ 2.0)"
	else
		bad "systemd-analyze security camclass-web.service: '$score' (want ≤ 2.0)"
	fi
else
	bad "systemd-analyze not installed"
fi

kill -TERM "$web_pid"
wait "$web_pid" && ok "camclass-web exits 0 on SIGTERM" || bad "camclass-web exit status $? on SIGTERM"
finish
