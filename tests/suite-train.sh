#!/bin/bash
# suite-train.sh — tools/train end to end, and the built-in demo model, against our engine.
#
# Trains tiny models (1 epoch, RGB and grey) on a generated image folder, exports them, reads
# the files back (structure any TFLite runtime expects) and checks that `camclass infer` gives
# exactly the bytes of tools/train/int8_ref.py (numpy, TFLite's integer semantics) on random
# tensors and on real images, and that a --float-io export of the same model gives the same
# answers (check_float_io.py); int8_ref.py itself is first checked against TFLite 2.8's own
# reference outputs on two converter-made models from ../shared/models (CAMCLASS_MODELS). Then checks the committed demo model the same way and its claim:
# ≥ 88 % top-1 through our engine on 1000 Fashion-MNIST test images rendered as the demo clip.
# The only part of `make test` that needs PyTorch: it installs the `train` group itself.
# Ends with one line `train: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
PY=/usr/bin/python3           # Debian's interpreter: torch/numpy/PIL are Debian packages
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "train: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

scripts/install-deps train || { bad "scripts/install-deps train"; finish; }
make -s BUILD="$B" "$B/camclass" "$B/camclassd" || { bad "build $B/camclass $B/camclassd"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs a checker that ends with "train-<what>: ok N failed M" and adds that to the totals.
counted() {
	local what=$1 log=$tmp/check.log line n m
	shift
	nice -n 10 "$@" > "$log" 2>&1
	cat "$log"
	line=$(grep -E '^train-[a-z]+: ok [0-9]+ failed [0-9]+$' "$log" | tail -1)
	if [ -z "$line" ]; then
		bad "$what: $(basename "$2") gave no result"
		return
	fi
	n=$(echo "$line" | awk '{print $3}')
	m=$(echo "$line" | awk '{print $5}')
	pass=$((pass + n)); fail=$((fail + m))
	echo "--   $what: $n ok, $m failed"
}

# The numpy reference itself, against TFLite 2.8's outputs on converter-made models.
counted "int8_ref == TFLite reference" $PY tools/train/check_ref_cases.py "${CAMCLASS_MODELS:-../shared/models}"

check() { local what=$1; shift; counted "$what" $PY tools/train/check_engine.py --camclass "$B/camclass" "$@"; }

$PY tools/train/synth_folder.py "$tmp/data" --per-class 30 || { bad "synth_folder.py"; finish; }

for variant in rgb gray; do
	opts=(--size 32)
	[ "$variant" = gray ] && opts=(--size 24 --gray)
	out=$tmp/$variant
	mkdir -p "$out"
	if nice -n 10 $PY tools/train/train.py --data "$tmp/data" --out "$out/m.tflite" "${opts[@]}" \
		--epochs 1 --batch 16 --threads 2 --eval-limit 8 --camclass "$B/camclass" > "$out/train.log" 2>&1 \
		&& [ -s "$out/m.tflite" ]; then
		ok "train.py $variant: 1 epoch, exported $(stat -c %s "$out/m.tflite") bytes"
	else
		bad "train.py $variant"; cat "$out/train.log"; continue
	fi
	if [ "$(cat "$out/labels.txt" 2>/dev/null | tr '\n' ' ')" = "disc square stripes " ]; then
		ok "labels.txt $variant lists the class folders in order"
	else
		bad "labels.txt $variant: '$(cat "$out/labels.txt" 2>/dev/null)'"
	fi
	if grep -q "int8 accuracy through $B/camclass infer" "$out/train.log"; then
		ok "train.py $variant reports int8 accuracy through the engine"
	else
		bad "train.py $variant: no engine accuracy in its report"; cat "$out/train.log"
	fi
	check "engine == int8_ref ($variant tiny model)" --model "$out/m.tflite" --random 3 \
		--images "$tmp/data" --count 4
done

# The same trained model exported with float32 input/output around the int8 body (what the TFLite
# converter's default full-integer recipe writes): same answers, dequantized scores, through the
# engine and through `camclass classify` (the daemon's preprocessing path).
fio=$tmp/fio
mkdir -p "$fio"
if nice -n 10 $PY tools/train/train.py --data "$tmp/data" --out "$fio/f.tflite" --size 32 --epochs 0 \
	--resume "$tmp/rgb/m.pt" --float-io --threads 2 --eval-limit 8 --camclass "$B/camclass" \
	> "$fio/export.log" 2>&1 && grep -q "int8 accuracy through $B/camclass infer" "$fio/export.log"; then
	ok "train.py --float-io: exported $(stat -c %s "$fio/f.tflite") bytes, engine == int8_ref.py in its report"
else
	bad "train.py --float-io"; cat "$fio/export.log"
fi
# model-info on the float-I/O model names the quantization its QUANTIZE applies: the int8
# model's own input quantization (same weights, same calibration).
q8=$("$B/camclass" model-info --model "$tmp/rgb/m.tflite" | sed -n "s/^input: .* \(scale=[^ ]* zero_point=[^ ]*\) .*/\1/p")
qf=$("$B/camclass" model-info --model "$fio/f.tflite" | sed -n "s/^input: .* quantized_by_model=int8 \(scale=[^ ]* zero_point=[^ ]*\).*/\1/p")
if [ -n "$q8" ] && [ "$q8" = "$qf" ]; then
	ok "model-info: float input quantized_by_model=int8 $qf, as the int8 model's input"
else
	bad "model-info: float input says '$qf', int8 model input '$q8'"
fi
counted "float-I/O model == int8 model (rgb)" $PY tools/train/check_float_io.py --camclass "$B/camclass" \
	--int8 "$tmp/rgb/m.tflite" --float "$fio/f.tflite" --labels "$tmp/rgb/labels.txt" \
	--images "$tmp/data" --count 6 --random 3

# The daemon on the float-I/O model: it loads it and says what the offline classifier says with the
# int8 model about the same (replayed) picture.
img=$(ls "$tmp"/data/disc/*.jpg | head -1)
mkdir -p "$fio/frames"; cp "$img" "$fio/frames/"
printf '%s\n' "[camera]" "source = file" "file = $fio/frames" "fps = 10" \
	"[model]" "path = $fio/f.tflite" "labels = $fio/labels.txt" "backend = builtin" "crop = full" \
	"resize = area" "[classify]" "top_k = 1" "threshold = 0" "[socket]" "path = $fio/d.sock" > "$fio/d.ini"
"$B/camclassd" -c "$fio/d.ini" > "$fio/daemon.log" 2>&1 &
dpid=$!
want=$("$B/camclass" classify --model "$tmp/rgb/m.tflite" --labels "$tmp/rgb/labels.txt" --top-k 1 "$img" \
	| awk '{print $3}')
got=
for _ in $(seq 50); do
	got=$("$B/camclass" --socket "$fio/d.sock" latest --top-k 1 --threshold 0 --json 2>/dev/null \
		| $PY -c 'import json,sys; print(json.loads(sys.stdin.readline())["labels"][0]["label"])' 2>/dev/null) \
		&& [ -n "$got" ] && break
	sleep 0.2
done
kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
if [ -n "$want" ] && [ "$got" = "$want" ] && grep -q "input 32x32x3 float32" "$fio/daemon.log"; then
	ok "camclassd with the float-I/O model: top-1 '$got', as classify says with the int8 model"
else
	bad "camclassd with the float-I/O model: top-1 '$got', offline int8 '$want'"; cat "$fio/daemon.log"
fi

check "demo model" --model models/demo/fashion.tflite --random 2 --fashion-mnist --count 1000 \
	--ref-count 60 --min-accuracy 0.88
finish
