"""One label normalisation at the door: a keyword's own recordings (`hey robot/`,
`Yes/`) become the keyword's label everywhere, and `kws train` refuses labels
that only look like a keyword (they would train as _unknown_)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kws.labels import label_for, lookalikes, normal_label
from kws.data.manifest import read_manifest
from wav_maker import write_clip


def kws(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, KWS_CACHE_DIR=str(cwd / ".cache"))
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_one_normalisation() -> None:
    assert normal_label("hey robot") == normal_label("Hey-Robot") == normal_label(" hey_robot ") == "hey_robot"
    assert normal_label("Yes") == label_for("YES") == "yes"
    assert normal_label("_Unknown_") == "_unknown_" and normal_label("_silence_") == "_silence_"
    assert normal_label("don't") == label_for("don't") == "don't"
    assert label_for("Hey  Robot") == "hey_robot"
    assert lookalikes(["heyrobot", "hey_robot", "tree", "yes"], ["hey_robot", "three", "yes"]) == \
        {"heyrobot": "hey_robot"}


def test_import_labels_a_keywords_folders_as_the_keyword(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    for k in range(3):
        write_clip(user / "hey robot" / f"take{k}.wav", k)
        write_clip(user / "Yes" / f"take{k}.wav", 10 + k)
    done = kws("data", "import", str(user), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    labels = {c.label for c in read_manifest(tmp_path / "data" / "manifest.csv")}
    assert labels == {"hey_robot", "yes"}
    assert (user / "hey robot").is_dir() and (user / "Yes").is_dir()  # the user's folders stay as they are


def test_manifest_labels_are_normalised_on_read(tmp_path: Path) -> None:
    wav = write_clip(tmp_path / "a.wav", 1)
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label,speaker,source,split,duration_s\n"
                        f"{wav},Hey Robot,anna,import,train,1.0\n{wav},YES,bob,import,test,1.0\n")
    assert [c.label for c in read_manifest(manifest)] == ["hey_robot", "yes"]


def test_train_refuses_a_label_that_looks_like_a_keyword(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    for k in range(3):
        write_clip(user / "HeyRobot" / f"take{k}.wav", k)
        write_clip(user / "hey robot" / f"good{k}.wav", 10 + k)
    assert kws("data", "import", str(user), cwd=tmp_path).returncode == 0
    done = kws("train", "--words", "hey robot", "--preset", "quick", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "'heyrobot' (3 clips) looks like keyword 'hey_robot'" in errors[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("word", ["hey robot", "Hey Robot"])
def test_synth_plan_uses_the_same_label(word: str, tmp_path: Path) -> None:
    from kws.data.synth import plan

    jobs = plan([word], 1, 0, tmp_path)
    assert jobs[0].label == "hey_robot" and jobs[0].path.parent.name == "hey_robot"
