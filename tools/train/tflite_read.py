"""tflite_read.py — read a .tflite back into the graph dict, checking what any TFLite runtime checks.

Independent of tflite_writer.py's code paths (it walks the flatbuffer with python3-flatbuffers'
Table reader and the field ids of schema.fbs), so a test can run int8_ref.py on what is really in
the file: a field written to the wrong slot shows up as a wrong graph or a failed check.
Checks: file identifier TFL3, schema version 3, one subgraph, buffer 0 empty, each operator code
has deprecated_builtin_code = min(builtin_code, 127), every tensor is named and points at a valid
buffer whose size matches its shape and type, inputs/outputs/operator tensor indices in range.
"""
import flatbuffers
from flatbuffers import number_types as N
from flatbuffers.table import Table
import numpy as np

import tflite_writer as W

OPNAME = {v: k for k, v in W.BUILTIN.items()}
DTYPE = {v: k for k, v in W.TENSOR_TYPE.items()}
NP = {"int8": np.int8, "int32": np.int32, "uint8": np.uint8, "float32": np.float32}
PADNAME = {v: k for k, v in W.PADDING.items()}
ACTNAME = {v: k for k, v in W.ACTIVATION.items()}


class ModelError(Exception):
    pass


def _slot(i):
    return 4 + 2 * i


class T:
    def __init__(self, buf, pos):
        self.t = Table(buf, pos)

    def scalar(self, i, flags, default=0):
        o = self.t.Offset(_slot(i))
        return self.t.Get(flags, self.t.Pos + o) if o else default

    def table(self, i):
        o = self.t.Offset(_slot(i))
        return T(self.t.Bytes, self.t.Indirect(self.t.Pos + o)) if o else None

    def string(self, i):
        o = self.t.Offset(_slot(i))
        return self.t.String(self.t.Pos + o).decode() if o else None

    def vector(self, i, dtype):
        o = self.t.Offset(_slot(i))
        if not o:
            return None
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return np.frombuffer(bytes(self.t.Bytes[start:start + n * np.dtype(dtype).itemsize]), dtype=dtype)

    def tables(self, i):
        o = self.t.Offset(_slot(i))
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return [T(self.t.Bytes, self.t.Indirect(start + 4 * k)) for k in range(n)]


def _options(op_name, opt):
    if op_name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        sw, sh = opt.scalar(1, N.Int32Flags), opt.scalar(2, N.Int32Flags)
        if sw != sh:
            raise ModelError(f"{op_name}: stride {sw}x{sh} not square")
        d = {"padding": PADNAME[opt.scalar(0, N.Int8Flags)], "stride": sw}
        if op_name == "CONV_2D":
            d["activation"] = ACTNAME[opt.scalar(3, N.Int8Flags)]
        else:
            d["depth_multiplier"] = opt.scalar(3, N.Int32Flags)
            d["activation"] = ACTNAME[opt.scalar(4, N.Int8Flags)]
        return d
    if op_name == "AVERAGE_POOL_2D":
        fw, fh = opt.scalar(3, N.Int32Flags), opt.scalar(4, N.Int32Flags)
        if fw != fh:
            raise ModelError("AVERAGE_POOL_2D: filter not square")
        return {"padding": PADNAME[opt.scalar(0, N.Int8Flags)], "stride": opt.scalar(1, N.Int32Flags),
                "filter": fw, "activation": ACTNAME[opt.scalar(5, N.Int8Flags)]}
    if op_name == "FULLY_CONNECTED":
        return {"activation": ACTNAME[opt.scalar(0, N.Int8Flags)]}
    if op_name == "SOFTMAX":
        return {"beta": opt.scalar(0, N.Float32Flags, 0.0)}
    if op_name == "RESHAPE":
        shape = opt.vector(0, np.int32)
        return {"new_shape": [] if shape is None else [int(v) for v in shape]}
    return {}


def read(path, strict=True):
    """The graph dict of a .tflite. strict (for files tools/train writes): op versions must be
    the int8 ones and deprecated_builtin_code must equal min(builtin_code, 127); otherwise (files
    from the TFLite converter, e.g. for checking int8_ref.py against TFLite's own outputs) the op
    is the larger of the two codes and any version is accepted."""
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    if len(buf) < 8 or bytes(buf[4:8]) != W.FILE_IDENTIFIER:
        raise ModelError(f"{path}: no TFL3 file identifier")
    root = T(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))
    version = root.scalar(W.MODEL_VERSION, N.Uint32Flags)
    if version != W.SCHEMA_VERSION:
        raise ModelError(f"{path}: schema version {version}, expected 3")
    buffers = [b.vector(W.BUFFER_DATA, np.uint8) for b in root.tables(W.MODEL_BUFFERS)]
    if not buffers or (buffers[0] is not None and len(buffers[0])):
        raise ModelError(f"{path}: buffer 0 must exist and be empty")
    opcodes = []
    for k, oc in enumerate(root.tables(W.MODEL_OPERATOR_CODES)):
        dep = oc.scalar(W.OPCODE_DEPRECATED_BUILTIN, N.Int8Flags)
        code = oc.scalar(W.OPCODE_BUILTIN, N.Int32Flags)
        ver = oc.scalar(W.OPCODE_VERSION, N.Int32Flags, 1)
        if not strict:
            code = max(dep, code)
        elif dep != min(code, 127):
            raise ModelError(f"{path}: operator code {k}: deprecated_builtin_code {dep} != min({code}, 127)")
        if code not in OPNAME:
            if strict:
                raise ModelError(f"{path}: operator code {k}: builtin {code} unknown here")
            opcodes.append(f"BUILTIN_{code}")
            continue
        if strict and ver != W.INT8_VERSION.get(OPNAME[code]):
            raise ModelError(f"{path}: {OPNAME[code]} version {ver}, int8 needs {W.INT8_VERSION[OPNAME[code]]}")
        opcodes.append(OPNAME[code])
    subgraphs = root.tables(W.MODEL_SUBGRAPHS)
    if len(subgraphs) != 1:
        raise ModelError(f"{path}: {len(subgraphs)} subgraphs, expected 1")
    sg = subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tables(W.SUBGRAPH_TENSORS)):
        name = t.string(W.TENSOR_NAME)
        if not name:
            raise ModelError(f"{path}: tensor {i} has no name")
        dtype = DTYPE[t.scalar(W.TENSOR_TYPE_F, N.Int8Flags)]
        shape = [int(v) for v in t.vector(W.TENSOR_SHAPE, np.int32)]
        bidx = t.scalar(W.TENSOR_BUFFER, N.Uint32Flags)
        if bidx >= len(buffers):
            raise ModelError(f"{path}: tensor {name}: buffer {bidx} out of range")
        data = None
        if bidx and buffers[bidx] is not None and len(buffers[bidx]):
            want = int(np.prod(shape)) * np.dtype(NP[dtype]).itemsize
            if len(buffers[bidx]) != want:
                raise ModelError(f"{path}: tensor {name}: buffer has {len(buffers[bidx])} bytes, shape needs {want}")
            data = buffers[bidx].view(NP[dtype]).reshape(shape)
        q = t.table(W.TENSOR_QUANT)
        scale = zp = None
        qdim = 0
        if q is not None and q.vector(W.QUANT_SCALE, np.float32) is not None:
            scale = [float(s) for s in q.vector(W.QUANT_SCALE, np.float32)]
            zp = [int(z) for z in q.vector(W.QUANT_ZERO_POINT, np.int64)]
            qdim = q.scalar(W.QUANT_DIM, N.Int32Flags)
        tensors.append({"name": name, "shape": shape, "dtype": dtype, "scale": scale,
                        "zero_point": zp, "quantized_dimension": qdim, "data": data})
    ops = []
    for k, op in enumerate(sg.tables(W.SUBGRAPH_OPERATORS)):
        idx = op.scalar(W.OP_OPCODE_INDEX, N.Uint32Flags)
        if idx >= len(opcodes):
            raise ModelError(f"{path}: operator {k}: opcode index {idx} out of range")
        ins = [int(v) for v in op.vector(W.OP_INPUTS, np.int32)]
        outs = [int(v) for v in op.vector(W.OP_OUTPUTS, np.int32)]
        if any(not 0 <= v < len(tensors) for v in ins + outs):
            raise ModelError(f"{path}: operator {k}: tensor index out of range")
        opt = op.table(W.OP_OPTIONS)
        ops.append({"op": opcodes[idx], "inputs": ins, "outputs": outs,
                    "options": _options(opcodes[idx], opt) if opt else {}})
    inputs = [int(v) for v in sg.vector(W.SUBGRAPH_INPUTS, np.int32)]
    outputs = [int(v) for v in sg.vector(W.SUBGRAPH_OUTPUTS, np.int32)]
    if any(not 0 <= v < len(tensors) for v in inputs + outputs):
        raise ModelError(f"{path}: subgraph input/output index out of range")
    return {"tensors": tensors, "ops": ops, "inputs": inputs, "outputs": outputs}
