"""Streaming inference for runtime ``c``: compute only the time steps that
are new since the last inference, bit-exact with the whole-window model.

A keyword model slides over the feature window: between two inferences only
the newest ``period`` frames are new. When every layer that looks along time
pads nothing in time ("valid"), each output time step of a layer depends only
on the input steps under its kernel, so the step computed when its last input
arrived stays valid for as long as the window holds it. The plan follows
time through the lowered layers (time is the height axis of NHWC tensors):

* a *sliced* buffer holds ``keep`` time steps of its tensor (the window's
  last ones, oldest first); each inference appends ``new`` steps and drops
  as many from the front. Buffers with ``keep > new`` are state that lives
  across inferences; the others are ordinary activations of ``new`` rows;
* a convolution or pooling whose height is the time axis computes its last
  ``new`` output steps from the input steps it needs (the plan makes its
  input keep them); a stride in time must divide the input's new steps;
* a global average pool keeps, per time step of the window, the sum of each
  channel over the step's row (int32 state); each inference adds the new
  steps' sums and divides the window's total as the pool does (exact: the
  pool's accumulator is that same integer sum);
* everything else (MEAN, a fully connected layer over the flattened window,
  softmax) is a *window* op: its sliced inputs keep the whole window and it
  runs in full at every inference; its output has no time axis any more.

``plan_stream`` returns the plan, or raises ``NotStreamable`` with the reason
(then the exporter runs the whole window at every inference). The whole-window
call of a streaming model (``kws_model_invoke``) replays the window through
the same steps, ``period`` frames at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

TIME_OPS = ("kws_conv", "kws_conv_1x1", "kws_depthwise", "kws_average_pool", "kws_max_pool")


class NotStreamable(Exception):
    """The model (or this inference period) cannot stream; the message says why."""


@dataclass
class TimeSlice:
    """Time layout of a sliced buffer: ``steps`` in the whole window of
    ``row`` bytes each; ``new`` per inference; ``keep`` held (oldest first)."""

    steps: int
    row: int
    new: int
    keep: int

    @property
    def state(self) -> bool:
        """Kept across inferences (shifted by ``new`` rows at each one)."""
        return self.keep > self.new

    @property
    def bytes(self) -> int:
        return self.keep * self.row

    @property
    def new_offset(self) -> int:
        """Byte offset of the first new row."""
        return (self.keep - self.new) * self.row


@dataclass
class KernelCall:
    """One layer's kernel call in an inference: the function, its fields
    (for a streaming step, with the time geometry of the new steps) and byte
    offsets into its buffers."""

    function: str
    fields: dict[str, Any]
    input_offsets: list[int]
    output_offset: int = 0
    sliced: bool = False              # computes new time steps only
    state: str = ""                   # a state buffer passed last (the pool's per-step sums)

    @classmethod
    def whole(cls, layer) -> "KernelCall":
        """The call that computes ``layer`` over the whole window."""
        return cls(layer.function, dict(layer.fields), [0] * len(layer.inputs))


@dataclass
class StreamPlan:
    frames: int                       # whole-window input frames
    period: int                       # frames per inference (new input steps)
    slices: dict[str, TimeSlice]
    calls: list[KernelCall]
    input: str                        # buffer of the model input (sliced)

    @property
    def chunks(self) -> int:
        """Steps that replay a whole window (the first may start before it)."""
        return -(-self.frames // self.period)

    def state_offsets(self) -> dict[str, int]:
        """Byte offset of each state buffer in the state block (word aligned)."""
        offsets, at = {}, 0
        for name, s in self.slices.items():
            if s.state:
                offsets[name] = at
                at += -(-s.bytes // 4) * 4
        return offsets

    @property
    def state_bytes(self) -> int:
        return sum(-(-s.bytes // 4) * 4 for s in self.slices.values() if s.state)


def _time_geometry(layer, row_in: int) -> tuple[int, int, int] | None:
    """(in_h, out_h, stride_h) of a layer whose rows are ``row_in`` bytes of its input, else None."""
    f = layer.fields
    if layer.function not in TIME_OPS:
        return None
    channels = f.get("in_c", f.get("channels"))
    if f["in_w"] * channels != row_in:
        return None
    return f["in_h"], f["out_h"], f["stride_h"]


def plan_stream(layers: Sequence, sizes: dict[str, int], input_buffer: str, output_buffer: str,
                frames: int, period: int) -> StreamPlan:
    """The streaming plan for ``layers`` (``kws.export.c_codegen.Layer``)."""
    if period < 1 or frames < 1:
        raise NotStreamable("no inference period")
    if sizes[input_buffer] % frames:
        raise NotStreamable(f"the input ({sizes[input_buffer]} values) is not {frames} frames")
    if period >= frames:
        raise NotStreamable(f"the inference period ({period} frames) covers the whole window")
    slices = {input_buffer: TimeSlice(frames, sizes[input_buffer] // frames, period, period)}
    needs: dict[str, int] = {}        # buffer -> first window step some consumer reads
    kinds: list[str] = []             # per layer: "sliced" or "window"

    def need(name: str, first_step: int) -> None:
        needs[name] = min(needs.get(name, first_step), first_step)

    for layer in layers:
        sliced_inputs = [n for n in layer.inputs if n in slices]
        kind = "window"
        if sliced_inputs and _global_average_pool(layer, slices[layer.inputs[0]]):
            source = slices[layer.inputs[0]]
            kind = "sums"
            need(layer.inputs[0], source.steps - source.new)
            slices[_sums(layer)] = TimeSlice(source.steps, 4 * layer.fields["channels"], source.new, source.steps)
        elif layer.function in TIME_OPS and sliced_inputs:
            source = slices[layer.inputs[0]]
            geometry = _time_geometry(layer, source.row)
            if geometry and geometry[0] == source.steps and geometry[1] > 1:
                in_h, out_h, stride = geometry
                if layer.fields["pad_h"]:
                    raise NotStreamable(f"op {layer.op.index} ({layer.op.opcode}) pads in time; "
                                        "train with padding 'valid' along time")
                if source.new % stride:
                    raise NotStreamable(f"op {layer.op.index} ({layer.op.opcode}) strides {stride} steps in time, "
                                        f"which does not divide the {source.new} new steps of each inference")
                new = source.new // stride
                if new < out_h:
                    kind = "sliced"
                    need(layer.inputs[0], (out_h - new) * stride)
                    out_row = sizes[layer.output] // out_h
                    slices[layer.output] = TimeSlice(out_h, out_row, new, new)
        elif layer.function == "kws_add" and sliced_inputs == list(layer.inputs):
            shapes = {(slices[n].steps, slices[n].row, slices[n].new) for n in layer.inputs}
            if len(shapes) == 1 and sizes[layer.output] == sizes[layer.inputs[0]]:
                steps, row, new = shapes.pop()
                kind = "sliced"
                for name in layer.inputs:
                    need(name, steps - new)
                slices[layer.output] = TimeSlice(steps, row, new, new)
        if kind == "window":
            for name in sliced_inputs:
                need(name, 0)
        kinds.append(kind)
    if output_buffer in slices:
        raise NotStreamable("the model output has a time axis")
    if "sliced" not in kinds:
        raise NotStreamable("no layer computes along time")
    for name, first in needs.items():
        s = slices[name]
        s.keep = max(s.new, s.steps - first)
    calls = [_call(layer, kind, slices) for layer, kind in zip(layers, kinds)]
    return StreamPlan(frames, period, slices, calls, input_buffer)


def _sums(layer) -> str:
    return f"sum{layer.op.index}"


def _global_average_pool(layer, source: TimeSlice) -> bool:
    """An AVERAGE_POOL_2D over the whole window of a sliced input (DS-CNN's last pool)."""
    f = layer.fields
    return (layer.function == "kws_average_pool" and source.steps > source.new
            and f["in_w"] * f["channels"] == source.row and f["in_h"] == f["k_h"] == source.steps
            and f["in_w"] == f["k_w"] and f["out_h"] == f["out_w"] == 1 and not f["pad_h"] and not f["pad_w"])


def _call(layer, kind: str, slices: dict[str, TimeSlice]) -> KernelCall:
    call = KernelCall.whole(layer)
    if kind == "window":  # its sliced inputs keep the whole window, in time order
        return call
    call.sliced = True
    if kind == "sums":  # in_h: the new rows; k_h: the window's steps
        source = slices[layer.inputs[0]]
        call.function, call.state = "kws_average_pool_rows", _sums(layer)
        call.fields["in_h"] = source.new
        call.input_offsets = [source.new_offset]
        return call
    out = slices[layer.output]
    call.output_offset = out.new_offset
    if layer.function == "kws_add":
        call.fields["dims"] = [call.fields["dims"][0], out.new, *call.fields["dims"][2:]]
        call.input_offsets = [slices[n].new_offset for n in layer.inputs]
        return call
    source = slices[layer.inputs[0]]
    first_step = (out.steps - out.new) * call.fields["stride_h"]
    first_row = first_step - (source.steps - source.keep)
    call.fields.update(in_h=source.keep - first_row, out_h=out.new, pad_h=0)
    call.input_offsets = [first_row * source.row]
    return call
