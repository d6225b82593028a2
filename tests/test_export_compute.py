"""Compute is a budget like flash and RAM: `kws export` estimates the load a
model puts on the board (frontend + inferences per second of audio, as a
share of the clock), warns above 50%, refuses above 100% in one line with the
numbers and the fixes, and picks the board's default runtime by load.
Streaming makes kws's DS-CNN shape affordable where the whole window is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kws.boards import load_board
from kws.errors import KwsError
from kws.export.c_codegen import lower_model
from kws.export.compute import c_instructions, estimate_load
from kws.export.exporter import default_runtime, export_model
from kws.export.tflite_model import read_model

import model_factory

KWS = Path(sys.executable).with_name("kws")
LABELS = ["_silence_", "_unknown_", "yes", "no"]


@pytest.fixture(scope="module")
def ds_cnn(tmp_path_factory) -> dict[str, Path]:
    """kws's default shape (width 44, depth 4, 4 classes): streamable, and the older 'same' padding."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, streamable in (("valid", True), ("same", False)):
        model = model_factory.ds_cnn(classes=4, channels=44, blocks=4, streamable=streamable)
        paths[name] = folder / f"ds_cnn_{name}.tflite"
        paths[name].write_bytes(model_factory.to_int8_tflite(model))
    return paths


def test_streaming_costs_a_fraction_of_the_whole_window(ds_cnn) -> None:
    model = read_model(ds_cnn["valid"])
    streaming = lower_model(model, 49, 2)
    assert c_instructions(streaming) * 10 < c_instructions(streaming, streaming=False)


def test_export_refuses_a_load_above_100_percent_in_one_line(ds_cnn, tmp_path: Path) -> None:
    """The whole-window model every 40 ms cannot keep up on a 64 MHz Nano 33 BLE."""
    with pytest.raises(KwsError, match=r"cannot keep up with the microphone.*--period-ms \d+"):
        export_model(ds_cnn["same"], tmp_path / "a", runtime="c", board="nano33ble", labels=LABELS, period_ms=40)
    assert not (tmp_path / "a").exists()
    done = subprocess.run([str(KWS), "export", "--model", str(ds_cnn["same"]), "--labels", ",".join(LABELS),
                           "--board", "nano33ble", "--runtime", "tflm", "--period-ms", "40"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "load on nano33ble at 64 MHz" in done.stderr and "Traceback" not in done.stderr


def test_longer_period_or_streaming_is_accepted(ds_cnn, tmp_path: Path) -> None:
    whole = export_model(ds_cnn["same"], tmp_path / "b", runtime="tflm", board="nano33ble", labels=LABELS,
                         period_ms=1000)
    assert whole.load is not None and not whole.load.streaming and whole.load.fraction <= 1.0
    streaming = export_model(ds_cnn["valid"], tmp_path / "c", runtime="c", board="esp32", labels=LABELS,
                             period_ms=40)
    assert streaming.load.streaming and streaming.load.fraction < 0.5
    assert streaming.load.inferences_per_s == 25


def test_warns_above_half_the_clock(ds_cnn, tmp_path: Path) -> None:
    board = load_board("nano33ble")
    load = estimate_load(board, "tflm", lower_model(read_model(ds_cnn["same"])), 25, 20)
    assert 0.5 < load.fraction < 1.0     # 500 ms period: between the warning and the refusal
    result = export_model(ds_cnn["same"], tmp_path, runtime="tflm", board=board, labels=LABELS, period_ms=500)
    assert any("above 50% little time is left" in w for w in result.warnings)


def test_default_runtime_is_the_one_within_budget(ds_cnn, peers) -> None:
    micro_speech = peers / "micro_speech" / "micro_speech_quantized.tflite"
    assert default_runtime(micro_speech, load_board("nano33ble")) == "tflm"   # 24%: TFLM is listed first
    assert default_runtime(micro_speech, load_board("stm32")) == "c"
    assert default_runtime(ds_cnn["valid"], load_board("esp32"), 40) == "c"  # TFLM's whole window is over budget


def test_whole_window_model_runs_at_the_period_the_board_affords(ds_cnn, tmp_path: Path) -> None:
    """Without --period-ms, TFLM (no streaming) runs the whole window as often
    as the board affords within 50%, says so, and the smoothing still holds
    enough results per averaging window to report a keyword."""
    result = export_model(ds_cnn["same"], tmp_path, runtime="tflm", board="nano33ble", labels=LABELS)
    period_ms = result.smoothing["inference_period_ms"]
    assert 40 < period_ms and period_ms % 20 == 0
    assert f"every {period_ms} ms: the shortest period nano33ble affords" in result.stream_note
    assert 0.4 < result.load.fraction <= 0.5
    assert result.smoothing["minimum_count"] == max(1, min(3, result.smoothing["average_window_ms"] // period_ms))
