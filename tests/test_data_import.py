"""`kws data import`: real folders, the dev set as is, bad clips reported, user files untouched."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.data.folders import import_folder, speaker_of
from kws.data.manifest import read_manifest
from kws.data.batch import Batch, save
from wav_maker import write_clip

KWS = Path(sys.executable).parent / "kws"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Library calls in tests keep their cache in the test's folder."""
    monkeypatch.setenv("KWS_CACHE_DIR", str(tmp_path / ".cache"))
    return tmp_path / ".cache"


def run_kws(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the real `kws` command with a private cache."""
    env = dict(os.environ, KWS_CACHE_DIR=str(cwd / ".cache"))
    return subprocess.run([str(KWS), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_dev_set_imports_as_is(dev_set: Path, tmp_path: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in dev_set.rglob("*.wav")}
    done = run_kws("data", "import", str(dev_set), "--split", "test", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    labels = {c.label for c in clips}
    assert labels == {"_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off",
                      "stop", "go"}
    assert all(c.split == "test" and c.source == "import" for c in clips)
    assert all(Path(c.path).is_absolute() and Path(c.path).is_file() for c in clips)
    unknown = [c for c in clips if c.label == "_unknown_"]
    assert all(len(c.speaker) == 8 and c.speaker in c.path for c in unknown)  # word prefix stripped
    with open(tmp_path / "data" / "rejected.csv", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert len(clips) + len(rejected) == len(before)
    duplicates = [r for r in rejected if r["reason"].startswith("duplicate: same bytes as ")]
    assert len(duplicates) == 1  # Speech Commands holds byte-identical takes (one pair here); one row per content
    assert all("clipped" in r["reason"] for r in rejected if r not in duplicates)
    assert len({c.sha256 for c in clips}) == len(clips)
    assert "class balance" in done.stdout and "yes" in done.stdout
    assert {p: p.stat().st_mtime_ns for p in dev_set.rglob("*.wav")} == before


def test_dev_set_speakers_hash_to_the_official_test_split(dev_set: Path, tmp_path: Path) -> None:
    batch = import_folder(dev_set, Batch(tmp_path / "m.csv"), tmp_path / "silence")
    speech = [c for c in batch.clips if c.label != "_silence_"]
    assert len(speech) == 99  # 104 speech clips, less 1 duplicate and 4 clipped
    assert {c.split for c in speech} == {"test"}


def test_speaker_rules() -> None:
    assert speaker_of(Path("yes/0a7c2a8d_nohash_1.wav")) == "0a7c2a8d"
    assert speaker_of(Path("_unknown_/backward_0cb74144_nohash_2.wav")) == "0cb74144"
    assert speaker_of(Path("yes/anna/take 3.wav")) == "anna"
    assert speaker_of(Path("yes/take3.wav")) == "yes/take3"


def _write(path: Path, data: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate, subtype=subtype)


def test_bad_clips_are_reported_and_left_out(dev_set: Path, tmp_path: Path) -> None:
    user = tmp_path / "mine"
    good = sf.read(str(dev_set / "yes" / sorted(os.listdir(dev_set / "yes"))[0]), dtype="int16")[0]
    (user / "yes" / "anna").mkdir(parents=True)
    shutil.copy(next((dev_set / "yes").glob("*.wav")), user / "yes" / "anna" / "good.wav")
    _write(user / "yes" / "rate.wav", good, rate=44100)
    _write(user / "yes" / "stereo.wav", np.stack([good, good], axis=1))
    _write(user / "yes" / "float.wav", good / 32768.0, subtype="FLOAT")
    _write(user / "yes" / "long.wav", np.concatenate([good, good]))
    _write(user / "yes" / "short.wav", good[:1000])
    _write(user / "yes" / "clipped.wav", np.clip(good.astype(np.int32) * 40, -32768, 32767).astype(np.int16))
    _write(user / "yes" / "silent.wav", np.zeros(16000, np.int16))
    (user / "yes" / "broken.wav").write_bytes(b"RIFF\x00\x00garbage")
    (user / "notes.txt").write_text("not audio")
    before = tree_digest(user)

    done = run_kws("data", "import", str(user), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    assert [Path(c.path).name for c in clips] == ["good.wav"] and clips[0].speaker == "anna"
    with open(tmp_path / "data" / "rejected.csv", newline="") as handle:
        reasons = {Path(r["path"]).name: r["reason"] for r in csv.DictReader(handle)}
    expected = {"rate.wav": "sample rate 44100", "stereo.wav": "2 channels", "float.wav": "FLOAT",
                "long.wav": "too long", "short.wav": "too short", "clipped.wav": "clipped",
                "silent.wav": "silent", "broken.wav": "unreadable"}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    assert tree_digest(user) == before


def test_reimport_replaces_rows_and_keeps_other_sources(dev_set: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "data" / "manifest.csv"
    first = Batch(manifest)
    import_folder(dev_set, first, tmp_path / "silence")
    count = save(first).total
    other = tmp_path / "other"
    shutil.copytree(dev_set / "go", other / "go")
    second = Batch(manifest)
    import_folder(other, second, tmp_path / "silence2")
    saved = save(second)  # a copy adds no row: its clips are byte-identical to imported ones
    assert saved.total == count and saved.added == 0 and saved.duplicates == len(second.clips)
    write_clip(other / "go" / "mine.wav", 77)  # one new take
    third = Batch(manifest)
    import_folder(other, third, tmp_path / "silence2")
    assert save(third).total == count + 1
    fourth = Batch(manifest)
    import_folder(other, fourth, tmp_path / "silence2")
    assert save(fourth).total == count + 1  # no duplicates


def test_missing_or_empty_folder_is_one_line_error(tmp_path: Path) -> None:
    done = run_kws("data", "import", str(tmp_path / "nope"), cwd=tmp_path)
    assert done.returncode == 1 and "no such folder" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    (tmp_path / "empty").mkdir()
    done = run_kws("data", "import", str(tmp_path / "empty"), cwd=tmp_path)
    assert done.returncode == 1 and "no <label>/*.wav" in done.stderr
