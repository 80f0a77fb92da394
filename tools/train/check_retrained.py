#!/usr/bin/python3
"""check_retrained.py — read a model written by `camclass retrain` with the independent Python reader.

    check_retrained.py --model NEW.tflite --base BASE.tflite --labels labels.txt

tflite_read.py (python3-flatbuffers' Table reader, schema.fbs field ids) walks the file; this
checks what the issue asks for, each where the schema puts it: the base's input tensor unchanged,
the operators end in FULLY_CONNECTED (8-bit per-tensor weights of the body's type, int32 bias at
input scale × weight scale, zero point 0) and SOFTMAX (scale 1/256), then at most one conversion
back to the base's output type; the old head's weights are gone; the model's "TFLITE_METADATA"
entry names a buffer holding a ModelMetadata flatbuffer (identifier M001) whose output tensor
lists the associated file labels.txt as TENSOR_AXIS_LABELS; that file is in the zip appended to
the flatbuffer (read with Python's zipfile) and equals the labels file.
Ends with `train-retrained: ok N failed M`.
"""
import argparse
import io
import sys
import zipfile

import flatbuffers
from flatbuffers import number_types as N
import numpy as np

import tflite_read as R

ok = failed = 0


def check(cond, what):
    global ok, failed
    if cond:
        ok += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}")


def root_table(buf):
    return R.T(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--base", required=True)
    p.add_argument("--labels", required=True)
    a = p.parse_args(argv)
    labels = open(a.labels).read().splitlines()
    g = R.read(a.model, strict=False)
    base = R.read(a.base, strict=False)
    t = g["tensors"]
    bt = base["tensors"]
    gin, bin_ = t[g["inputs"][0]], bt[base["inputs"][0]]
    check(all(gin[k] == bin_[k] for k in ("shape", "dtype", "scale", "zero_point")),
          f"input '{gin['name']}' {gin['dtype']}{gin['shape']} as the base's")
    out, bout = t[g["outputs"][0]], bt[base["outputs"][0]]
    check(out["dtype"] == bout["dtype"] and out["shape"] == [1, len(labels)],
          f"output {out['dtype']}{out['shape']}: the base's type, one score per label ({len(labels)})")
    ops = [o["op"] for o in g["ops"]]
    tail = ops[-3:] if ops[-1] in ("QUANTIZE", "DEQUANTIZE") else ops[-2:]
    check(tail[:2] == ["FULLY_CONNECTED", "SOFTMAX"], f"operators end {' '.join(tail)}")
    fc = [o for o in g["ops"] if o["op"] == "FULLY_CONNECTED"][-1]
    x, w, b = (t[i] for i in fc["inputs"])
    body = x["dtype"]
    check(w["dtype"] == body and len(w["scale"]) == 1 and w["shape"] == [len(labels), int(np.prod(x["shape"]))],
          f"weights {w['dtype']} per-tensor {w['shape']} on the {body} embedding '{x['name']}'")
    check(body != "int8" or (w["zero_point"] == [0] and int(np.abs(w["data"].astype(np.int32)).max()) <= 127),
          "int8 weights symmetric in [-127, 127] (uint8 bases: asymmetric uint8)")
    check(b["dtype"] == "int32" and b["zero_point"] == [0] and
          abs(b["scale"][0] - x["scale"][0] * w["scale"][0]) <= 1e-6 * b["scale"][0],
          f"bias int32 at input scale x weight scale ({b['scale'][0]:.3g})")
    sm = [o for o in g["ops"] if o["op"] == "SOFTMAX"][-1]
    so = t[sm["outputs"][0]]
    check(abs(so["scale"][0] - 1 / 256) < 1e-9 and so["zero_point"] == [-128 if body == "int8" else 0],
          f"softmax output {so['dtype']} scale 1/256 zero point {so['zero_point'][0]}")
    base_head = [bt[o["inputs"][1]]["name"] for o in base["ops"]
                 if o["op"] in ("FULLY_CONNECTED", "CONV_2D") and len(o["inputs"]) > 1][-1]
    check(base_head not in [v["name"] for v in t], f"the old head's weights '{base_head}' are gone")
    check(len(t) < len(bt) + 5, f"{len(t)} tensors (base {len(bt)}: its head's are dropped)")

    buf = bytearray(open(a.model, "rb").read())
    root = root_table(buf)
    meta = [(m.string(0), m.scalar(1, N.Uint32Flags)) for m in root.tables(6)]
    idx = [bi for name, bi in meta if name == "TFLITE_METADATA"]
    check(len(idx) == 1, f"model metadata entries {[n for n, _ in meta]}")
    if len(idx) != 1:
        return finish()
    mbuf = root.tables(4)[idx[0]].vector(0, np.uint8)
    mb = bytearray(mbuf.tobytes())
    check(bytes(mb[4:8]) == b"M001", "metadata buffer is a ModelMetadata flatbuffer (M001)")
    mm = root_table(mb)
    sgm = mm.tables(3)
    outm = sgm[0].tables(3) if sgm else []
    files = outm[0].tables(6) if outm else []
    af = [(f.string(0), f.scalar(2, N.Int8Flags)) for f in files]
    check(af == [("labels.txt", 2)], f"output tensor metadata's associated files {af} (TENSOR_AXIS_LABELS = 2)")
    check(mm.string(7) is not None, f"min_parser_version {mm.string(7)}")
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(buf))) as z:
            names = z.namelist()
            text = z.read("labels.txt").decode() if "labels.txt" in names else ""
    except zipfile.BadZipFile as e:
        names, text = [f"bad zip: {e}"], ""
    check(text.splitlines() == labels, f"appended zip {names}: labels.txt holds the {len(labels)} labels")
    return finish()


def finish():
    print(f"train-retrained: ok {ok} failed {failed}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
