"""Runtime c streaming: each inference computes only the time steps of its
new frames, and its scores equal TFLM on the whole window at every
inference (>= 1,000 random feature streams, and real speech features run
together), for kws's DS-CNN shape and for a model with a stride in time
after the first layer, max pooling in time, a residual ADD and a dense
layer over the window. Models that pad in time, or periods a stride does
not divide, run the whole window and say why."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from kws.audio.frontend import compute_features
from kws.audio.io import load_wav
from kws.export.c_codegen import lower_model
from kws.export.exporter import export_model
from kws.export.tflite_model import read_model
from kws.export.verify import compare_stream_with_tflm, compare_with_tflm

import model_factory

FRAMES, ROW = 49, 40


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    return {kind: model_factory.build(kind) for kind in ("ds_cnn_stream", "stream_ops", "ds_cnn")}


def _export(model: bytes, out: Path, period_ms: int):
    tflite = read_model(model, "m")
    return export_model(tflite, out, runtime="c", labels=[f"l{i}" for i in range(tflite.output.size)],
                        period_ms=period_ms)


@pytest.mark.parametrize("name, period_ms", [("ds_cnn_stream", 40), ("stream_ops", 80), ("ds_cnn_stream", 120)])
def test_streaming_equals_whole_window_on_random_streams(models, tmp_path: Path, name: str, period_ms: int) -> None:
    result = _export(models[name], tmp_path, period_ms)
    period = period_ms // 20
    assert result.stream_frames == period
    length = -(-(FRAMES + 2 * period) // period) * period     # at least 3 full windows per stream
    streams = np.random.default_rng(period).integers(-128, 128, (1000, length, ROW), dtype=np.int8)
    comparison = compare_stream_with_tflm(models[name], result.model_dir, streams, FRAMES, period)
    assert comparison.inputs >= 3000
    assert comparison.differing == 0, comparison


def test_streaming_equals_whole_window_on_real_speech(models, dev_set: Path, tmp_path: Path) -> None:
    """Real clips' features run together into 4-second streams."""
    result = _export(models["ds_cnn_stream"], tmp_path, 40)
    files = sorted(dev_set.glob("*/*.wav"))
    frames = np.concatenate(compute_features([load_wav(f) for f in files]))
    streams = frames[: len(frames) // 200 * 200].reshape(-1, 200, ROW)
    comparison = compare_stream_with_tflm(models["ds_cnn_stream"], result.model_dir, streams, FRAMES, 2)
    assert comparison.inputs >= 500
    assert comparison.differing == 0, comparison


def test_whole_window_call_of_a_streaming_model_is_exact(models, tmp_path: Path) -> None:
    """kws_model_invoke replays the window through the streaming steps."""
    result = _export(models["stream_ops"], tmp_path, 80)
    inputs = np.random.default_rng(3).integers(-128, 128, (300, FRAMES * ROW), dtype=np.int8)
    assert compare_with_tflm(models["stream_ops"], result.model_dir, inputs).differing == 0


def test_streaming_keeps_only_what_later_inferences_read(models) -> None:
    cmodel = lower_model(read_model(models["ds_cnn_stream"]), FRAMES, 2)
    slices = cmodel.stream.slices
    assert [(s.steps, s.new) for s in slices.values()][:2] == [(49, 2), (20, 1)]
    depthwise_inputs = [s for s in slices.values() if s.steps < 49 and s.state and s.keep < s.steps]
    assert depthwise_inputs and all(s.keep == 3 for s in depthwise_inputs)   # 3x3 kernels: 3 steps
    pool_input = [s for s in slices.values() if s.keep == s.steps and s.steps < 49]
    assert len(pool_input) == 1                                               # the global pool reads the window
    first_conv_input = cmodel.stream.slices[cmodel.stream.input]
    assert (first_conv_input.keep, first_conv_input.new) == (11, 2)   # a 10-frame kernel, stride 2, one frame lag


@pytest.mark.parametrize("name, period, reason", [
    ("ds_cnn", 2, "op 0 \\(CONV_2D\\) pads in time"),
    ("ds_cnn_stream", 5, "strides 2 steps in time, which does not divide the 5 new steps"),
    ("ds_cnn_stream", 49, "covers the whole window"),
])
def test_not_streamable_runs_the_whole_window(models, tmp_path: Path, name: str, period: int, reason: str) -> None:
    cmodel = lower_model(read_model(models[name]), FRAMES, period)
    assert cmodel.stream is None
    assert re.search(reason, cmodel.stream_note)
    result = _export(models[name], tmp_path, period * 20)
    assert result.stream_frames == 0 and "whole window at every inference" in result.stream_note
    settings = (result.model_dir / "kws_model_settings.h").read_text()
    assert "#define KWS_MODEL_STREAM_FRAMES 0" in settings
