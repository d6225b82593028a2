"""kws.device.platform_packages and its users: what a real board's first
build would download is known before building (PlatformIO's own package
managers on kws's core dir, real subprocesses); offline, `kws flash` refuses
at once and `kws doctor --board` fails the check, both naming the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kws.boards import load_board
from kws.device.build import ensure_offline_packages, pio_environment
from kws.device.platform_packages import check_downloads, missing_packages
from kws.errors import KwsError
from kws.export.project import local_platforms

UNREACHABLE = "http://127.0.0.1:9"   # discard port: nothing listens, every request fails at once


@pytest.fixture
def offline(monkeypatch) -> dict[str, str]:
    """Every HTTPS request goes through a proxy that does not answer."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", UNREACHABLE)
    return {"HTTPS_PROXY": UNREACHABLE}


@pytest.mark.parametrize("board, platform", [
    ("esp32", "espressif32@6.13.0"),
    ("rp2040", "https://github.com/maxgerhardt/platform-raspberrypi.git#2d445020acf8b792768a5fa5ba1870ac9607c11c"),
])
def test_an_empty_core_misses_the_boards_platform(tmp_path, board: str, platform: str) -> None:
    assert missing_packages(load_board(board), tmp_path) == [f"platform {platform}"]


def test_an_installed_platform_names_the_packages_it_still_needs(tmp_path) -> None:
    """The local emulator platform, installed into an empty core: its toolchain
    package is missing until kws installs it."""
    board = load_board("qemu-stm32f405")
    subprocess.run([sys.executable, "-m", "platformio", "pkg", "install", "-g", "--skip-dependencies",
                    "-p", local_platforms()["kws-qemu"]], env=pio_environment(tmp_path), check=True,
                   capture_output=True, timeout=120)
    assert missing_packages(board, tmp_path) == ["toolchain-gccarmnoneeabi-system"]
    ensure_offline_packages(tmp_path)
    assert missing_packages(board, tmp_path) == []


def test_offline_first_build_is_refused_before_building(tmp_path, offline) -> None:
    with pytest.raises(KwsError, match=r"^the first build for esp32 downloads platform espressif32@6\.13\.0 and the "
                                       r"toolchain and framework it names from the internet, and this computer cannot "
                                       r"reach the PlatformIO registry .*; connect to the internet once and retry"):
        check_downloads(load_board("esp32"), tmp_path)
    assert check_downloads(load_board("qemu-stm32f405"), tmp_path) == ""   # local: nothing to download


def test_flash_offline_says_so_in_one_line_and_builds_nothing(tmp_path, peers, offline) -> None:
    from kws.export.exporter import export_model
    from kws.export.project import render_project

    out = tmp_path / "build" / "firmware" / "esp32"
    render_project("esp32", export_model(peers / "micro_speech" / "micro_speech_quantized.tflite", out, runtime="c",
                                         board="esp32", labels=["_silence_", "_unknown_", "yes", "no"]))
    env = {**os.environ, **offline, "KWS_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "kws", "flash", "--board", "esp32", "--project", str(out)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the first build for esp32 downloads platform espressif32@6.13.0" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "building" not in done.stdout and not (out / ".pio").exists()


def test_doctor_checks_the_projects_board_and_fails_offline_with_the_fix(tmp_path, offline) -> None:
    """Plain `kws doctor` in a project for the esp32 (kws.toml [board]) checks that board."""
    from kws.doctor import check_board_platform

    (tmp_path / "kws.toml").write_text('keywords = ["yes"]\n[board]\nname = "esp32"\n')
    env = {**os.environ, **offline, "KWS_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "kws", "doctor", "--json"], capture_output=True, text=True,
                          timeout=600, env=env, cwd=tmp_path)
    report = json.loads(done.stdout)
    esp32 = next(c for c in report["checks"] if c["name"] == "platformio packages for esp32")
    assert done.returncode == 1 and not report["ok"]
    assert not esp32["ok"] and esp32["required"] and "platform espressif32@6.13.0" in esp32["detail"]
    assert "`kws flash --board esp32`" in esp32["fix"]
    assert check_board_platform(load_board("qemu-stm32f405")).ok   # the emulator downloads nothing


def test_a_platform_that_cannot_be_asked_does_not_stop_the_build(tmp_path) -> None:
    """An installed platform whose own code fails the question is reported, not fatal."""
    from kws.boards import Board

    platform = tmp_path / "platform"
    platform.mkdir()
    (platform / "platform.json").write_text(json.dumps({"name": "raises", "version": "0.0.1", "packages": {}}))
    (platform / "platform.py").write_text(
        "from platformio.public import PlatformBase\n\n\nclass RaisesPlatform(PlatformBase):\n"
        "    def configure_default_packages(self, variables, targets):\n"
        "        raise RuntimeError('this platform cannot tell')\n")
    core = tmp_path / "core"
    spec = f"symlink://{platform}"
    subprocess.run([sys.executable, "-m", "platformio", "pkg", "install", "-g", "--skip-dependencies", "-p", spec],
                   env=pio_environment(core), check=True, capture_output=True, timeout=120)
    qemu = load_board("qemu-stm32f405")
    board = Board(**{**qemu.__dict__, "name": "odd", "emulated": False,
                     "raw": {**qemu.raw, "platformio": {**qemu.section("platformio"), "platform": spec}}})
    note = check_downloads(board, core)
    assert note == "asking PlatformIO what odd needs failed: RuntimeError: this platform cannot tell; building anyway"
