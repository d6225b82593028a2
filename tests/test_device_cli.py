"""`kws flash`, `kws monitor` and `kws boards` as a user runs them, on the
emulated board (real PlatformIO build, real QEMU, real serial traffic), and
their one-line errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from kws.audio.io import load_wav, write_wav
from kws.export.exporter import export_model
from kws.export.project import render_project

BOARD = "qemu-stm32f405"
LABELS = ["_silence_", "_unknown_", "yes", "no"]


def kws(*args: str, cwd, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def workdir(peers, tmp_path_factory):
    """A user's folder after `kws export`: build/model.tflite and build/firmware/<board>/."""
    root = tmp_path_factory.mktemp("user")
    model = root / "build" / "model.tflite"
    model.parent.mkdir(parents=True)
    shutil.copy(peers / "micro_speech" / "micro_speech_quantized.tflite", model)
    render_project(BOARD, export_model(model, root / "build" / "firmware" / BOARD, runtime="c", board=BOARD,
                                       labels=LABELS))
    (root / "kws.toml").write_text('keywords = ["yes", "no"]\n[board]\nname = "qemu-stm32f405"\n')
    return root


@pytest.fixture(scope="module")
def flashed(workdir):
    done = kws("flash", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return done


def test_flash_builds_boots_and_checks_the_banner(flashed):
    assert "qemu-stm32f405 booted in QEMU" in flashed.stdout
    assert "runtime c" in flashed.stdout


def test_monitor_expect_hears_a_streamed_word(flashed, workdir, peers):
    wav = peers / "micro_speech" / "testdata" / "yes_1000ms.wav"
    done = kws("monitor", "--stream", str(wav), "--expect", "yes", "--timeout", "20", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Heard yes" in done.stdout


def test_monitor_shows_the_load_at_the_chosen_instruction_rate(flashed, workdir, peers, tmp_path):
    """3 s of streamed audio (2 s of words + the 1 s tail): one Status line,
    shown as a sentence, at 62.5 M instructions/s (-icount shift=4)."""
    yes = load_wav(peers / "micro_speech" / "testdata" / "yes_1000ms.wav")
    wav = write_wav(tmp_path / "yes_yes.wav", np.concatenate([yes, yes]), 16000)
    done = kws("monitor", "--stream", str(wav), "--icount-shift", "4", "--timeout", "3", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^load \d+% at 62 MHz, 0 samples dropped$", done.stdout, re.MULTILINE), done.stdout


def test_monitor_expect_fails_when_the_word_is_not_said(flashed, workdir, peers):
    wav = peers / "micro_speech" / "testdata" / "silence_1000ms.wav"
    done = kws("monitor", "--stream", str(wav), "--expect", "yes", "--timeout", "3", cwd=workdir)
    assert done.returncode == 1
    assert "did not hear 'yes' within 3 s" in done.stdout


def test_monitor_eval_writes_the_report(flashed, workdir, dev_set):
    done = kws("monitor", "--eval", str(dev_set), "--limit", "6", "--out", "reports", cwd=workdir)
    assert done.returncode == 0, done.stderr
    summary = json.loads((workdir / "reports" / "device_eval.json").read_text())["summary"]
    assert summary["clips"] == 6 and summary["bit_exact_clips"] == 6
    assert (workdir / "reports" / "device_eval_device_confusion.png").stat().st_size > 0
    assert "bit-exact on 6/6 clips" in done.stdout


def test_flash_refuses_a_board_running_other_firmware(flashed, workdir):
    """The project claims another firmware id than the ELF it holds: the
    banner check must catch it (as it would catch a wrong port)."""
    project_file = workdir / "build" / "firmware" / BOARD / "kws_project.json"
    original = project_file.read_text()
    project_file.write_text(original.replace(json.loads(original)["firmware_id"], "000000000000"))
    try:
        done = kws("flash", "--no-build", cwd=workdir)
    finally:
        project_file.write_text(original)
    assert done.returncode == 1
    assert "not the one just built" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["monitor", "--record", "yes", "-n", "1"], "no microphone"),
        (["monitor", "--eval", "nowhere"], "--eval nowhere: no such folder"),
        (["flash", "--board", "esp32"], "no kws firmware project here"),
        (["monitor", "--eval", ".", "--record", "yes"], "pick one"),
        (["monitor", "--icount-shift", "11", "--timeout", "1"], "icount shift 11: pick 0..10"),
    ],
)
def test_user_errors_are_one_line(flashed, workdir, args, message):
    done = kws(*args, cwd=workdir, timeout=60)
    assert done.returncode in (1, 2)
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_flash_real_board_without_port_says_what_to_do(workdir):
    out = workdir / "build" / "firmware" / "esp32"
    render_project("esp32", export_model(workdir / "build" / "model.tflite", out, runtime="c", board="esp32",
                                         labels=LABELS))
    done = kws("flash", "--board", "esp32", "--no-build", cwd=workdir, timeout=60)
    assert done.returncode == 1
    assert "no serial port of a esp32 found" in done.stderr and "--port" in done.stderr
    assert "uploading what was built last" in done.stdout and "building" not in done.stdout


def test_boards_lists_every_profile(workdir):
    done = kws("boards", cwd=workdir, timeout=60)
    assert done.returncode == 0
    for name in ("esp32", "esp32s3", "nano33ble", "stm32", "rp2040", "qemu-stm32f405", "uno"):
        assert name in done.stdout
