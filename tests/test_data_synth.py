"""`kws data synth`: real espeak-ng and flite, post-processing, determinism, voices kept apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import soundfile as sf

from kws.data.manifest import read_manifest, split_for
from kws.data.batch import Batch
from kws.data.signal import voiced_span
from kws.data.synth import plan, render, synthesize
from kws.data.tts import catalogue
from test_data_import import private_cache, run_kws, tree_digest  # noqa: F401 (fixture)


def test_at_least_30_voice_identities_across_engines() -> None:
    voices = catalogue()
    assert {"espeak-ng", "flite"} <= set(voices)
    assert sum(len(v) for v in voices.values()) >= 30
    assert "kal" in voices["flite"] and "awb_time" not in voices["flite"]


def test_same_seed_same_bytes_and_clip_format(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        batch = Batch(tmp_path / name / "manifest.csv")
        stats = synthesize(batch, tmp_path / name / "synth", ["yes", "hey robot"], 6, seed,
                           unknown_words=["cat"], jobs=2)
        assert stats.clips == len(batch.clips) == 18 - stats.failed and stats.failed <= 1
        assert stats.clips_per_s > 0
        runs.append((batch, tree_digest(tmp_path / name / "synth")))
    assert runs[0][1] == runs[1][1]
    assert runs[0][1] != runs[2][1]
    clips = runs[0][0].clips
    assert {c.label for c in clips} == {"yes", "hey_robot", "_unknown_"}
    assert len({c.engine for c in clips}) >= 2
    for clip in clips:
        assert clip.speaker == f"{clip.engine}:{clip.voice}" and clip.split == split_for(clip.speaker)
        info = sf.info(str(tmp_path / "a" / clip.path))
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 16000)


def test_post_processing_changes_tempo_and_level(tmp_path: Path) -> None:
    job = next(j for j in plan(["seven"], 20, 3, tmp_path) if j.engine == "espeak-ng")
    lengths, peaks = [], []
    for tempo, peak_db in ((0.8, -20.0), (1.25, -2.0)):
        variant = dataclasses.replace(job, tempo=tempo, peak_db=peak_db, lead=0.0,
                                      path=tmp_path / f"{tempo}.wav")
        assert render(variant) is None
        samples = sf.read(str(variant.path), dtype="int16")[0]
        start, end = voiced_span(samples)
        lengths.append(end - start)
        peaks.append(abs(int(samples.astype(int).max())) + 0)
    assert lengths[0] > 1.3 * lengths[1]  # slower tempo, longer word
    assert peaks[1] > 5 * peaks[0]  # -2 dBFS vs -20 dBFS


def test_synth_command_reports_rate_and_updates_manifest(tmp_path: Path) -> None:
    done = run_kws("data", "synth", "--words", "yes,hey robot", "-n", "3", "--seed", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "clips/s" in done.stdout and "voice identities" in done.stdout
    clips = read_manifest(tmp_path / "data" / "manifest.csv")
    assert {c.source for c in clips} == {"synth"} and all(c.engine and c.voice for c in clips)
    assert all((tmp_path / "data" / c.path).is_file() for c in clips)
    # a smaller second run leaves no stale clips behind, and never touches other files
    mine = tmp_path / "data" / "synth" / "yes" / "me_nohash_0.wav"
    mine.write_bytes(b"not ours")
    done = run_kws("data", "synth", "--words", "yes", "-n", "1", "--seed", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "data" / "synth" / "yes").glob("*.wav"))) == 2
    assert mine.read_bytes() == b"not ours"
    assert {c.label for c in read_manifest(tmp_path / "data" / "manifest.csv")} == {"yes", "hey_robot"}


def test_bad_words_and_counts_are_usage_errors(tmp_path: Path) -> None:
    done = run_kws("data", "synth", "--words", "yes;rm", cwd=tmp_path)
    assert done.returncode == 2 and "'yes;rm': a keyword must be" in done.stderr and "Traceback" not in done.stderr
    done = run_kws("data", "synth", "--words", "yes", "-n", "0", cwd=tmp_path)
    assert done.returncode == 2 and "-n 0" in done.stderr
