"""Negative windows cut from long non-keyword audio, as a listening device sees it.

Clip training shows the model one word, centred, in a fresh window.  On a
device the window slides over a room: halves of two words, a word and a
breath, a cough into noise.  ``stream_windows`` lays the training split's
non-keyword clips end to end over a background bed (the same generator as the
streaming evaluation, ``streaming.build_stream``, with the same loudness
range), runs the frontend over the whole stretch with one continuous state,
and cuts model windows at random offsets: a window holding at least
``SPEECH_MS`` of a non-keyword clip is ``_unknown_``, one with none is
``_silence_``, the rest (a word's edge) is skipped as ambiguous.  Only
training clips go in, so the validation and test streams stay unseen.

``hard_windows`` mines a second, fresh stream after a first training: the
windows the model takes most for a keyword become negatives for a short
fine-tuning (what microWakeWord does with its negative datasets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from kws.audio.frontend_params import FrontendParams
from kws.train.augment import Augmenter
from kws.train.fit import TrainData
from kws.train.streaming import build_stream

SPEECH_MS = 250            # non-keyword speech in a window that makes it _unknown_
SECONDS_PER_WINDOW = 0.1   # stream length per window cut (windows overlap: every offset is another alignment)
MIN_STREAM_S = 60.0
MINING_STEP = 2            # hard-negative mining scores every other window (40 ms, the inference period)
MINING_MIN_PROBABILITY = 0.3


@dataclass
class Windows:
    """Feature windows (n, frames, channels) in stream order, with their classes (0 silence, 1 unknown)
    and where they end (the frame after their last)."""

    features: np.ndarray
    targets: np.ndarray
    ends: np.ndarray


@dataclass
class Examples:
    """Training examples made of windows: ``variants`` (n, k, frames, channels)
    and ``clean`` (n, frames, channels) of one class each (``targets``)."""

    variants: np.ndarray
    clean: np.ndarray
    targets: np.ndarray

    @classmethod
    def none(cls, k: int, frontend: FrontendParams) -> "Examples":
        shape = (frontend.num_frames, frontend.num_channels)
        return cls(np.zeros((0, k, *shape), np.int8), np.zeros((0, *shape), np.int8), np.zeros(0, np.int64))

    @classmethod
    def group(cls, windows: Windows, k: int) -> "Examples":
        """Each run of k + 1 windows of one class (neighbours in the stream:
        other alignments of the same audio) as one example: k variants, then
        the clean one."""
        variants, clean, targets = [], [], []
        for target in np.unique(windows.targets):
            same = windows.features[windows.targets == target]
            groups = len(same) // (k + 1)
            runs = same[: groups * (k + 1)].reshape(groups, k + 1, *same.shape[1:])
            variants.append(runs[:, :k])
            clean.append(runs[:, k])
            targets.append(np.full(groups, target, np.int64))
        if not targets:
            return cls(windows.features[:0, None].repeat(k, 1), windows.features[:0], np.zeros(0, np.int64))
        return cls(np.concatenate(variants), np.concatenate(clean), np.concatenate(targets))

    @classmethod
    def each(cls, windows: Windows, k: int) -> "Examples":
        """Each window one example (its k variants: the window itself; SpecAugment still varies it)."""
        return cls(np.repeat(windows.features[:, None], k, axis=1), windows.features, windows.targets.astype(np.int64))

    def added_to(self, data: TrainData, class_weight: np.ndarray) -> TrainData:
        """``data`` with these examples appended (loss weight: their class's; kept by real-only phases)."""
        return TrainData(np.concatenate([data.variants, self.variants]), np.concatenate([data.clean, self.clean]),
                         np.concatenate([data.targets, self.targets]),
                         np.concatenate([data.weights, class_weight[self.targets]]),
                         np.concatenate([data.real, np.ones(len(self.targets), bool)]))


def _labelled(stream, feats: np.ndarray, frontend: FrontendParams) -> tuple[np.ndarray, np.ndarray]:
    """(end frame, class or -1 for ambiguous) of every window of the stream."""
    window, stride_ms = frontend.num_frames, frontend.stride_ms
    ends = np.arange(window, len(feats) + 1)
    start_ms = (ends - window) * stride_ms
    end_ms = (ends - 1) * stride_ms + frontend.window_ms
    speech = np.zeros(len(ends), np.int64)
    for lo, hi in stream.fillers:
        speech += np.clip(np.minimum(end_ms, hi) - np.maximum(start_ms, lo), 0, None)
    return ends, np.where(speech >= SPEECH_MS, 1, np.where(speech == 0, 0, -1))


def _cut(feats: np.ndarray, ends: np.ndarray, targets: np.ndarray, frontend: FrontendParams) -> Windows:
    window = frontend.num_frames
    picked = (np.stack([feats[end - window : end] for end in ends]) if len(ends)
              else np.zeros((0, window, frontend.num_channels), np.int8))
    return Windows(picked, targets, ends)


def stream_windows(fillers: Sequence[np.ndarray], augmenter: Augmenter, frontend: FrontendParams, count: int,
                   rng: np.random.Generator, features_of: Callable[[np.ndarray], np.ndarray]) -> Windows:
    """``count`` windows cut at random offsets from a fresh non-keyword stream
    of ``fillers`` (int16 1 s clips); ``features_of(samples)`` is the frontend
    (cached by the caller)."""
    stream = build_stream(rng, [], list(fillers), augmenter, max(MIN_STREAM_S, count * SECONDS_PER_WINDOW))
    feats = features_of(stream.samples)
    ends, targets = _labelled(stream, feats, frontend)
    usable = np.flatnonzero(targets >= 0)
    chosen = np.sort(rng.choice(usable, size=min(count, len(usable)), replace=False))
    return _cut(feats, ends[chosen], targets[chosen], frontend)


def hard_windows(fillers: Sequence[np.ndarray], augmenter: Augmenter, frontend: FrontendParams, seconds: float,
                 rng: np.random.Generator, features_of: Callable[[np.ndarray], np.ndarray],
                 keyword_probability: Callable[[np.ndarray], np.ndarray], limit: int) -> Windows:
    """Hard negatives: of every ``MINING_STEP``-th window of a fresh ``seconds``
    non-keyword stream, the (at most ``limit``) ones the model takes most for a
    keyword, at least ``MINING_MIN_PROBABILITY`` (``keyword_probability`` maps
    a window batch to each window's highest keyword probability)."""
    stream = build_stream(rng, [], list(fillers), augmenter, seconds)
    feats = features_of(stream.samples)
    ends, targets = _labelled(stream, feats, frontend)
    every = np.arange(0, len(ends), MINING_STEP)
    keep = every[targets[every] >= 0]
    probability = np.zeros(len(keep))
    for part in np.array_split(np.arange(len(keep)), max(1, len(keep) // 4096)):
        probability[part] = keyword_probability(_cut(feats, ends[keep[part]], targets[keep[part]], frontend).features)
    order = np.argsort(-probability, kind="stable")
    hard = np.sort(keep[order[probability[order] >= MINING_MIN_PROBABILITY][:limit]])
    return _cut(feats, ends[hard], targets[hard], frontend)
