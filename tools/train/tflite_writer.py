"""tflite_writer.py — write a quantized graph as a standard TFLite flatbuffer (schema version 3).

Written with python3-flatbuffers' Builder directly: no generated code is vendored, only the few
tables this exporter needs, each with its field ids from tensorflow/lite/schema/schema.fbs (a
field with id N lives in vtable slot N; a union takes two ids, its type then its value).
The result is what the TFLite converter would emit for the same graph: operator codes with both
`deprecated_builtin_code` (min(code, 127)) and `builtin_code`, buffer 0 empty, one buffer per
constant tensor, named tensors, int8 per-channel quantization on conv filters.

The graph format (also read by int8_ref.py) is a dict:
  tensors: [{name, shape, dtype ('int8'|'int32'|'float32'), scale [..], zero_point [..],
             quantized_dimension, data (numpy array or None)}]
  ops:     [{op ('CONV_2D', ...), inputs [tensor idx], outputs [tensor idx], options {...}}]
  inputs, outputs: [tensor idx]
"""
import flatbuffers
import numpy as np

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3

# enum BuiltinOperator, and the op version TFLite gives each op for int8 tensors
# (tensorflow/lite/tools/versioning/op_version.cc; the same as the converter's own int8 output).
# QUANTIZE (float32 → per-tensor int8) is version 1 and DEQUANTIZE (int8 → float32) version 2 there;
# both take no options (the converter's empty QuantizeOptions/DequantizeOptions are left out).
BUILTIN = {"AVERAGE_POOL_2D": 1, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "DEQUANTIZE": 6,
           "FULLY_CONNECTED": 9, "RESHAPE": 22, "SOFTMAX": 25, "MEAN": 40, "QUANTIZE": 114}
INT8_VERSION = {"AVERAGE_POOL_2D": 2, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "DEQUANTIZE": 2,
                "FULLY_CONNECTED": 4, "RESHAPE": 1, "SOFTMAX": 2, "MEAN": 2, "QUANTIZE": 1}
# More ops for the engine's own tests (tests/models_gen.py), with their float/int8 versions.
BUILTIN.update({"ADD": 0, "CONCATENATION": 2, "LOGISTIC": 14, "MAX_POOL_2D": 17, "MUL": 18, "RELU": 19,
                "PAD": 34, "TRANSPOSE": 39, "SUB": 41, "SQUEEZE": 43, "STRIDED_SLICE": 45, "MAXIMUM": 55,
                "MINIMUM": 57, "PADV2": 60, "HARD_SWISH": 117, "BATCH_MATMUL": 126})
TENSOR_TYPE = {"float32": 0, "float16": 1, "int32": 2, "uint8": 3, "int8": 9}
PADDING = {"SAME": 0, "VALID": 1}
ACTIVATION = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}

# union BuiltinOptions: type tag of each options table
OPT_CONV2D, OPT_DEPTHWISE, OPT_POOL2D, OPT_FC, OPT_SOFTMAX, OPT_RESHAPE, OPT_REDUCER = 1, 2, 5, 8, 9, 17, 27

# Field ids (schema.fbs)
MODEL_VERSION, MODEL_OPERATOR_CODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS = 0, 1, 2, 3, 4
OPCODE_DEPRECATED_BUILTIN, OPCODE_VERSION, OPCODE_BUILTIN = 0, 2, 3
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS, SUBGRAPH_NAME = 0, 1, 2, 3, 4
BUFFER_DATA = 0
TENSOR_SHAPE, TENSOR_TYPE_F, TENSOR_BUFFER, TENSOR_NAME, TENSOR_QUANT = 0, 1, 2, 3, 4
QUANT_SCALE, QUANT_ZERO_POINT, QUANT_DIM = 2, 3, 6
OP_OPCODE_INDEX, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS = 0, 1, 2, 3, 4


def _vec(b, arr, dtype):
    return b.CreateNumpyVector(np.ascontiguousarray(arr, dtype=dtype))


def _table(b, nfields, fields):
    """fields: (slot, kind, value) with kind in int8/int32/uint32/float32/bool/offset."""
    b.StartObject(nfields)
    for slot, kind, value in fields:
        if kind == "offset":
            b.PrependUOffsetTRelativeSlot(slot, value, 0)
        elif kind == "int8":
            b.PrependInt8Slot(slot, value, 0)
        elif kind == "int32":
            b.PrependInt32Slot(slot, value, 0)
        elif kind == "uint32":
            b.PrependUint32Slot(slot, value, 0)
        elif kind == "float32":
            b.PrependFloat32Slot(slot, value, 0.0)
        elif kind == "bool":
            b.PrependBoolSlot(slot, value, False)
        else:
            raise ValueError(kind)
    return b.EndObject()


def _options(b, op):
    """(union type tag, offset) of an operator's builtin options table."""
    o = op.get("options", {})
    name = op["op"]
    act = ACTIVATION[o.get("activation", "NONE")]
    if name == "CONV_2D":  # padding 0, stride_w 1, stride_h 2, activation 3, dilation_w 4, _h 5
        return OPT_CONV2D, _table(b, 6, [(0, "int8", PADDING[o["padding"]]),
                                         (1, "int32", o["stride"]), (2, "int32", o["stride"]),
                                         (3, "int8", act), (4, "int32", 1), (5, "int32", 1)])
    if name == "DEPTHWISE_CONV_2D":  # padding, stride_w, stride_h, depth_multiplier, act, dil w/h
        return OPT_DEPTHWISE, _table(b, 7, [(0, "int8", PADDING[o["padding"]]),
                                            (1, "int32", o["stride"]), (2, "int32", o["stride"]),
                                            (3, "int32", o.get("depth_multiplier", 1)),
                                            (4, "int8", act), (5, "int32", 1), (6, "int32", 1)])
    if name == "AVERAGE_POOL_2D":  # padding, stride_w, stride_h, filter_width, filter_height, act
        return OPT_POOL2D, _table(b, 6, [(0, "int8", PADDING[o["padding"]]),
                                         (1, "int32", o["stride"]), (2, "int32", o["stride"]),
                                         (3, "int32", o["filter"]), (4, "int32", o["filter"]),
                                         (5, "int8", act)])
    if name == "FULLY_CONNECTED":  # fused_activation_function 0, weights_format 1, keep_num_dims 2
        return OPT_FC, _table(b, 3, [(0, "int8", act), (2, "bool", bool(o.get("keep_num_dims", False)))])
    if name in ("ADD", "MUL", "SUB"):  # AddOptions 11 / MulOptions 21 / SubOptions 28: activation 0
        return {"ADD": 11, "MUL": 21, "SUB": 28}[name], _table(b, 1, [(0, "int8", act)])
    if name == "MAX_POOL_2D":
        return OPT_POOL2D, _table(b, 6, [(0, "int8", PADDING[o["padding"]]),
                                         (1, "int32", o["stride"]), (2, "int32", o["stride"]),
                                         (3, "int32", o["filter"]), (4, "int32", o["filter"]),
                                         (5, "int8", act)])
    if name == "CONCATENATION":  # ConcatenationOptions 10: axis 0, activation 1
        return 10, _table(b, 2, [(0, "int32", o.get("axis", 0)), (1, "int8", act)])
    if name == "SQUEEZE":  # SqueezeOptions 30: squeeze_dims 0
        dims = _vec(b, o.get("squeeze_dims", []), np.int32)
        return 30, _table(b, 1, [(0, "offset", dims)])
    if name == "STRIDED_SLICE":  # StridedSliceOptions 32: begin/end/ellipsis/new_axis/shrink masks
        return 32, _table(b, 6, [(0, "int32", o.get("begin_mask", 0)), (1, "int32", o.get("end_mask", 0)),
                                 (4, "int32", o.get("shrink_axis_mask", 0))])
    if name == "BATCH_MATMUL":  # BatchMatMulOptions 101: adj_x 0, adj_y 1
        return 101, _table(b, 3, [(0, "bool", bool(o.get("adj_x", False))),
                                  (1, "bool", bool(o.get("adj_y", False)))])
    if name in ("TRANSPOSE", "PAD", "PADV2", "MAXIMUM", "MINIMUM", "RELU", "LOGISTIC", "HARD_SWISH"):
        return 0, None
    if name == "SOFTMAX":  # beta 0
        return OPT_SOFTMAX, _table(b, 1, [(0, "float32", o.get("beta", 1.0))])
    if name == "RESHAPE":  # new_shape 0
        shape = _vec(b, o["new_shape"], np.int32)
        return OPT_RESHAPE, _table(b, 1, [(0, "offset", shape)])
    if name == "MEAN":  # keep_dims 0
        return OPT_REDUCER, _table(b, 1, [(0, "bool", bool(o.get("keep_dims", False)))])
    if name in ("QUANTIZE", "DEQUANTIZE"):
        return 0, None
    raise ValueError(f"no options writer for {name}")


def write(graph, path, description="camclassd tools/train"):
    b = flatbuffers.Builder(1 << 16)
    tensors = graph["tensors"]

    # Buffers: 0 is the empty sentinel; each constant tensor gets its own.
    buffer_of = {}
    datas = [None]
    for i, t in enumerate(tensors):
        if t.get("data") is not None:
            buffer_of[i] = len(datas)
            datas.append(np.ascontiguousarray(t["data"]).tobytes())
    buffer_offs = []
    for raw in datas:
        if raw is None:
            buffer_offs.append(_table(b, 3, []))
            continue
        b.StartVector(1, len(raw), 16)  # schema: data:[ubyte] (force_align: 16)
        b.head = b.head - len(raw)
        b.Bytes[b.head:b.head + len(raw)] = raw
        data_off = b.EndVector(len(raw))
        buffer_offs.append(_table(b, 3, [(BUFFER_DATA, "offset", data_off)]))

    tensor_offs = []
    for i, t in enumerate(tensors):
        name = b.CreateString(t["name"])
        shape = _vec(b, t["shape"], np.int32)
        quant = None
        if t.get("scale") is not None:
            scale = _vec(b, t["scale"], np.float32)
            zp = _vec(b, t["zero_point"], np.int64)
            quant = _table(b, 7, [(QUANT_SCALE, "offset", scale), (QUANT_ZERO_POINT, "offset", zp),
                                  (QUANT_DIM, "int32", t.get("quantized_dimension", 0))])
        fields = [(TENSOR_SHAPE, "offset", shape), (TENSOR_TYPE_F, "int8", TENSOR_TYPE[t["dtype"]]),
                  (TENSOR_BUFFER, "uint32", buffer_of.get(i, 0)), (TENSOR_NAME, "offset", name)]
        if quant is not None:
            fields.append((TENSOR_QUANT, "offset", quant))
        tensor_offs.append(_table(b, 10, fields))

    opcode_list = []
    for op in graph["ops"]:
        if op["op"] not in opcode_list:
            opcode_list.append(op["op"])
    op_offs = []
    for op in graph["ops"]:
        ins = _vec(b, op["inputs"], np.int32)
        outs = _vec(b, op["outputs"], np.int32)
        otype, ooff = _options(b, op)
        fields = [(OP_OPCODE_INDEX, "uint32", opcode_list.index(op["op"])),
                  (OP_INPUTS, "offset", ins), (OP_OUTPUTS, "offset", outs)]
        if ooff is not None:
            fields += [(OP_OPTIONS_TYPE, "int8", otype), (OP_OPTIONS, "offset", ooff)]
        op_offs.append(_table(b, 9, fields))
    opcode_offs = []
    for name in opcode_list:
        code = BUILTIN[name]
        b.StartObject(4)
        b.PrependInt8Slot(OPCODE_DEPRECATED_BUILTIN, min(code, 127), 0)
        version = next((op["version"] for op in graph["ops"] if op["op"] == name and "version" in op),
                       INT8_VERSION.get(name, 1))
        b.PrependInt32Slot(OPCODE_VERSION, version, 1)
        b.PrependInt32Slot(OPCODE_BUILTIN, code, 0)
        opcode_offs.append(b.EndObject())

    def offsets_vector(offs):
        b.StartVector(4, len(offs), 4)
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        return b.EndVector(len(offs))

    tensors_vec = offsets_vector(tensor_offs)
    ops_vec = offsets_vector(op_offs)
    sg_in = _vec(b, graph["inputs"], np.int32)
    sg_out = _vec(b, graph["outputs"], np.int32)
    sg_name = b.CreateString("main")
    subgraph = _table(b, 5, [(SUBGRAPH_TENSORS, "offset", tensors_vec), (SUBGRAPH_INPUTS, "offset", sg_in),
                             (SUBGRAPH_OUTPUTS, "offset", sg_out), (SUBGRAPH_OPERATORS, "offset", ops_vec),
                             (SUBGRAPH_NAME, "offset", sg_name)])
    subgraphs_vec = offsets_vector([subgraph])
    opcodes_vec = offsets_vector(opcode_offs)
    buffers_vec = offsets_vector(buffer_offs)
    desc = b.CreateString(description)
    model = _table(b, 8, [(MODEL_VERSION, "uint32", SCHEMA_VERSION),
                          (MODEL_OPERATOR_CODES, "offset", opcodes_vec),
                          (MODEL_SUBGRAPHS, "offset", subgraphs_vec),
                          (MODEL_DESCRIPTION, "offset", desc),
                          (MODEL_BUFFERS, "offset", buffers_vec)])
    b.Finish(model, file_identifier=FILE_IDENTIFIER)
    out = bytes(b.Output())
    with open(path, "wb") as f:
        f.write(out)
    return len(out)
