"""Scratch memory that a board's TFLM kernels request inside the tensor arena,
and the arena plan with it.

``kws.export.arena`` measures the arena with the host interpreter, whose
reference kernels request no scratch. Espressif's esp-tflite-micro 1.3.5
(the ESP32 boards' TFLM) replaces conv, depthwise conv and softmax with
ESP-NN kernels whose ``Prepare`` asks ``RequestScratchBufferInArena`` for
memory that lives while the node runs (``kernels/esp_nn/conv.cc``,
``depthwise_conv.cc``, ``softmax.cc``; ``-DESP_NN`` is always set by its
CMakeLists.txt). The sizes come from esp-nn 1.2.0 (the version the boards
pin); each formula below names its file. Re-implemented from reading those
files: no upstream code is copied.

TFLM places scratch buffers with the tensors in one greedy plan
(``memory_planner/greedy_memory_planner.cc``, lifetimes from
``micro_allocation_info.cc``). ``tflm_plan_bytes`` replays that plan, so the
extra arena a board needs is the plan with the scratch minus the plan
without it (the tests check the replay against the interpreter's recorded
head on every peer model), plus bookkeeping per request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kws.export.arena import ArenaSize, exported_arena
from kws.export.fixed_point import same_or_valid_padding
from kws.export.memory_plan import Buffer, first_fit
from kws.export.tflite_model import Operator, Subgraph, TfliteModel

KERNEL_SETS = ("esp-nn-esp32s3", "esp-nn-esp32")
ARENA_ALIGNMENT = 16             # MicroArenaBufferAlignment(): every planned buffer is rounded up to it
# Per scratch request, x86-64 sizes like the measurement (an upper bound for 32-bit targets): the
# ScratchBufferRequest (16) and its handle (8), the AllocationInfo (32) and the planner's own
# per-buffer records (40) in the temporary memory of the planning step.
REQUEST_BOOKKEEPING = 96
# ESP-NN's NodeData adds an int (the scratch index) to the reference kernel's op data of every
# conv, depthwise conv and softmax node: at most one more 16-byte step of persistent memory.
NODE_BOOKKEEPING = ARENA_ALIGNMENT
_ESP_NN_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX")


@dataclass(frozen=True)
class ScratchRequest:
    """One kernel's ``RequestScratchBufferInArena`` on the board."""

    subgraph: int
    node: int
    op: str
    bytes: int
    formula: str                 # which upstream function gives the size


def _align(n: int) -> int:
    return -(-n // ARENA_ALIGNMENT) * ARENA_ALIGNMENT


def _conv_geometry(sub: Subgraph, op: Operator) -> dict[str, int]:
    """Dimensions as the esp_nn kernels' Prepare fills data_dims_t and the params
    (padding from TFLM's ComputePaddingHeightWidth, dilation ignored by the size functions)."""
    inp, filt, out = sub.tensors[op.inputs[0]], sub.tensors[op.inputs[1]], sub.tensors[op.outputs[0]]
    o = op.options
    _, pad_h = same_or_valid_padding(o.padding, o.strideH, o.dilationHFactor, inp.shape[1], filt.shape[1])
    _, pad_w = same_or_valid_padding(o.padding, o.strideW, o.dilationWFactor, inp.shape[2], filt.shape[2])
    return {"in_h": inp.shape[1], "in_w": inp.shape[2], "in_ch": inp.shape[3], "f_h": filt.shape[1],
            "f_w": filt.shape[2], "out_h": out.shape[1], "out_w": out.shape[2], "out_ch": out.shape[3],
            "pad_h": pad_h, "pad_w": pad_w, "stride_h": o.strideH, "stride_w": o.strideW}


def conv_scratch_esp32s3(g: dict[str, int]) -> int:
    """esp-nn 1.2.0 src/convolution/esp_nn_conv_esp32s3.c, esp_nn_get_conv_scratch_size_esp32s3."""
    align = 32
    if g["f_w"] == g["f_h"] == 1 and g["pad_w"] == g["pad_h"] == 0 and g["stride_w"] == g["stride_h"] == 1:
        channels8 = (g["in_ch"] + 7) & ~7
        transpose = 0 if g["in_w"] * g["in_h"] < 8 else 2 * 8 * channels8
        inputs = g["in_w"] * g["in_h"] * channels8 if g["in_ch"] % 8 else 0
        return inputs + channels8 * g["out_ch"] + transpose + align
    channels16 = (g["in_ch"] + 15) & ~15
    padded = 0 if g["pad_w"] == g["pad_h"] == 0 else \
        (g["in_w"] + 2 * g["pad_w"]) * (g["in_h"] + 2 * g["pad_h"]) * g["in_ch"]
    return padded + g["f_w"] * g["f_h"] * channels16 * g["out_ch"] + align + 4 * g["out_ch"]


def depthwise_scratch_esp32s3(g: dict[str, int], ch_mult: int) -> int:
    """esp-nn 1.2.0 src/convolution/esp_nn_depthwise_conv_s8_esp32s3.c,
    esp_nn_get_depthwise_conv_scratch_size_esp32s3."""
    channels = g["in_ch"]
    filter_size = g["f_w"] * g["f_h"] * channels * ch_mult
    input_size = g["in_w"] * g["in_h"] * channels
    if ch_mult == 1 and channels % 8 == 0 and g["f_w"] == g["f_h"] == 3:
        if channels % 16:
            return 2 * (filter_size + input_size) + 32
        if g["pad_w"] or g["pad_h"]:
            pad_w, pad_h = 2 * g["pad_w"], 2 * g["pad_h"]
        else:  # the kernel pads the right/bottom edge itself when the strides leave pixels out
            pad_w = g["out_w"] * g["stride_w"] + g["f_w"] - 1 - g["in_w"]
            pad_h = g["out_h"] * g["stride_h"] + g["f_h"] - 1 - g["in_h"]
        if pad_w or pad_h:
            return filter_size + (g["in_w"] + pad_w) * (g["in_h"] + pad_h) * channels + 16
        return filter_size + 16
    if ch_mult % 4 == 0:
        return 2 * (filter_size + input_size) + 32
    return 32


def softmax_scratch(sub: Subgraph, op: Operator) -> int:
    """esp-nn 1.2.0 src/softmax/esp_nn_softmax_opt.c, esp_nn_get_softmax_scratch_size_opt
    (4 bytes per unit of the width esp-tflite-micro passes: the input's dims[1])."""
    shape = sub.tensors[op.inputs[0]].shape
    return 4 * shape[1] if len(shape) > 1 else 0


def scratch_requests(model: TfliteModel, kernels: str) -> list[ScratchRequest]:
    """Every scratch request of ``kernels`` (one of KERNEL_SETS) for ``model``'s int8 layers.
    On the ESP32 (esp-nn's generic optimizations, esp_nn_conv_opt.c and
    esp_nn_depthwise_conv_opt.c) the conv sizes are 0 and are not requested."""
    if kernels not in KERNEL_SETS:
        raise ValueError(f"unknown kernel set {kernels!r}")
    requests = []
    for s, sub in enumerate(model.subgraphs):
        for op in sub.operators:
            if op.opcode not in _ESP_NN_OPS or sub.tensors[op.inputs[0]].dtype != "int8":
                continue
            if op.opcode == "SOFTMAX":
                if sub.tensors[op.outputs[0]].dtype == "int8" and (size := softmax_scratch(sub, op)) > 0:
                    requests.append(ScratchRequest(s, op.index, op.opcode, size, "esp_nn_get_softmax_scratch_size_opt"))
                continue
            if kernels != "esp-nn-esp32s3":
                continue
            geometry = _conv_geometry(sub, op)
            if op.opcode == "CONV_2D":
                size, formula = conv_scratch_esp32s3(geometry), "esp_nn_get_conv_scratch_size_esp32s3"
            else:
                size = depthwise_scratch_esp32s3(geometry, op.options.depthMultiplier)
                formula = "esp_nn_get_depthwise_conv_scratch_size_esp32s3"
            if size > 0:
                requests.append(ScratchRequest(s, op.index, op.opcode, size, formula))
    return requests


def _called_subgraphs(op: Operator) -> list[int]:
    """Subgraphs an op runs (TFLM's MarkSubgraphLifetimesIfNecessary)."""
    o = op.options
    if op.opcode == "IF":
        return [o.thenSubgraphIndex, o.elseSubgraphIndex]
    if op.opcode == "WHILE":
        return [o.condSubgraphIndex, o.bodySubgraphIndex]
    if op.opcode == "CALL_ONCE":
        return [o.initSubgraphIndex]
    return []


def _lifetimes(model: TfliteModel, requests: list[ScratchRequest]) -> list[Buffer]:
    """Planned buffers in TFLM's order (every subgraph's tensors, then the scratch
    requests) with lifetimes in TFLM's allocation scopes (micro_allocation_info.cc)."""
    first: dict[tuple[int, int], int] = {}
    last: dict[tuple[int, int], int] = {}
    scope = 0

    def created(key: tuple[int, int], at: int) -> None:
        first.setdefault(key, at)

    def mark(s: int) -> None:
        nonlocal scope
        sub = model.subgraphs[s]
        for t in sub.inputs:
            created((s, t), scope)
            last[(s, t)] = scope
        for op in sub.operators:
            scope += 1
            for t in op.outputs:
                created((s, t), scope)
            start = scope
            for called in _called_subgraphs(op):
                scope += 1
                mark(called)
            for t in (*[t for t in op.inputs if t >= 0], *op.outputs):
                last[(s, t)] = scope
            for n, request in enumerate(requests):
                if (request.subgraph, request.node) == (s, op.index):
                    created((-1, n), start)
                    last[(-1, n)] = scope
        for t in sub.outputs:
            created((s, t), scope)
            last[(s, t)] = scope

    mark(0)
    buffers = []
    for s, sub in enumerate(model.subgraphs):
        for tensor in sub.tensors:
            if not tensor.is_constant and not tensor.is_variable and tensor.nbytes and (s, tensor.index) in first:
                buffers.append(Buffer(f"{s}:{tensor.index}", _align(tensor.nbytes), first[(s, tensor.index)],
                                      last[(s, tensor.index)]))
    buffers += [Buffer(f"scratch:{n}", _align(r.bytes), first[(-1, n)], last[(-1, n)])
                for n, r in enumerate(requests)]
    return buffers


def tflm_plan_bytes(model: TfliteModel, requests: list[ScratchRequest] = ()) -> int:
    """The size of TFLM's greedy plan of ``model``'s activations plus ``requests``.
    GreedyMemoryPlanner sorts by size, largest first, ties in reverse order of adding."""
    buffers = _lifetimes(model, list(requests))
    order = {b.name: i for i, b in enumerate(buffers)}
    first_fit(buffers, key=lambda b: (-b.size, -order[b.name]))
    return max((b.offset + b.size for b in buffers), default=0)


def with_board_scratch(measured: ArenaSize, model: TfliteModel, kernels: str) -> tuple[ArenaSize, list[ScratchRequest]]:
    """``measured`` (host interpreter, reference kernels) grown by what ``kernels``
    add: the plan's growth with their scratch buffers, plus bookkeeping."""
    requests = scratch_requests(model, kernels)
    nodes = sum(1 for sub in model.subgraphs for op in sub.operators if op.opcode in _ESP_NN_OPS)
    growth = tflm_plan_bytes(model, requests) - tflm_plan_bytes(model) if requests else 0
    extra = growth + REQUEST_BOOKKEEPING * len(requests) + NODE_BOOKKEEPING * nodes
    need = measured.need + extra
    note = (f"{kernels} kernels ({len(requests)} scratch requests of {sum(r.bytes for r in requests)} B grow TFLM's "
            f"plan by {growth} B; {REQUEST_BOOKKEEPING} B bookkeeping per request, {NODE_BOOKKEEPING} B per ESP-NN node)")
    return replace(measured, need=need, exported=exported_arena(need), kernels_extra=extra, kernels_note=note), requests
