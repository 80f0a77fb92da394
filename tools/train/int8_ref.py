"""int8_ref.py — a plain numpy reference of TFLite's integer arithmetic for the ops tools/train emits.

Used to check our C engine bit for bit (tests/suite-train.sh) and as the int8 figure when the
engine is not available. It follows TFLite's reference integer kernels: multipliers from
QuantizeMultiplier (frexp, round half away from zero, Q31), requantization with
MultiplyByQuantizedMultiplier (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT),
per-channel conv/depthwise, fused activation clamps from CalculateActivationRangeQuantized,
AVERAGE_POOL_2D with round-half-away division, FULLY_CONNECTED, and the fixed-point int8
SOFTMAX of reference_ops::Softmax (gemmlowp exp_on_negative_values, one_over_one_plus_x).
Convolutions sum in float64, which is exact here: |product| ≤ 2^15 and far fewer than 2^37 terms.
Written from the semantics, batched over images (NHWC int arrays).
"""
import math

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_multiplier(m):
    """(Q31 multiplier, shift) with m ≈ multiplier × 2^(shift − 31), as TFLite's QuantizeMultiplier."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = int(round_half_away(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def _trunc_div(a, d):
    """Integer division rounding toward zero (C semantics), numpy int64."""
    return np.where(a >= 0, a // d, -((-a) // d))


def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul on int64 arrays holding int32 values."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    out = _trunc_div(ab + nudge, 1 << 31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, out)


def rounding_divide_by_pot(x, exponent):
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(srdhm(np.asarray(x, dtype=np.int64) << left, multiplier), right)


def activation_range(act, scale, zp):
    """CalculateActivationRangeQuantized for int8: the clamp a fused activation stands for."""
    def q(f):
        return zp + int(round_half_away(np.float32(f) / np.float32(scale)))
    lo, hi = -128, 127
    if act == "RELU":
        lo = max(lo, q(0.0))
    elif act == "RELU6":
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif act == "RELU_N1_TO_1":
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


def _same_pads(size, kernel, stride):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def _padded_taps(x_off, kh, kw, stride, padding):
    """Yield (ky, kx, tap) with tap the (N, OH, OW, C) input slice under each filter position;
    x_off already has the input zero point subtracted, so padding with 0 is TFLite's skipping."""
    n, h, w, c = x_off.shape
    if padding == "SAME":
        pt, pb, oh = _same_pads(h, kh, stride)
        pl, pr, ow = _same_pads(w, kw, stride)
    else:
        pt = pb = pl = pr = 0
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    xp = np.pad(x_off, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    for ky in range(kh):
        for kx in range(kw):
            yield ky, kx, xp[:, ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride, :]


def _requantize(acc, in_t, w_t, out_t, act):
    w_scales = np.asarray(w_t["scale"], dtype=np.float32)
    mults, shifts = [], []
    for ws in np.broadcast_to(w_scales, (acc.shape[-1],)):
        m, s = quantize_multiplier(float(np.float32(in_t["scale"][0])) * float(ws) /
                                   float(np.float32(out_t["scale"][0])))
        mults.append(m)
        shifts.append(s)
    out = multiply_by_quantized_multiplier(acc, np.array(mults, dtype=np.int64),
                                           np.array(shifts, dtype=np.int64))
    out = out + int(out_t["zero_point"][0])
    lo, hi = activation_range(act, out_t["scale"][0], int(out_t["zero_point"][0]))
    return np.clip(out, lo, hi)


def conv2d(x, in_t, w_t, b_t, out_t, o):
    w = w_t["data"].astype(np.float64)                      # [O, KH, KW, I]
    x_off = x.astype(np.float64) - in_t["zero_point"][0]
    acc = None
    for ky, kx, tap in _padded_taps(x_off, w.shape[1], w.shape[2], o["stride"], o["padding"]):
        part = tap @ w[:, ky, kx, :].T
        acc = part if acc is None else acc + part
    acc = acc.astype(np.int64) + b_t["data"].astype(np.int64)
    return _requantize(acc, in_t, w_t, out_t, o.get("activation", "NONE"))


def depthwise_conv2d(x, in_t, w_t, b_t, out_t, o):
    w = w_t["data"].astype(np.float64)                      # [1, KH, KW, O]
    mult = o.get("depth_multiplier", 1)
    x_off = x.astype(np.float64) - in_t["zero_point"][0]
    if mult != 1:
        x_off = np.repeat(x_off, mult, axis=3)              # output channel c reads input c // mult
    acc = None
    for ky, kx, tap in _padded_taps(x_off, w.shape[1], w.shape[2], o["stride"], o["padding"]):
        part = tap * w[0, ky, kx, :]
        acc = part if acc is None else acc + part
    acc = acc.astype(np.int64) + b_t["data"].astype(np.int64)
    return _requantize(acc, in_t, w_t, out_t, o.get("activation", "NONE"))


def average_pool2d(x, in_t, out_t, o):
    """VALID average pool; TFLite requires equal input/output quantization for int8."""
    k, s = o["filter"], o["stride"]
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, oh, ow, c), dtype=np.int64)
    count = k * k
    for i in range(oh):
        for j in range(ow):
            acc = x[:, i * s:i * s + k, j * s:j * s + k, :].astype(np.int64).sum(axis=(1, 2))
            out[:, i, j, :] = np.where(acc > 0, _trunc_div(acc + count // 2, count),
                                       _trunc_div(acc - count // 2, count))
    lo, hi = activation_range(o.get("activation", "NONE"), out_t["scale"][0], int(out_t["zero_point"][0]))
    return np.clip(out, lo, hi)


def fully_connected(x, in_t, w_t, b_t, out_t, o):
    w = w_t["data"].astype(np.float64)                      # [O, I], zero point 0
    x_off = x.reshape(x.shape[0], -1).astype(np.float64) - in_t["zero_point"][0]
    acc = (x_off @ w.T).astype(np.int64) + b_t["data"].astype(np.int64)
    return _requantize(acc, in_t, w_t, out_t, o.get("activation", "NONE"))


# --- softmax: gemmlowp fixed point, scalar Python ints (a handful of classes per image) ---

def _srdhm1(a, b):
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    t = ab + nudge
    return t // (1 << 31) if t >= 0 else -((-t) // (1 << 31))


def _rdbpot1(x, e):
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def _sat_shl1(x, e):
    """SaturatingRoundingMultiplyByPOT with a positive exponent."""
    thr = (1 << (31 - e)) - 1
    if x > thr:
        return INT32_MAX
    if x < -thr:
        return INT32_MIN
    return x << e


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):   # Q0.31 in and out
    constant_term = 1895147668          # exp(-1/8)
    constant_1_over_3 = 715827883
    x = a + (1 << 28)                   # a + 1/8
    x2 = _srdhm1(x, x)
    x3 = _srdhm1(x2, x)
    x4 = _srdhm1(x2, x2)
    x4_over_4 = _rdbpot1(x4, 2)
    poly = _rdbpot1(_srdhm1(x4_over_4 + x3, constant_1_over_3) + x2, 1)
    return constant_term + _srdhm1(constant_term, x + poly)


def _exp_on_negative_values(a, integer_bits=5):
    """exp(a) for a ≤ 0 given in Q(integer_bits).(31-integer_bits), result Q0.31."""
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        _sat_shl1(a_mod_quarter_minus_one_quarter, integer_bits))
    remainder = a_mod_quarter_minus_one_quarter - a
    for exponent, multiplier in ((-2, 1672461947), (-1, 1302514674), (0, 790015084),
                                 (1, 290630308), (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent and remainder & (1 << (frac_bits + exponent)):
            result = _srdhm1(result, multiplier)
    if a == 0:
        result = INT32_MAX
    return result


def _one_over_one_plus_x_for_x_in_0_1(a):        # Q0.31 in and out
    s = a + INT32_MAX                             # RoundingHalfSum(a, One)
    half_denominator = (s + (1 if s >= 0 else -1))
    half_denominator = half_denominator // 2 if half_denominator >= 0 else -((-half_denominator) // 2)
    constant_48_over_17 = 1515870810              # Q2.29
    constant_neg_32_over_17 = -1010580540
    x = constant_48_over_17 + _srdhm1(half_denominator, constant_neg_32_over_17)
    one_q2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = _srdhm1(half_denominator, x)
        one_minus = one_q2 - half_denominator_times_x
        x = x + _sat_shl1(_srdhm1(x, one_minus), 2)
    return _sat_shl1(x, 1)


def _clz32(x):
    x &= 0xFFFFFFFF
    return 32 - x.bit_length()


def softmax_params(beta, input_scale, integer_bits=5):
    """(input_multiplier, input_left_shift, diff_min) as TFLite's softmax Prepare computes them."""
    real = min(float(beta) * float(np.float32(input_scale)) * (1 << (31 - integer_bits)),
               float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier(real)
    max_input_rescaled = 1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift)
    diff_min = -int(math.floor(max_input_rescaled))
    return mult, left_shift, diff_min


def softmax_row(row, beta, input_scale):
    """Reference int8 softmax of one row (int values) → int8 values (output scale 1/256, zp −128)."""
    mult, left_shift, diff_min = softmax_params(beta, input_scale)
    max_in = max(row)
    sum_of_exps = 0                                             # Q12.19
    for v in row:
        diff = v - max_in
        if diff >= diff_min:
            scaled = _srdhm1(diff * (1 << left_shift), mult)
            sum_of_exps += _rdbpot1(_exp_on_negative_values(scaled), 12)
    headroom_plus_one = _clz32(sum_of_exps)
    num_bits_over_unit = 12 - headroom_plus_one
    shifted_sum_minus_one = ((sum_of_exps << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    shifted_scale = _one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one)
    out = []
    for v in row:
        diff = v - max_in
        if diff >= diff_min:
            scaled = _srdhm1(diff * (1 << left_shift), mult)
            e = _exp_on_negative_values(scaled)
            unsat = _rdbpot1(_srdhm1(shifted_scale, e), num_bits_over_unit + 31 - 8)
            out.append(max(min(unsat - 128, 127), -128))
        else:
            out.append(-128)
    return out


def softmax(x, in_t, out_t, o):
    flat = x.reshape(-1, x.shape[-1])
    rows = [softmax_row([int(v) for v in r], o.get("beta", 1.0), in_t["scale"][0]) for r in flat]
    return np.array(rows, dtype=np.int64).reshape(x.shape)


def requantize(x, in_t, out_t):
    """QUANTIZE int8 → int8 (not emitted by tools/train; lets tests check converter-made files)."""
    m, s = quantize_multiplier(float(np.float32(in_t["scale"][0])) / float(np.float32(out_t["scale"][0])))
    y = multiply_by_quantized_multiplier(x - int(in_t["zero_point"][0]), m, s) + int(out_t["zero_point"][0])
    return np.clip(y, -128, 127)


def quantize_float(x, out_t):
    """QUANTIZE float32 → int8, as reference_ops::AffineQuantize: round half away from zero of
    x / scale computed in float32, plus the zero point, clamped."""
    x = np.asarray(x, dtype=np.float32)
    q = round_half_away((x / np.float32(out_t["scale"][0])).astype(np.float64)).astype(np.int64)
    return np.clip(q + int(out_t["zero_point"][0]), -128, 127)


def dequantize(x, in_t):
    """DEQUANTIZE int8 → float32, as reference_ops::Dequantize: (double scale) × (q − zp), to float."""
    return (float(np.float32(in_t["scale"][0])) *
            (np.asarray(x, dtype=np.int64) - int(in_t["zero_point"][0])).astype(np.float64)).astype(np.float32)


def run(graph, x_int8):
    """Run the graph on a batch: x_int8 (N, H, W, C) → the output tensor values (N, ...) int8.
    A float32 graph input (with_float_io) takes float32 values, a float32 output gives them."""
    t = graph["tensors"]
    x0 = graph["inputs"][0]
    vals = {x0: np.asarray(x_int8, dtype=np.float32 if t[x0]["dtype"] == "float32" else np.int64)}
    for op in graph["ops"]:
        name, ins, out, o = op["op"], op["inputs"], op["outputs"][0], op.get("options", {})
        x = vals[ins[0]]
        if name == "CONV_2D":
            y = conv2d(x, t[ins[0]], t[ins[1]], t[ins[2]], t[out], o)
        elif name == "DEPTHWISE_CONV_2D":
            y = depthwise_conv2d(x, t[ins[0]], t[ins[1]], t[ins[2]], t[out], o)
        elif name == "AVERAGE_POOL_2D":
            y = average_pool2d(x, t[ins[0]], t[out], o)
        elif name == "RESHAPE":
            y = x.reshape((x.shape[0],) + tuple(t[out]["shape"][1:]))
        elif name == "FULLY_CONNECTED":
            y = fully_connected(x, t[ins[0]], t[ins[1]], t[ins[2]], t[out], o)
        elif name == "SOFTMAX":
            y = softmax(x, t[ins[0]], t[out], o)
        elif name == "QUANTIZE" and t[ins[0]]["dtype"] == "int8" and t[out]["dtype"] == "int8":
            y = requantize(x, t[ins[0]], t[out])
        elif name == "QUANTIZE" and t[ins[0]]["dtype"] == "float32" and t[out]["dtype"] == "int8":
            y = quantize_float(x, t[out])
        elif name == "DEQUANTIZE" and t[ins[0]]["dtype"] == "int8" and t[out]["dtype"] == "float32":
            y = dequantize(x, t[ins[0]])
        else:
            raise ValueError(f"int8_ref: op {name} not supported")
        vals[out] = y
    y = graph["outputs"][0]
    return vals[y].astype(np.float32 if t[y]["dtype"] == "float32" else np.int8)
