"""The ESP32 board glue (firmware_templates/boards/esp32/kws_board_esp32.c)
compiled and run on the host against stand-ins for the ESP-IDF headers it
includes (tests/c/esp_idf: driver/usb_serial_jtag.h, driver/gpio.h,
esp_timer.h, esp_attr.h, esp_err.h, freertos/FreeRTOS.h, freertos/task.h,
sdkconfig.h; declarations and defaults as in ESP-IDF v5.5.3, whose real
headers need the Xtensa toolchain). The test's driver (tests/c/esp32_glue_host.c)
records the USB Serial/JTAG calls: output must never block when no host
reads, and the receive ring must hold what the board file declares."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kws.boards import load_board
from kws.resources import templates_dir

TESTS = Path(__file__).resolve().parent
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]


@pytest.fixture(scope="module")
def glue_log(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("esp32glue")
    rx_buffer = load_board("esp32s3").section("serial")["rx_buffer"]
    (folder / "kws_board_config.h").write_text(
        "#define KWS_BOARD_CLOCK_HZ 240000000u\n#define KWS_MIC_NONE 1\n#define KWS_MIC_SAMPLE_RATE 16000\n"
        f"#define KWS_SERIAL_BAUD 115200\n#define KWS_SERIAL_USB_JTAG 1\n#define KWS_SERIAL_RX_BUFFER {rx_buffer}u\n")
    exe = folder / "glue"
    subprocess.run(["gcc", *CFLAGS, f"-I{folder}", f"-I{TESTS / 'c' / 'esp_idf'}", f"-I{templates_dir() / 'app'}",
                    str(templates_dir() / "boards" / "esp32" / "kws_board_esp32.c"), str(TESTS / "c" / "esp32_glue_host.c"),
                    "-o", str(exe)], check=True, capture_output=True, text=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=10).stdout.splitlines()


def _events(log: list[str], what: str) -> list[str]:
    start = log.index(f"-- {what}") + 1
    end = next((i for i in range(start, len(log)) if log[i].startswith("-- ")), len(log))
    return log[start:end]


def test_receive_ring_is_the_declared_buffer(glue_log):
    assert glue_log[0] == f"install tx=4096 rx={load_board('esp32s3').section('serial')['rx_buffer']}"


def test_output_is_dropped_not_blocked_without_a_reader(glue_log):
    wait = 20   # ticks at CONFIG_FREERTOS_HZ 1000: the most a write waits while a host reads
    assert _events(glue_log, "no host (power bank)") == []
    assert _events(glue_log, "host connected, port open") == ["write 40 wait 0 -> 40"]   # first write after no host
    assert _events(glue_log, "ring full: nobody reads") == [f"write 40 wait {wait} -> 0"]
    assert _events(glue_log, "still full") == ["write 40 wait 0 -> 0"]
    assert _events(glue_log, "host reads again") == ["write 40 wait 0 -> 40"]
    assert _events(glue_log, "and keeps reading") == [f"write 40 wait {wait} -> 40"]
    assert _events(glue_log, "a write larger than the ring") == [f"write 4096 wait {wait} -> 4096",
                                                                 f"write 904 wait {wait} -> 904"]
    assert not any(f"wait {0xFFFFFFFF}" in line for line in glue_log)   # never portMAX_DELAY
