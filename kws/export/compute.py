"""Compute is a budget like flash and RAM: the load a model puts on a board.

Load = instructions per second of audio (the frontend for every frame plus
the model at every inference) x cycles per instruction / the board's clock.
A model's instructions come from its lowered layers: per op kind, a cost per
multiply-accumulate, per output value and per call (``Cost``), fitted to the
per-layer instruction counts measured on the emulated Cortex-M4 (QEMU,
``-icount``; ``make bench AREAS=export`` re-measures them and reports the
estimate beside the measurement). Runtime c streaming models count only the
layers' new time steps; TFLM runs the whole window at every inference.

Other cores and runtimes scale those costs by a stated factor (``CORES``):
where nothing was measured here the factor says so. ``check_load`` warns
above ``WARN_LOAD`` and refuses above 100%, naming the fixes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from kws.boards import Board
from kws.errors import KwsError

WARN_LOAD = 0.50


@dataclass(frozen=True)
class Cost:
    """Instructions for one kernel call: per MAC, per output value, fixed."""

    mac: float
    output: float
    call: float

    def of(self, macs: int, outputs: int) -> float:
        return self.mac * macs + self.output * outputs + self.call


# Runtime c on the emulated Cortex-M4 with DSP (-O2), fitted per op kind to
# the per-layer counts of `make bench AREAS=export` (see kws/export/bench.py).
RUNTIME_C_M4 = {
    "conv": Cost(2.15, 0.0, 0),            # CONV_2D with a kernel larger than 1x1 (kws_conv: patch copy)
    "pointwise": Cost(1.04, 23.0, 256),    # 1x1 CONV_2D and FULLY_CONNECTED (kws_conv_1x1)
    "depthwise": Cost(5.5, 0.6, 1500),     # DEPTHWISE_CONV_2D (kws_depthwise)
    "pool": Cost(9.0, 0.0, 300),           # AVERAGE_POOL_2D, MAX_POOL_2D: per window value read
    "elementwise": Cost(0.0, 60.0, 200),   # ADD (not in the fit: an allowance)
    "mean": Cost(12.0, 40.0, 200),         # MEAN (not in the fit: an allowance)
    "softmax": Cost(0.0, 226.0, 712),
    "shift": Cost(0.0, 0.25, 50),          # streaming state: per byte moved (memmove, word copies)
}
FRONTEND_M4 = 43_966                       # instructions per 20 ms frame (bench: kws frontend, emulated M4)
TFLM_CMSIS_NN_PER_MAC = 3.9                # DESIGN.md: DS-CNN 21 M / 5.5 M MACs, micro_speech 1.495 M / 336 k
TFLM_REFERENCE_PER_MAC = 27.7              # DESIGN.md: micro_speech with reference kernels 9.31 M / 336 k


@dataclass(frozen=True)
class Core:
    """How a core's cost relates to the emulated Cortex-M4's."""

    c_factor: float            # runtime c instructions vs the M4 build with DSP
    tflm_per_mac: float        # TFLM instructions per MAC with the kernels this board's TFLM uses
    frontend_factor: float
    cycles_per_instruction: float
    source: str


CORES = {
    "cortex-m4": Core(1.0, TFLM_CMSIS_NN_PER_MAC, 1.0, 1.0,
                      "measured on the emulated Cortex-M4 (instructions; cycles taken as equal)"),
    "cortex-m33": Core(1.0, TFLM_CMSIS_NN_PER_MAC, 1.0, 1.0,
                       "as the Cortex-M4 (same DSP extension); not measured on an M33"),
    "cortex-m0plus": Core(2.5, TFLM_REFERENCE_PER_MAC, 1.6, 1.3,
                          "assumed: no SIMD (the portable loops), 2-cycle loads; not measured on an M0+"),
    "xtensa-lx6": Core(1.5, TFLM_CMSIS_NN_PER_MAC, 1.3, 1.0,
                       "assumed: ESP-NN about as fast as CMSIS-NN, portable C 1.5x the M4's; not measured"),
    "xtensa-lx7": Core(1.5, TFLM_CMSIS_NN_PER_MAC, 1.3, 1.0,
                       "assumed: ESP-NN about as fast as CMSIS-NN, portable C 1.5x the M4's; not measured"),
}


@dataclass(frozen=True)
class Load:
    """Compute use of one board: instructions per second of audio and the
    share of the board's clock they take."""

    board: str
    runtime: str
    clock_hz: int
    period_ms: int
    streaming: bool
    frontend_per_s: float
    model_per_inference: float
    inferences_per_s: float
    cycles_per_instruction: float
    source: str

    @property
    def instructions_per_s(self) -> float:
        return self.frontend_per_s + self.model_per_inference * self.inferences_per_s

    @property
    def fraction(self) -> float:
        return self.instructions_per_s * self.cycles_per_instruction / self.clock_hz

    def summary(self) -> str:
        how = "streaming" if self.streaming else "whole window"
        return (f"{self.fraction:.0%} load on {self.board} at {self.clock_hz / 1e6:g} MHz "
                f"({self.instructions_per_s / 1e6:.1f} M instructions per second of audio: model "
                f"{self.model_per_inference / 1e6:.2f} M x {self.inferences_per_s:.3g}/s, {how}, + frontend)")

    def to_dict(self) -> dict[str, Any]:
        return {"board": self.board, "runtime": self.runtime, "fraction": round(self.fraction, 4),
                "instructions_per_s": round(self.instructions_per_s), "period_ms": self.period_ms,
                "streaming": self.streaming, "model_instructions_per_inference": round(self.model_per_inference),
                "frontend_instructions_per_s": round(self.frontend_per_s), "clock_hz": self.clock_hz,
                "source": self.source}


def call_work(function: str, fields: dict[str, Any]) -> tuple[str, int, int]:
    """(op kind, MACs, output values) of one runtime-c kernel call."""
    f = fields
    if function in ("kws_conv", "kws_conv_1x1", "kws_depthwise"):
        outputs = f["out_h"] * f["out_w"] * f["out_c"]
        kind = "depthwise" if f["group_c"] == 1 and f["in_c"] > 1 else (
            "pointwise" if f["k_h"] == f["k_w"] == 1 else "conv")
        return kind, outputs * f["k_h"] * f["k_w"] * f["group_c"], outputs
    if function == "kws_average_pool_rows":  # new rows summed, then the window's step sums
        return "pool", (f["in_h"] * f["in_w"] + f["k_h"]) * f["channels"], f["channels"]
    if function in ("kws_average_pool", "kws_max_pool"):
        outputs = f["out_h"] * f["out_w"] * f["channels"]
        return "pool", outputs * f["k_h"] * f["k_w"], outputs
    if function == "kws_add":
        return "elementwise", 0, math.prod(f["dims"])
    if function == "kws_mean":
        outputs = math.prod(f["keep_count"])
        return "mean", outputs * math.prod(f["reduce_count"]), outputs
    if function == "kws_softmax":
        return "softmax", 0, f["rows"] * f["depth"]
    raise ValueError(f"no cost for {function}")


def c_instructions(cmodel, streaming: bool = True) -> float:
    """Estimated emulated-M4 instructions of one runtime-c inference
    (``kws.export.c_codegen.CModel``): a streaming step when the model streams."""
    total = 0.0
    for _, call in cmodel.calls(streaming):
        kind, macs, outputs = call_work(call.function, call.fields)
        total += RUNTIME_C_M4[kind].of(macs, outputs)
    if streaming and cmodel.stream:
        moved = sum(s.bytes - s.new * s.row for s in cmodel.stream.slices.values() if s.state)
        total += RUNTIME_C_M4["shift"].of(0, moved)
    return total


CONV_KINDS = ("conv", "pointwise", "depthwise")   # the convolutions and fully connected layers


def whole_window_macs(cmodel, kinds: Sequence[str] | None = None) -> int:
    """Multiply-accumulates of one whole-window inference (window values
    read, for pools), of the op ``kinds`` given or of every kind."""
    work = (call_work(call.function, call.fields) for _, call in cmodel.calls(streaming=False))
    return sum(macs for kind, macs, _ in work if kinds is None or kind in kinds)


@dataclass(frozen=True)
class Work:
    """What a model costs, independent of the board: emulated-M4 instructions
    of one runtime-c inference (a streaming step when it streams) and the
    MACs of the whole window (what TFLM computes at every inference)."""

    c_instructions: float
    streaming: bool
    window_macs: int

    @classmethod
    def of(cls, cmodel) -> "Work":
        streaming = cmodel.stream is not None
        return cls(c_instructions(cmodel, streaming), streaming, whole_window_macs(cmodel))


def estimate_load(board: Board, runtime: str, work, period_frames: int, stride_ms: int) -> Load:
    """The load of a model (its ``Work``, or a lowered ``CModel``; lowered even
    for runtime tflm: it counts the MACs) at one inference every
    ``period_frames`` frames on ``board``."""
    work = work if isinstance(work, Work) else Work.of(work)
    core = CORES.get(board.core)
    if core is None:
        raise KwsError(f"--board {board.name}: kws has no compute figures for core {board.core}; "
                       f"known cores: {', '.join(CORES)}")
    streaming = runtime == "c" and work.streaming
    if runtime == "c":
        model = work.c_instructions * core.c_factor
    else:
        model = work.window_macs * core.tflm_per_mac
    frames_per_s = 1000 / stride_ms
    return Load(board.name, runtime, board.clock_hz, period_frames * stride_ms, streaming,
                FRONTEND_M4 * core.frontend_factor * frames_per_s, model, frames_per_s / period_frames,
                core.cycles_per_instruction, core.source)


def lightest_load(board: Board, work: Work, period_frames: int, stride_ms: int) -> Load:
    """The load of the board's runtime that costs least (the one export picks
    when no runtime stays within WARN_LOAD)."""
    return min((estimate_load(board, runtime, work, period_frames, stride_ms) for runtime in board.runtimes),
               key=lambda load: load.fraction)


def affordable_period_ms(load: Load, stride_ms: int, fraction: float = WARN_LOAD) -> int | None:
    """The shortest inference period (a multiple of the stride) at which
    ``load`` (whole window at every inference) stays within ``fraction``."""
    budget = fraction * load.clock_hz / load.cycles_per_instruction - load.frontend_per_s
    if budget <= 0:
        return None
    per_s = budget / load.model_per_inference
    return max(1, math.ceil(1000 / per_s / stride_ms)) * stride_ms


def check_load(load: Load, stride_ms: int, runtimes: Sequence[str]) -> str | None:
    """Refuse (KwsError) above 100% with the numbers and the fixes; a warning above WARN_LOAD."""
    if load.fraction <= WARN_LOAD:
        return None
    fixes = ["a smaller model (kws train --board " + load.board + " searches within the compute budget)"]
    if not load.streaming:
        period = affordable_period_ms(load, stride_ms)
        if period is not None:
            fixes.append(f"a longer inference period (--period-ms {period} keeps the load near "
                         f"{WARN_LOAD:.0%})")
    others = [r for r in runtimes if r != load.runtime]
    if others:
        fixes.append(f"--runtime {others[0]}")
    text = f"the model would take {load.summary()}"
    if load.fraction > 1.0:
        raise KwsError(f"{text}: the board cannot keep up with the microphone and would drop audio; use "
                       + ", or ".join(fixes))
    return f"{text}; above {WARN_LOAD:.0%} little time is left for the application ({'; '.join(fixes)})"
