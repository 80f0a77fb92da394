"""gen.py — test models for the engine's float32 / fp16 / dynamic-range paths and the PyTorch-export
ops, written at test time with tools/train's TFLite writer, each with an input and the output a
plain numpy reference computes (float64 for float models; TFLite's integer arithmetic, through
tools/train/int8_ref.py's helpers, for int8 ones). tests/suite-models.sh runs them through
`camclass infer` on both backends and compares with check.py.

  gen.py DIR   writes DIR/<case>.tflite, .in, .want and DIR/cases.tsv (case, out dtype, tolerance)
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "train"))
import int8_ref as q  # noqa: E402
import tflite_writer  # noqa: E402

RNG = np.random.default_rng(1234)


class G:
    """A graph under construction in tflite_writer's format."""

    def __init__(self):
        self.tensors, self.ops = [], []

    def t(self, name, shape, dtype="float32", data=None, scale=None, zp=None, qdim=0):
        t = {"name": name, "shape": list(shape), "dtype": dtype, "data": data}
        if scale is not None:
            t["scale"] = list(np.atleast_1d(scale).astype(np.float32))
            t["zero_point"] = list(np.atleast_1d(zp).astype(np.int64))
            t["quantized_dimension"] = qdim
        self.tensors.append(t)
        return len(self.tensors) - 1

    def c(self, name, arr, dtype="float32", **kw):
        arr = np.asarray(arr)
        return self.t(name, arr.shape, dtype, arr.astype({"float32": np.float32, "float16": np.float16,
                                                          "int32": np.int32, "int8": np.int8}[dtype]), **kw)

    def op(self, name, ins, outs, version=None, **options):
        o = {"op": name, "inputs": list(ins), "outputs": list(outs), "options": options}
        if version:
            o["version"] = version
        self.ops.append(o)

    def write(self, path, inp, out):
        tflite_writer.write({"tensors": self.tensors, "ops": self.ops, "inputs": [inp], "outputs": [out]}, path)


# ---- float64 numpy references of TFLite's float ops ---------------------------------------------

def pads(size, k, s, padding):
    if padding == "VALID":
        return 0, (size - k) // s + 1
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, out


def conv(x, w, b, s, padding, act=None):
    n, h, wd, ci = x.shape
    co, kh, kw, _ = w.shape
    ph, oh = pads(h, kh, s, padding)
    pw, ow = pads(wd, kw, s, padding)
    xp = np.zeros((n, h + 2 * kh, wd + 2 * kw, ci))
    xp[:, ph:ph + h, pw:pw + wd] = x
    y = np.zeros((n, oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * s:i * s + kh, j * s:j * s + kw, :]
            y[:, i, j, :] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3]))
    return clamp(y + b, act)


def dwconv(x, w, b, s, padding, act=None):
    n, h, wd, ci = x.shape
    _, kh, kw, co = w.shape
    dm = co // ci
    ph, oh = pads(h, kh, s, padding)
    pw, ow = pads(wd, kw, s, padding)
    xp = np.zeros((n, h + 2 * kh, wd + 2 * kw, ci))
    xp[:, ph:ph + h, pw:pw + wd] = x
    xr = np.repeat(xp, dm, axis=3)
    y = np.zeros((n, oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j, :] = (xr[:, i * s:i * s + kh, j * s:j * s + kw, :] * w[0]).sum(axis=(1, 2))
    return clamp(y + b, act)


def clamp(y, act):
    return {None: y, "RELU": np.maximum(y, 0), "RELU6": np.clip(y, 0, 6)}[act]


def softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def hard_swish(x):
    return x * np.clip(x + 3, 0, 6) / 6


def save(d, name, g, inp, out, x, want, dtype, tol, rows):
    g.write(os.path.join(d, name + ".tflite"), inp, out)
    np.ascontiguousarray(x).tofile(os.path.join(d, name + ".in"))
    np.ascontiguousarray(want).tofile(os.path.join(d, name + ".want"))
    rows.append(f"{name}\t{dtype}\t{tol}")


# ---- the cases -------------------------------------------------------------------------------------

def f32_pytorch_like(d, rows):
    """NCHW input, TRANSPOSE to NHWC, conv / depthwise / PADV2 / max pool / hard-swish / mean / FC,
    SUB, MAXIMUM, MINIMUM with constants, SOFTMAX."""
    g = G()
    w1, b1 = RNG.normal(0, 0.4, (4, 3, 3, 3)), RNG.normal(0, 0.1, 4)
    w2, b2 = RNG.normal(0, 0.4, (1, 3, 3, 8)), RNG.normal(0, 0.1, 8)
    w3, b3 = RNG.normal(0, 0.5, (5, 8)), RNG.normal(0, 0.1, 5)
    c_sub = RNG.normal(0, 0.3, 5)
    x = g.t("x", (1, 3, 10, 10))
    t1 = g.t("nhwc", (1, 10, 10, 3))
    g.op("TRANSPOSE", [x, g.c("perm", [0, 2, 3, 1], "int32")], [t1], version=1)
    t2 = g.t("conv", (1, 10, 10, 4))
    g.op("CONV_2D", [t1, g.c("w1", w1), g.c("b1", b1)], [t2], version=1, padding="SAME", stride=1,
         activation="RELU6")
    t3 = g.t("dw", (1, 4, 4, 8))
    g.op("DEPTHWISE_CONV_2D", [t2, g.c("w2", w2), g.c("b2", b2)], [t3], version=1, padding="VALID",
         stride=2, depth_multiplier=2)
    t4 = g.t("pad", (1, 6, 6, 8))
    g.op("PADV2", [t3, g.c("pads", [[0, 0], [1, 1], [1, 1], [0, 0]], "int32"), g.c("pv", [-0.25])], [t4],
         version=1)
    t5 = g.t("pool", (1, 3, 3, 8))
    g.op("MAX_POOL_2D", [t4], [t5], version=1, padding="VALID", stride=2, filter=2)
    t6 = g.t("hs", (1, 3, 3, 8))
    g.op("HARD_SWISH", [t5], [t6], version=1)
    t7 = g.t("mean", (1, 8))
    g.op("MEAN", [t6, g.c("axes", [1, 2], "int32")], [t7], version=1)
    t8 = g.t("fc", (1, 5))
    g.op("FULLY_CONNECTED", [t7, g.c("w3", w3), g.c("b3", b3)], [t8], version=1)
    t9 = g.t("sub", (1, 5))
    g.op("SUB", [t8, g.c("csub", c_sub)], [t9], version=1)
    t10 = g.t("max", (1, 5))
    g.op("MAXIMUM", [t9, g.c("lo", [-1.0])], [t10], version=1)
    t11 = g.t("min", (1, 5))
    g.op("MINIMUM", [t10, g.c("hi", [3.0])], [t11], version=1)
    out = g.t("probs", (1, 5))
    g.op("SOFTMAX", [t11], [out], version=1, beta=1.0)
    xv = RNG.uniform(-1, 1, (1, 3, 10, 10)).astype(np.float32)
    y = conv(xv.astype(np.float64).transpose(0, 2, 3, 1), w1.astype(np.float32), b1.astype(np.float32), 1,
             "SAME", "RELU6")
    y = dwconv(y, w2.astype(np.float32), b2.astype(np.float32), 2, "VALID")
    y = np.pad(y, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=-0.25)
    y = y.reshape(1, 3, 2, 3, 2, 8).max(axis=(2, 4))
    y = hard_swish(y).mean(axis=(1, 2))
    y = y @ w3.astype(np.float32).T + b3.astype(np.float32)
    y = np.minimum(np.maximum(y - c_sub.astype(np.float32), -1.0), 3.0)
    # the engine folds the leading TRANSPOSE into its input: the tensor it takes is NHWC
    save(d, "f32_pytorch_like", g, x, out, xv.transpose(0, 2, 3, 1), softmax(y).astype(np.float32), "float32",
         1e-5, rows)


def f32_nchw_direct(d, rows):
    """A channels-first input read directly (RESHAPE, FULLY_CONNECTED): stays NCHW."""
    g = G()
    w, b = RNG.normal(0, 0.3, (4, 48)), RNG.normal(0, 0.1, 4)
    x = g.t("x", (1, 3, 4, 4))
    t1 = g.t("flat", (1, 48))
    g.op("RESHAPE", [x], [t1], version=1, new_shape=[1, 48])
    out = g.t("y", (1, 4))
    g.op("FULLY_CONNECTED", [t1, g.c("w", w), g.c("b", b)], [out], version=1)
    xv = RNG.uniform(-1, 1, (1, 3, 4, 4)).astype(np.float32)
    y = xv.astype(np.float64).reshape(1, 48) @ w.astype(np.float32).T + b.astype(np.float32)
    save(d, "f32_nchw_direct", g, x, out, xv, y.astype(np.float32), "float32", 1e-5, rows)


def f32_slice_matmul(d, rows):
    """STRIDED_SLICE with masks, a shrink axis and a negative stride; BATCH_MATMUL (plain and adj_y)
    as a classifier head; LOGISTIC; FULLY_CONNECTED with keep_num_dims and no bias."""
    g = G()
    r1, r2 = RNG.normal(0, 0.5, (6, 4)), RNG.normal(0, 0.5, (3, 4))
    wk = RNG.normal(0, 0.5, (2, 6))
    x = g.t("x", (1, 3, 6))
    t1 = g.t("row", (1, 6))
    g.op("STRIDED_SLICE", [x, g.c("b", [0, 1, 0], "int32"), g.c("e", [0, 2, 0], "int32"),
                           g.c("s", [1, 1, 1], "int32")], [t1], version=1, begin_mask=1, end_mask=5,
         shrink_axis_mask=2)
    t2 = g.t("rev", (1, 3))
    g.op("STRIDED_SLICE", [t1, g.c("b2", [0, -1], "int32"), g.c("e2", [1, 0], "int32"),
                           g.c("s2", [1, -2], "int32")], [t2], version=1)
    t3 = g.t("mm", (1, 4))
    g.op("BATCH_MATMUL", [t1, g.c("r1", r1)], [t3], version=1)
    t4 = g.t("mm2", (1, 3))
    g.op("BATCH_MATMUL", [t3, g.c("r2", r2)], [t4], version=1, adj_y=True)
    t5 = g.t("sum", (1, 3))
    g.op("ADD", [t4, t2], [t5], version=1)
    t6 = g.t("fc", (1, 3, 2))
    g.op("FULLY_CONNECTED", [x, g.c("wk", wk)], [t6], version=1, keep_num_dims=True)
    t7 = g.t("fcrow", (1, 2))
    g.op("STRIDED_SLICE", [t6, g.c("b3", [0, 2, 0], "int32"), g.c("e3", [1, 3, 2], "int32"),
                           g.c("s3", [1, 1, 1], "int32")], [t7], version=1, shrink_axis_mask=2)
    t8 = g.t("cat", (1, 5))
    g.op("CONCATENATION", [t5, t7], [t8], version=1, axis=1)
    out = g.t("p", (1, 5))
    g.op("LOGISTIC", [t8], [out], version=1)
    xv = RNG.uniform(-1, 1, (1, 3, 6)).astype(np.float32)
    xd = xv.astype(np.float64)
    row = xd[0, 1:2, :]
    rev = row[:, [5, 3, 1]]
    mm = row @ r1.astype(np.float32)
    mm2 = mm @ r2.astype(np.float32).T
    fc = xd @ wk.astype(np.float32).T
    y = np.concatenate([mm2 + rev, fc[:, 2, :]], axis=1)
    save(d, "f32_slice_matmul", g, x, out, xv, (1 / (1 + np.exp(-y))).astype(np.float32), "float32", 1e-5, rows)


def fp16_and_dynamic(d, rows):
    """float16 weights behind DEQUANTIZE, and int8 (per-channel) weights read directly by float
    CONV_2D / FULLY_CONNECTED: both run as float32 after load."""
    for kind in ("fp16", "dynamic"):
        g = G()
        w1, b1 = RNG.normal(0, 0.4, (4, 3, 3, 3)), RNG.normal(0, 0.1, 4)
        w2, b2 = RNG.normal(0, 0.4, (3, 4)), RNG.normal(0, 0.1, 3)
        x = g.t("x", (1, 6, 6, 3))
        if kind == "fp16":
            w1e, w2e = w1.astype(np.float16).astype(np.float64), w2.astype(np.float16).astype(np.float64)
            w1t, w2t = g.t("w1", (4, 3, 3, 3)), g.t("w2", (3, 4))
            g.op("DEQUANTIZE", [g.c("w1h", w1, "float16")], [w1t], version=3)
            g.op("DEQUANTIZE", [g.c("w2h", w2, "float16")], [w2t], version=3)
        else:
            s1 = np.abs(w1).reshape(4, -1).max(axis=1) / 127
            s2 = np.abs(w2).max() / 127
            q1 = np.clip(np.round(w1 / s1[:, None, None, None]), -127, 127)
            q2 = np.clip(np.round(w2 / s2), -127, 127)
            w1e = q1 * s1.astype(np.float32)[:, None, None, None].astype(np.float64)
            w2e = q2 * float(np.float32(s2))
            w1t = g.c("w1q", q1, "int8", scale=s1, zp=np.zeros(4), qdim=0)
            w2t = g.c("w2q", q2, "int8", scale=[s2], zp=[0])
        t1 = g.t("conv", (1, 3, 3, 4))
        g.op("CONV_2D", [x, w1t, g.c("b1", b1)], [t1], version=2 if kind == "dynamic" else 1,
             padding="SAME", stride=2, activation="RELU")
        t2 = g.t("mean", (1, 4))
        g.op("MEAN", [t1, g.c("axes", [1, 2], "int32")], [t2], version=1)
        out = g.t("logits", (1, 3))
        g.op("FULLY_CONNECTED", [t2, w2t, g.c("b2", b2)], [out], version=3 if kind == "dynamic" else 1)
        xv = RNG.uniform(0, 1, (1, 6, 6, 3)).astype(np.float32)
        y = conv(xv.astype(np.float64), w1e, b1.astype(np.float32), 2, "SAME", "RELU").mean(axis=(1, 2))
        y = y @ w2e.T + b2.astype(np.float32)
        save(d, f"f32_{kind}_weights", g, x, out, xv, y.astype(np.float32), "float32", 1e-5, rows)


def qsub(x, sx, zx, c, sc, zc, so, zo):
    """TFLite 2.8 quantized SUB (PrepareGeneralSubOp + SubElementwise), int8, no activation."""
    sx, sc, so = np.float32(sx), np.float32(sc), np.float32(so)
    twice = 2.0 * float(max(sx, sc))
    m1, s1 = q.quantize_multiplier(float(sx) / twice)
    m2, s2 = q.quantize_multiplier(float(sc) / twice)
    mo, so_ = q.quantize_multiplier(twice / float(np.float32(1 << 20) * so))
    a = q.multiply_by_quantized_multiplier((x.astype(np.int64) - zx) << 20, m1, s1)
    b = q.multiply_by_quantized_multiplier((c.astype(np.int64) - zc) << 20, m2, s2)
    return np.clip(q.multiply_by_quantized_multiplier(a - b, mo, so_) + zo, -128, 127)


def int8_pytorch_like(d, rows):
    """int8: TRANSPOSE, STRIDED_SLICE with a negative stride, SUB with rescaling, MAXIMUM,
    MINIMUM, PADV2, RESHAPE, BATCH_MATMUL head — bit-exact with TFLite's integer arithmetic."""
    g = G()
    sx, zx = 0.05, 3
    x = g.t("x", (1, 4, 5, 6), "int8", scale=sx, zp=zx)
    t1 = g.t("nchw", (1, 6, 4, 5), "int8", scale=sx, zp=zx)
    g.op("TRANSPOSE", [x, g.c("perm", [0, 3, 1, 2], "int32")], [t1], version=2)
    t2 = g.t("slice", (1, 6, 3, 3), "int8", scale=sx, zp=zx)
    g.op("STRIDED_SLICE", [t1, g.c("b", [0, 0, 3, 0], "int32"), g.c("e", [1, 6, 0, 5], "int32"),
                           g.c("s", [1, 1, -1, 2], "int32")], [t2], version=2)
    cq = RNG.integers(-128, 128, 3)
    so, zo = 0.07, 1
    t3 = g.t("sub", (1, 6, 3, 3), "int8", scale=so, zp=zo)
    g.op("SUB", [t2, g.c("c", cq, "int8", scale=[0.03], zp=[-2])], [t3], version=2)
    t4 = g.t("max", (1, 6, 3, 3), "int8", scale=so, zp=zo)
    g.op("MAXIMUM", [t3, g.c("lo", [-60], "int8", scale=[so], zp=[zo])], [t4], version=2)
    t5 = g.t("min", (1, 6, 3, 3), "int8", scale=so, zp=zo)
    g.op("MINIMUM", [t4, g.c("hi", [70], "int8", scale=[so], zp=[zo])], [t5], version=2)
    t6 = g.t("pad", (1, 6, 4, 4), "int8", scale=so, zp=zo)
    g.op("PADV2", [t5, g.c("pads", [[0, 0], [0, 0], [1, 0], [0, 1]], "int32"),
                   g.c("pv", [-9], "int8", scale=[so], zp=[zo])], [t6], version=2)
    t7 = g.t("flat", (6, 16), "int8", scale=so, zp=zo)
    g.op("RESHAPE", [t6], [t7], version=1, new_shape=[6, 16])
    rq = RNG.integers(-128, 128, (16, 3))
    sr, zr, s_out, z_out = 0.02, -5, 0.6, -7
    out = g.t("out", (6, 3), "int8", scale=s_out, zp=z_out)
    g.op("BATCH_MATMUL", [t7, g.c("r", rq, "int8", scale=[sr], zp=[zr])], [out], version=2)
    xv = RNG.integers(-128, 128, (1, 4, 5, 6)).astype(np.int8)
    y = xv.astype(np.int64).transpose(0, 3, 1, 2)[:, :, [3, 2, 1], :][:, :, :, [0, 2, 4]]
    y = qsub(y, sx, zx, cq, 0.03, -2, so, zo)
    y = np.minimum(np.maximum(y, -60), 70)
    y = np.pad(y, [(0, 0), (0, 0), (1, 0), (0, 1)], constant_values=-9).reshape(6, 16)
    acc = (y - zo) @ (rq.astype(np.int64) - zr)
    m, s = q.quantize_multiplier(float(np.float32(so) * np.float32(sr)) / float(np.float32(s_out)))
    want = np.clip(q.multiply_by_quantized_multiplier(acc, m, s) + z_out, -128, 127).astype(np.int8)
    save(d, "int8_pytorch_like", g, x, out, xv, want, "int8", 0, rows)


def int8_fc_per_channel(d, rows):
    """The LiteRT trap: per-channel FULLY_CONNECTED weights under op version 4, like per-tensor."""
    g = G()
    sx, zx, so, zo = 0.04, -3, 0.09, 2
    ws = RNG.uniform(0.005, 0.02, 4)
    wq = RNG.integers(-127, 128, (4, 8))
    bias = RNG.integers(-500, 500, 4)
    x = g.t("x", (1, 8), "int8", scale=sx, zp=zx)
    out = g.t("y", (1, 4), "int8", scale=so, zp=zo)
    g.op("FULLY_CONNECTED", [x, g.c("w", wq, "int8", scale=ws, zp=np.zeros(4), qdim=0),
                             g.c("b", bias, "int32", scale=np.float32(sx) * ws.astype(np.float32), zp=np.zeros(4))],
         [out], version=4)
    xv = RNG.integers(-128, 128, (1, 8)).astype(np.int8)
    acc = (xv.astype(np.int64) - zx) @ wq.T.astype(np.int64) + bias
    want = np.zeros((1, 4), np.int64)
    for c in range(4):
        m, s = q.quantize_multiplier(float(np.float32(sx)) * float(np.float32(ws[c])) / float(np.float32(so)))
        want[:, c] = q.multiply_by_quantized_multiplier(acc[:, c], m, s) + zo
    save(d, "int8_fc_per_channel", g, x, out, xv, np.clip(want, -128, 127).astype(np.int8), "int8", 0, rows)


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    rows = []
    for case in (f32_pytorch_like, f32_nchw_direct, f32_slice_matmul, fp16_and_dynamic, int8_pytorch_like, int8_fc_per_channel):
        case(d, rows)
    with open(os.path.join(d, "cases.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"gen: {len(rows)} models in {d}")


if __name__ == "__main__":
    main()
