#!/bin/bash
# suite-teach.sh — live teaching end to end with the real binaries: camclassd on a file source
# replaying one clip (Fashion-MNIST trousers rendered as camera frames), `camclass teach trouser`,
# the source switched to a second clip (bags) by a config reload, `camclass teach bag`,
# `camclass train`; then the daemon must say "trouser" on the first clip and "bag" on the second,
# while a `camclass watch` client started at the beginning is still connected and saw the
# model_reloaded event. Then: samples and the trained model survive a restart (the trained model
# is what runs), and bad requests get their errors (bad label, count out of range, train with one
# label, two trains at once, teaching off). Ends with `teach: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
M=${CAMCLASS_MODELS:-../shared/models}
PY=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
tmp=$(mktemp -d)
dpid=
wpid=
cleanup() {
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
finish() { echo "teach: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

scripts/install-deps retrain || { bad "scripts/install-deps retrain"; finish; }
make -s BUILD="$B" "$B/camclass" "$B/camclassd" || { bad "build"; finish; }
$PY tools/train/retrain_task.py "$tmp/clips" --classes 1,8 --per-class 12 --split t10k > /dev/null \
	|| { bad "retrain_task.py"; finish; }

S=$tmp/d.sock
cc() { "$B/camclass" --socket "$S" "$@"; }
write_ini() { # clip [teach?]
	{
		printf '%s\n' "[camera]" "source = file" "file = $tmp/clips/$1" "fps = 10" "[model]" \
			"path = $M/mobilenet_v1_0.25_128_quant.tflite" "labels = $M/imagenet_labels.txt" \
			"backend = builtin" "threads = 1" "[classify]" "top_k = 1" "threshold = 0" "[socket]" "path = $S"
		[ "${2:-teach}" = teach ] && printf '%s\n' "[teach]" "dir = $tmp/teach" "max_samples_per_label = 40"
	} > "$tmp/d.ini"
}
start_daemon() {
	"$B/camclassd" -c "$tmp/d.ini" >> "$tmp/daemon.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do cc ping > /dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop_daemon() { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=; }
switch_clip() { # the file source replays another folder after a reload
	write_ini "$1"
	kill -HUP "$dpid"
	for _ in $(seq 100); do
		cc status --json 2>/dev/null | grep -q "clips/$1" && return 0
		sleep 0.1
	done
	return 1
}
# top-1 label of a fresh classification, after the clip has run a few frames
top1() {
	local got
	for _ in $(seq 30); do
		got=$(cc classify --json 2>/dev/null | $PY -c 'import json,sys; print(json.loads(sys.stdin.readline())["labels"][0]["label"])' 2>/dev/null)
		[ -n "$got" ] && { echo "$got"; return; }
		sleep 0.2
	done
}

write_ini trouser
start_daemon || { bad "camclassd did not start"; cat "$tmp/daemon.log"; finish; }
cc watch --json > "$tmp/watch.log" 2>&1 &
wpid=$!

if cc teach trouser --count 12 > "$tmp/t1.log" 2>&1 && grep -q "trouser: 12 samples stored, 0 frames to go" "$tmp/t1.log"; then
	ok "teach trouser: 12 frames stored, progress shown"
else
	bad "teach trouser: $(cat "$tmp/t1.log")"
fi
switch_clip bag || bad "the file source did not switch to the bag clip"
sleep 1 # frames of the new clip are classified before teaching starts
if cc teach bag --count 12 > "$tmp/t2.log" 2>&1 && grep -q "bag: 12 samples stored" "$tmp/t2.log"; then
	ok "teach bag: 12 frames stored"
else
	bad "teach bag: $(cat "$tmp/t2.log")"
fi
cc samples > "$tmp/samples.log" 2>&1
if grep -q "^bag  *12$" "$tmp/samples.log" && grep -q "^trouser  *12$" "$tmp/samples.log"; then
	ok "samples: bag 12, trouser 12, $(grep disk "$tmp/samples.log")"
else
	bad "samples: $(cat "$tmp/samples.log")"
fi
n_jpg=$(find "$tmp/teach/samples" -name '*.jpg' | wc -l)
n_emb=$(find "$tmp/teach/samples" -name '*.emb' | wc -l)
[ "$n_jpg" = 24 ] && [ "$n_emb" = 24 ] && ok "24 JPEG crops and 24 cached embeddings on disk" \
	|| bad "files on disk: $n_jpg jpg, $n_emb emb"
if cc train > "$tmp/train.log" 2>&1 && grep -q "trained: 2 labels, 24 samples; held-out accuracy" "$tmp/train.log"; then
	ok "train: $(grep trained: "$tmp/train.log")"
else
	bad "train: $(cat "$tmp/train.log")"
fi
got=$(top1)
[ "$got" = bag ] && ok "the bag clip is classified 'bag' by the trained model" || bad "bag clip: '$got'"
switch_clip trouser || bad "the file source did not switch back"
sleep 0.5
got=$(top1)
[ "$got" = trouser ] && ok "the trouser clip is classified 'trouser'" || bad "trouser clip: '$got'"
if kill -0 "$wpid" 2>/dev/null && grep -q '"event":"model_reloaded"' "$tmp/watch.log" \
	&& grep -q '"event":"teach_trained"' "$tmp/watch.log"; then
	ok "the watching client stayed connected and saw model_reloaded and teach_trained"
else
	bad "watch client: alive=$(kill -0 "$wpid" 2>/dev/null && echo yes || echo no), $(grep -c event "$tmp/watch.log") events"
fi
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
wpid=

# Two train requests at once (one connection, one read): the second is refused as busy.
two=$($PY - "$S" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
f.readline()  # hello
f.write(b'{"cmd":"train","id":1}\n{"cmd":"train","id":2}\n')
f.flush()
got = {}
while len(got) < 2 or "teach_trained" not in got:
    m = json.loads(f.readline())
    if "id" in m:
        got[m["id"]] = m.get("code", m["type"])
    elif m.get("event") in ("teach_trained", "teach_error"):
        got[m["event"]] = m["event"]
print(got.get(1), got.get(2))
PYEOF
)
[ "$two" = "train busy" ] && ok "two train requests at once: the first trains, the second gets busy" \
	|| bad "two train requests at once: $two"

# Bad requests: each its error, the daemon keeps serving.
expect() { # what code args...
	local what=$1 code=$2 out
	shift 2
	out=$(cc "$@" 2>&1)
	if grep -q "camclass: $code:" <<< "$out"; then ok "$what: $out"; else bad "$what: $out"; fi
}
expect "a label with a path in it" bad_request teach "../etc" --count 1
expect "count above the bound" bad_request teach shoe --count 5000
expect "more samples than the label's limit" limit teach bag --count 30
expect "forget an unknown label" not_found forget shoe
cc forget bag > "$tmp/forget.log" 2>&1 && grep -q "bag: 12 samples removed" "$tmp/forget.log" \
	&& ok "forget bag: $(cat "$tmp/forget.log")" || bad "forget: $(cat "$tmp/forget.log")"
expect "train with one label left" no_samples train
cc ping > /dev/null 2>&1 && ok "the daemon still serves" || bad "the daemon stopped serving"

# A restart keeps the samples and runs the trained model; a temporary file left by a write that
# was cut off (a stop during training) is removed, never loaded.
stop_daemon
echo partial > "$tmp/teach/model.tflite.tmp.AbCdEf"
start_daemon || bad "camclassd did not restart"
cc samples > "$tmp/samples2.log" 2>&1
grep -q "^trouser  *12$" "$tmp/samples2.log" && ok "after a restart: the samples are still there" \
	|| bad "after restart: $(cat "$tmp/samples2.log")"
[ ! -e "$tmp/teach/model.tflite.tmp.AbCdEf" ] && grep -q "removed .*model.tflite.tmp.AbCdEf, left by an interrupted write" "$tmp/daemon.log" \
	&& ok "after a restart: the temporary file of an interrupted write is gone" || bad "leftover temporary file"
grep -q "running the trained model $tmp/teach/model.tflite" "$tmp/daemon.log" \
	&& ok "after a restart: the trained model runs" || bad "the restart did not load the trained model"
got=$(top1)
[ "$got" = trouser ] && ok "after a restart: the trouser clip is 'trouser'" || bad "after restart: '$got'"
stop_daemon

# Teaching off: the requests say so.
write_ini trouser off
start_daemon || bad "camclassd without [teach] did not start"
expect "teaching not configured" unavailable samples
stop_daemon
finish
