"""The manifest contract: CSV round trip, Speech Commands' split rule, class balance, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kws.data.manifest import Clip, class_balance, read_manifest, split_for, write_manifest
from kws.errors import KwsError


def test_split_for_follows_speech_commands_rule() -> None:
    # the rule of input_data.py: sha1 of the speaker, mod 2**27, as a percentage
    splits = [split_for(f"speaker{i}") for i in range(4000)]
    for split, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert abs(splits.count(split) / len(splits) - share) < 0.03
    assert split_for("0cb74144") == "test"  # a speaker of the official test set
    assert split_for("x", val_pct=0, test_pct=0) == "train"
    assert split_for("x", val_pct=100, test_pct=0) == "val"


def test_round_trip_and_balance(tmp_path: Path) -> None:
    clips = [Clip("yes/a_nohash_0.wav", "yes", "a", "import", "train", 1.0),
             Clip("/abs/no.wav", "no", "espeak-ng:en-us", "synth", "test", 0.75, "espeak-ng", "en-us", "ab" * 32)]
    path = write_manifest(tmp_path / "data" / "manifest.csv", clips)
    back = read_manifest(path)
    assert sorted(back, key=lambda c: c.path) == sorted(clips, key=lambda c: c.path)
    assert back[0].resolve(tmp_path) == Path("/abs/no.wav")
    assert class_balance(back) == {"no": {"train": 0, "val": 0, "test": 1, "total": 1},
                                   "yes": {"train": 1, "val": 0, "test": 0, "total": 1}}
    assert not list((tmp_path / "data").glob("*.tmp"))


def test_bad_manifests_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="no manifest"):
        read_manifest(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label\nx.wav,yes\n")
    with pytest.raises(KwsError, match="lacks column"):
        read_manifest(bad)
    bad.write_text("path,label,speaker,source,split,duration_s\nx.wav,yes,a,import,train,long\n")
    with pytest.raises(KwsError, match=r"bad.csv:2: duration_s"):
        read_manifest(bad)
