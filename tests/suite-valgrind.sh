#!/bin/bash
# suite-valgrind.sh — the real daemon under valgrind (memcheck) for ~100 classified frames with
# clients attached: a `camclass watch --json` subscriber all along, and latest / status /
# classify / snapshot / ping requests while it streams; then SIGTERM. Passes when valgrind
# reports no errors and no definitely/indirectly lost memory, the daemon exits 0, and the
# subscriber got at least RESULTS results. The model is the built-in demo model on the demo clip
# (built from the installed Fashion-MNIST package), so nothing here needs ../shared; the
# builtin backend is used (valgrind 3.19 cannot run XNNPACK's AVX-512 kernels).
# Prints one line per check and "valgrind: N passed, M failed".
#   CAMCLASS_BUILD  build folder with camclassd and camclass (default build)
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
RESULTS=100
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() { echo "valgrind: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

command -v valgrind >/dev/null || { bad "valgrind not installed (scripts/install-deps test)"; finish; }
make -s BUILD="$B" "$B/camclassd" "$B/camclass" || { bad "build"; finish; }
tmp=$(mktemp -d /tmp/camclass-vg.XXXXXX)
daemon=""
watcher=""
cleanup() {
	[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
	[ -n "$daemon" ] && kill -KILL "$daemon" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
make -s demo-clip DEMO_CLIP_DIR="$tmp/clip" >/dev/null || { bad "make demo-clip"; finish; }
ls "$tmp"/clip/*.jpg >/dev/null 2>&1 || { bad "demo clip has no frames"; finish; }

sock=$tmp/camclassd.sock
cat >"$tmp/camclassd.ini" <<INI
[camera]
source = file
file = $tmp/clip
fps = 15
[model]
path = $PWD/models/demo/fashion.tflite
labels = $PWD/models/demo/labels.txt
backend = builtin
threads = 1
[classify]
top_k = 3
threshold = 0
[socket]
path = $sock
INI

valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --track-fds=no --log-file="$tmp/valgrind.log" \
	"$B/camclassd" -c "$tmp/camclassd.ini" 2>"$tmp/daemon.log" &
daemon=$!
for _ in $(seq 1 600); do
	[ -S "$sock" ] && "$B/camclass" --socket "$sock" ping >/dev/null 2>&1 && break
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
if ! "$B/camclass" --socket "$sock" ping >/dev/null 2>&1; then
	bad "daemon under valgrind did not start serving"; cat "$tmp/daemon.log" "$tmp/valgrind.log"; finish
fi
ok "daemon serves under valgrind"

"$B/camclass" --socket "$sock" watch --json >"$tmp/watch.jsonl" 2>&1 &
watcher=$!
requests_ok=1
deadline=$((SECONDS + 240))
results() { grep -c '"type":"result"' "$tmp/watch.jsonl" 2>/dev/null || true; }
while [ "$(results)" -lt "$RESULTS" ]; do
	[ $SECONDS -lt $deadline ] || break
	kill -0 "$daemon" 2>/dev/null || break
	for cmd in latest status ping classify; do
		"$B/camclass" --socket "$sock" "$cmd" >/dev/null 2>&1 || { [ "$cmd" = latest ] || requests_ok=0; }
	done
	"$B/camclass" --socket "$sock" snapshot -o "$tmp/snap.jpg" >/dev/null 2>&1 || true
	sleep 1
done
n=$(results)
if [ "$n" -ge "$RESULTS" ]; then ok "subscriber got $n results"; else bad "subscriber got $n results (want $RESULTS)"; fi
if [ "$requests_ok" = 1 ]; then ok "status, ping, classify answered"; else bad "a status/ping/classify request failed"; fi
if [ -s "$tmp/snap.jpg" ]; then ok "snapshot written"; else bad "no snapshot"; fi

kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=""
case $rc in
0) ok "daemon exited 0 on SIGTERM" ;;
99) bad "valgrind found errors or leaks" ;;
*) bad "daemon exited with $rc" ;;
esac
if grep -q "ERROR SUMMARY: 0 errors" "$tmp/valgrind.log"; then
	ok "valgrind: $(grep -o 'ERROR SUMMARY: .*' "$tmp/valgrind.log" | head -1)"
else
	bad "valgrind errors:"; sed -n '1,80p' "$tmp/valgrind.log"
fi
if grep -q "definitely lost: [1-9]\|indirectly lost: [1-9]" "$tmp/valgrind.log"; then
	bad "memory lost:"; grep -A2 "LEAK SUMMARY" "$tmp/valgrind.log"
else
	ok "no memory definitely or indirectly lost"
fi
finish
