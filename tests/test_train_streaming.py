"""Streaming evaluation: stream layout, detection matching, threshold tuning; clip metrics."""

from __future__ import annotations

import numpy as np
import pytest

from kws.train.augment import AugmentConfig, Augmenter
from kws.train.evaluate import classification_metrics, keyword_curves, roc_curve
from kws.labels import keyword_mask
from kws.model_card import SmoothingParams
from kws.train.smoothing import averaged_stream
from kws.train.streaming import (CONVERSATION, SUPPRESSION_MS, WINDOWS_MS, Stream, build_stream, choose_threshold,
                                 score, sweep, tune_threshold)

SR = 16000
LABELS = ["_silence_", "_unknown_", "yes", "no"]


def _clip(value: int) -> np.ndarray:
    clip = np.zeros(SR, np.int16)
    clip[4000:12000] = value
    return clip


def test_conversation_stream_keeps_long_fillers_whole_with_pauses_and_noise_stretches() -> None:
    sentence = np.full(3 * SR, 2000, np.int16)  # a 3 s "sentence"
    stream = build_stream(np.random.default_rng(1), [], [sentence], Augmenter(AugmentConfig()), 300.0,
                          pace=CONVERSATION)
    assert stream.non_keyword_s >= 300.0 and not stream.events
    frames = stream.samples[: len(stream.samples) // 160 * 160].astype(np.float64).reshape(-1, 160)
    loud = np.sqrt(np.mean(frames ** 2, axis=1)) > 1500  # sentences peak >= -20 dBFS, the bed <= -40 dBFS RMS
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
    starts, ends = edges[::2] / 100, edges[1::2] / 100  # seconds (10 ms frames)
    assert len(starts) > 40
    assert np.allclose(ends - starts, 3.0, atol=0.02)  # each sentence whole, never cut
    pauses = starts[1:] - ends[:-1]
    assert pauses.min() >= CONVERSATION.gap_s[0] - 0.01
    assert (pauses < 1.5).mean() > 0.5 and (pauses > 2.0).sum() >= 3  # conversational pauses, some noise only


def test_stream_places_each_keyword_once_at_known_times() -> None:
    keywords = [(_clip(1000 + i), 2 + i % 2) for i in range(12)]
    fillers = [_clip(-500)]
    stream = build_stream(np.random.default_rng(0), keywords, fillers, Augmenter(AugmentConfig()), 120.0, 8.0)
    assert stream.non_keyword_s >= 120.0
    assert 5 <= len(stream.events) <= 12
    starts = [s for s, _, _ in stream.events]
    assert starts == sorted(starts)
    for start, end, target in stream.events:
        assert end - start == 1000 and target in (2, 3)
        segment = stream.samples[start * 16 : end * 16].astype(np.int32)
        # the keyword's plateau is there, far above the noise bed
        assert np.abs(segment[4100:11900]).min() > 50


def _fake_scores(stream: Stream, times: np.ndarray, extra_hits: list[tuple[int, int]]) -> np.ndarray:
    """Perfect scores: the keyword's class while its clip is in the window, silence otherwise."""
    scores = np.full((len(times), 4), -128, np.int8)
    scores[:, 0] = 127
    for row, t in enumerate(times):
        for start, end, target in stream.events + [(s, s + 1000, c) for s, c in extra_hits]:
            if start + 500 <= t <= end + 300:
                scores[row] = -128
                scores[row, target] = 127
    return scores


def test_score_counts_hits_misses_and_false_accepts() -> None:
    events = [(10_000, 11_000, 2), (30_000, 31_000, 3), (50_000, 51_000, 2)]
    stream = Stream(np.zeros(72 * SR, np.int16), events)
    params = SmoothingParams(average_window_ms=300, threshold=200, suppression_ms=1000, minimum_count=3,
                             inference_period_ms=40)
    times = np.arange(1000, 72_000, 40)
    scores = _fake_scores(stream, times, extra_hits=[(40_000, 3), (60_000, 2)])
    scores[(times > 50_000) & (times < 52_000)] = [127, -128, -128, -128]  # third keyword missed
    averaged = averaged_stream(scores, times, params)
    result = score(averaged, stream, params, 200, keyword_mask(LABELS))
    assert (result.hits, result.false_accepts, result.keywords) == (2, 2, 3)
    assert result.detection_rate == pytest.approx(2 / 3)
    assert result.fa_per_hour == pytest.approx(2 / (stream.non_keyword_s / 3600))
    assert result.repeats == 0


def test_a_keyword_reported_twice_counts_one_hit_and_one_false_accept() -> None:
    stream = Stream(np.zeros(20 * SR, np.int16), [(10_000, 11_000, 2)])
    params = SmoothingParams(average_window_ms=300, threshold=200, suppression_ms=500, minimum_count=3,
                             inference_period_ms=40)
    times = np.arange(1000, 20_000, 40)
    scores = np.full((len(times), 4), -128, np.int8)
    scores[:, 0] = 127
    scores[(times >= 10_500) & (times <= 11_600)] = [-128, -128, 127, -128]  # high for 1.1 s > suppression
    result = score(averaged_stream(scores, times, params), stream, params, 200, keyword_mask(LABELS))
    assert (result.detections, result.hits, result.false_accepts, result.repeats) == (2, 1, 1, 1)
    longer = SmoothingParams(300, 200, SUPPRESSION_MS, 3, 40)
    result = score(averaged_stream(scores, times, longer), stream, longer, 200, keyword_mask(LABELS))
    assert (result.detections, result.hits, result.false_accepts) == (1, 1, 0)



@pytest.mark.parametrize("window", WINDOWS_MS)
def test_the_tuned_suppression_reports_one_utterance_once_and_hears_the_next_one_1_5_s_later(window: int) -> None:
    # "yes ... yes ... no": onsets 1.5 s apart; each word's score stays high for the 1 s feature window
    events = [(10_000, 10_500, 2), (11_500, 12_000, 2), (13_000, 13_500, 3)]
    stream = Stream(np.zeros(20 * SR, np.int16), events)
    params = SmoothingParams(average_window_ms=window, threshold=200, suppression_ms=SUPPRESSION_MS,
                             minimum_count=3, inference_period_ms=40)
    times = np.arange(1000, 20_000, 40)
    scores = np.full((len(times), 4), -128, np.int8)
    scores[:, 0] = 127
    for start, _, target in events:
        high = (times >= start + 400) & (times < start + 1400)
        scores[high] = -128
        scores[high, target] = 127
    result = score(averaged_stream(scores, times, params), stream, params, 200, keyword_mask(LABELS))
    assert (result.detections, result.hits, result.false_accepts) == (3, 3, 0)

def _distractor_sweep(keyword_p: float):
    """Sweep of 6 min of scores: one "yes" at ``keyword_p``; "no" at 0.55 in 3 places and
    "yes" at 0.7 in 1 place outside it (score = p x 256)."""
    stream = Stream(np.zeros(3600 * SR // 10, np.int16), [(5_000, 6_000, 2)])
    params = SmoothingParams(average_window_ms=200, threshold=0, suppression_ms=1000, minimum_count=1,
                             inference_period_ms=100)
    times = np.arange(100, 360_000, 100)
    scores = np.full((len(times), 4), -128, np.int8)
    scores[:, 0] = 127
    scores[(times >= 5_500) & (times <= 6_000), :] = -128
    scores[(times >= 5_500) & (times <= 6_000), 2] = min(127, int(keyword_p * 256) - 128)
    for t, cls, p in ((100_000, 3, 0.55), (150_000, 3, 0.55), (200_000, 3, 0.55), (250_000, 2, 0.7)):
        during = (times >= t) & (times < t + 500)
        scores[during] = -128
        scores[during, cls] = int(p * 256) - 128
    return sweep(averaged_stream(scores, times, params), stream, params, keyword_mask(LABELS)), stream


def test_sweep_and_tuning_pick_the_lowest_threshold_within_target() -> None:
    results, stream = _distractor_sweep(1.0)
    fa = [r.false_accepts for r in results]
    assert fa[0] >= 4 and fa[int(0.6 * 256)] == 1 and fa[int(0.75 * 256)] == 0
    assert all(r.hits == 1 for r in results[:256])
    hours = stream.non_keyword_s / 3600
    assert tune_threshold(results, 1.5 / hours) == int(0.55 * 256) + 1
    assert tune_threshold(results, 0.0) == int(0.7 * 256) + 1
    assert choose_threshold(results, 0.0) == (int(0.7 * 256) + 1, True)


def test_tuning_keeps_detecting_keywords_when_the_target_is_out_of_reach() -> None:
    results, _ = _distractor_sweep(0.6)  # the keyword scores below the "yes" distractor
    keyword = int(0.6 * 256)
    assert results[keyword].hits == 1 and results[keyword + 1].hits == 0
    assert tune_threshold(results, 0.0) == int(0.7 * 256) + 1  # silent: detects nothing
    assert choose_threshold(results, 0.0) == (keyword, False)  # the highest that still detects
    assert choose_threshold(results, 0.0, min_detection=0.0) == (int(0.7 * 256) + 1, True)


def test_classification_metrics_and_roc() -> None:
    targets = np.array([0, 1, 2, 2, 3, 3])
    scores = np.eye(4)[[0, 1, 2, 3, 3, 1]]
    m = classification_metrics(targets, scores, LABELS)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["no"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert m["per_class"]["_unknown_"]["precision"] == 0.5
    assert m["confusion"][3] == [0, 1, 0, 1]
    fpr, tpr, _ = roc_curve(np.array([True, False, True, False]), np.array([0.9, 0.8, 0.7, 0.1]))
    assert list(fpr) == [0, 0, 0.5, 0.5, 1] and list(tpr) == [0, 0.5, 0.5, 1, 1]
    curves = keyword_curves(targets, scores, LABELS)
    assert set(curves) == {"yes", "no"} and 0 <= curves["no"]["eer"] <= 1

