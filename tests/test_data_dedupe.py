"""Nothing counted twice, nothing leaked: the manifest keeps one row per
content hash, so a file symlink is not re-added on each import, a copied
folder puts no byte-identical clip in two splits, and `synth --words yes,yes`
reports the clips it made."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from kws.data.manifest import read_manifest
from wav_maker import write_clip


def kws(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, KWS_CACHE_DIR=str(cwd / ".cache"))
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_file_symlink_is_not_re_added(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    write_clip(user / "yes" / "anna_nohash_0.wav", 1)
    write_clip(tmp_path / "elsewhere" / "take.wav", 2)
    (user / "yes" / "linked_nohash_0.wav").symlink_to(tmp_path / "elsewhere" / "take.wav")
    (user / "yes" / "again_nohash_0.wav").symlink_to(user / "yes" / "anna_nohash_0.wav")
    counts = []
    for _ in range(3):
        done = kws("data", "import", str(user), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        counts.append(len(read_manifest(tmp_path / "data" / "manifest.csv")))
    assert counts == [2, 2, 2]
    assert "added 2 clips" in done.stdout and "(2 in all)" in done.stdout


def test_a_copied_folder_puts_no_clip_in_two_splits(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    for i, speaker in enumerate(("anna", "bob", "carl", "dora", "emil", "fay", "gus", "hal", "ida", "jon")):
        for k in range(2):
            write_clip(user / "yes" / speaker / f"take{k}.wav", 2 * i + k)   # 20 distinct clips
    shutil.copytree(user, tmp_path / "copy")
    assert kws("data", "import", str(user), cwd=tmp_path).returncode == 0
    done = kws("data", "import", str(tmp_path / "copy"), "--split", "test", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    splits = defaultdict(set)
    for clip in clips:
        splits[clip.sha256].add(clip.split)
    assert len(clips) == 20 and all(len(s) == 1 for s in splits.values())
    assert "added 0 clips" in done.stdout and "skipped 20 duplicate clips" in done.stdout
    with open(tmp_path / "data" / "rejected.csv", newline="") as handle:
        reasons = [r["reason"] for r in csv.DictReader(handle)]
    assert len(reasons) == 20 and all(r.startswith("duplicate: same bytes as ") for r in reasons)


def test_synth_a_word_twice_counts_true(tmp_path: Path) -> None:
    done = kws("data", "synth", "--words", "yes,yes, Yes", "-n", "2", "-j", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("synthesized 2 clips")
    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    assert len(clips) == 2 and len({c.path for c in clips}) == 2
