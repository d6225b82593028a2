"""Bad input the user meets gets one line naming the file and the fix, never a
traceback: an existing folder as `kws features --out`, an unwritable
`kws export --out`, a manifest saved in cp1252 or with a UTF-8 BOM (what
spreadsheet programs write), a float wav with NaN samples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from wav_maker import write_clip


def kws(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def one_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_features_out_an_existing_folder(tmp_path: Path) -> None:
    write_clip(tmp_path / "x.wav", 1)
    (tmp_path / "feats").mkdir()
    message = one_error(kws("features", "x.wav", "--out", "feats", cwd=tmp_path))
    assert message.startswith("error: feats: is a folder; give a file name")
    assert list((tmp_path / "feats").iterdir()) == []


def test_export_out_an_unwritable_place(peers, tmp_path: Path) -> None:
    done = kws("export", "--model", str(peers / "micro_speech" / "micro_speech_quantized.tflite"),
               "--labels", "_silence_,_unknown_,yes,no", "--board", "qemu-stm32f405", "--runtime", "c",
               "--verify", "0", "--out", "/proc/fw", cwd=tmp_path)
    assert one_error(done).startswith("error: /proc/fw: cannot create the project folder there")


def _manifest(tmp_path: Path) -> tuple[str, Path]:
    wav = write_clip(tmp_path / "café" / "yes" / "take.wav", 3)
    return f"path,label,speaker,source,split,duration_s\n{wav},yes,anna,import,train,1.0\n", wav


def test_manifest_in_cp1252_is_one_line(tmp_path: Path) -> None:
    text, _ = _manifest(tmp_path)
    (tmp_path / "m.csv").write_bytes(text.encode("cp1252"))
    message = one_error(kws("data", "summary", "--manifest", "m.csv", cwd=tmp_path))
    assert message.startswith("error: m.csv:2: not UTF-8 text (byte 0xe9)") and "UTF-8" in message


def test_manifest_with_a_utf8_bom_reads(tmp_path: Path) -> None:
    text, _ = _manifest(tmp_path)
    (tmp_path / "m.csv").write_bytes(text.encode("utf-8-sig"))
    done = kws("data", "summary", "--manifest", "m.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 clips in m.csv" in done.stdout and "yes" in done.stdout


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_float_wav_with_nan_samples(tmp_path: Path, bad: float) -> None:
    samples = np.sin(np.arange(16000) / 10).astype(np.float32) * 0.5
    samples[[100, 2000]] = bad
    sf.write(str(tmp_path / "nan.wav"), samples, 16000, subtype="FLOAT")
    message = one_error(kws("features", "nan.wav", "--convert", cwd=tmp_path))
    assert message.startswith("error: nan.wav: 2 samples are NaN or infinite") and "16-bit PCM" in message
