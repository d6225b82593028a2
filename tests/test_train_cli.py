"""`kws train` / `kws eval` user errors: one line naming the option or file, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _kws(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args,code,message", [
    (["train", "--size-budget", "10"], 2, "error: --size-budget: size_budget 10 bytes; use 2048..4194304"),
    (["train", "--architecture", "resnet"], 2, "error: --architecture: architecture 'resnet'; use one of"),
    (["train", "--words", "_silence_"], 2, "error: --words: keyword '_silence_' is reserved"),
    (["train", "--config", "nope.toml"], 1, "error: nope.toml: no such config file"),
    (["train"], 1, "error: data/manifest.csv: no manifest; create one with `kws data import DIR`"),
    (["eval", "--model", "missing.tflite"], 1, "error: missing.tflite: no such model; train one with `kws train`"),
])
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    done = _kws(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr
    assert "Traceback" not in done.stderr
