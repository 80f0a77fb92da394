#!/bin/bash
# suite-models.sh — the model forms beyond int8 Keras classifiers, end to end through the real
# `camclass`: tests/models/gen.py writes small TFLite models at test time (tools/train's writer;
# nothing binary is committed) — float32 with the PyTorch-export ops (TRANSPOSE from NCHW,
# STRIDED_SLICE, BATCH_MATMUL, PADV2, SUB, MAXIMUM/MINIMUM, FULLY_CONNECTED keep_num_dims / no
# bias), float16 weights, dynamic-range int8 weights, the int8 versions of the new ops and a
# per-channel FULLY_CONNECTED under op version 4 — with numpy reference outputs. Each model runs
# on the builtin and the xnnpack backend (`camclass infer`): float outputs within 1e-5 of the
# reference, int8 outputs bit-exact, same top-1 (tests/models/check.py). model-info must say
# what load did (fp16 / dynamic-range weights, NCHW input). Needs python3-numpy and
# python3-flatbuffers (install-deps test). Ends with `models: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
PY=/usr/bin/python3           # Debian's interpreter: numpy/flatbuffers are Debian packages
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "models: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

make -s BUILD="$B" "$B/camclass" || { bad "build $B/camclass"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY tests/models/gen.py "$tmp" || { bad "tests/models/gen.py"; finish; }

backends="builtin"
# the xnnpack backend when this build has it (a build without refuses it by name)
"$B/camclass" infer --model "$tmp/f32_pytorch_like.tflite" --input "$tmp/f32_pytorch_like.in" \
	--output "$tmp/probe.out" --backend xnnpack > "$tmp/log" 2>&1 && backends="builtin xnnpack"
grep -q "backend xnnpack not available in this build" "$tmp/log" && echo "(xnnpack not built in: builtin only)"
while IFS=$'\t' read -r name dtype tol; do
	for b in $backends; do
		if ! "$B/camclass" infer --model "$tmp/$name.tflite" --input "$tmp/$name.in" \
			--output "$tmp/$name.$b.out" --backend "$b" > "$tmp/log" 2>&1; then
			bad "$name ($b): camclass infer failed: $(tail -1 "$tmp/log")"
		elif res=$($PY tests/models/check.py "$tmp/$name.want" "$tmp/$name.$b.out" "$dtype" "$tol"); then
			ok "$name ($b): $res"
		else
			bad "$name ($b): $res"
		fi
	done
done < "$tmp/cases.tsv"

# model-info reports what the engine did at load.
info() { "$B/camclass" model-info --model "$tmp/$1.tflite" 2>&1; }
expect_info() {
	if info "$1" | grep -qF -- "$2"; then ok "model-info $1: '$2'"; else bad "model-info $1 lacks '$2'"; fi
}
expect_info f32_fp16_weights "weights: 2 float16 tensors dequantized to float32 at load"
expect_info f32_dynamic_weights "weights: dynamic-range model, 2 int8 weight tensors dequantized to float32 at load"
expect_info f32_pytorch_like "input_layout: NCHW in the file; its TRANSPOSE to NHWC is folded into preprocessing"
expect_info f32_pytorch_like "input: 'nhwc' float32 [1,10,10,3]"
expect_info f32_nchw_direct "input_layout: NCHW (channels first)"
expect_info f32_pytorch_like "output_kind: probabilities"
expect_info f32_dynamic_weights "output_kind: logits"
expect_info f32_dynamic_weights "preprocessing: float32, (pixel - 127.5) / 127.5 default"
finish
