#!/usr/bin/python3
"""check_engine.py — check our engine against int8_ref.py bit for bit on an exported model.

    tools/train/check_engine.py --model M.tflite [--camclass build/camclass]
        [--images DIR] [--fashion-mnist [DIR]] [--count N] [--random N] [--min-accuracy A]

The model is read back from the file (tflite_read.py: also checks the structure any runtime
expects), then each input — N random int8 tensors, N images of an image folder (camera view at
the model's input size) or N Fashion-MNIST test images rendered as the demo clip shows them — goes
through `camclass infer` and through the numpy reference; every output byte must be equal.
With --min-accuracy, the engine's top-1 on the labelled images must reach A.
Prints one line per failure and ends with `train-check: ok N failed M` (the suite adds these up).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine_run  # noqa: E402
import fashion_mnist  # noqa: E402
import int8_ref  # noqa: E402
import tflite_read  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--camclass", default=os.path.join(os.environ.get("CAMCLASS_BUILD", "build"), "camclass"))
    p.add_argument("--images")
    p.add_argument("--fashion-mnist", nargs="?", const=fashion_mnist.DEFAULT_DIR)
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--random", type=int, default=0)
    p.add_argument("--min-accuracy", type=float)
    p.add_argument("--ref-count", type=int, default=0,
                   help="compare only the first N inputs with int8_ref.py (0 = all); accuracy uses all")
    p.add_argument("--seed", type=int, default=5)
    a = p.parse_args(argv)
    passed = failed = 0

    def result(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}", flush=True)

    try:
        graph = tflite_read.read(a.model)
    except (tflite_read.ModelError, OSError, KeyError, ValueError) as e:
        result(False, f"read {a.model}: {e}")
        print(f"train-check: ok {passed} failed {failed}")
        return 1
    result(True, "read")
    in_t = graph["tensors"][graph["inputs"][0]]
    out_t = graph["tensors"][graph["outputs"][0]]
    _, h, w, c = in_t["shape"]
    rng = np.random.RandomState(a.seed)

    cases, labels, names = [], [], []
    for i in range(a.random):
        cases.append(rng.randint(-128, 128, (h, w, c)).astype(np.int8))
        labels.append(-1)
        names.append(f"random {i}")
    if a.images:
        import data
        x, y, _ = data.load_folder(a.images, h, c == 1)
        pick = rng.permutation(len(y))[:a.count]
        for i in pick:
            cases.append((x[i].astype(np.int16) - 128).astype(np.int8))
            labels.append(int(y[i]))
            names.append(f"image {i}")
    if a.fashion_mnist:
        items, ylab = fashion_mnist.load(a.fashion_mnist, "t10k")
        for i in range(min(a.count, len(ylab))):
            view = np.asarray(fashion_mnist.camera_view(fashion_mnist.render_frame(items[i]), h))
            view = view[:, :, :c] if c == 3 else view[:, :, :1]
            cases.append((view.astype(np.int16) - 128).astype(np.int8))
            labels.append(int(ylab[i]))
            names.append(f"fashion test {i}")
    if not cases:
        p.error("no inputs: give --random, --images or --fashion-mnist")
    x = np.stack(cases)
    n_ref = len(x) if a.ref_count <= 0 else min(len(x), a.ref_count)
    ref = np.concatenate([int8_ref.run(graph, x[i:min(i + 200, n_ref)]) for i in range(0, n_ref, 200)])
    ref = ref.reshape(n_ref, -1)
    try:
        eng = engine_run.infer(a.camclass, a.model, x, (int(np.prod(out_t["shape"])),))
    except (engine_run.EngineError, OSError) as e:
        result(False, f"engine: {e}")
        print(f"train-check: ok {passed} failed {failed}")
        return 1
    mismatches = 0
    for i, name in enumerate(names[:n_ref]):
        ok = bool((eng[i] == ref[i]).all())
        if not ok:
            mismatches += 1
            if mismatches <= 5:
                print(f"FAIL {name}: engine {eng[i].tolist()} != int8_ref {ref[i].tolist()}", flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
    print(f"train-check: {n_ref - mismatches}/{n_ref} outputs equal to int8_ref.py", flush=True)
    lab = np.array(labels)
    has = lab >= 0
    if has.any():
        eng_acc = float((eng[has].argmax(1) == lab[has]).mean())
        print(f"train-check: engine top-1 on {int(has.sum())} labelled images: {eng_acc:.4f}", flush=True)
        if a.min_accuracy is not None:
            result(eng_acc >= a.min_accuracy, f"engine accuracy {eng_acc:.4f} < {a.min_accuracy}")
    print(f"train-check: ok {passed} failed {failed}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
