"""engine_run.py — run raw int8 tensors through our C engine with `camclass infer`.

One process per image (`camclass infer --model M --input IN.bin --output OUT.bin`, raw tensor
bytes both ways): each run takes milliseconds, so a few thousand images take well under a minute,
and the measurement uses exactly the command users and tests script.
"""
import os
import subprocess
import tempfile

import numpy as np


class EngineError(Exception):
    pass


def available(camclass):
    return os.path.isfile(camclass) and os.access(camclass, os.X_OK)


def infer(camclass, model_path, inputs, out_shape, out_dtype=np.int8):
    """inputs: (N, ...) array of input tensors → (N, *out_shape) outputs. Raises EngineError."""
    outs = np.empty((len(inputs),) + tuple(out_shape), dtype=out_dtype)
    with tempfile.TemporaryDirectory(prefix="camclass-train-") as tmp:
        in_path, out_path = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        for i, x in enumerate(inputs):
            with open(in_path, "wb") as f:
                f.write(np.ascontiguousarray(x).tobytes())
            r = subprocess.run([camclass, "infer", "--model", model_path, "--input", in_path,
                                "--output", out_path, "--backend", "builtin"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                raise EngineError(f"{camclass} infer failed (exit {r.returncode}) on image {i}: "
                                  f"{(r.stderr or r.stdout).strip()}")
            with open(out_path, "rb") as f:
                raw = f.read()
            want = outs[i].nbytes
            if len(raw) != want:
                raise EngineError(f"{camclass} infer wrote {len(raw)} bytes, expected {want}")
            outs[i] = np.frombuffer(raw, dtype=out_dtype).reshape(out_shape)
    return outs
