"""Test helper: build the C frontend with the host compiler and run clips through it."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np

from kws.audio.frontend_header import frontend_source_paths, write_frontend_headers
from kws.audio.frontend_params import FrontendParams

HARNESS = Path(__file__).parent / "c" / "frontend_host.c"
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def build_frontend(params: FrontendParams, workdir: Path, chunk: int = 160) -> Path:
    """Compile the frontend + host harness for ``params``; returns the executable."""
    workdir.mkdir(parents=True, exist_ok=True)
    write_frontend_headers(params, workdir)
    for src in frontend_source_paths():
        shutil.copy(src, workdir / src.name)
    exe = workdir / f"frontend_host_{chunk}"
    subprocess.run(
        ["cc", *CFLAGS, f"-DCHUNK={chunk}", "-I", str(workdir), str(workdir / "kws_frontend.c"), str(HARNESS), "-o", str(exe)],
        check=True,
        capture_output=True,
        text=True,
    )
    return exe


def run_frontend(exe: Path, clips: list[np.ndarray], num_channels: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(raw uint16, int8) features per clip from the compiled frontend."""
    payload = b"".join(struct.pack("<I", len(c)) + np.asarray(c, "<i2").tobytes() for c in clips)
    out = subprocess.run([str(exe)], input=payload, capture_output=True, check=True).stdout
    results, pos = [], 0
    for _ in clips:
        (frames,) = struct.unpack_from("<I", out, pos)
        pos += 4
        raw = np.frombuffer(out, "<u2", frames * num_channels, pos).reshape(frames, num_channels)
        pos += raw.nbytes
        feats = np.frombuffer(out, np.int8, frames * num_channels, pos).reshape(frames, num_channels)
        pos += feats.nbytes
        results.append((raw, feats))
    assert pos == len(out)
    return results
