#!/usr/bin/python3
"""check_float_io.py — a --float-io export against the plain int8 export of the same trained model.

    tools/train/check_float_io.py --int8 M.tflite --float F.tflite --labels L --images DIR
        [--camclass build/camclass] [--count N] [--random N]

The float-I/O file is the one the TFLite converter's default full-integer recipe gives: float32
input → QUANTIZE → int8 body → DEQUANTIZE → float32 output. Checks, all on our engine:
- F reads back (tflite_read.py, strict op versions) as exactly M's body between a QUANTIZE from a
  float32 input and a DEQUANTIZE to a float32 output.
- `camclass infer` on F with x = scale·(q − zp) (float32) gives, for N random int8 tensors q,
  exactly the float32 of (double scale)·(y − zp) of M's int8 output y (TFLite's Dequantize),
  and exactly int8_ref.py's output for F.
- `camclass classify --json` (capture's decode + preprocessing, the daemon's path) ranks every
  class of N images of DIR identically with M and F, with equal scores.
Prints one line per failure and ends with `train-floatio: ok N failed M`.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine_run  # noqa: E402
import int8_ref  # noqa: E402
import tflite_read  # noqa: E402


def classify(camclass, model, labels, images, top_k):
    r = subprocess.run([camclass, "classify", "--model", model, "--labels", labels, "--json",
                        "--top-k", str(top_k)] + images,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"classify {model} exit {r.returncode}: {r.stderr.strip()}")
    return [json.loads(line) for line in r.stdout.splitlines()]


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--int8", required=True)
    p.add_argument("--float", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--images", required=True)
    p.add_argument("--camclass", default=os.path.join(os.environ.get("CAMCLASS_BUILD", "build"), "camclass"))
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--random", type=int, default=3)
    p.add_argument("--seed", type=int, default=9)
    a = p.parse_args(argv)
    passed = failed = 0

    def result(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}", flush=True)
        return ok

    try:
        g8 = tflite_read.read(a.int8)
        gf = tflite_read.read(a.float)
    except (tflite_read.ModelError, OSError, KeyError, ValueError) as e:
        result(False, f"read: {e}")
        print(f"train-floatio: ok {passed} failed {failed}")
        return 1
    t8, tf = g8["tensors"], gf["tensors"]
    fin, fout = gf["inputs"][0], gf["outputs"][0]
    first, last = gf["ops"][0], gf["ops"][-1]
    body = [(o["op"], o["options"]) for o in g8["ops"]]
    structure = (tf[fin]["dtype"] == "float32" and tf[fout]["dtype"] == "float32" and
                 first["op"] == "QUANTIZE" and first["inputs"] == [fin] and
                 last["op"] == "DEQUANTIZE" and last["outputs"] == [fout] and
                 [(o["op"], o["options"]) for o in gf["ops"][1:-1]] == body and
                 tf[first["outputs"][0]]["scale"] == t8[g8["inputs"][0]]["scale"] and
                 tf[last["inputs"][0]]["scale"] == t8[g8["outputs"][0]]["scale"])
    result(structure, f"{a.float} is not float32 → QUANTIZE → {a.int8}'s body → DEQUANTIZE → float32")

    in_q = t8[g8["inputs"][0]]
    out_q = t8[g8["outputs"][0]]
    _, h, w, c = in_q["shape"]
    n_out = int(np.prod(out_q["shape"]))
    rng = np.random.RandomState(a.seed)
    q = rng.randint(-128, 128, (a.random, h, w, c)).astype(np.int8)
    x = np.float32(in_q["scale"][0]) * (q.astype(np.int32) - in_q["zero_point"][0]).astype(np.float32)
    try:
        y8 = engine_run.infer(a.camclass, a.int8, q, (n_out,))
        yf = engine_run.infer(a.camclass, a.float, x, (n_out,), np.float32)
    except (engine_run.EngineError, OSError) as e:
        result(False, f"engine: {e}")
        print(f"train-floatio: ok {passed} failed {failed}")
        return 1
    want = (float(np.float32(out_q["scale"][0])) *
            (y8.astype(np.int64) - out_q["zero_point"][0]).astype(np.float64)).astype(np.float32)
    ref = int8_ref.run(gf, x).reshape(a.random, n_out)
    for i in range(a.random):
        result(np.array_equal(yf[i], want[i]),
               f"random {i}: float model {yf[i].tolist()} != dequantized int8 model {want[i].tolist()}")
        result(np.array_equal(yf[i], ref[i]),
               f"random {i}: float model {yf[i].tolist()} != int8_ref.py {ref[i].tolist()}")

    images = []
    for label in sorted(os.listdir(a.images)):
        d = os.path.join(a.images, label)
        images += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".jpg")][:max(1, a.count // 3)]
    images = images[:a.count]
    try:
        r8 = classify(a.camclass, a.int8, a.labels, images, n_out)
        rf = classify(a.camclass, a.float, a.labels, images, n_out)
    except (RuntimeError, OSError, ValueError) as e:
        result(False, f"classify: {e}")
        print(f"train-floatio: ok {passed} failed {failed}")
        return 1
    result(len(r8) == len(images) == len(rf), f"classify gave {len(r8)}/{len(rf)} results for {len(images)} images")
    for a8, af in zip(r8, rf):
        rank8 = [(e["index"], e["score"]) for e in a8["labels"]]
        rankf = [(e["index"], e["score"]) for e in af["labels"]]
        result(rank8 == rankf and len(rank8) == n_out,
               f"classify {a8['image']}: int8 model {rank8} != float-I/O model {rankf}")
    print(f"train-floatio: {len(images)} images, top-1 of the int8 model: "
          f"{[r['labels'][0]['label'] for r in r8]}", flush=True)
    print(f"train-floatio: ok {passed} failed {failed}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
