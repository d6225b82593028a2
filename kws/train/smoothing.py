"""Posterior smoothing: the Python twin of firmware_templates/common/kws_smoothing.c.

Like TFLM's RecognizeCommands: every inference adds its scores (int8 softmax
output + 128, so 0..255 = probability x 256) with a millisecond timestamp to a
window; the window keeps results no older than ``average_window_ms`` (and at
most ``capacity`` of them); when it holds at least ``minimum_count`` results,
the per-class average (integer division) decides: the top class (lowest index
on ties) is reported when it is a keyword, its average is >= ``threshold`` and
at least ``suppression_ms`` passed since the last report.  Labels starting
with ``_`` are never reported.  Timestamps are uint32 milliseconds; time
differences wrap as in C, so a device clock may roll over.

Every step is integer arithmetic, so C and Python agree exactly (tests feed
both the same long score streams).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from kws.errors import UsageError
from kws.model_card import SMOOTHING_CAPACITY, SmoothingParams

MAX_CLASSES = 32     # KWS_SMOOTHING_MAX_CLASSES
_U32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Detection:
    """One reported keyword: class index, average score (0..255), time in ms."""

    label: int
    score: int
    time_ms: int


class Smoother:
    """Streaming posterior smoothing, one call per inference."""

    def __init__(self, params: SmoothingParams, num_classes: int, mask: int, capacity: int = SMOOTHING_CAPACITY) -> None:
        if not 1 <= num_classes <= MAX_CLASSES:
            raise UsageError(f"smoothing: {num_classes} classes; the firmware supports 1..{MAX_CLASSES}")
        self.params = params
        self.num_classes = num_classes
        self.mask = mask
        self._window: deque[tuple[int, np.ndarray]] = deque(maxlen=capacity)
        self._last_report: int | None = None

    def average(self, scores: np.ndarray, now_ms: int) -> tuple[int, int] | None:
        """Add one inference's int8 scores at ``now_ms``; return the window's
        (top class, its average score), or None while the window is too short."""
        now_ms &= _U32
        if self._window and (now_ms - self._window[-1][0]) & _U32 > 0x7FFFFFFF:
            raise ValueError("smoothing: timestamps must not go backwards")
        self._window.append((now_ms, np.asarray(scores, np.int32)[: self.num_classes] + 128))
        while (now_ms - self._window[0][0]) & _U32 > self.params.average_window_ms:
            self._window.popleft()
        count = len(self._window)
        if count < self.params.minimum_count:
            return None
        average = sum(s for _, s in self._window) // count
        top = int(np.argmax(average))
        return top, int(average[top])

    def update(self, scores: np.ndarray, now_ms: int) -> Detection | None:
        """One inference: average, then decide; return a detection or None."""
        top_score = self.average(scores, now_ms)
        if top_score is None:
            return None
        now_ms &= _U32
        if not reports(top_score, now_ms, self._last_report, self.params.threshold,
                       self.params.suppression_ms, self.mask):
            return None
        self._last_report = now_ms
        return Detection(top_score[0], top_score[1], now_ms)


def reports(top_score: tuple[int, int], now_ms: int, last_report: int | None, threshold: int,
            suppression_ms: int, mask: int) -> bool:
    """The decision rule: a keyword on top, at or above threshold, out of suppression."""
    top, score = top_score
    if not (mask >> top) & 1 or score < threshold:
        return False
    return last_report is None or (now_ms - last_report) & _U32 >= suppression_ms


def detect(scores: np.ndarray, times_ms: Sequence[int], params: SmoothingParams, mask: int) -> list[Detection]:
    """Run a whole stream of int8 scores (inferences x classes) through a fresh Smoother."""
    smoother = Smoother(params, scores.shape[1], mask)
    found = []
    for row, now in zip(scores, times_ms):
        hit = smoother.update(row, int(now))
        if hit is not None:
            found.append(hit)
    return found


def averaged_stream(scores: np.ndarray, times_ms: Sequence[int], params: SmoothingParams,
                    ) -> list[tuple[int, tuple[int, int]]]:
    """(time, (top, average)) for every inference whose window is full enough:
    what ``detect`` decides on, computed once so many thresholds can be tried."""
    smoother = Smoother(params, scores.shape[1], mask=0)
    out = []
    for row, now in zip(scores, times_ms):
        top_score = smoother.average(row, int(now))
        if top_score is not None:
            out.append((int(now) & _U32, top_score))
    return out


def detect_averaged(averaged: list[tuple[int, tuple[int, int]]], threshold: int, suppression_ms: int,
                    mask: int) -> list[Detection]:
    """``detect`` on a precomputed ``averaged_stream`` at another threshold."""
    found: list[Detection] = []
    last = None
    for now, top_score in averaged:
        if reports(top_score, now, last, threshold, suppression_ms, mask):
            last = now
            found.append(Detection(top_score[0], top_score[1], now))
    return found
