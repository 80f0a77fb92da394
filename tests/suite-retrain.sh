#!/bin/bash
# suite-retrain.sh — `camclass retrain` end to end on real bases and a task built from Debian's
# Fashion-MNIST (tools/train/retrain_task.py), checked by independent means:
#  - accuracy: within 2 points of scikit-learn's logistic regression on the very embeddings the
#    tool used (tools/train/retrain_reference.py on its --embeddings-out), for the float head
#    and for the written int8/uint8 file run through our engine;
#  - the file: the Python reader (tools/train/check_retrained.py over tflite_read.py) finds every
#    field where the schema puts it, metadata and zipped labels included; our engine loads it on
#    both backends (`camclass infer`) and `camclass classify` reads it with the written labels;
#  - bad input: no/one class folder, an empty class, unreadable and truncated images, a float
#    base, an unknown --embedding: clear errors (or a skipped image, named).
# Speed is measured by scripts/bench, not here. Ends with `retrain: N passed, M failed`.
set -u
cd "$(dirname "$0")/.."
B=${CAMCLASS_BUILD:-build}
M=$(realpath "${CAMCLASS_MODELS:-../shared/models}")
PY=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() { echo "retrain: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }

scripts/install-deps retrain || { bad "scripts/install-deps retrain"; finish; }
make -s BUILD="$B" "$B/camclass" || { bad "build $B/camclass"; finish; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$PY tools/train/retrain_task.py "$tmp/task" --per-class 40 > /dev/null || { bad "retrain_task.py"; finish; }
$PY tools/train/retrain_task.py "$tmp/small" --classes 1,3,8 --per-class 5 > /dev/null || { bad "retrain_task.py"; finish; }

# retrain BASE NAME DATA [args...]: runs with --json into $tmp/NAME/, leaves the JSON in $tmp/NAME/r.json
retrain() {
	local base=$1 name=$2 data=$3
	shift 3
	mkdir -p "$tmp/$name"
	nice -n 5 "$B/camclass" retrain --base "$base" --data "$data" --out "$tmp/$name/m.tflite" \
		--embeddings-out "$tmp/$name/emb.txt" --json "$@" > "$tmp/$name/r.json" 2> "$tmp/$name/err.log"
}

field() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# Accuracy against the reference, on the ImageNet MobileNetV2 (uint8) with half the images held out.
if retrain "$M/mobilenet_v2_1.0_224_quant.tflite" v2 "$tmp/task" --val-split 0.5 --l2 0.01 --threads 2; then
	ref=$($PY tools/train/retrain_reference.py "$tmp/v2/emb.txt" --l2 0.01 | $PY -c 'import json,sys; print(json.load(sys.stdin)["float_accuracy"])')
	fa=$(field "$tmp/v2/r.json" float_accuracy)
	ia=$(field "$tmp/v2/r.json" int8_accuracy)
	n=$(field "$tmp/v2/r.json" val_images)
	if $PY -c "import sys; sys.exit(0 if abs($fa - $ref) <= 0.02 and $n >= 100 else 1)"; then
		ok "MobileNetV2 base: float head $fa on $n held-out images, scikit-learn $ref (within 2 points)"
	else
		bad "MobileNetV2 base: float head $fa, scikit-learn $ref, $n held-out images"
	fi
	if $PY -c "import sys; sys.exit(0 if abs($ia - $ref) <= 0.02 else 1)"; then
		ok "MobileNetV2 base: the written uint8 file in our engine $ia, scikit-learn $ref (within 2 points)"
	else
		bad "MobileNetV2 base: written file $ia, scikit-learn $ref"
	fi
	grep -q "embedding: tensor .* 'MobilenetV2/Logits/AvgPool', 1280 values" "$tmp/v2/err.log" \
		&& ok "MobileNetV2: says which embedding it chose and its size" \
		|| { bad "MobileNetV2: embedding not reported"; cat "$tmp/v2/err.log"; }
else
	bad "retrain on MobileNetV2"; cat "$tmp/v2/err.log"
fi

# Every kind of base: written files pass the Python reader and load on both backends.
for base in mobilenet_v2_1.0_224_quant tf2_mobilenet_v2_1.0_224_ptq mobilenet_v1_0.25_128_quant vww_96_int8 \
	pretrainedResnet_quant demo; do
	path=$M/$base.tflite
	[ "$base" = demo ] && path=$PWD/models/demo/fashion.tflite
	name=b_$base
	if [ "$base" = mobilenet_v2_1.0_224_quant ]; then
		name=v2
	elif ! retrain "$path" "$name" "$tmp/small" --val-split 0.4 --epochs 100 --augment 1 --threads 2; then
		bad "retrain on $base"; cat "$tmp/$name/err.log"; continue
	fi
	[ -s "$tmp/$name/m.tflite" ] || { bad "$base: no model written"; continue; }
	counted=$(cd tools/train && $PY check_retrained.py --model "$tmp/$name/m.tflite" --base "$path" \
		--labels "$tmp/$name/labels.txt" 2>&1 | tail -1)
	case "$counted" in
	"train-retrained: ok "*" failed 0") ok "$base: Python reader: $counted" ;;
	*) bad "$base: Python reader: $counted"
	   (cd tools/train && $PY check_retrained.py --model "$tmp/$name/m.tflite" --base "$path" --labels "$tmp/$name/labels.txt") ;;
	esac
	size=$("$B/camclass" model-info --model "$tmp/$name/m.tflite" | sed -n 's/.*bytes=\([0-9]*\)$/\1/p' | head -1)
	head -c "$size" /dev/urandom > "$tmp/$name/in.bin"
	for be in builtin xnnpack; do
		if "$B/camclass" infer --model "$tmp/$name/m.tflite" --backend $be --input "$tmp/$name/in.bin" \
			--output "$tmp/$name/out.$be" > /dev/null 2>&1 && [ "$(stat -c %s "$tmp/$name/out.$be")" -gt 0 ]; then
			ok "$base: the written file runs on $be"
		else
			bad "$base: the written file does not run on $be"
		fi
	done
	img=$(ls "$tmp"/task/dress/*.jpg | head -1)
	if "$B/camclass" classify --model "$tmp/$name/m.tflite" --labels "$tmp/$name/labels.txt" --top-k 1 "$img" \
		> "$tmp/$name/cls.txt" 2>&1; then
		ok "$base: camclass classify with the written labels: $(cat "$tmp/$name/cls.txt")"
	else
		bad "$base: classify: $(cat "$tmp/$name/cls.txt")"
	fi
done

# --embedding: another tensor (MobileNetV1's last 4x4x256 feature map instead of its pooled 256).
emb_name=$(cd tools/train && $PY -c 'import sys, tflite_read as R
g = R.read(sys.argv[1], strict=False)
print([t["name"] for t in g["tensors"] if t["name"].startswith("MobilenetV1/MobilenetV1/Conv2d_13_depthwise/Relu6")][0])' \
	"$M/mobilenet_v1_0.25_128_quant.tflite")
if retrain "$M/mobilenet_v1_0.25_128_quant.tflite" named "$tmp/small" --embedding "$emb_name" --epochs 50 \
	&& grep -q "4096 values (uint8 .*), named by --embedding" "$tmp/named/err.log" \
	&& [ "$(field "$tmp/named/r.json" embedding | grep -c 4096)" = 1 ]; then
	ok "--embedding names a 4x4x256 feature map: 4096 features, model written"
else
	bad "--embedding: $(tail -2 "$tmp/named/err.log")"
fi

# Bad input: each a clear message naming what.
expect_error() { # what needle args...
	local what=$1 needle=$2 out
	shift 2
	out=$("$B/camclass" retrain "$@" 2>&1)
	if [ $? = 1 ] && grep -q -- "$needle" <<< "$out"; then
		ok "$what: $(grep -- "$needle" <<< "$out" | head -1)"
	else
		bad "$what: expected '$needle', got: $out"
	fi
}
v1=$M/mobilenet_v1_0.25_128_quant.tflite
mkdir -p "$tmp/none" "$tmp/one/cat" "$tmp/emptycls/a" "$tmp/emptycls/b"
cp "$(ls "$tmp"/task/coat/*.jpg | head -1)" "$tmp/one/cat/"
cp "$(ls "$tmp"/task/coat/*.jpg | head -1)" "$tmp/emptycls/a/"
expect_error "no class folders" "no class folders" --base "$v1" --data "$tmp/none" --out "$tmp/x.tflite"
expect_error "one class" "only one class folder" --base "$v1" --data "$tmp/one" --out "$tmp/x.tflite"
expect_error "an empty class" "no images .* for class 'b'" --base "$v1" --data "$tmp/emptycls" --out "$tmp/x.tflite"
expect_error "a float base" "float" --base "$M/pretrainedResnet.tflite" --data "$tmp/task" --out "$tmp/x.tflite"
expect_error "unknown --embedding" "no tensor named 'nope'" --base "$v1" --embedding nope --data "$tmp/task" --out "$tmp/x.tflite"
expect_error "missing base" "cannot open" --base "$tmp/absent.tflite" --data "$tmp/task" --out "$tmp/x.tflite"
mkdir -p "$tmp/broken/a" "$tmp/broken/b"
for c in a b; do cp "$(ls "$tmp"/task/coat/*.jpg | head -3)" "$tmp/broken/$c/" 2>/dev/null
	cp $(ls "$tmp"/task/dress/*.jpg | head -3) "$tmp/broken/$c/"; done
good=$(ls "$tmp"/broken/a/*.jpg | head -1)
head -c 2000 "$good" > "$tmp/broken/a/truncated.jpg"
echo "not an image" > "$tmp/broken/b/text.jpg"
: > "$tmp/broken/b/empty.png"
out=$("$B/camclass" retrain --base "$v1" --data "$tmp/broken" --out "$tmp/broken.tflite" --epochs 20 2>&1)
if [ $? = 0 ] && grep -q "truncated.jpg: skipped" <<< "$out" && grep -q "text.jpg: skipped" <<< "$out" \
	&& grep -q "empty.png: skipped: empty file" <<< "$out"; then
	ok "unreadable, truncated and empty images are skipped by name; the rest trains"
else
	bad "broken images: $out"
fi
if "$B/camclass" retrain --base "$v1" --data "$tmp/task" --out "$tmp/no/such/dir/m.tflite" --epochs 5 > "$tmp/nodir.log" 2>&1; then
	bad "an unwritable --out succeeded"
elif grep -q "cannot create a temporary file" "$tmp/nodir.log"; then
	ok "unwritable --out: $(grep 'cannot create' "$tmp/nodir.log")"
else
	bad "unwritable --out: $(cat "$tmp/nodir.log")"
fi
finish
