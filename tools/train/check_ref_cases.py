#!/usr/bin/python3
"""check_ref_cases.py — int8_ref.py against TensorFlow Lite's own outputs on converter-made models.

    tools/train/check_ref_cases.py MODELS_DIR

For the shared models built from exactly the ops tools/train emits (vww_96_int8: CONV_2D v3,
DEPTHWISE_CONV_2D v3, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX; person_detect:
depthwise with multiplier 8), every case of MODELS_DIR/ref/cases.tsv is run through
tflite_read.py + int8_ref.py and must equal TFLite 2.8's reference-kernel output byte for byte.
This pins the numpy reference (and the schema field ids of the reader) to TFLite itself,
independently of our C engine. Ends with `train-ref: ok N failed M`.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import int8_ref  # noqa: E402
import tflite_read  # noqa: E402

MODELS = ("vww_96_int8.tflite", "person_detect.tflite")


def main(argv):
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    root = argv[0]
    passed = failed = 0
    try:
        with open(os.path.join(root, "ref", "cases.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
    except OSError as e:
        print(f"FAIL {root}: {e} (set CAMCLASS_MODELS to the shared models folder)")
        print("train-ref: ok 0 failed 1")
        return 1
    graphs = {}
    for row in rows:
        model, case, inp, ref_out = row[0], row[1], row[2], row[3]
        if model not in MODELS:
            continue
        try:
            if model not in graphs:
                graphs[model] = tflite_read.read(os.path.join(root, model), strict=False)
            g = graphs[model]
            shape = g["tensors"][g["inputs"][0]]["shape"]
            x = np.fromfile(os.path.join(root, inp), dtype=np.int8).reshape([1] + shape[1:])
            got = int8_ref.run(g, x).reshape(-1)
            want = np.fromfile(os.path.join(root, ref_out), dtype=np.int8)
            ok = got.shape == want.shape and bool((got == want).all())
            detail = f"int8_ref {got.tolist()} TFLite {want.tolist()}"
        except (OSError, ValueError, KeyError, tflite_read.ModelError) as e:
            ok, detail = False, str(e)
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {model} {case}: {detail}")
    if passed + failed == 0:
        print(f"FAIL {root}: none of {', '.join(MODELS)} in ref/cases.tsv")
        failed = 1
    print(f"train-ref: {passed} of {passed + failed} TFLite reference outputs reproduced exactly")
    print(f"train-ref: ok {passed} failed {failed}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
