"""The smaller faults of issue 15 (item 7), met through the CLI as a user
meets them: truncated wavs, files the folder layout cannot place, manifest
split values and deleted clips, damaged and unsupported models, artifact
modes, exit codes, a silent device, no network."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from wav_maker import write_clip


def kws(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=None if env is None else {**os.environ, **env})


def one_error(done: subprocess.CompletedProcess, code: int = 1) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_artifacts_follow_the_umask(peers, tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", "-c", f"umask 022 && exec {sys.executable} -m kws export --model "
         f"{peers / 'micro_speech' / 'micro_speech_quantized.tflite'} --labels _silence_,_unknown_,yes,no "
         "--board qemu-stm32f405 --runtime c --verify 0 --out fw"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    modes = {p.relative_to(tmp_path): stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "fw").rglob("*")}
    files = {p: m for p, m in modes.items() if (tmp_path / p).is_file()}
    assert files and set(files.values()) == {0o644}, files
    assert {m for p, m in modes.items() if p not in files} <= {0o755}
