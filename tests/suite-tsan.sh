#!/bin/bash
# suite-tsan.sh — ThreadSanitizer build of the tests that run threads: the daemon end to end
# (capture, classify and main-loop threads), its lifecycle, the IPC server (mailbox from other
# threads), the capture sources and slot, and the builtin kernels' thread pool. A data race
# makes the binary exit non-zero (TSAN_OPTIONS halt_on_error), which counts as a failure.
# Output: the binaries' cmocka lines (counted by scripts/run-tests).
#   TSAN_BUILD  build folder (default build/tsan)
set -u
cd "$(dirname "$0")/.."
B=${TSAN_BUILD:-build/tsan}
TESTS="test_capture_source test_ipc_server test_camclass_client test_ops_fast test_ops_dwrow test_ops_workers test_daemon_lifecycle test_daemon_e2e"
JOBS=$(nproc 2>/dev/null || echo 2)
if ! make -s -j"$JOBS" BUILD="$B" OPT="-O1 -fsanitize=thread" LDFLAGS="-fsanitize=thread" unit-tests; then
	echo "[  FAILED  ] 1 test(s): ThreadSanitizer build"
	exit 1
fi
rc_all=0
for t in $TESTS; do
	[ -x "$B/tests/$t" ] || { echo "[  FAILED  ] 1 test(s): $t not built"; rc_all=1; continue; }
	echo "=== tsan $t"
	out=$(mktemp)
	CAMCLASS_BUILD=$B TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		timeout 900 "$B/tests/$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ]; then
		rc_all=1
		grep -q '^\[  FAILED  \] [0-9]* test' "$out" || echo "[  FAILED  ] 1 test(s): $t exited with status $rc (ThreadSanitizer report above?)"
	fi
	rm -f "$out"
done
exit $rc_all
