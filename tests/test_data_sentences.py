"""Keyword-free TTS sentences: no keyword ever (words or sound-alikes), real speech, voices split, cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kws.data import sentences as sent
from kws.errors import UsageError
from kws.labels import normal_label

KEYWORDS = ["no", "the kitchen", "usually"]


def _words(text: str) -> str:
    return f"_{normal_label(text)}_"


def test_sentences_never_hold_a_keyword_over_many_seeds() -> None:
    kept, free = [], []
    for seed in range(40):
        kept += sent.sentences(KEYWORDS, 60, seed)
        free += sent.sentences([], 60, seed)
    for text in kept:
        words = _words(text)
        assert "_no_" not in words and "_the_kitchen_" not in words and "_usually_" not in words, text
        assert "_know_" not in words, text  # espeak-ng says "know" like "no"
    # without keywords the generator does say them: the filter is what keeps them out
    assert sum("_the_kitchen_" in _words(t) for t in free) > 10
    assert sum("_know_" in _words(t) for t in free) > 10 and sum("_usually_" in _words(t) for t in free) > 10
    lengths = [len(t.split()) for t in kept]
    assert min(lengths) >= 3 and max(lengths) <= 15 and len(set(lengths)) >= 10
    assert sum(t.endswith("?") for t in kept) > 0.15 * len(kept)
    assert sum(t.endswith(".") for t in kept) > 0.5 * len(kept)
    assert len(set(kept)) > 0.8 * len(kept)  # varied across seeds too
    assert sent.sentences(KEYWORDS, 30, 7) == sent.sentences(KEYWORDS, 30, 7)  # seeded
    # training sentences are not the test sentences (a few short common ones may coincide)
    shared = set(sent.sentences(KEYWORDS, 200, 7, "train")) & set(sent.sentences(KEYWORDS, 200, 7))
    assert len(shared) <= 10 and all(len(text.split()) <= 8 for text in shared)


def test_train_and_test_voices_are_disjoint() -> None:
    train, test = set(sent.voices("train")), set(sent.voices("test"))
    assert train and test and not train & test
    with pytest.raises(UsageError, match="split 'dev'"):
        sent.voices("dev")


def test_clips_are_real_speech_of_the_split_and_cached(tmp_path: Path) -> None:
    spoken = sent.sentence_clips(KEYWORDS, 4, 3, split="test", cache=tmp_path, jobs=2)
    assert len(spoken) == 4 and not any(s.cached for s in spoken)
    test_voices = set(sent.voices("test"))
    for s in spoken:
        assert s.speaker in test_voices and s.samples.dtype == np.int16
        seconds, words = len(s.samples) / 16000, len(s.text.split())
        assert 0.12 * words <= seconds <= 0.8 * words + 0.5, (s.text, seconds)
        rms = np.sqrt(np.mean(s.samples.astype(np.float64) ** 2))
        assert rms > 1000  # peak at -1 dBFS, mostly voiced
        # speech has pauses between words: short frames vary a lot in loudness
        frames = s.samples[: len(s.samples) // 320 * 320].astype(np.float64).reshape(-1, 320)
        loudness = np.sqrt(np.mean(frames ** 2, axis=1))
        assert loudness.max() > 10 * np.percentile(loudness, 10)
    again = sent.sentence_clips(KEYWORDS, 4, 3, split="test", cache=tmp_path, jobs=2)
    assert all(s.cached for s in again)
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(spoken, again))
    train = sent.sentence_clips(KEYWORDS, 2, 3, split="train", cache=tmp_path, jobs=2)
    assert not any(s.cached for s in train) and {s.speaker for s in train} <= set(sent.voices("train"))
