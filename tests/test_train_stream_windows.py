"""Training windows cut from streams: labelled by the sound they hold, alignments of one keyword grouped."""

from __future__ import annotations

import numpy as np

from kws.audio.frontend import compute_features
from kws.audio.frontend_params import FrontendParams
from kws.train.augment import AugmentConfig, Augmenter
from kws.train.stream_windows import (NEGATIVE_SHARE, POSITIVE_SHARE, SKIP, SPEECH_MS, label_windows,
                                      stream_examples)
from kws.train.streaming import Stream

SR = 16000
FRONTEND = FrontendParams()


def _tone(hz: float, start: int, length: int) -> np.ndarray:
    clip = np.zeros(SR, np.int16)
    clip[start : start + length] = (8000 * np.sin(np.arange(length) * 2 * np.pi * hz / SR)).astype(np.int16)
    return clip


def _window_ms(end: int) -> tuple[int, int]:
    return (end - FRONTEND.num_frames) * FRONTEND.stride_ms, (end - 1) * FRONTEND.stride_ms + FRONTEND.window_ms


def test_windows_are_labelled_by_the_sound_they_hold() -> None:
    # a keyword sounding 3000..3500 ms, another word 4200..4700 ms, a keyword cut off by the end of the audio
    stream = Stream(np.zeros(10 * SR, np.int16), spoken=[(3000, 3500, 2), (4200, 4700, 1), (9900, 10300, 3)])
    frames = 10 * 1000 // FRONTEND.stride_ms
    targets, occurrence = label_windows(stream, FRONTEND, frames)
    ends = np.arange(FRONTEND.num_frames, frames + 1)
    assert set(targets.tolist()) == {SKIP, 0, 1, 2}
    for end, target, which in zip(ends, targets, occurrence):
        lo, hi = _window_ms(int(end))
        keyword = max(0, min(hi, 3500) - max(lo, 3000)) / 500
        cut = max(0, min(hi, 10300) - max(lo, 9900)) / 400
        other = max(0, min(hi, 4700) - max(lo, 4200))
        if target == 2:
            assert keyword >= POSITIVE_SHARE and which == 0
        elif target == 1:
            assert keyword <= NEGATIVE_SHARE and cut <= NEGATIVE_SHARE
            assert other >= SPEECH_MS or keyword > 0 or cut > 0
        elif target == 0:
            assert keyword == cut == other == 0
        else:
            assert which == SKIP
        assert target != 3  # never more than half of the cut keyword is in any window
    # every alignment holding the whole keyword is a positive, with or without its neighbour
    whole = [int(e) for e in ends if _window_ms(int(e))[0] <= 3000 and _window_ms(int(e))[1] >= 3500]
    assert len(whole) >= 20 and all(targets[e - FRONTEND.num_frames] == 2 for e in whole)


def test_stream_examples_group_alignments_of_each_keyword() -> None:
    keywords = [(_tone(1000 + 100 * i, 5000, 6000), 2 + i % 2, i % 2 == 1) for i in range(6)]
    fillers = [_tone(300, 4000, 8000)]
    seen = []

    def features_of(samples: np.ndarray) -> np.ndarray:
        seen.append(samples)
        return compute_features(samples, FRONTEND)

    examples = stream_examples(keywords, fillers, Augmenter(AugmentConfig()), FRONTEND, 3, 10,
                               np.random.default_rng(1), features_of)
    assert len(seen) == 1  # one stream, one continuous frontend state
    assert examples.variants.shape[1:] == (3, FRONTEND.num_frames, FRONTEND.num_channels)
    keyword = examples.targets >= 2
    assert keyword.sum() == 6 and sorted(examples.targets[keyword].tolist()) == [2, 2, 2, 3, 3, 3]
    assert examples.synthetic[keyword].tolist() == (examples.targets[keyword] == 3).tolist()
    assert (examples.targets == 1).sum() == 10 and not examples.synthetic[~keyword].any()
    # the variants of one keyword example are different alignments of the same stretch of audio
    feats = compute_features(seen[0], FRONTEND)
    first = examples.variants[np.flatnonzero(keyword)[0]]
    where = [[e for e in range(FRONTEND.num_frames, len(feats) + 1)
              if np.array_equal(feats[e - FRONTEND.num_frames : e], v)] for v in first]
    assert all(where) and max(w[0] for w in where) - min(w[0] for w in where) < 2 * FRONTEND.num_frames
