"""export.py — quantize a trained model, write model.tflite + labels.txt, report float vs int8.

The int8 figure comes from our own engine (`camclass infer`, one process per held-out image), so
it measures the file users will deploy. The same images also go through int8_ref.py, and the
report says how many engine outputs equal the numpy reference byte for byte. When the engine
is missing or fails, the report says so and gives the numpy reference figure, labelled as such.
"""
import os

import numpy as np

import engine_run
import int8_ref
import quantize
import tflite_writer


REF_CROSSCHECK_IMAGES = 1000


def held_out_int8(ds, limit):
    x = ds.held_x if limit <= 0 else ds.held_x[:limit]
    y = ds.held_y if limit <= 0 else ds.held_y[:limit]
    return (x.astype(np.int16) - 128).astype(np.int8), y


def as_model_input(graph, x_int8):
    """The int8 input tensors as the model takes them: unchanged, or for a float-input model
    (--float-io) their real values scale·(q − zp) in float32, which its QUANTIZE maps back to q."""
    t = graph["tensors"][graph["inputs"][0]]
    if t["dtype"] != "float32":
        return x_int8
    q = graph["tensors"][graph["ops"][0]["outputs"][0]]
    return np.float32(q["scale"][0]) * (x_int8.astype(np.int32) - q["zero_point"][0]).astype(np.float32)


def reference_outputs(graph, x, batch=200):
    return np.concatenate([int8_ref.run(graph, x[i:i + batch]) for i in range(0, len(x), batch)])


def export_and_report(model, ds, args, float_acc, calib_x):
    model.eval()
    graph = quantize.build_graph(model, calib_x, args.size, ds.channels)
    if getattr(args, "float_io", False):
        graph = quantize.with_float_io(graph)
    nbytes = tflite_writer.write(graph, args.out)
    labels_path = args.labels_out or os.path.join(os.path.dirname(os.path.abspath(args.out)), "labels.txt")
    with open(labels_path, "w") as f:
        f.write("".join(name + "\n" for name in ds.classes))
    print(f"train: wrote {args.out} ({nbytes} bytes), {labels_path}", flush=True)

    x, y = held_out_int8(ds, args.eval_limit)
    x = as_model_input(graph, x)
    out_dtype = np.float32 if graph["tensors"][graph["outputs"][0]]["dtype"] == "float32" else np.int8
    n_classes = len(ds.classes)
    print(f"train: {ds.held_name}: float accuracy {float_acc:.4f} (all {len(ds.held_y)} images)", flush=True)
    engine = engine_run.available(args.camclass)
    # The numpy reference is slower than the engine: with the engine it only cross-checks a subset.
    n_ref = min(len(y), REF_CROSSCHECK_IMAGES) if engine else len(y)
    ref = reference_outputs(graph, x[:n_ref])
    ref_acc = float((ref.argmax(1) == y[:n_ref]).mean()) if n_ref else 0.0
    print(f"train: int8 numpy reference (int8_ref.py) accuracy {ref_acc:.4f} on {n_ref} images",
          flush=True)
    if not engine:
        print(f"train: {args.camclass} not found: no engine figure (build it with make)", flush=True)
        return 0
    try:
        eng = engine_run.infer(args.camclass, args.out, x, (n_classes,), out_dtype)
    except engine_run.EngineError as e:
        print(f"train: engine run failed: {e}", flush=True)
        return 1
    eng_acc = float((eng.argmax(1) == y).mean()) if len(y) else 0.0
    exact = int((eng[:n_ref] == ref).all(axis=1).sum())
    print(f"train: int8 accuracy through {args.camclass} infer {eng_acc:.4f} on {len(y)} images "
          f"(float {float_acc:.4f}); engine output == int8_ref.py exactly on {exact}/{n_ref}",
          flush=True)
    return 0 if exact == n_ref else 1
