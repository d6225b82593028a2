"""Posterior smoothing: the rules (Python), and C == Python on long streams."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws.resources import templates_dir
from kws.model_card import SMOOTHING_CAPACITY as CAPACITY
from kws.labels import keyword_mask
from kws.model_card import SmoothingParams
from kws.train.smoothing import averaged_stream, detect, detect_averaged

LABELS = ["_silence_", "_unknown_", "yes", "no"]
MASK = keyword_mask(LABELS)

HARNESS = r"""
#include <stdio.h>
#include "kws_smoothing.h"
static int rd(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }
int main(void) {
  uint32_t head[3]; uint8_t small[3]; uint32_t n;
  if (!rd(head, sizeof head) || !rd(small, sizeof small) || !rd(&n, sizeof n)) return 2;
  kws_smoothing_config_t cfg = {head[0], head[1], head[2], small[0], small[1], small[2]};
  static kws_smoothing_t s;
  if (kws_smoothing_init(&s, &cfg) != 0) { puts("bad config"); return 0; }
  for (uint32_t k = 0; k < n; ++k) {
    uint32_t t; int8_t scores[KWS_SMOOTHING_MAX_CLASSES];
    if (!rd(&t, 4) || !rd(scores, small[2])) return 3;
    kws_detection_t d;
    int r = kws_smoothing_update(&s, scores, t, &d);
    if (r == 1) printf("%u %d %u\n", (unsigned)d.time_ms, d.label, (unsigned)d.score);
    if (r < 0) printf("backwards %u\n", (unsigned)t);
  }
  return 0;
}
"""


def _scores_at(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    """Softmax-like int8 scores with keyword bursts, noise and near-ties."""
    logits = rng.normal(0, 1.0, (n, classes))
    logits[:, 0] += 2.0
    t = 0
    while t < n:
        length = int(rng.integers(3, 25))
        logits[t : t + length, int(rng.integers(0, classes))] += rng.uniform(1, 6)
        t += length + int(rng.integers(0, 40))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return np.clip(np.round(p * 256) - 128, -128, 127).astype(np.int8)


@pytest.fixture(scope="module")
def smoothing_exe(tmp_path_factory) -> Path:
    if shutil.which("cc") is None:
        pytest.skip("no host C compiler (cc)")
    work = tmp_path_factory.mktemp("smoothing")
    for name in ("kws_smoothing.c", "kws_smoothing.h"):
        shutil.copy(templates_dir() / "common" / name, work / name)
    (work / "harness.c").write_text(HARNESS)
    exe = work / "smoothing_host"
    subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(work),
                    str(work / "kws_smoothing.c"), str(work / "harness.c"), "-o", str(exe)], check=True)
    return exe


def _run_c(exe: Path, params: SmoothingParams, mask: int, scores: np.ndarray, times: np.ndarray) -> list[tuple]:
    payload = struct.pack("<3I3BI", params.average_window_ms, params.suppression_ms, mask, params.threshold,
                          params.minimum_count, scores.shape[1], len(scores))
    payload += b"".join(struct.pack("<I", int(t)) + row.tobytes() for t, row in zip(times, scores))
    out = subprocess.run([str(exe)], input=payload, capture_output=True, check=True).stdout.decode()
    return [tuple(int(v) if v.isdigit() else v for v in line.split()) for line in out.splitlines()]


CASES = [
    # (params, classes, period_ms, start_ms)
    (SmoothingParams(1000, 200, 1500, 3, 100), 4, 100, 0),
    (SmoothingParams(500, 150, 800, 1, 20), 4, 20, 7),
    (SmoothingParams(3000, 90, 0, 5, 20), 12, 20, 0),               # window holds > CAPACITY results
    (SmoothingParams(1000, 170, 1000, 4, 40), 6, 40, 2**32 - 50_000),  # the clock wraps mid-stream
]


@pytest.mark.parametrize("params,classes,period,start", CASES)
def test_c_equals_python_on_long_streams(smoothing_exe: Path, params, classes, period, start) -> None:
    rng = np.random.default_rng(classes * 1000 + period)
    n = 30_000
    scores = _scores_at(rng, n, classes)
    jitter = rng.integers(0, period // 4 + 1, n)
    times = (start + np.arange(n, dtype=np.int64) * period + jitter) % 2**32
    mask = keyword_mask(["_silence_", "_unknown_"] + [f"w{i}" for i in range(classes - 2)])
    python = [(d.time_ms, d.label, d.score) for d in detect(scores, times, params, mask)]
    assert len(python) > 20  # the stream exercises detections, not just silence
    assert _run_c(smoothing_exe, params, mask, scores, times) == python
    fast = detect_averaged(averaged_stream(scores, times, params), params.threshold, params.suppression_ms, mask)
    assert [(d.time_ms, d.label, d.score) for d in fast] == python


def test_c_rejects_time_going_backwards(smoothing_exe: Path) -> None:
    params = SmoothingParams(1000, 100, 0, 1, 100)
    scores = np.full((3, 4), -128, np.int8)
    scores[:, 2] = 127
    out = _run_c(smoothing_exe, params, MASK, scores, np.array([1000, 900, 1100]))
    with pytest.raises(ValueError, match="backwards"):
        detect(scores, [1000, 900, 1100], params, MASK)
    assert out == [(1000, 2, 255), ("backwards", 900), (1100, 2, 255)]


def _stream(pattern: list[int], value: int = 127) -> np.ndarray:
    scores = np.full((len(pattern), 4), -128, np.int8)
    for i, cls in enumerate(pattern):
        scores[i, cls] = value
    return scores


def test_rules_threshold_suppression_minimum_count_and_silence() -> None:
    params = SmoothingParams(average_window_ms=300, threshold=200, suppression_ms=1000, minimum_count=3,
                             inference_period_ms=100)
    times = np.arange(30) * 100
    # yes for 0.5 s, silence, yes again from 1.2 s: two reports, the second once
    # the 300 ms window (4 results, ends included) averages >= 200
    pattern = [2] * 5 + [0] * 7 + [2] * 5 + [0] * 13
    hits = detect(_stream(pattern), times, params, MASK)
    assert [(h.label, h.time_ms) for h in hits] == [(2, 200), (2, 1500)]
    # the same keyword repeated within the suppression time is reported once
    hits = detect(_stream([2] * 3 + [0] * 3 + [2] * 3 + [0] * 21), times, params, MASK)
    assert [h.time_ms for h in hits] == [200]
    # fewer results than minimum_count: nothing, however confident
    assert detect(_stream([2, 2]), times[:2], params, MASK) == []
    # silence and unknown are never reported
    assert detect(_stream([0] * 10 + [1] * 10), times[:20], params, MASK) == []
    # below threshold: 0.6 probability (-128 + 154) does not reach 200
    assert detect(_stream([2] * 10, value=26), times[:10], params, MASK) == []
    assert detect(_stream([2] * 10, value=26), times[:10], SmoothingParams(300, 150, 1000, 3, 100), MASK)


def test_window_capacity_is_bounded() -> None:
    params = SmoothingParams(average_window_ms=10_000, threshold=0, suppression_ms=0, minimum_count=1)
    pattern = [3] * CAPACITY + [2] * (CAPACITY // 2 + 1)
    hits = detect(_stream(pattern), np.arange(len(pattern)) * 10, params, MASK)
    # old results leave a full window: "yes" takes over once it is the majority of the last CAPACITY
    assert hits[-1].label == 2 and {h.label for h in hits} == {2, 3}
