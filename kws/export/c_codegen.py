"""Runtime ``c``: lower a .tflite model to plain C calls of the kws kernels.

No interpreter and no flatbuffer on the device: the exporter computes every
integer parameter as TFLM's Prepare would (``kws.export.fixed_point``), keeps
weights as const arrays, turns reshapes into aliases, and places all
activations in one static arena (``kws.export.memory_plan``). The kernels live
in ``firmware_templates/runtime_c/kws_kernels.c``; this module renders
``kws_model.c`` from ``runtime_c/kws_model.c.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import jinja2
import numpy as np

from kws.errors import KwsError
from kws.export import fixed_point as fp
from kws.export.memory_plan import Buffer, Link, MemoryPlan, plan
from kws.export.op_support import check_model, unsupported_op_error
from kws.export.render import c_array
from kws.export.streaming import KernelCall, NotStreamable, StreamPlan, plan_stream
from kws.export.tflite_model import Operator, Subgraph, Tensor, TfliteModel

KERNEL_SOURCES = ("kws_kernels.h", "kws_kernels.c", "kws_stream.h", "kws_stream.c")
ALIAS_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
SCRATCH_KERNELS = frozenset({"kws_conv", "kws_depthwise"})   # take a scratch buffer last
DEPTHWISE_MAX_TAPS = 32                                          # KWS_DEPTHWISE_MAX_TAPS


@dataclass
class ConstArray:
    name: str
    ctype: str
    values: np.ndarray = field(repr=False)
    comment: str
    weights: bool = True            # False for derived parameters (multipliers, shifts)

    @property
    def body(self) -> str:
        return c_array(self.values, per_line=16)


@dataclass
class Layer:
    """One kernel call: ``function(&name, inputs..., output[, scratch])``."""

    op: Operator
    struct: str                     # kws_conv_t, kws_pool_t, ...
    function: str
    fields: dict[str, Any]
    inputs: list[str]               # tensor buffer names or const array names
    output: str
    scratch: int = 0                # bytes of scratch buffer (SCRATCH_KERNELS)
    max_delta: int | None = None    # how far after its input the output may start (raster-order kernels)

    @property
    def name(self) -> str:
        return f"op{self.op.index}"


@dataclass
class CModel:
    """The lowered model: arrays, layers, memory plan."""

    model: TfliteModel
    arrays: list[ConstArray]
    layers: list[Layer]
    plan: MemoryPlan
    input_buffer: str
    output_buffer: str
    stream: StreamPlan | None = None
    stream_note: str = ""           # why the model runs the whole window at every inference

    def calls(self, streaming: bool = True) -> list[tuple[Layer, KernelCall]]:
        """Each layer with its kernel call in one inference: a streaming step
        when the model streams (unless ``streaming`` is False), else the
        whole window."""
        if self.stream is not None and streaming:
            return list(zip(self.layers, self.stream.calls))
        return [(layer, KernelCall.whole(layer)) for layer in self.layers]

    @property
    def ram_bytes(self) -> int:
        """Arena, streaming state and the whole-window input buffer of a streaming model."""
        if self.stream is None:
            return self.plan.arena_bytes
        return self.plan.arena_bytes + self.stream.state_bytes + self.model.input.nbytes

    @property
    def weight_bytes(self) -> int:
        """Flash for all constant arrays (weights and their derived parameters)."""
        return sum(a.values.nbytes for a in self.arrays)


def _words(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """int16 pairs as int32 words, low half first (the kernels' filter words)."""
    return ((low.astype(np.int64) & 0xFFFF) | (high.astype(np.int64) << 16)).astype(np.int32)


def _row_blocks(rows: np.ndarray, block: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``block`` applied to rows in blocks of four, then to each last row singly."""
    full = len(rows) // 4 * 4
    parts = [block(rows[i:i + 4]) for i in range(0, full, 4)] + [block(rows[i:i + 1]) for i in range(full, len(rows))]
    return np.concatenate([part.reshape(-1) for part in parts])


def _conv_block(rows: np.ndarray) -> np.ndarray:
    full = rows.shape[1] // 4 * 4
    taps = rows[:, :full].reshape(len(rows), -1, 4).transpose(1, 0, 2)      # [tap group][row][4]
    pairs = np.stack([_words(taps[..., 0], taps[..., 2]), _words(taps[..., 1], taps[..., 3])], axis=-1)
    return np.concatenate([pairs.reshape(-1), rows[:, full:].T.astype(np.int32).reshape(-1)])


def _depthwise_block(rows: np.ndarray) -> np.ndarray:
    taps = np.zeros((len(rows), -(-rows.shape[1] // 2) * 2), np.int16)
    taps[:, : rows.shape[1]] = rows
    return _words(taps[:, 0::2], taps[:, 1::2]).T                               # [pair][channel]


def conv_filter_layout(rows: np.ndarray, groups: int) -> np.ndarray:
    """Filter rows [out_c][k] as kws_conv / kws_conv_1x1 read them (kws_kernels.h)."""
    per_group = len(rows) // groups
    return np.concatenate([_row_blocks(rows[g * per_group:(g + 1) * per_group], _conv_block) for g in range(groups)])


def depthwise_filter_layout(rows: np.ndarray) -> np.ndarray:
    """Filter rows [channels][k_h * k_w] as kws_depthwise reads them (kws_kernels.h)."""
    return _row_blocks(rows, _depthwise_block)


def folded_bias(bias: np.ndarray | None, rows: np.ndarray, input_offset: int) -> np.ndarray:
    """bias + input_offset x each filter row's sum, wrapped to int32 as the
    kernels' int32 sums wrap: sum (x + offset) w = sum x w + offset sum w."""
    total = rows.astype(np.int64).sum(axis=1) * input_offset
    if bias is not None:
        total += bias.astype(np.int64)
    return ((total + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def raster_overlap(g: dict[str, int], out_c: int) -> int:
    """Largest shift of the output start past the input start such that a
    raster-order kernel (kws_conv, kws_*_pool: one output pixel after the
    other, each reading its whole window first) never overwrites input bytes
    it still has to read. Conservative: a window is taken to start at its
    top-left in-image corner, so the first byte it may read is never later."""
    oy = np.arange(g["out_h"])[:, None]
    ox = np.arange(g["out_w"])[None, :]
    first_read = (np.maximum(oy * g["stride_h"] - g["pad_h"], 0) * g["in_w"]
                  + np.maximum(ox * g["stride_w"] - g["pad_w"], 0)) * g["in_c"]
    first_read = first_read.reshape(-1)
    still_needed = np.minimum.accumulate(first_read[::-1])[::-1]   # by this pixel or a later one
    written_end = (np.arange(first_read.size) + 1) * out_c
    return int((still_needed - written_end).min())


def requant_records(multipliers: list[int], shifts: list[int]) -> np.ndarray:
    """kws_conv_t.requant for KWS_REQUANT_WIDE: per channel multiplier, ~shift
    and, for a right shift e, TFLM's two roundings as one 64-bit constant
    2^30 + 2^(30 + e)."""
    records = np.zeros((len(multipliers), 4), np.int64)
    for row, (m, s) in zip(records, zip(multipliers, shifts)):
        rounding = (1 << 30) + (1 << (30 - s)) if s < 0 else 0
        row[:] = m, ~s, rounding & 0xFFFFFFFF, rounding >> 32
    return ((records + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def short_requant_records(multipliers: list[int], shifts: list[int], bias: np.ndarray | None, rows: np.ndarray,
                          output_zero_point: int) -> np.ndarray | None:
    """kws_conv_t.requant for KWS_REQUANT_SHORT, or None when a channel does
    not qualify. The short form takes the sum doubled (filters and bias stored
    x2), so TFLM's SaturatingRoundingDoublingHighMul is one rounded 32-bit
    high multiply (SMMULR), and folds the output zero point into
    RoundingDivideByPOT's rounding: per channel multiplier, 2^(e-1) + zero
    point x 2^e, e. It needs a right shift 1 <= e <= 30 and sums that stay
    below 2^30 in magnitude for every int8 input, so that doubling, the
    partial sums and the rounding all fit int32 exactly (the sum runs over
    the folded bias, bias - input zero point x filter sum, plus input x filter)."""
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 256     # |input|, |input zero point| <= 128
    if bias is not None:
        bound += np.abs(bias.astype(np.int64))
    records = []
    for m, s, limit in zip(multipliers, shifts, bound.tolist()):
        e = -s
        high = (limit * m >> 31) + 1                       # |SRDHM(sum, m)| at most
        rounding = (1 << (e - 1)) + (output_zero_point << e) if 1 <= e <= 30 else None
        if rounding is None or limit >= 1 << 30 or high + abs(rounding) + 1 >= 1 << 31:
            return None
        records.append((m, rounding, e, 0))
    return np.array(records, np.int64).astype(np.int32)


def conv_kernel(g: dict[str, int]) -> tuple[str, int]:
    """(kernel, scratch bytes) for a kws_conv_t layer of geometry ``g``: the
    specialised kernels where the shape allows, kws_conv (patch copy) else."""
    if g["group_c"] == 1 and g["in_c"] == g["out_c"] and g["k_h"] * g["k_w"] <= DEPTHWISE_MAX_TAPS:
        return "kws_depthwise", g["in_c"]                       # scratch: the zero point row
    if g["k_h"] == g["k_w"] == 1 and g["pad_h"] == g["pad_w"] == 0 and g["group_c"] == g["in_c"]:
        return "kws_conv_1x1", 0
    return "kws_conv", g["k_h"] * g["k_w"] * g["group_c"]      # scratch: one patch


class _Lowering:
    """Walks the main subgraph once, collecting arrays and layers."""

    def __init__(self, model: TfliteModel) -> None:
        self.model = model
        self.sub: Subgraph = model.main
        self.arrays: list[ConstArray] = []
        self.layers: list[Layer] = []
        self.alias: dict[int, int] = {}           # tensor -> tensor whose bytes it shares
        self.folded: dict[int, str] = {}          # constant tensor -> array name
        self.pads: dict[int, tuple[Tensor, np.ndarray, Operator]] = {}  # padded tensor -> (source, [4][2], PAD op)

    # -- helpers --------------------------------------------------------------
    def fail(self, op: Operator, detail: str) -> KwsError:
        return unsupported_op_error(self.model, "c", [(0, op)], detail)

    def root(self, index: int) -> int:
        while index in self.alias:
            index = self.alias[index]
        return index

    def buffer(self, tensor: Tensor) -> str:
        return self.folded.get(tensor.index) or f"t{self.root(tensor.index)}"

    def array(self, name: str, ctype: str, values: Any, comment: str, weights: bool = True) -> str:
        self.arrays.append(ConstArray(name, ctype, np.asarray(values).reshape(-1), comment, weights))
        return name

    def const_input(self, tensor: Tensor) -> str:
        if tensor.index not in self.folded:
            self.folded[tensor.index] = self.array(f"c{tensor.index}", "int8_t", tensor.data, tensor.name)
        return self.folded[tensor.index]

    def int8(self, op: Operator, *tensors: Tensor | None) -> None:
        for tensor in tensors:
            if tensor is None or tensor.dtype != "int8" or tensor.quant is None:
                what = "missing tensor" if tensor is None else tensor.describe()
                raise self.fail(op, f"{what}: runtime c runs int8 tensors only")

    def activation(self, op: Operator, output: Tensor) -> tuple[int, int]:
        code = int(getattr(op.options, "fusedActivationFunction", 0) or 0)
        try:
            return fp.activation_range(code, output.quant.scale, output.quant.zero_point)
        except ValueError:
            raise self.fail(op, f"fused activation {code}") from None

    # -- ops --------------------------------------------------------------------
    def lower(self) -> None:
        handlers: dict[str, Callable[[Operator], None]] = {
            "CONV_2D": self.conv, "DEPTHWISE_CONV_2D": self.conv, "FULLY_CONNECTED": self.fully_connected,
            "AVERAGE_POOL_2D": self.pool, "MAX_POOL_2D": self.pool, "SOFTMAX": self.softmax,
            "ADD": self.add, "MEAN": self.mean, "PAD": self.pad,
        }
        for op in self.sub.operators:
            if op.opcode in ALIAS_OPS:
                self.reshape(op)
            else:
                handlers[op.opcode](op)
        for _, _, op in self.pads.values():
            raise self.fail(op, "runtime c folds PAD into the convolution it feeds; this one feeds something else")

    def pad(self, op: Operator) -> None:
        """PAD of height and width with the zero point: folded into the one
        convolution it feeds, whose kernels give out-of-image taps the same
        zero contribution (so a model can pad frequency but not time)."""
        source, paddings = (self.sub.tensors[i] for i in op.inputs[:2])
        out = self.sub.tensors[op.outputs[0]]
        self.int8(op, source, out)
        pads = None if paddings.data is None else np.asarray(paddings.data).reshape(-1, 2)
        if pads is None or len(source.shape) != 4 or pads.shape[0] != 4 or pads[[0, 3]].any() or (pads < 0).any():
            raise self.fail(op, "runtime c folds only constant height/width padding into a convolution")
        if (source.quant.scale, source.quant.zero_point) != (out.quant.scale, out.quant.zero_point):
            raise self.fail(op, "input and output quantization differ")
        readers = sum(list(other.inputs).count(out.index) for other in self.sub.operators)
        if readers != 1 or out.index in self.sub.outputs:
            raise self.fail(op, "runtime c folds PAD into the one convolution it feeds")
        self.pads[out.index] = (source, pads, op)

    def reshape(self, op: Operator) -> None:
        source, out = self.sub.tensors[op.inputs[0]], self.sub.tensors[op.outputs[0]]
        if source.nbytes != out.nbytes:
            raise self.fail(op, f"{source.describe()} -> {out.describe()} changes the size")
        if source.is_constant:
            self.folded[out.index] = self.const_input(source)
        else:
            self.alias[out.index] = source.index

    def _conv_layer(self, op: Operator, inp: Tensor, out: Tensor, filt: np.ndarray, bias: Tensor | None,
                    geometry: dict[str, int], multipliers: tuple[list[int], list[int]]) -> None:
        """A kws_conv_t call; ``filt`` is [out_c][k_h][k_w][group_c] (TFLite's conv layout)."""
        if bias is not None and bias.dtype != "int32":
            raise self.fail(op, f"bias {bias.describe()}: runtime c needs int32 biases")
        low, high = self.activation(op, out)
        i, g = op.index, geometry
        rows = filt.reshape(g["out_c"], -1)
        bias_values = None if bias is None else bias.data
        short = short_requant_records(*multipliers, bias_values, rows, out.quant.zero_point)
        scale = 1 if short is None else 2                   # the short requantization takes the sum doubled
        function, scratch = conv_kernel(g)
        stored = rows.astype(np.int16) * scale
        layout = depthwise_filter_layout(stored) if function == "kws_depthwise" else conv_filter_layout(
            stored, g["in_c"] // g["group_c"])
        fields = dict(g)
        fields.update(
            input_offset=-inp.quant.zero_point, output_offset=out.quant.zero_point, act_min=low, act_max=high,
            requant_kind="KWS_REQUANT_WIDE" if short is None else "KWS_REQUANT_SHORT",
            filter=self.array(f"w{i}", "int32_t", layout, f"filter of {out.name} (int16 pairs"
                              + (", doubled)" if scale == 2 else ")")),
            bias=self.array(f"b{i}", "int32_t", folded_bias(
                None if bias_values is None else bias_values.astype(np.int64) * scale, stored, -inp.quant.zero_point),
                            "bias + input offset x filter sums" + (", doubled" if scale == 2 else "")),
            requant=self.array(f"q{i}", "int32_t", requant_records(*multipliers) if short is None else short,
                               "per-channel requantization", weights=False),
        )
        self.layers.append(Layer(op, "kws_conv_t", function, fields, [self.buffer(inp)], self.buffer(out), scratch,
                                 raster_overlap(g, g["out_c"])))

    def _spatial(self, op: Operator, inp: Tensor, out: Tensor, k_h: int, k_w: int) -> dict[str, int]:
        if len(inp.shape) != 4 or len(out.shape) != 4 or inp.shape[0] != 1:
            raise self.fail(op, f"{inp.describe()}: runtime c needs NHWC tensors with batch 1")
        o = op.options
        dil_h, dil_w = getattr(o, "dilationHFactor", 1) or 1, getattr(o, "dilationWFactor", 1) or 1
        out_h, pad_h = fp.same_or_valid_padding(o.padding, o.strideH, dil_h, inp.shape[1], k_h)
        out_w, pad_w = fp.same_or_valid_padding(o.padding, o.strideW, dil_w, inp.shape[2], k_w)
        if (out_h, out_w) != out.shape[1:3]:
            raise self.fail(op, f"output {out.describe()} does not match the padding arithmetic ({out_h}x{out_w})")
        return dict(in_h=inp.shape[1], in_w=inp.shape[2], in_c=inp.shape[3], out_h=out_h, out_w=out_w,
                    out_c=out.shape[3], k_h=k_h, k_w=k_w, stride_h=o.strideH, stride_w=o.strideW,
                    dil_h=dil_h, dil_w=dil_w, pad_h=pad_h, pad_w=pad_w)

    def _weighted(self, op: Operator) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
        """(input, filter, bias or None, output) of a conv or fully connected op, all checked int8."""
        inp, filt, bias = (self.sub.tensor(i) for i in (list(op.inputs) + [-1])[:3])
        out = self.sub.tensors[op.outputs[0]]
        self.int8(op, inp, filt, out)
        return inp, filt, bias, out

    def conv(self, op: Operator) -> None:
        """CONV_2D, and DEPTHWISE_CONV_2D as a grouped conv with one input channel per group."""
        inp, filt, bias, out = self._weighted(op)
        geometry = self._spatial(op, inp, out, filt.shape[1], filt.shape[2])
        if inp.index in self.pads:  # a folded PAD: the convolution reads its source and pads more
            inp, pads, _ = self.pads.pop(inp.index)
            geometry.update(in_h=inp.shape[1], in_w=inp.shape[2], pad_h=geometry["pad_h"] + int(pads[1][0]),
                            pad_w=geometry["pad_w"] + int(pads[2][0]))
        if op.opcode == "DEPTHWISE_CONV_2D":
            geometry["group_c"] = 1
            rows = np.transpose(filt.data, (3, 1, 2, 0))  # [1][k_h][k_w][out_c] -> [out_c][k_h][k_w][1]
        else:
            geometry["group_c"] = filt.shape[3]
            rows = filt.data
        groups = geometry["in_c"] // geometry["group_c"]
        if geometry["in_c"] % geometry["group_c"] or out.shape[3] % groups:
            raise self.fail(op, f"filter {filt.describe()} does not divide the channels of {inp.describe()}")
        mults = fp.conv_multipliers(inp.quant.scale, filt.quant.scales, out.quant.scale, out.shape[3])
        self._conv_layer(op, inp, out, rows, bias, geometry, mults)

    def fully_connected(self, op: Operator) -> None:
        inp, filt, bias, out = self._weighted(op)
        if len(filt.shape) != 2 or getattr(op.options, "weightsFormat", 0):
            raise self.fail(op, f"filter {filt.describe()}: runtime c needs a plain 2-d filter")
        if any(filt.quant.zero_points):
            raise self.fail(op, "filter zero point is not 0")
        units, depth = filt.shape
        batches = inp.size // depth
        if batches * depth != inp.size or out.size != batches * units:
            raise self.fail(op, f"{inp.describe()} x {filt.describe()} -> {out.describe()} does not add up")
        mults = fp.conv_multipliers(inp.quant.scale, filt.quant.scales, out.quant.scale, units)
        geometry = dict(in_h=1, in_w=batches, in_c=depth, out_h=1, out_w=batches, out_c=units, k_h=1, k_w=1,
                        group_c=depth, stride_h=1, stride_w=1, dil_h=1, dil_w=1, pad_h=0, pad_w=0)
        self._conv_layer(op, inp, out, filt.data, bias, geometry, mults)

    def pool(self, op: Operator) -> None:
        inp, out = self.sub.tensors[op.inputs[0]], self.sub.tensors[op.outputs[0]]
        self.int8(op, inp, out)
        if (inp.quant.zero_point, inp.quant.scale) != (out.quant.zero_point, out.quant.scale):
            raise self.fail(op, "input and output quantization differ")
        o = op.options
        g = self._spatial(op, inp, out, o.filterHeight, o.filterWidth)
        low, high = self.activation(op, out)
        fields = dict(in_h=g["in_h"], in_w=g["in_w"], channels=g["in_c"], out_h=g["out_h"], out_w=g["out_w"],
                      k_h=g["k_h"], k_w=g["k_w"], stride_h=g["stride_h"], stride_w=g["stride_w"],
                      pad_h=g["pad_h"], pad_w=g["pad_w"], act_min=low, act_max=high)
        function = "kws_average_pool" if op.opcode == "AVERAGE_POOL_2D" else "kws_max_pool"
        self.layers.append(Layer(op, "kws_pool_t", function, fields, [self.buffer(inp)], self.buffer(out),
                                 max_delta=raster_overlap(g, g["in_c"])))

    def softmax(self, op: Operator) -> None:
        inp, out = self.sub.tensors[op.inputs[0]], self.sub.tensors[op.outputs[0]]
        self.int8(op, inp, out)
        if out.quant.zero_point != -128 or out.quant.scale != 1.0 / 256:
            raise self.fail(op, f"output {out.describe()} must have scale 1/256 and zero point -128")
        multiplier, left_shift, diff_min = fp.softmax_parameters(float(op.options.beta), inp.quant.scale)
        depth = inp.shape[-1]
        fields = dict(rows=inp.size // depth, depth=depth, input_multiplier=multiplier,
                      input_left_shift=left_shift, diff_min=diff_min)
        self.layers.append(Layer(op, "kws_softmax_t", "kws_softmax", fields, [self.buffer(inp)], self.buffer(out)))

    def add(self, op: Operator) -> None:
        a, b = (self.sub.tensors[i] for i in op.inputs[:2])
        out = self.sub.tensors[op.outputs[0]]
        self.int8(op, a, b, out)
        if len(out.shape) > 4:
            raise self.fail(op, f"{out.describe()}: runtime c broadcasts over at most 4 dimensions")
        dims = (1,) * (4 - len(out.shape)) + out.shape
        strides = []
        for t in (a, b):
            shape = (1,) * (4 - len(t.shape)) + t.shape
            contiguous = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(4)]
            strides.append([0 if shape[d] == 1 and dims[d] != 1 else contiguous[d] for d in range(4)])
        low, high = self.activation(op, out)
        fields = dict(dims=list(dims), stride1=strides[0], stride2=strides[1], offset1=-a.quant.zero_point,
                      offset2=-b.quant.zero_point, output_offset=out.quant.zero_point, act_min=low, act_max=high,
                      **fp.add_parameters(a.quant.scale, b.quant.scale, out.quant.scale))
        inputs = [self.const_input(t) if t.is_constant else self.buffer(t) for t in (a, b)]
        self.layers.append(Layer(op, "kws_add_t", "kws_add", fields, inputs, self.buffer(out)))

    def mean(self, op: Operator) -> None:
        inp, axis = (self.sub.tensors[i] for i in op.inputs[:2])
        out = self.sub.tensors[op.outputs[0]]
        self.int8(op, inp, out)
        if axis.data is None or len(inp.shape) > 4:
            raise self.fail(op, "runtime c needs constant axes and at most 4 dimensions")
        rank = len(inp.shape)
        axes = sorted({int(x) % rank for x in axis.data.reshape(-1)})
        contiguous = [int(np.prod(inp.shape[d + 1:], dtype=np.int64)) for d in range(rank)]

        def padded(dims: list[int]) -> tuple[list[int], list[int]]:
            pad = 4 - len(dims)
            return [1] * pad + [inp.shape[d] for d in dims], [0] * pad + [contiguous[d] for d in dims]

        keep_count, keep_stride = padded([d for d in range(rank) if d not in axes])
        reduce_count, reduce_stride = padded(axes)
        elements = int(np.prod(reduce_count))
        multiplier, shift = fp.mean_multiplier(inp.quant.scale, out.quant.scale, elements)
        fields = dict(keep_count=keep_count, keep_stride=keep_stride, reduce_count=reduce_count,
                      reduce_stride=reduce_stride, zero_point_sum=inp.quant.zero_point * elements,
                      multiplier=multiplier, shift=shift, output_offset=out.quant.zero_point)
        self.layers.append(Layer(op, "kws_mean_t", "kws_mean", fields, [self.buffer(inp)], self.buffer(out)))


def _buffer_sizes(lowering: _Lowering) -> dict[str, int]:
    sub = lowering.sub
    return {lowering.buffer(t): t.nbytes for t in sub.tensors if not t.is_constant and t.index not in lowering.alias}


def _memory_plan(lowering: _Lowering, stream: StreamPlan | None) -> MemoryPlan:
    """Arena offsets of every activation and scratch buffer; with a stream
    plan, sliced activations hold only their new rows and state buffers
    live outside the arena."""
    sub, steps = lowering.sub, len(lowering.sub.operators)
    spans: dict[str, list[int]] = {}
    state = {name for name, s in stream.slices.items() if s.state} if stream else set()

    def touch(name: str, step: int) -> None:
        if name in state:
            return
        span = spans.setdefault(name, [step, step])
        span[0], span[1] = min(span[0], step), max(span[1], step)

    arrays = {a.name for a in lowering.arrays}
    touch(lowering.buffer(sub.tensors[sub.inputs[0]]), 0)
    touch(lowering.buffer(sub.tensors[sub.outputs[0]]), steps)
    for layer in lowering.layers:
        for name in [*layer.inputs, layer.output]:
            if name not in arrays:
                touch(name, layer.op.index)
    sizes = _buffer_sizes(lowering)
    if stream:
        sizes.update({name: s.bytes for name, s in stream.slices.items()})
    buffers = [Buffer(name, sizes[name], first, last) for name, (first, last) in spans.items()]
    buffers += [Buffer(f"col{layer.op.index}", layer.scratch, layer.op.index, layer.op.index)
                for layer in lowering.layers if layer.scratch]
    links = []
    for i, layer in enumerate(lowering.layers):
        source = layer.inputs[0]
        if layer.max_delta is None or source not in spans or spans[source][1] != layer.op.index:
            continue
        if stream and (layer.output in state or stream.calls[i].input_offsets[0] or stream.calls[i].output_offset):
            continue
        # a sliced call walks a prefix of the rows of the whole-window call, so
        # the whole window's overlap bound holds for it too
        links.append(Link(source, layer.output, layer.max_delta))
    return plan(buffers, links)


def lower_model(model: TfliteModel, frames: int = 0, period: int = 0) -> CModel:
    """Check and lower ``model`` for runtime c (one-line KwsError when it
    cannot). With ``frames`` (of the input window) and ``period`` (frames
    per inference), stream when the model allows it (``kws.export.streaming``)."""
    check_model(model, "c")
    sub = model.main
    if len(sub.inputs) != 1 or len(sub.outputs) != 1:
        raise KwsError(f"{model.source}: runtime c needs one input and one output tensor; use --runtime tflm")
    if model.input.dtype != "int8" or model.output.dtype != "int8":
        raise KwsError(f"{model.source}: runtime c needs int8 input and output; use --runtime tflm")
    lowering = _Lowering(model)
    lowering.lower()
    inp, out = lowering.buffer(model.input), lowering.buffer(model.output)
    stream, note = None, ""
    if frames and period:
        try:
            stream = plan_stream(lowering.layers, _buffer_sizes(lowering), inp, out, frames, period)
        except NotStreamable as why:
            note = str(why)
    return CModel(model, lowering.arrays, lowering.layers, _memory_plan(lowering, stream), inp, out, stream, note)


def _c_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(str(int(v)) for v in value) + "}"
    return str(value)


def render_c_sources(env: jinja2.Environment, cmodel: CModel) -> dict[str, str]:
    """File name -> text of the runtime-c model source (``kws_model.c``)."""
    offsets = {b.name: b.offset for b in cmodel.plan.buffers}
    stream = cmodel.stream
    state = stream.state_offsets() if stream else {}

    def ref(name: str, offset: int = 0) -> str:
        if name in state:
            return f"STATE + {state[name] + offset}"
        return f"ARENA + {offsets[name] + offset}" if name in offsets else name

    calls, layers = [], []
    for layer, call in cmodel.calls():
        args = [f"&{layer.name}", *(ref(n, o) for n, o in zip(layer.inputs, call.input_offsets)),
                ref(layer.output, call.output_offset)]
        if layer.function in SCRATCH_KERNELS:
            args.append(ref(f"col{layer.op.index}"))
        if call.state:
            args.append(f"(int32_t *)({ref(call.state)})")
        note = " (new time steps)" if call.sliced else ""
        calls.append(f"{call.function}({', '.join(args)});  /* {layer.op.opcode}{note} */\n"
                     f"  LAYER_DONE({layer.op.index});")
        layers.append((layer, {k: _c_value(v) for k, v in call.fields.items()}))
    context: dict[str, Any] = {}
    if stream:
        source = stream.slices[stream.input]
        context = dict(
            period=stream.period, frames=stream.frames, chunks=stream.chunks, row=source.row,
            state_bytes=stream.state_bytes, window_bytes=stream.frames * source.row,
            stream_input=ref(stream.input, source.new_offset),
            shifts=[(ref(name), s.new * s.row, s.bytes - s.new * s.row, name)
                    for name, s in stream.slices.items() if s.state],
        )
    text = env.get_template("runtime_c/kws_model.c.j2").render(
        source=cmodel.model.source.rsplit("/", 1)[-1], sha256=cmodel.model.sha256, size=len(cmodel.model.data),
        arrays=cmodel.arrays, layers=layers,
        buffers=sorted(cmodel.plan.buffers, key=lambda b: b.offset),
        arena_bytes=cmodel.plan.arena_bytes, ram_bytes=cmodel.ram_bytes,
        input_ref=ref(cmodel.input_buffer), output_ref=ref(cmodel.output_buffer),
        calls=calls, stream=stream, **context,
    )
    return {"kws_model.c": text}
