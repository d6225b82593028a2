"""Training windows cut from streams, as a listening device sees its audio.

Clip training shows the model one word in a fresh 1 s window.  On a device
the window slides over a room in 40 ms steps: the keyword sits anywhere in it,
next to the end of the word before and the start of the word after, and the
frontend's noise estimate has been running for minutes.  ``training_windows``
lays the training split's clips end to end like the streaming evaluation does
(``streaming.build_stream``: same loudness range, same background bed; the
keywords augmented first, each one placed once per stream), runs the frontend
over each stream with one continuous state, and labels every window by the
sound it holds (``label_windows``):

- a keyword when it holds at least ``POSITIVE_SHARE`` of one keyword's sound
  (so every alignment that has the whole word, neighbours or not);
- ``_unknown_`` when it holds at most ``NEGATIVE_SHARE`` of any keyword's
  sound and either some keyword sound (a keyword cut off at an edge) or at
  least ``SPEECH_MS`` of other words;
- ``_silence_`` when it holds no word at all;
- nothing (left out) in between: a keyword half in the window is neither.

Each keyword occurrence becomes one example whose variants are different
alignments of it; negative windows are grouped likewise.  Only training clips
go in, so the validation and test streams stay unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from kws.audio.frontend_params import FrontendParams
from kws.labels import FIRST_KEYWORD_CLASS, SILENCE_CLASS, UNKNOWN_CLASS
from kws.train.augment import Augmenter
from kws.train.streaming import Stream, build_stream

POSITIVE_SHARE = 0.9   # of a keyword's sound inside a window that makes the window that keyword
NEGATIVE_SHARE = 0.5   # at most this much of a keyword's sound: the window is not that keyword
SPEECH_MS = 200        # other words' sound that makes a keyword-free window _unknown_
KEYWORD_EVERY_S = 2.0  # mean non-keyword audio between keywords in a training stream
SKIP = -1


@dataclass
class Examples:
    """Training examples made of windows: ``variants`` (n, k, frames, channels),
    ``clean`` (n, frames, channels), their classes, and which came from TTS keywords."""

    variants: np.ndarray
    clean: np.ndarray
    targets: np.ndarray
    synthetic: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    @classmethod
    def empty(cls, variants: int, frontend: FrontendParams) -> "Examples":
        shape = (frontend.num_frames, frontend.num_channels)
        return cls(np.zeros((0, variants, *shape), np.int8), np.zeros((0, *shape), np.int8), np.zeros(0, np.int64),
                   np.zeros(0, bool))

    @classmethod
    def join(cls, parts: Sequence["Examples"]) -> "Examples":
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("variants", "clean", "targets", "synthetic")))


def label_windows(stream: Stream, frontend: FrontendParams, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(class per window, keyword occurrence per window or -1) for the windows ending at
    frame ``window - 1 .. frames - 1`` of ``stream``'s features."""
    window = frontend.num_frames
    ends = np.arange(window, frames + 1)
    start_ms = (ends - window) * frontend.stride_ms
    end_ms = (ends - 1) * frontend.stride_ms + frontend.window_ms
    best_share = np.zeros(len(ends))
    best_target = np.full(len(ends), SKIP)
    occurrence = np.full(len(ends), SKIP)
    other_ms = np.zeros(len(ends))
    any_keyword = np.zeros(len(ends), bool)
    span_ms = end_ms[0] - start_ms[0]
    for index, (lo, hi, target) in enumerate(stream.spoken):
        # only the windows that overlap [lo, hi) change: starts in (lo - span, hi)
        first = max(0, (lo - span_ms) // frontend.stride_ms)
        last = min(len(ends), hi // frontend.stride_ms + 1)
        if first >= last:
            continue
        near = slice(first, last)
        inside = np.clip(np.minimum(end_ms[near], hi) - np.maximum(start_ms[near], lo), 0, None)
        if target < FIRST_KEYWORD_CLASS:
            other_ms[near] += inside
            continue
        share = inside / max(hi - lo, 1)
        any_keyword[near] |= share > 0
        better = share > best_share[near]
        best_share[near] = np.where(better, share, best_share[near])
        best_target[near] = np.where(better, target, best_target[near])
        occurrence[near] = np.where(better, index, occurrence[near])
    targets = np.full(len(ends), SKIP)
    targets[best_share >= POSITIVE_SHARE] = best_target[best_share >= POSITIVE_SHARE]
    negative = best_share <= NEGATIVE_SHARE
    targets[negative & (any_keyword | (other_ms >= SPEECH_MS))] = UNKNOWN_CLASS
    targets[negative & ~any_keyword & (other_ms == 0)] = SILENCE_CLASS
    return targets, np.where(targets >= FIRST_KEYWORD_CLASS, occurrence, SKIP)


def _cut(feats: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    return np.stack([feats[e - window : e] for e in ends]) if len(ends) else np.zeros(
        (0, window, feats.shape[1]), np.int8)


def stream_examples(keywords: Sequence[tuple[np.ndarray, int, bool]], fillers: Sequence[np.ndarray],
                    augmenter: Augmenter, frontend: FrontendParams, variants: int, negatives: int,
                    rng: np.random.Generator, features_of: Callable[[np.ndarray], np.ndarray]) -> Examples:
    """Examples from one training stream: one per keyword occurrence (``variants`` + 1 of its
    alignments), and ``negatives`` examples of non-keyword windows.  ``keywords`` are
    (int16 clip, class, from TTS); ``features_of(samples)`` is the frontend."""
    plain = Augmenter(replace(augmenter.config, context_p=0.0), augmenter.noises, augmenter.stride)
    spoken = [(plain(clip, rng), target) for clip, target, _ in keywords]
    stream = build_stream(rng, spoken, fillers, augmenter, KEYWORD_EVERY_S * len(spoken), KEYWORD_EVERY_S)
    feats = features_of(stream.samples)
    window, k = frontend.num_frames, variants + 1
    targets, occurrence = label_windows(stream, frontend, len(feats))
    ends = np.arange(window, len(feats) + 1)
    order = [i for i, (_, _, target) in enumerate(stream.spoken) if target >= FIRST_KEYWORD_CLASS]
    tts_of = [keywords[i][2] for i in stream.placed]
    groups, group_targets, group_tts = [], [], []
    for position, index in enumerate(order):
        where = np.flatnonzero(occurrence == index)
        if len(where) == 0:
            continue
        picked = rng.choice(where, size=k, replace=len(where) < k)
        groups.append(_cut(feats, ends[picked], window))
        group_targets.append(stream.spoken[index][2])
        group_tts.append(tts_of[position])
    for target in (UNKNOWN_CLASS, SILENCE_CLASS):
        where = np.flatnonzero(targets == target)
        count = negatives if target == UNKNOWN_CLASS else negatives // 4
        if len(where) < k:
            continue
        for _ in range(count):
            groups.append(_cut(feats, ends[rng.choice(where, size=k, replace=False)], window))
            group_targets.append(target)
            group_tts.append(False)
    if not groups:
        return Examples.empty(variants, frontend)
    stacked = np.stack(groups)
    return Examples(stacked[:, :variants], stacked[:, variants], np.array(group_targets, np.int64),
                    np.array(group_tts, bool))

