"""TTS negatives: near-misses of a keyword, the built-in phrases, when they are added, `kws data synth --negatives`."""

from __future__ import annotations

from pathlib import Path

from kws.data import negatives
from kws.data.manifest import Clip, read_manifest
from test_data_import import private_cache, run_kws  # noqa: F401 (fixture)


def _clips(label: str, n: int, split: str = "train", folder: str = "synth") -> list[Clip]:
    return [Clip(f"{folder}/{label}/v{i}_nohash_0.wav", label, f"v{i}", "synth", split, 1.0) for i in range(n)]


def test_near_misses_of_hey_robot() -> None:
    near, common = negatives.phrases(["hey robot"])
    assert {"hey", "robot", "hey rob", "a robot", "hey bob"} <= set(near)
    assert len(common) >= 80 and not set(near) & set(common)
    assert all("hey robot" not in f" {p} " for p in near + common)
    assert "hey bobot" not in near and "bey robot" not in near  # one consonant away: the keyword's twin


def test_phrases_never_hold_a_keyword_or_sound_like_one() -> None:
    near, common = negatives.phrases(["yes", "turn on"])
    assert "yes" not in near + common and "turn on the light" not in common and "no" in common
    # espeak-ng pronounces "hay" like "hey": never a negative of "hey"
    assert "hay" not in negatives.phrases(["hey"])[0]
    assert negatives._phonemes("hay") == negatives._phonemes("hey")


def test_shortfall_counts_training_non_keyword_speech() -> None:
    keyword = _clips("hey_robot", 100)
    assert negatives.shortfall(keyword, ["hey robot"]) == 250  # 2 per keyword clip, 80% of voices land in train
    assert negatives.shortfall(keyword + _clips("_unknown_", 100), ["hey robot"]) == 0
    # test-split speech does not count: that is the trap
    assert negatives.shortfall(keyword + _clips("_unknown_", 500, "test"), ["hey robot"]) == 250
    # negatives from an earlier run are replaced, real ones are kept
    ours = _clips("_unknown_", 50, folder="synth/negatives")
    assert negatives.shortfall(keyword + ours, ["hey robot"]) == 250
    assert negatives.shortfall(keyword + _clips("_unknown_", 50, folder="mine"), ["hey robot"]) == 188
    assert negatives.shortfall(_clips("_silence_", 10), ["hey robot"]) == 0  # no keyword clips: nothing to balance


def test_synth_command_adds_negatives_on_request(tmp_path: Path) -> None:
    done = run_kws("data", "synth", "--words", "hey robot", "-n", "2", "--negatives", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "negatives: 10 near-misses (hey, robot," in done.stdout
    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    unknown = [c for c in clips if c.label == "_unknown_"]
    assert all(c.path.startswith("synth/negatives/_unknown_/") and c.source == "synth" for c in unknown)
    assert {c.engine for c in unknown} == {"espeak-ng", "flite"}
    assert len({c.speaker for c in unknown}) >= 30 and len(unknown) >= 280  # 3 per phrase at least
    assert any(Path(c.path).name.startswith("hey-bob_") for c in unknown)
    # the same request again gives the same clips, byte for byte
    before = {c.path: c.sha256 for c in clips}
    assert run_kws("data", "synth", "--words", "hey robot", "-n", "2", "--negatives", cwd=tmp_path).returncode == 0
    assert {c.path: c.sha256 for c in read_manifest(tmp_path / "data" / "manifest.csv")} == before
