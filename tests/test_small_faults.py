"""The smaller faults of issue 15 (item 7), met through the CLI as a user
meets them: truncated wavs, files the folder layout cannot place, manifest
split values and deleted clips, damaged and unsupported models, artifact
modes, exit codes, a silent device, no network."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kws.data.manifest import read_manifest
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


def _rejected(project: Path) -> dict[str, str]:
    with open(project / "data" / "rejected.csv", newline="") as handle:
        return {Path(row["path"]).name: row["reason"] for row in csv.DictReader(handle)}


def test_a_truncated_wav_is_left_out_and_said(tmp_path: Path) -> None:
    words = tmp_path / "words"
    write_clip(words / "yes" / "whole.wav", 1)
    cut = write_clip(words / "yes" / "cut.wav", 2)
    cut.write_bytes(cut.read_bytes()[: 44 + 12000])  # the header still promises 1 s
    done = kws("data", "import", str(words), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "left out 1 " in done.stdout and "rejected.csv" in done.stdout
    assert _rejected(tmp_path)["cut.wav"].startswith("truncated (the header promises 1.00 s, the file holds 0.38 s)")
    assert [Path(c.path).name for c in read_manifest(tmp_path / "data" / "manifest.csv")] == ["whole.wav"]


def test_files_outside_the_layout_are_reported(tmp_path: Path) -> None:
    words, elsewhere = tmp_path / "words", tmp_path / "elsewhere"
    write_clip(words / "yes" / "anna" / "kept.wav", 1)
    write_clip(words / "loose.wav", 2)
    write_clip(words / "yes" / "anna" / "monday" / "deep.wav", 3)
    write_clip(elsewhere / "no" / "linked.wav", 4)
    (words / "no").symlink_to(elsewhere / "no", target_is_directory=True)
    done = kws("data", "import", str(words), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "left out 3 " in done.stdout
    rejected = _rejected(tmp_path)
    assert rejected["loose.wav"].startswith(f"directly in {words}: move it into a folder named after its word")
    assert rejected["deep.wav"].startswith("nested deeper than <word>/<speaker>/<file>.wav")
    assert rejected["no"].startswith(f"a link to a folder ({elsewhere / 'no'}), not followed")
    assert [Path(c.path).name for c in read_manifest(tmp_path / "data" / "manifest.csv")] == ["kept.wav"]


def test_a_split_outside_train_val_test_is_refused(tmp_path: Path) -> None:
    wav = write_clip(tmp_path / "yes" / "a.wav", 1)
    (tmp_path / "m.csv").write_text(f"path,label,speaker,source,split,duration_s\n{wav},yes,anna,import,validation,1.0\n")
    message = one_error(kws("data", "summary", "--manifest", "m.csv", cwd=tmp_path))
    assert message == ("error: m.csv:2: split 'validation' is not one of train, val, test; "
                       "fix the row or regenerate the manifest")


def test_a_deleted_clip_stops_training_before_it_starts(tmp_path: Path) -> None:
    words = tmp_path / "words"
    for i, word in enumerate(("yes", "no") * 6):
        write_clip(words / word / f"s{i}" / "take.wav", i)
    assert kws("data", "import", str(words), cwd=tmp_path).returncode == 0
    (words / "no" / "s3" / "take.wav").unlink()
    (tmp_path / "kws.toml").write_text('keywords = ["yes", "no"]\n[train]\npreset = "quick"\n')
    message = one_error(kws("train", cwd=tmp_path))
    assert message.startswith(f"error: {tmp_path / 'data' / 'manifest.csv'}: 1 listed clip(s) no longer exist (first: "
                              f"{words / 'no' / 's3' / 'take.wav'}); restore them")
    assert [p.name for p in (tmp_path / "build").rglob("*")] == ["kws.log"]  # no epoch ran


def test_a_damaged_model_is_named_with_where_it_broke(peers, tmp_path: Path) -> None:
    model = (peers / "micro_speech" / "micro_speech_quantized.tflite").read_bytes()
    (tmp_path / "cut.tflite").write_bytes(model[:2000])
    (tmp_path / "kws.toml").write_text('keywords = ["yes", "no"]\n')
    message = one_error(kws("eval", "--model", "cut.tflite", cwd=tmp_path))
    assert message.startswith("error: cut.tflite: damaged .tflite model (error: unpack_from requires a buffer "
                              "of at least ") and "(actual buffer size is 2000)" in message


@pytest.mark.parametrize("setup, args, code", [
    (None, ("data", "import", "nope"), 1),                                   # missing input
    (None, ("data", "summary", "--config", "nope.toml"), 1),
    (None, ("features", "nope.wav"), 1),
    (None, ("data", "import", ".", "--split", "zz"), 2),                     # usage
    (None, ("features", "--bogus"), 2),
    ('keywords = "yes"\n', ("data", "summary"), 1),                          # kws.toml content
    ('[model]\narchitecture = "resnet"\n', ("train",), 1),
    ('keywords = [\n', ("data", "summary"), 1),
    ('[board]\nname = "nope"\n', ("export", "--model", "m.tflite"), 1),
])
def test_exit_codes(tmp_path: Path, setup: str | None, args: tuple[str, ...], code: int) -> None:
    if setup is not None:
        (tmp_path / "kws.toml").write_text(setup)
    done = kws(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
