"""Which operators each runtime can run, and the one-line refusal when it cannot.

``TFLM_RESOLVER_METHODS`` maps every builtin op TFLite Micro has a kernel for to
the ``MicroMutableOpResolver`` method that registers it (from upstream TFLM's
micro_mutable_op_resolver.h). A board's TFLM comes from a distribution pinned
at some older version that may lack some of them: ``TFLM_DISTRIBUTIONS`` says
which (a board names its own in ``[platformio.tflm] distribution``).
``C_RUNTIME_OPS`` are the ops kws's own C runtime lowers to kernels
(``firmware_templates/runtime_c``).
"""

from __future__ import annotations

from dataclasses import dataclass

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



@dataclass(frozen=True)
class TflmDistribution:
    """One TFLM source a board builds against, and what its op resolver lacks
    of ``TFLM_RESOLVER_METHODS`` (read from its micro_mutable_op_resolver.h at
    the pinned version). ``header`` is that file's path in a checkout of it;
    ``checkout_env`` names the variable that points a test at one."""

    name: str
    header: str
    checkout_env: str
    lacks: frozenset[str] = frozenset()

    @property
    def ops(self) -> frozenset[str]:
        return frozenset(TFLM_RESOLVER_METHODS) - self.lacks


_RESOLVER_HEADER = "tensorflow/lite/micro/micro_mutable_op_resolver.h"
UPSTREAM_TFLM = TflmDistribution("tflite-micro", _RESOLVER_HEADER, "KWS_TFLM_DIR")
TFLM_DISTRIBUTIONS: dict[str, TflmDistribution] = {d.name: d for d in (
    UPSTREAM_TFLM,
    # the TFLM Arduino library at its final commit (archived 2025): a 2023 sync of tflite-micro
    TflmDistribution("tflite-micro-arduino-examples@7948b85", "src/" + _RESOLVER_HEADER, "KWS_TFLM_ARDUINO_DIR",
                     frozenset({"BATCH_MATMUL", "DYNAMIC_UPDATE_SLICE", "EMBEDDING_LOOKUP", "REDUCE_ALL",
                                "REDUCE_MIN", "REVERSE_V2"})),
    TflmDistribution("esp-tflite-micro@1.3.5", _RESOLVER_HEADER, "KWS_ESP_TFLITE_MICRO_DIR",
                     frozenset({"REDUCE_ALL"})),
)}


def tflm_distribution(name: str | None, where: str = "") -> TflmDistribution:
    """The distribution called ``name`` (upstream TFLM when None); ``where``
    names the board file for the error."""
    if name is None:
        return UPSTREAM_TFLM
    if name not in TFLM_DISTRIBUTIONS:
        raise KwsError(f"{where or 'board'}: [platformio.tflm] distribution = {name!r} is unknown; "
                       f"use one of {', '.join(TFLM_DISTRIBUTIONS)}")
    return TFLM_DISTRIBUTIONS[name]


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


def unsupported_op_error(model: TfliteModel, runtime: str, found: list[tuple[int, Operator]],
                         detail: str = "") -> KwsError:
    """The one-line refusal on ``runtime`` of the ops ``found`` ((subgraph, op),
    each opcode named once at its first use), naming who can run them all."""
    first = list({op.opcode: (sub_index, op) for sub_index, op in reversed(found)}.values())[::-1]
    it = "them" if len(first) > 1 else "it"
    others = [r for r, ops in _SUPPORT.items() if r != runtime and all(op.opcode in ops for _, op in first)]
    if others:
        hint = f"runtime {others[0]} supports {it}: use --runtime {others[0]}"
    else:
        hint = f"no kws runtime supports {it}: re-convert the model with builtin TFLite ops that TFLM supports"
    what = ", ".join(f"op {op.opcode} v{op.version}" + (f" ({detail})" if detail else "")
                     + f" at {_where(model, sub_index, op)}" for sub_index, op in first)
    verb = "are" if len(first) > 1 else "is"
    return KwsError(f"{model.source}: {what} {verb} not supported by runtime {runtime}; {hint}")


def check_model(model: TfliteModel, runtime: str, tflm: TflmDistribution = UPSTREAM_TFLM) -> None:
    """Raise a one-line KwsError unless ``runtime`` can run ``model`` (with
    ``tflm``: the TFLM distribution the board builds against)."""
    if runtime not in _SUPPORT:
        raise UsageError(f"--runtime {runtime}: unknown runtime; use one of: {', '.join(_SUPPORT)}")
    check_io(model)
    if runtime == "c" and model.uses_resource_variables:
        used = ", ".join(op for op in model.ops if op in RESOURCE_VARIABLE_OPS)
        raise KwsError(
            f"{model.source}: a streaming model with resource variables ({used}) is TFLM-only: "
            "runtime c keeps no state between inferences; use --runtime tflm"
        )
    found = [(sub_index, op) for sub_index, sub in enumerate(model.subgraphs) for op in sub.operators
             if op.opcode not in _SUPPORT[runtime]]
    if found:
        raise unsupported_op_error(model, runtime, found)
    if runtime == "tflm":
        _check_distribution(model, tflm)


def _check_distribution(model: TfliteModel, tflm: TflmDistribution) -> None:
    """Refuse, naming all of them, the model's ops that upstream TFLM has but ``tflm`` lacks."""
    lacking = [op for op in model.ops if op in tflm.lacks]
    if not lacking:
        return
    methods = ", ".join(f"{op} ({TFLM_RESOLVER_METHODS[op]})" for op in lacking)
    ops, them = ("ops", "them") if len(lacking) > 1 else ("op", "it")
    raise KwsError(f"{model.source}: the TFLM this board builds against ({tflm.name}) lacks {ops} {methods}; "
                   f"re-convert the model without {them}, or use a board whose TFLM has {them}")
