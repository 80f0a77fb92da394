"""quantize.py — post-training full-integer quantization of a trained SmallMobileNet.

The TFLite converter's scheme, so the result runs on any TFLite int8 runtime:
- BatchNorm folded into each conv's weights and bias; ReLU6 fused as the output clamp.
- Conv and depthwise filters: int8, symmetric per output channel (zero point 0,
  scale = max|w| / 127); FULLY_CONNECTED weights: int8 symmetric per tensor (what the converter
  emits for FULLY_CONNECTED v4, which every runtime supports).
- Biases: int32 with scale = input scale × weight scale (per channel), zero point 0.
- Activations: int8 per tensor, asymmetric, from the min/max seen on calibration images (range
  always includes 0). The input is pixel/255 as int8: scale 1/255, zero point −128, so a camera
  pixel p is p − 128. AVERAGE_POOL_2D and RESHAPE keep their input's parameters (TFLite requires
  it); SOFTMAX outputs TFLite's fixed scale 1/256, zero point −128.
Output: the graph dict described in tflite_writer.py. with_float_io() wraps it the way the
converter's default full-integer recipe (no inference_input_type/inference_output_type) does:
a float32 input read by QUANTIZE (float32 → the int8 input) and a float32 output written by
DEQUANTIZE (the int8 probabilities → float32); the integer body is unchanged.
"""
import numpy as np
import torch

from int8_ref import round_half_away

INPUT_SCALE, INPUT_ZERO_POINT = 1.0 / 255.0, -128
SOFTMAX_SCALE, SOFTMAX_ZERO_POINT = 1.0 / 256.0, -128


def fold_bn(cbn):
    """Folded float (weight, bias) of a ConvBN in eval mode."""
    bn = cbn.bn
    s = bn.weight.detach().double() / torch.sqrt(bn.running_var.detach().double() + bn.eps)
    w = cbn.conv.weight.detach().double() * s[:, None, None, None]
    b = bn.bias.detach().double() - bn.running_mean.detach().double() * s
    return w.numpy(), b.numpy()


def activation_qparams(lo, hi):
    """int8 asymmetric (scale, zero point) for the real range [lo, hi] widened to include 0."""
    lo, hi = min(0.0, float(lo)), max(0.0, float(hi))
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(round_half_away(-128.0 - lo / float(scale)), -128, 127))
    return float(scale), zp


def calibrate(model, calib_x):
    """Per-layer (min, max) of every ConvBN output and of the logits, on calibration images."""
    ranges = []
    hooks = [layer.register_forward_hook(
        lambda m, i, o: ranges.append((float(o.min()), float(o.max()))))
        for layer in model.conv_layers()]
    model.eval()
    with torch.no_grad():
        logits = model(calib_x)
    for h in hooks:
        h.remove()
    return ranges, (float(logits.min()), float(logits.max()))


def _quantize_per_channel(w, axis_out):
    """int8 symmetric per-channel weights along axis_out of w; returns (q, scales)."""
    other = tuple(i for i in range(w.ndim) if i != axis_out)
    amax = np.abs(w).max(axis=other)
    scales = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis_out] = -1
    q = np.clip(round_half_away(w / scales.astype(np.float64).reshape(shape)), -127, 127)
    return q.astype(np.int8), scales


def _quantize_bias(b, in_scale, w_scales):
    bias_scales = (np.float32(in_scale) * w_scales.astype(np.float32)).astype(np.float32)
    q = round_half_away(b / bias_scales.astype(np.float64))
    return np.clip(q, -(1 << 31), (1 << 31) - 1).astype(np.int32), bias_scales


def build_graph(model, calib_x, size, channels):
    """Quantize the model (eval mode) into the graph dict tflite_writer.write() takes."""
    conv_ranges, logit_range = calibrate(model, calib_x)
    tensors, ops = [], []

    def add(name, shape, dtype, scale=None, zp=None, data=None, qdim=0):
        tensors.append({"name": name, "shape": list(shape), "dtype": dtype,
                        "scale": None if scale is None else [float(s) for s in np.atleast_1d(scale)],
                        "zero_point": None if zp is None else [int(z) for z in np.atleast_1d(zp)],
                        "quantized_dimension": qdim, "data": data})
        return len(tensors) - 1

    cur = add("input", [1, size, size, channels], "int8", INPUT_SCALE, INPUT_ZERO_POINT)
    cur_scale, h = INPUT_SCALE, size
    for li, (layer, (lo, hi)) in enumerate(zip(model.conv_layers(), conv_ranges)):
        w, b = fold_bn(layer)                           # torch layout [O, I/groups, KH, KW]
        if layer.depthwise:
            wq, ws = _quantize_per_channel(w[:, 0].transpose(1, 2, 0)[None], 3)   # [1, KH, KW, O]
            op, qdim = "DEPTHWISE_CONV_2D", 3
        else:
            wq, ws = _quantize_per_channel(w.transpose(0, 2, 3, 1), 0)           # [O, KH, KW, I]
            op, qdim = "CONV_2D", 0
        bq, bs = _quantize_bias(b, cur_scale, ws)
        out_scale, out_zp = activation_qparams(lo, min(hi, 6.0))
        h = (h + layer.stride - 1) // layer.stride
        kind = "dw" if layer.depthwise else "conv"
        wi = add(f"layer{li}_{kind}/weights", wq.shape, "int8", ws, np.zeros(len(ws)), wq, qdim)
        bi = add(f"layer{li}_{kind}/bias", bq.shape, "int32", bs, np.zeros(len(bs)), bq, 0)
        oi = add(f"layer{li}_{kind}/relu6", [1, h, h, wq.shape[0] if op == "CONV_2D" else wq.shape[3]],
                 "int8", out_scale, out_zp)
        opts = {"padding": "SAME", "stride": layer.stride, "activation": "RELU6"}
        if layer.depthwise:
            opts["depth_multiplier"] = 1
        ops.append({"op": op, "inputs": [cur, wi, bi], "outputs": [oi], "options": opts})
        cur, cur_scale = oi, out_scale

    feat = tensors[cur]
    c = feat["shape"][3]
    pooled = add("pool/avg", [1, 1, 1, c], "int8", feat["scale"], feat["zero_point"])
    ops.append({"op": "AVERAGE_POOL_2D", "inputs": [cur], "outputs": [pooled],
                "options": {"padding": "VALID", "stride": h, "filter": h, "activation": "NONE"}})
    shape_t = add("flatten/shape", [2], "int32", data=np.array([1, c], dtype=np.int32))
    flat = add("flatten", [1, c], "int8", feat["scale"], feat["zero_point"])
    ops.append({"op": "RESHAPE", "inputs": [pooled, shape_t], "outputs": [flat],
                "options": {"new_shape": [1, c]}})

    fw = model.fc.weight.detach().double().numpy()
    fb = model.fc.bias.detach().double().numpy()
    amax = np.abs(fw).max()
    fws = np.float32(amax / 127.0 if amax > 0 else 1.0)
    fwq = np.clip(round_half_away(fw / float(fws)), -127, 127).astype(np.int8)
    fbq, fbs = _quantize_bias(fb, cur_scale, np.array([fws], dtype=np.float32))
    n = fwq.shape[0]
    wi = add("logits/weights", fwq.shape, "int8", fws, 0, fwq)
    bi = add("logits/bias", [n], "int32", fbs, 0, fbq)
    l_scale, l_zp = activation_qparams(*logit_range)
    logits = add("logits", [1, n], "int8", l_scale, l_zp)
    ops.append({"op": "FULLY_CONNECTED", "inputs": [flat, wi, bi], "outputs": [logits],
                "options": {"activation": "NONE"}})
    probs = add("probabilities", [1, n], "int8", SOFTMAX_SCALE, SOFTMAX_ZERO_POINT)
    ops.append({"op": "SOFTMAX", "inputs": [logits], "outputs": [probs], "options": {"beta": 1.0}})
    return {"tensors": tensors, "ops": ops, "inputs": [0], "outputs": [probs]}


def with_float_io(graph):
    """The graph with a float32 input → QUANTIZE → (int8 body) → DEQUANTIZE → float32 output."""
    tensors = [dict(t) for t in graph["tensors"]]
    q_in, q_out = graph["inputs"][0], graph["outputs"][0]
    f_in = len(tensors)
    tensors.append({"name": "input_float", "shape": list(tensors[q_in]["shape"]), "dtype": "float32",
                    "scale": None, "zero_point": None, "quantized_dimension": 0, "data": None})
    f_out = len(tensors)
    tensors.append({"name": "probabilities_float", "shape": list(tensors[q_out]["shape"]),
                    "dtype": "float32", "scale": None, "zero_point": None, "quantized_dimension": 0,
                    "data": None})
    ops = ([{"op": "QUANTIZE", "inputs": [f_in], "outputs": [q_in]}] + list(graph["ops"]) +
           [{"op": "DEQUANTIZE", "inputs": [q_out], "outputs": [f_out]}])
    return {"tensors": tensors, "ops": ops, "inputs": [f_in], "outputs": [f_out]}
