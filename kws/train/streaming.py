"""Streaming evaluation: long audio, the firmware's smoothing, detections and false accepts.

``build_stream`` lays non-keyword speech clips (``_unknown_`` material, or
sentences of any length) and noise-only stretches end to end over a continuous
background-noise bed, and places keyword clips at known times between them;
its ``Pace`` sets how much of the stream is speech and how long the pauses
and noise-only stretches are (``CLIPS``: dense 1 s words, ``CONVERSATION``:
sentences with conversational pauses).  ``stream_scores`` runs the
frontend over the whole stream (one continuous state, as the firmware does)
and the int8 model every ``inference_period_ms`` on the last window of
frames.  ``score`` applies the posterior smoothing and matches detections to
keyword events: the first detection of the right word from the keyword's start
until ``average_window_ms`` + 0.5 s after its end is a hit; every other
detection is a false accept, a second report of the same keyword too (the
device would react twice; ``repeats`` counts those).  ``tune_threshold``
picks the lowest threshold whose false accepts per hour stay within a
target; ``choose_threshold`` does so unless
that threshold would miss most keywords (a device that never reacts is worse
than one that sometimes reacts wrongly): then it takes the highest threshold
that still detects ``MIN_DETECTION`` of them and says the target was missed.
``tune`` also picks the averaging window; the suppression is ``SUPPRESSION_MS``
from the report, whatever the window: one utterance is reported once, and a
keyword said again 1.5 s later (onset to onset, a natural pace) is heard.

The int8 model runs in LiteRT's interpreter (``ai-edge-litert``, the maintained
successor of ``tf.lite.Interpreter``) with its built-in kernels and without the
XNNPACK delegate: measured on real speech windows, XNNPACK's int8 scores differ
from TFLM's (what the device runs) by up to 20/256 on 38% of windows, the
built-in kernels by at most 3/256 on 1% (tests/test_train_pipeline.py holds
this figure); TFLM itself is about 17x slower, too slow for hours of audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from kws.audio.frontend import compute_features
from kws.audio.frontend_params import FrontendParams
from kws.audio.io import SAMPLE_RATE
from kws.data.signal import voiced_span
from kws.labels import UNKNOWN_CLASS
from kws.model_card import SmoothingParams
from kws.train.augment import Augmenter
from kws.train.smoothing import averaged_stream, detect_averaged

MATCH_SLACK_MS = 500
SPEECH_PEAK_DBFS = (-20.0, -3.0)  # loudness of every spoken clip (keywords and fillers)
BED_RMS_DBFS = (-60.0, -40.0)     # continuous background noise, a new level every 10 s
WINDOWS_MS = (500, 1000)  # averaging windows the tuning tries
MIN_DETECTION = 0.5       # share of keywords a tuned threshold must still detect
SOUND_DB = 30.0           # where a placed clip sounds: within this of its loudest 10 ms block
# After its report a single keyword's averaged score stays >= threshold for at most about the
# model's 1 s feature window (measured: max 1000 ms, 90th percentile 750 ms, 3 small models x 62-75
# held-out TTS keyword clips, averaging windows 500 and 1000 ms, thresholds 115..238): suppress a little longer
# than that, from the report, and no more, so the next utterance is still heard.
SUPPRESSION_MS = 1200


@dataclass(frozen=True)
class Pace:
    """How fillers follow each other: the share of steps that speak a filler (the rest
    are noise only), and the (min, max) seconds of a noise-only stretch and of a pause."""

    speech_share: float
    noise_s: tuple[float, float]
    gap_s: tuple[float, float]


CLIPS = Pace(speech_share=0.8, noise_s=(0.3, 3.0), gap_s=(0.05, 0.6))
CONVERSATION = Pace(speech_share=0.85, noise_s=(2.0, 10.0), gap_s=(0.2, 1.5))


@dataclass
class Stream:
    """Long int16 audio with the keyword events placed in it."""

    samples: np.ndarray
    events: list[tuple[int, int, int]] = field(default_factory=list)  # (start ms, end ms, class)
    filler_clips: int = 0
    spoken: list[tuple[int, int, int]] = field(default_factory=list)  # (start ms, end ms, class) of each clip's sound
    placed: list[int] = field(default_factory=list)  # which keyword clip each event is

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def non_keyword_s(self) -> float:
        return self.duration_s - sum(end - start for start, end, _ in self.events) / 1000


def build_stream(rng: np.random.Generator, keywords: Sequence[tuple[np.ndarray, int]], fillers: Sequence[np.ndarray],
                 augmenter: Augmenter, non_keyword_s: float, keyword_every_s: float = 8.0,
                 pace: Pace = CLIPS) -> Stream:
    """At least ``non_keyword_s`` seconds of fillers (any length) and noise at ``pace``, a keyword
    about every ``keyword_every_s`` seconds (each keyword clip used once, in a random order)."""
    pieces: list[np.ndarray] = []
    events, spoken, placed = [], [], []
    position = 0  # samples
    filler_time = 0
    next_keyword = rng.exponential(keyword_every_s) * SAMPLE_RATE
    order = list(rng.permutation(len(keywords)))
    while filler_time < non_keyword_s * SAMPLE_RATE:
        if order and filler_time >= next_keyword:
            placed.append(order.pop())
            clip, target = keywords[placed[-1]]
            piece = _level(clip, rng)
            events.append((position * 1000 // SAMPLE_RATE, (position + len(piece)) * 1000 // SAMPLE_RATE, target))
            spoken.append(_sounding(piece, position, target))
            next_keyword += rng.exponential(keyword_every_s) * SAMPLE_RATE
        elif fillers and rng.random() < pace.speech_share:
            piece = _level(fillers[int(rng.integers(len(fillers)))], rng)
            spoken.append(_sounding(piece, position, UNKNOWN_CLASS))
            filler_time += len(piece)
        else:
            piece = np.zeros(int(rng.uniform(*pace.noise_s) * SAMPLE_RATE), np.int16)
            filler_time += len(piece)
        pieces.append(piece)
        position += len(piece)
        gap = np.zeros(int(rng.uniform(*pace.gap_s) * SAMPLE_RATE), np.int16)
        pieces.append(gap)
        position += len(gap)
        filler_time += len(gap)
    speech = np.concatenate(pieces).astype(np.float64)
    bed = np.concatenate([augmenter.noise(min(10 * SAMPLE_RATE, len(speech) - s), rng)
                          * 10 ** (rng.uniform(*BED_RMS_DBFS) / 20) * 32768
                          for s in range(0, len(speech), 10 * SAMPLE_RATE)])
    samples = np.clip(np.round(speech + bed), -32768, 32767).astype(np.int16)
    return Stream(samples, events, filler_clips=len(fillers), spoken=spoken, placed=placed)


def _sounding(piece: np.ndarray, position: int, target: int) -> tuple[int, int, int]:
    """(start ms, end ms, class) of where ``piece``, placed at ``position``, has its sound: its
    10 ms blocks within ``SOUND_DB`` of the loudest, without the clip's quiet padding."""
    first, last = voiced_span(piece, top_db=SOUND_DB, floor=0.0, margin_s=0.0, frame=SAMPLE_RATE // 100) or (
        0, len(piece))
    return ((position + first) * 1000 // SAMPLE_RATE, (position + last) * 1000 // SAMPLE_RATE, target)


def _level(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A clip at a random loudness (peak within ``SPEECH_PEAK_DBFS``)."""
    peak = max(int(np.abs(clip.astype(np.int32)).max()), 1)
    gain = 32767 * 10 ** (rng.uniform(*SPEECH_PEAK_DBFS) / 20) / peak
    return np.clip(np.round(clip * gain), -32768, 32767).astype(np.int16)


def stream_scores(tflite: bytes, samples: np.ndarray, frontend: FrontendParams, period_ms: int,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(times ms, int8 scores) of the int8 model every ``period_ms`` over the stream."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    feats = compute_features(samples, frontend)
    window, stride = frontend.num_frames, frontend.stride_ms
    step = max(1, period_ms // stride)
    interp = Interpreter(model_content=tflite, num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    ends = np.arange(window, len(feats) + 1, step)
    scores = np.empty((len(ends), int(out["shape"][-1])), np.int8)
    for row, end in enumerate(ends):
        interp.set_tensor(inp["index"], feats[end - window : end].reshape(inp["shape"]))
        interp.invoke()
        scores[row] = interp.get_tensor(out["index"]).reshape(-1)
    # frame f ends at sample f * stride + window_samples: the time the firmware would have it
    times = ((ends - 1) * frontend.stride_samples + frontend.window_samples) * 1000 // frontend.sample_rate
    return times.astype(np.int64), scores


@dataclass
class StreamScore:
    threshold: int
    detections: int
    hits: int
    false_accepts: int
    keywords: int
    hours: float
    repeats: int = 0  # false accepts that were a second report of a detected keyword

    @property
    def detection_rate(self) -> float | None:
        return self.hits / self.keywords if self.keywords else None

    @property
    def fa_per_hour(self) -> float:
        return self.false_accepts / self.hours if self.hours else 0.0

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "detections": self.detections, "hits": self.hits,
                "false_accepts": self.false_accepts, "repeats": self.repeats, "keywords": self.keywords,
                "hours": round(self.hours, 4),
                "detection_rate": self.detection_rate, "fa_per_hour": self.fa_per_hour}


def score(averaged: list, stream: Stream, params: SmoothingParams, threshold: int, mask: int) -> StreamScore:
    """Detections at ``threshold`` matched against the stream's keyword events."""
    found = detect_averaged(averaged, threshold, params.suppression_ms, mask)
    slack = params.average_window_ms + MATCH_SLACK_MS
    matched = [False] * len(stream.events)
    false_accepts = repeats = 0
    for hit in found:
        events = [i for i, (start, end, target) in enumerate(stream.events)
                  if start <= hit.time_ms <= end + slack and hit.label == target]
        fresh = [i for i in events if not matched[i]]
        if fresh:
            matched[fresh[0]] = True
        else:
            false_accepts += 1
            repeats += bool(events)
    return StreamScore(threshold, len(found), sum(matched), false_accepts, len(stream.events),
                       stream.non_keyword_s / 3600, repeats)


def sweep(averaged: list, stream: Stream, params: SmoothingParams, mask: int) -> list[StreamScore]:
    """Scores at every threshold 0..255 (for tuning and DET-style plots)."""
    # only windows with a keyword on top can ever report; the rest never change the state
    candidates = [(now, top_score) for now, top_score in averaged if (mask >> top_score[0]) & 1]
    return [score([c for c in candidates if c[1][1] >= t], stream, params, t, mask) for t in range(256)]


def tune_threshold(scores: list[StreamScore], target_fa_per_hour: float) -> int:
    """The lowest threshold whose false accepts per hour are within the target
    (255 when none is)."""
    for s in scores:
        if s.fa_per_hour <= target_fa_per_hour:
            return s.threshold
    return 255


def run_stream(tflite: bytes, stream: Stream, frontend: FrontendParams, params: SmoothingParams,
               mask: int) -> list[StreamScore]:
    """Model scores over the stream, smoothed, swept over every threshold."""
    times, scores = stream_scores(tflite, stream.samples, frontend, params.inference_period_ms)
    return sweep(averaged_stream(scores, times, params), stream, params, mask)


def choose_threshold(scores: list[StreamScore], target_fa_per_hour: float,
                     min_detection: float = MIN_DETECTION) -> tuple[int, bool]:
    """(threshold, target met): the lowest threshold within the false-accept target when it
    still detects ``min_detection`` of the keywords, else the highest threshold that does."""
    within = tune_threshold(scores, target_fa_per_hour)
    if (scores[within].detection_rate or 0.0) >= min_detection:
        return within, True
    useful = [s.threshold for s in scores if (s.detection_rate or 0.0) >= min_detection]
    return (useful[-1] if useful else within), False


def tune(tflite: bytes, stream: Stream, frontend: FrontendParams, base: SmoothingParams, mask: int,
         target_fa_per_hour: float) -> tuple[SmoothingParams, bool, StreamScore]:
    """(smoothing, target met, its score on ``stream``): for each averaging window in ``WINDOWS_MS``
    the ``choose_threshold`` threshold; a window meeting the target beats one that does not, then
    more keywords detected wins (fewer false accepts among windows that miss the target)."""
    times, scores = stream_scores(tflite, stream.samples, frontend, base.inference_period_ms)
    best: tuple[tuple, SmoothingParams, bool, StreamScore] | None = None
    for window in WINDOWS_MS:
        params = replace(base, average_window_ms=window, suppression_ms=SUPPRESSION_MS)
        results = sweep(averaged_stream(scores, times, params), stream, params, mask)
        threshold, met = choose_threshold(results, target_fa_per_hour)
        chosen = results[threshold]
        detected = chosen.detection_rate or 0.0
        key = (1, detected, -chosen.fa_per_hour) if met else (0, -chosen.fa_per_hour, detected)
        if best is None or key > best[0]:
            best = (key, replace(params, threshold=threshold), met, chosen)
    assert best is not None
    return best[1], best[2], best[3]
