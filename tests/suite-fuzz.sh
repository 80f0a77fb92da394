#!/bin/bash
# suite-fuzz.sh — builds every libFuzzer target (make fuzz: clang, ASan+UBSan) and runs each for
# a bounded time; a crash, leak, timeout or OOM in a target fails it. Ends with one line
# "fuzz: N passed, M failed" counting targets (scripts/run-tests reads it).
#
#   fuzz_model   FUZZ_MODEL_SECONDS (default 60) with the shared real models as seed corpus
#   others       FUZZ_SECONDS (default 20) each, seeded from fuzz/seeds-<name>/ (copied) and/or
#                by an executable fuzz/seed_<name> run with the corpus folder as its argument
#                (<name> is the target without its fuzz_ prefix; the full name works too)
# Corpora and crash artifacts live in a temporary folder, never in the repository; on failure
# the folder is kept and named so the crashing input can be replayed.
set -u
cd "$(dirname "$0")/.."
root=$PWD
MODELS=${CAMCLASS_MODELS:-../shared/models}
MODEL_SECONDS=${FUZZ_MODEL_SECONDS:-60}
OTHER_SECONDS=${FUZZ_SECONDS:-20}
passed=0
failed=0

if ! command -v clang >/dev/null; then
	echo "suite-fuzz: clang not found (scripts/install-deps test)"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
make -s -k -j"$(nproc 2>/dev/null || echo 2)" fuzz || echo "suite-fuzz: make fuzz reported errors"

work=$(mktemp -d "${TMPDIR:-/tmp}/camclass-fuzz-XXXXXX")
keep=0
for src in fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	target=$(basename "$src" .c)
	short=${target#fuzz_}
	bin=build/fuzz/$target
	if [ ! -x "$bin" ]; then
		echo "suite-fuzz: $target did not build"
		failed=$((failed + 1))
		continue
	fi
	corpus=$work/$target/corpus
	mkdir -p "$corpus"
	seconds=$OTHER_SECONDS
	extra=()
	if [ "$target" = fuzz_model ]; then
		seconds=$MODEL_SECONDS
		if ! ls "$MODELS"/*.tflite >/dev/null 2>&1; then
			echo "suite-fuzz: no models in $MODELS (set CAMCLASS_MODELS)"
			failed=$((failed + 1))
			continue
		fi
		cp "$MODELS"/*.tflite "$corpus"/
		# the small real models fit whole; the 224x224 ones are cut, which exercises truncation
		extra=(-max_len=600000)
	fi
	for name in "$short" "$target"; do
		[ -d "fuzz/seeds-$name" ] && cp -r "fuzz/seeds-$name"/. "$corpus"/
		[ -x "fuzz/seed_$name" ] && "fuzz/seed_$name" "$corpus"
	done
	echo "=== $target: ${seconds}s, $(ls "$corpus" | wc -l) seed(s)"
	if (cd "$work/$target" && "$root/$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
		-artifact_prefix="$work/$target/" -print_final_stats=1 "${extra[@]}" corpus) \
		>"$work/$target/log" 2>&1; then
		tail -n 3 "$work/$target/log"
		passed=$((passed + 1))
	else
		tail -n 40 "$work/$target/log"
		echo "suite-fuzz: $target FAILED; log and crashing input in $work/$target/"
		failed=$((failed + 1))
		keep=1
	fi
done
[ "$keep" = 0 ] && rm -rf "$work"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
