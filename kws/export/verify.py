"""Check exported runtime-c sources against the TFLM interpreter on the host.

The generated C is compiled once with the host C compiler (warnings are
errors) into a runner that reads many inputs from stdin and writes all
outputs, then compared value by value with ``tflite_micro``'s interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tflite_micro.python.tflite_micro import runtime

from kws.errors import KwsError
from kws.resources import templates_dir

HOST_CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic")
HOST_RUNNER = Path("runtime_c") / "host" / "kws_host_runner.c"


@dataclass(frozen=True)
class Comparison:
    inputs: int
    values: int
    differing: int
    max_abs_difference: int


def build_host_runner(model_dir: str | Path, exe: str | Path) -> Path:
    """Compile ``model_dir``'s C sources with the host runner into ``exe``."""
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise KwsError(f"no host C compiler ({compiler}); install gcc or set CC")
    model_dir, exe = Path(model_dir), Path(exe)
    sources = sorted(str(p) for p in model_dir.glob("*.c"))
    command = [compiler, *HOST_CFLAGS, "-I", str(model_dir), *sources, str(templates_dir() / HOST_RUNNER), "-o", str(exe)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise KwsError(f"{model_dir}: the generated C does not compile with {compiler} ({first})")
    return exe


def run_host(exe: str | Path, inputs: np.ndarray, inferences: int, *args: str) -> np.ndarray:
    """Outputs of the host runner, one row for each of its ``inferences``:
    ``inputs`` are whole windows, or with a stream length in ``args``,
    streams of frames (see kws_host_runner.c)."""
    done = subprocess.run([str(exe), *args], input=np.ascontiguousarray(inputs, np.int8).tobytes(),
                          capture_output=True)
    if done.returncode:
        raise KwsError(f"{exe}: {done.stderr.decode(errors='replace').strip()}")
    return np.frombuffer(done.stdout, np.int8).reshape(inferences, -1)


def run_tflm(model: bytes, inputs: np.ndarray, arena_size: int | None = None) -> np.ndarray:
    """Outputs of the TFLM interpreter for ``inputs`` (one row per inference)."""
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena_size or max(1 << 20, 10 * len(model)))
    shape = interpreter.get_input_details(0)["shape"]
    outputs = []
    for row in np.asarray(inputs, np.int8):
        interpreter.set_input(row.reshape(shape), 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0).reshape(-1).astype(np.int8))
    return np.stack(outputs)


def _compare(ours: np.ndarray, theirs: np.ndarray) -> Comparison:
    ours, theirs = ours.astype(np.int32), theirs.astype(np.int32)
    return Comparison(len(theirs), theirs.size, int(np.count_nonzero(ours != theirs)),
                      int(np.abs(ours - theirs).max()) if theirs.size else 0)


def _compare_windows(model: bytes, exe: Path, inputs: np.ndarray) -> Comparison:
    inputs = np.asarray(inputs, np.int8).reshape(len(inputs), -1)
    return _compare(run_host(exe, inputs, len(inputs)), run_tflm(model, inputs))


def _compare_streams(model: bytes, exe: Path, streams: np.ndarray, frames: int, period: int) -> Comparison:
    count, length, _ = streams.shape
    steps = length // period
    ours = run_host(exe, streams, count * steps, str(length)).reshape(count, steps, -1)
    ends = [(j + 1) * period for j in range(steps) if (j + 1) * period >= frames]
    windows = np.stack([streams[:, end - frames:end] for end in ends], axis=1).reshape(count * len(ends), -1)
    ours = ours[:, [end // period - 1 for end in ends]].reshape(len(windows), -1)
    return _compare(ours, run_tflm(model, windows))


def _with_runner(model_dir: str | Path, compare):
    """``compare(exe)`` with the host runner built for ``model_dir``."""
    with tempfile.TemporaryDirectory(prefix="kws-verify-") as work:
        return compare(build_host_runner(model_dir, Path(work) / "kws_host_runner"))


def compare_with_tflm(model: bytes, model_dir: str | Path, inputs: np.ndarray) -> Comparison:
    """Build the runtime-c sources in ``model_dir`` and compare with TFLM."""
    return _with_runner(model_dir, lambda exe: _compare_windows(model, exe, inputs))


def compare_stream_with_tflm(model: bytes, model_dir: str | Path, streams: np.ndarray, frames: int,
                             period: int) -> Comparison:
    """Streaming inference (``streams``: [count, length, row] int8 frames, the
    length a multiple of ``period``) against TFLM on the whole window of the
    last ``frames`` frames, at every inference whose window is full."""
    streams = np.ascontiguousarray(streams, np.int8)
    return _with_runner(model_dir, lambda exe: _compare_streams(model, exe, streams, frames, period))


def verify_export(model: bytes, model_dir: str | Path, count: int, *, input_size: int, frames: int = 0,
                  stream_frames: int = 0, seed: int = 0) -> Comparison:
    """The check ``kws export --runtime c`` runs by default: ``count`` random
    int8 inputs of any size through the whole-window call, and for a
    streaming export also ``count`` // 10 (at least 10) random feature
    streams at every inference; one Comparison over both (one build)."""
    rng = np.random.default_rng(seed)
    inputs = rng.integers(-128, 128, (count, input_size), dtype=np.int8)
    if not stream_frames:
        return compare_with_tflm(model, model_dir, inputs)
    length = -(-(frames + 2 * stream_frames) // stream_frames) * stream_frames
    streams = rng.integers(-128, 128, (max(10, count // 10), length, input_size // frames), dtype=np.int8)

    def both(exe: Path) -> Comparison:
        whole, stream = _compare_windows(model, exe, inputs), _compare_streams(model, exe, streams, frames,
                                                                               stream_frames)
        return Comparison(whole.inputs + stream.inputs, whole.values + stream.values,
                          whole.differing + stream.differing,
                          max(whole.max_abs_difference, stream.max_abs_difference))

    return _with_runner(model_dir, both)
