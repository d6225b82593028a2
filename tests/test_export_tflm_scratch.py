"""The tensor arena per board: ESP-NN's scratch requests (esp-tflite-micro
1.3.5 with esp-nn 1.2.0) on top of the host interpreter's measurement.

Expected sizes are derived by hand from esp-nn's formulas (the comments show
the arithmetic); the TFLM plan replay is checked against the real
interpreter's recorded head on every peer model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kws.export.arena import measure_arena
from kws.export.exporter import export_model
from kws.export.tflite_model import read_model
from kws.export.tflm_scratch import scratch_requests, tflm_plan_bytes, with_board_scratch

MICRO_SPEECH = "micro_speech/micro_speech_quantized.tflite"
PEER_MODELS = (MICRO_SPEECH, "mlperf_tiny_kws/kws_ref_model.tflite", "micro_wake_word/hey_jarvis.tflite",
               "micro_wake_word/okay_nabu.tflite")


@pytest.fixture(scope="module")
def default_ds_cnn() -> bytes:
    """kws's DS-CNN shape of the issue (width 44, depth 4, conv 10x4/2 "same", 12 classes), int8."""
    sys.path.insert(0, str(Path(__file__).parent))
    import model_factory

    return model_factory.to_int8_tflite(model_factory.ds_cnn(classes=12, channels=44, blocks=4))


@pytest.mark.parametrize("name", PEER_MODELS)
def test_plan_replay_matches_the_interpreter(peers, name: str) -> None:
    model = read_model(peers / name)
    assert tflm_plan_bytes(model) == measure_arena(model.data).recorded_head


def test_micro_speech_depthwise_scratch_on_esp32s3(peers) -> None:
    model = read_model(peers / MICRO_SPEECH)
    requests = {(r.op, r.bytes) for r in scratch_requests(model, "esp-nn-esp32s3")}
    # depthwise 8x10 filter, ch_mult 8 on 49x40x1: ch_mult % 4 == 0 -> 2 * (filter + input) + 32
    depthwise = 2 * (10 * 8 * 1 * 8 + 40 * 49 * 1) + 32
    assert depthwise == 5232
    # softmax over 4 classes: 4 bytes per unit of dims[1]
    assert requests == {("DEPTHWISE_CONV_2D", depthwise), ("SOFTMAX", 4 * 4)}
    # plain ESP32: esp-nn's generic conv/depthwise ask for nothing, softmax still does
    assert {(r.op, r.bytes) for r in scratch_requests(model, "esp-nn-esp32")} == {("SOFTMAX", 16)}


def test_micro_speech_arena_holds_activations_and_scratch(peers) -> None:
    model = read_model(peers / MICRO_SPEECH)
    host = measure_arena(model.data)
    board, requests = with_board_scratch(host, model, "esp-nn-esp32s3")
    # at the depthwise node its input (1960 -> 1968 aligned) and output (25*20*8) live beside the scratch
    assert tflm_plan_bytes(model, requests) == 1968 + 4000 + 5232
    persistent = host.need - host.recorded_head
    assert board.need >= persistent + 1968 + 4000 + 5232
    assert board.exported > board.need
    assert board.kernels_extra == board.need - host.need
    assert f"TFLM needs {board.need} B: {host.need} B on x86-64" in board.describe()
    assert f"+ {board.kernels_extra} B for the esp-nn-esp32s3 kernels" in board.describe()


def test_default_ds_cnn_pointwise_scratch(default_ds_cnn: bytes) -> None:
    model = read_model(default_ds_cnn)
    requests = scratch_requests(model, "esp-nn-esp32s3")
    pointwise = [r.bytes for r in requests if r.op == "CONV_2D" and r.node > 0]
    # 1x1 conv on 25x20x44: channels padded to 48 -> input copy 25*20*48, filter 48*44,
    # transpose 2*8*48, 32 alignment
    assert pointwise == [25 * 20 * 48 + 48 * 44 + 2 * 8 * 48 + 32] * 4 == [26912] * 4
    # first conv 10x4/2 "same" on 49x40x1 (pad 4 in time, 1 in frequency): padded input
    # (40+2)*(49+8)*1, filter 10*4*16*44 (channels to 16), 32 alignment, 4*44 accumulators
    assert requests[0].op == "CONV_2D" and requests[0].bytes == 42 * 57 + 10 * 4 * 16 * 44 + 32 + 4 * 44
    host = measure_arena(model.data)
    board, _ = with_board_scratch(host, model, "esp-nn-esp32s3")
    assert board.need - host.need >= 26912


def test_esp32s3_export_sizes_the_arena_with_esp_nn(peers, tmp_path: Path) -> None:
    labels = ["_silence_", "_unknown_", "yes", "no"]
    model = read_model(peers / MICRO_SPEECH)
    host = measure_arena(model.data)
    s3 = export_model(model, tmp_path / "s3", runtime="tflm", board="esp32s3", labels=labels)
    esp32 = export_model(model, tmp_path / "esp32", runtime="tflm", board="esp32", labels=labels)
    nano = export_model(model, tmp_path / "nano", runtime="tflm", board="nano33ble", labels=labels)
    assert nano.arena_need_bytes == host.need
    assert host.need < esp32.arena_need_bytes < s3.arena_need_bytes
    assert s3.arena_need_bytes - host.need == s3.kernels_extra_bytes > 5232 and nano.kernels_extra_bytes == 0
    settings = (s3.model_dir / "kws_model_settings.h").read_text()
    assert f"#define KWS_ARENA_BYTES {s3.arena_bytes}" in settings and "esp-nn-esp32s3 kernels" in settings
