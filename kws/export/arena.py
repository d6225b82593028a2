"""Tensor arena sizing with the real TFLite Micro interpreter (PyPI ``tflite-micro``).

The need is the smallest ``arena_size`` with which the interpreter both
allocates the model and runs one inference. A first probe reads the
RecordingMicroAllocator total that ``print_allocations()`` writes to C-level
stderr; when that total is not enough (resource variables are allocated
outside the recording) a binary search finds the exact figure. Every probe runs
in a forked child because TFLM can crash, not just fail, when a streaming
model's arena is short.

The exported arena adds a stated margin: ``ARENA_MARGIN_MIN`` bytes for the
arena start's 16-byte alignment plus ``ARENA_MARGIN_FRACTION`` of the need for
differences between TFLM builds, rounded up to 16 bytes. The measurement is
taken on x86-64, whose 8-byte pointers make TFLM's bookkeeping larger than on
32-bit microcontrollers (micro_speech: 7,584 B here, 6,796 B on a Cortex-M4),
so the figure is an upper bound for those targets.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from tflite_micro.python.tflite_micro import runtime

from kws.errors import KwsError

ARENA_MARGIN_MIN = 16
ARENA_MARGIN_FRACTION = 0.02
_MAX_ARENA = 64 * 1024 * 1024
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_HEAD = re.compile(r"Arena allocation head (\d+) bytes")


@dataclass(frozen=True)
class Probe:
    """One interpreter run with a given arena size."""

    arena_size: int
    ok: bool
    crashed: bool
    log: str


@dataclass(frozen=True)
class ArenaSize:
    """The measured need and the exported arena (need + stated margin)."""

    need: int
    exported: int
    recorded_total: int | None
    method: str
    recorded_head: int | None = None   # the interpreter's planned (non-persistent) part
    kernels_extra: int = 0             # bytes the board's kernels add to the measured need (in ``need``)
    kernels_note: str = ""             # what those bytes are (kws.export.tflm_scratch)

    @property
    def margin(self) -> int:
        return self.exported - self.need

    def describe(self) -> str:
        measured = f"{self.need - self.kernels_extra} B on x86-64, measured by {self.method}"
        board = f" + {self.kernels_extra} B for the {self.kernels_note}" if self.kernels_extra else ""
        return (f"{self.exported} B (TFLM needs {self.need} B: {measured}{board}; "
                f"+{self.margin} B margin: {ARENA_MARGIN_MIN} B alignment + {ARENA_MARGIN_FRACTION:.0%}, rounded to 16 B)")


def _run_interpreter(model: bytes, arena_size: int, report: bool) -> None:
    # Whatever the arena holds is a valid integer input: no need to set one.
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    interpreter.invoke()
    if report:
        interpreter.print_allocations()


def probe(model: bytes, arena_size: int, report: bool = False) -> Probe:
    """Create the interpreter with ``arena_size`` bytes and invoke it once, in a
    forked child (stderr captured), so that a crash is a failed probe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = 1
        try:
            os.close(read_end)
            os.dup2(write_end, 2)
            _run_interpreter(model, arena_size, report)
            code = 0
        except BaseException:  # noqa: BLE001 - any failure is the probe's answer
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    crashed = os.WIFSIGNALED(status)
    ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return Probe(arena_size, ok, crashed, b"".join(chunks).decode("utf-8", "replace"))


def exported_arena(need: int) -> int:
    """``need`` plus the stated margin, rounded up to 16 bytes."""
    margin = max(ARENA_MARGIN_MIN, math.ceil(need * ARENA_MARGIN_FRACTION))
    return -(-(need + margin) // 16) * 16


def measure_arena(model: bytes) -> ArenaSize:
    """The smallest arena TFLM accepts for ``model``, and the size kws exports."""
    generous = max(64 * 1024, 8 * len(model))
    first = probe(model, generous, report=True)
    while not first.ok and generous < _MAX_ARENA:
        generous *= 4
        first = probe(model, generous, report=True)
    if not first.ok:
        detail = "it crashed" if first.crashed else (first.log.strip().splitlines() or ["no message"])[-1]
        raise KwsError(f"the TFLM interpreter cannot run this model even with a {generous} B arena ({detail})")
    match, head = _TOTAL.search(first.log), _HEAD.search(first.log)
    recorded = int(match.group(1)) if match else None
    recorded_head = int(head.group(1)) if head else None
    low, high = 0, generous  # high works; low fails (or is 0)
    if recorded and probe(model, recorded).ok:
        if not probe(model, recorded - 1).ok:
            return ArenaSize(recorded, exported_arena(recorded), recorded, "RecordingMicroAllocator total",
                             recorded_head)
        high = recorded
    elif recorded:
        low = recorded
    while high - low > 1:
        middle = (low + high) // 2
        if probe(model, middle).ok:
            high = middle
        else:
            low = middle
    return ArenaSize(high, exported_arena(high), recorded, "binary search over arena_size", recorded_head)
