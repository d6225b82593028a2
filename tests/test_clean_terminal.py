"""A clean terminal: no TensorFlow/absl/oneDNN/CUDA log lines or Python warnings from the real `kws`
command; they go to the project's build/kws.log (and to the terminal with --debug)."""

from __future__ import annotations

from pathlib import Path

from test_data_import import run_kws

ANY_CASE = ("onednn", "absl", "cuda", "tf.lite.interpreter")
EXACT = ("I0000", "Warning:", "UserWarning")  # Python's "<file>:<line>: UserWarning: ..." (kws says "warning:")


def _noise(text: str) -> list[str]:
    return [line for line in text.splitlines()
            if any(n in line.lower() for n in ANY_CASE) or any(n in line for n in EXACT)]


def _clean(*args: str, cwd: Path) -> str:
    done = run_kws(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert not _noise(done.stdout) and not _noise(done.stderr), (args, _noise(done.stdout + done.stderr))
    return done.stdout + done.stderr


def test_custom_keyword_flow_keeps_the_terminal_clean(tmp_path: Path) -> None:
    _clean("init", "--words", "hey robot", cwd=tmp_path)
    _clean("data", "synth", "--words", "hey robot", "-n", "40", "--negatives", cwd=tmp_path)
    out = _clean("train", "--preset", "quick", cwd=tmp_path)
    assert "verdict: " in out
    _clean("eval", "--preset", "quick", cwd=tmp_path)
    _clean("export", cwd=tmp_path)
    log = (tmp_path / "build" / "kws.log").read_text()
    assert "oneDNN" in log and "I0000" in log  # diverted, not lost
    assert "==== " in log and "kws train --preset quick" in log
    debug = run_kws("--debug", "train", "--preset", "quick", cwd=tmp_path)  # resumes: same data, same seed
    assert debug.returncode == 0 and "I0000" in debug.stderr
