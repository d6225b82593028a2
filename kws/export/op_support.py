"""Which operators each runtime can run, and the one-line refusal when it cannot.

``TFLM_RESOLVER_METHODS`` maps every builtin op TFLite Micro has a kernel for to
the ``MicroMutableOpResolver`` method that registers it (from TFLM's
micro_mutable_op_resolver.h). ``C_RUNTIME_OPS`` are the ops kws's own C runtime
lowers to kernels (``firmware_templates/runtime_c``).
"""

from __future__ import annotations

from kws.errors import KwsError, UsageError
from kws.export.tflite_model import RESOURCE_VARIABLE_OPS, Operator, TfliteModel, check_io

_TFLM_TABLE = """
ABS:Abs ADD:Add ADD_N:AddN ARG_MAX:ArgMax ARG_MIN:ArgMin ASSIGN_VARIABLE:AssignVariable
AVERAGE_POOL_2D:AveragePool2D BATCH_MATMUL:BatchMatMul BATCH_TO_SPACE_ND:BatchToSpaceNd
BROADCAST_ARGS:BroadcastArgs BROADCAST_TO:BroadcastTo CALL_ONCE:CallOnce CAST:Cast CEIL:Ceil
CONCATENATION:Concatenation CONV_2D:Conv2D COS:Cos CUMSUM:CumSum DEPTHWISE_CONV_2D:DepthwiseConv2D
DEPTH_TO_SPACE:DepthToSpace DEQUANTIZE:Dequantize DIV:Div DYNAMIC_UPDATE_SLICE:DynamicUpdateSlice
ELU:Elu EMBEDDING_LOOKUP:EmbeddingLookup EQUAL:Equal EXP:Exp EXPAND_DIMS:ExpandDims FILL:Fill
FLOOR:Floor FLOOR_DIV:FloorDiv FLOOR_MOD:FloorMod FULLY_CONNECTED:FullyConnected GATHER:Gather
GATHER_ND:GatherNd GREATER:Greater GREATER_EQUAL:GreaterEqual HARD_SWISH:HardSwish IF:If
L2_NORMALIZATION:L2Normalization L2_POOL_2D:L2Pool2D LEAKY_RELU:LeakyRelu LESS:Less
LESS_EQUAL:LessEqual LOG:Log LOGICAL_AND:LogicalAnd LOGICAL_NOT:LogicalNot LOGICAL_OR:LogicalOr
LOGISTIC:Logistic LOG_SOFTMAX:LogSoftmax MAXIMUM:Maximum MAX_POOL_2D:MaxPool2D MEAN:Mean
MINIMUM:Minimum MIRROR_PAD:MirrorPad MUL:Mul NEG:Neg NOT_EQUAL:NotEqual PACK:Pack PAD:Pad
PADV2:PadV2 PRELU:Prelu QUANTIZE:Quantize READ_VARIABLE:ReadVariable REDUCE_ALL:ReduceAll
REDUCE_MAX:ReduceMax REDUCE_MIN:ReduceMin RELU:Relu RELU6:Relu6 RESHAPE:Reshape
RESIZE_BILINEAR:ResizeBilinear RESIZE_NEAREST_NEIGHBOR:ResizeNearestNeighbor REVERSE_V2:ReverseV2
ROUND:Round RSQRT:Rsqrt SELECT_V2:SelectV2 SHAPE:Shape SIN:Sin SLICE:Slice SOFTMAX:Softmax
SPACE_TO_BATCH_ND:SpaceToBatchNd SPACE_TO_DEPTH:SpaceToDepth SPLIT:Split SPLIT_V:SplitV SQRT:Sqrt
SQUARE:Square SQUARED_DIFFERENCE:SquaredDifference SQUEEZE:Squeeze STRIDED_SLICE:StridedSlice
SUB:Sub SUM:Sum SVDF:Svdf TANH:Tanh TRANSPOSE:Transpose TRANSPOSE_CONV:TransposeConv
UNIDIRECTIONAL_SEQUENCE_LSTM:UnidirectionalSequenceLSTM UNPACK:Unpack VAR_HANDLE:VarHandle
WHILE:While ZEROS_LIKE:ZerosLike
"""
TFLM_RESOLVER_METHODS: dict[str, str] = {
    op: "Add" + method for op, method in (item.split(":") for item in _TFLM_TABLE.split())
}

C_RUNTIME_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
    "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SOFTMAX", "ADD", "MEAN", "PAD",
})

_SUPPORT = {"tflm": TFLM_RESOLVER_METHODS.keys(), "c": C_RUNTIME_OPS}


def _where(model: TfliteModel, sub_index: int, op: Operator) -> str:
    sub = model.subgraphs[sub_index]
    place = f"operator {op.index}" + (f" of subgraph {sub_index}" if sub_index else "")
    named = [("output", i) for i in op.outputs] + [("input", i) for i in op.inputs if i >= 0]
    if not named:
        return place
    role, index = named[0]
    return f"{place} ({role} tensor '{sub.tensors[index].name}')"


def unsupported_op_error(model: TfliteModel, runtime: str, sub_index: int, op: Operator, detail: str = "") -> KwsError:
    """The one-line refusal for ``op`` on ``runtime``, naming who can run it."""
    others = [r for r, ops in _SUPPORT.items() if r != runtime and op.opcode in ops]
    if others:
        hint = f"runtime {others[0]} supports it: use --runtime {others[0]}"
    else:
        hint = "no kws runtime supports it: re-convert the model with builtin TFLite ops that TFLM supports"
    what = f"op {op.opcode} v{op.version}" + (f" ({detail})" if detail else "")
    return KwsError(f"{model.source}: {what} at {_where(model, sub_index, op)} is not supported by runtime {runtime}; {hint}")


def check_model(model: TfliteModel, runtime: str) -> None:
    """Raise a one-line KwsError unless ``runtime`` can run ``model``."""
    if runtime not in _SUPPORT:
        raise UsageError(f"--runtime {runtime}: unknown runtime; use one of: {', '.join(_SUPPORT)}")
    check_io(model)
    if runtime == "c" and model.uses_resource_variables:
        used = ", ".join(op for op in model.ops if op in RESOURCE_VARIABLE_OPS)
        raise KwsError(
            f"{model.source}: a streaming model with resource variables ({used}) is TFLM-only: "
            "runtime c keeps no state between inferences; use --runtime tflm"
        )
    for sub_index, sub in enumerate(model.subgraphs):
        for op in sub.operators:
            if op.opcode not in _SUPPORT[runtime]:
                raise unsupported_op_error(model, runtime, sub_index, op)
