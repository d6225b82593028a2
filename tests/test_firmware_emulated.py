"""The real firmware on the emulated board, end to end and offline: export
(runtime c) -> PlatformIO project -> `pio run` with the local platform ->
QEMU -> serial link. It boots with the right identity, recognizes
micro_speech's own test clips, gives the host's scores bit for bit on real
speech (micro_speech, and a 12-class streaming DS-CNN of kws's default
shape on 50 clips), and reports live detections from streamed audio."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
import serial

from kws.audio.io import load_wav
from kws.device.build import build, elf_size
from kws.device.emulator import Emulator
from kws.device.serial_link import SerialLink
from kws.export.exporter import export_model
from kws.export.project import load_project, render_project
from kws.monitor import eval_clips, evaluate, parse_heard, watch, write_report

LABELS = ["_silence_", "_unknown_", "yes", "no"]
DEV_LABELS = ("_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
BOARD = "qemu-stm32f405"


def flash_model(model, out, labels, period_ms=None):
    """Export with runtime c, render and build; the project."""
    export = export_model(model, out, runtime="c", board=BOARD, labels=list(labels), period_ms=period_ms)
    project = render_project(BOARD, export)
    build(project.path, project.env)
    return project


@contextmanager
def session(project):
    with Emulator(project.elf) as emu, serial.serial_for_url(emu.url, timeout=1) as port:
        link = SerialLink(port, reply_timeout=3.0)
        link.wait_banner(timeout=15)
        link.hello()
        yield link


def assert_bit_exact(link, project, model: bytes, folder, limit: int, out):
    labels = project.labels
    report = evaluate(link, eval_clips(folder, labels, limit=limit), labels, model, project.frontend, board=BOARD,
                      model_id=project.model_id)
    summary = report.summary()
    assert summary["clips"] == limit
    assert summary["bit_exact_clips"] == limit, summary
    assert summary["device_accuracy"] == summary["host_accuracy"]
    files = write_report(report, out)
    assert [p.suffix for p in files] == [".json", ".md", ".png", ".png"]
    assert all(p.stat().st_size > 0 for p in files)
    return summary


@pytest.fixture(scope="module")
def micro_speech(peers):
    return peers / "micro_speech"


@pytest.fixture(scope="module")
def firmware(micro_speech, tmp_path_factory):
    return flash_model(micro_speech / "micro_speech_quantized.tflite", tmp_path_factory.mktemp("fw"), LABELS)


@pytest.fixture(scope="module")
def device(firmware):
    with session(firmware) as link:
        yield link


def test_project_is_recorded_and_fits_the_real_chip(firmware):
    assert load_project(firmware.path) == firmware
    size = elf_size(firmware.elf)
    assert size.flash < 1024 * 1024 and size.ram + 8192 <= 128 * 1024


def test_boot_banner_carries_identity(firmware, device):
    banner = device.banner
    assert banner.get("fw") == firmware.firmware_id
    assert banner.get("model") == firmware.model_id
    assert banner.get("board") == BOARD and banner.get("runtime") == "c"
    assert banner.get("proto") == "1" and banner.get("status") == "ok"
    assert banner.get("labels") == "4" and int(banner.get("arena")) > 0


@pytest.mark.parametrize("clip,label", [("yes", "yes"), ("no", "no"), ("silence", "_silence_"), ("noise", "_silence_")])
def test_recognizes_micro_speech_test_clips(device, micro_speech, clip, label):
    result = device.classify(load_wav(micro_speech / "testdata" / f"{clip}_1000ms.wav"), clip_id=7)
    assert result.frames == 49
    assert LABELS[result.top] == label, result.scores


def test_micro_speech_device_equals_host_on_real_speech(device, firmware, micro_speech, dev_set, tmp_path):
    model = (micro_speech / "micro_speech_quantized.tflite").read_bytes()
    summary = assert_bit_exact(device, firmware, model, dev_set, 16, tmp_path)
    assert summary["device_accuracy"] > 0.4


def test_ds_cnn_device_equals_host_on_50_clips(dev_set, tmp_path):
    """A 12-class DS-CNN of kws's default shape (random weights and a few fit
    steps: bit-exactness needs no trained model), streaming every 40 ms: each
    clip's scores come from the streaming steps replayed over its window,
    with the Cortex-M4's SIMD kernels."""
    import model_factory

    model = model_factory.build("ds_cnn_stream")
    (tmp_path / "ds_cnn.tflite").write_bytes(model)
    project = flash_model(tmp_path / "ds_cnn.tflite", tmp_path / "fw", DEV_LABELS, period_ms=40)
    assert "#define KWS_MODEL_STREAM_FRAMES 2" in (project.path / "lib/kws_model/kws_model_settings.h").read_text()
    with session(project) as link:
        assert link.banner.get("labels") == "12" and link.banner.get("status") == "ok"
        assert_bit_exact(link, project, model, dev_set, 50, tmp_path / "report")


def test_live_stream_is_heard(firmware, micro_speech):
    """Audio streamed outside an evaluation clip goes through the live path
    (inference every few frames + smoothing) and prints a detection."""
    yes = load_wav(micro_speech / "testdata" / "yes_1000ms.wav")
    audio = np.concatenate([np.zeros(8000, np.int16), yes, np.zeros(16000, np.int16)])
    with session(firmware) as link:
        link.stream(audio)
        heard = watch(link, expect="yes", timeout=5, show=lambda line: None)
    assert heard is not None and heard.word == "yes" and heard.score >= 200 / 256 - 0.01
    assert parse_heard("Heard yes (0.93) @1234ms").ms == 1234
