"""The firmware measures itself: on the emulated board with its test
microphone (paced by the emulated clock, a 512-sample buffer like a DMA
buffer), run at the instruction rate of a real board with `-icount shift=N`,
the firmware's Status lines report its load (busy emulated time per audio
time) and the samples it lost. micro_speech keeps up at 62.5 M
instructions/s (shift 4, about a 64 MHz Cortex-M4) and cannot at 3.9 M
(shift 8). QEMU runs with realtime=False: an idle guest jumps to its next
timer instead of waiting for the wall clock, so 10 s of emulated audio take
well under a second and the figures do not depend on how busy the host is
(the guest's timeline is the same). Also: the host side of the report,
strict parsing, the --icount-shift plumbing."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import serial

from kws.cli.device_cmd import _show
from kws.device.emulator import Emulator, qemu_args
from kws.device.serial_link import Banner, SerialLink
from kws.errors import UsageError
from kws.monitor import Status, parse_status
from kws.resources import templates_dir

# kws_load.c on the host with a fake board clock: 100 rounds of 320 samples
# (2 s of audio), each busy 4.2 ms and followed by an idle round; the ring
# loses 30 samples and the microphone 10; then the ring is reset (its counter
# restarts) and loses 5 in the next period.
LOAD_PROGRAM = r"""
#include <stdio.h>
#include "kws_board.h"
#include "kws_load.h"
static uint32_t now_us, mic_lost;
uint32_t kws_board_micros(void) { return now_us; }
uint32_t kws_board_clock_hz(void) { return 64000000u; }
uint32_t kws_board_mic_dropped(void) { return mic_lost; }
void kws_board_write(const void *data, size_t n) { fwrite(data, 1, n, stdout); }
static void period(uint32_t ring_dropped)
{
  for (int i = 0; i < 100; i++) {
    uint32_t start = kws_load_begin();
    now_us += 4200u;
    kws_load_audio(320);
    kws_load_report(ring_dropped);
    kws_load_end(start, 1);
    start = kws_load_begin();
    now_us += 15800u;
    kws_load_end(start, 0);
  }
}
int main(void)
{
  period(0);
  mic_lost = 10;
  period(30);
  period(5);
  return 0;
}
"""


def statuses(project, shift: int, count: int) -> tuple[Banner, list[Status]]:
    """The banner and the first ``count`` Status lines of the firmware at
    ``-icount shift=<shift>``; no handshake, so the microphone stays on."""
    found = []
    with Emulator(project.elf, icount_shift=shift, realtime=False) as emu, serial.serial_for_url(emu.url, timeout=1) as port:
        link = SerialLink(port)
        banner = link.wait_banner(timeout=15)
        while len(found) < count:
            line = link.next_line(timeout=10)
            assert line is not None, f"no Status line within 10 s (got {len(found)})"
            if (status := parse_status(line)) is not None:
                found.append(status)
    return banner, found


def test_keeps_up_at_64_mhz(tone_project):
    """5 periods of 2 s: nothing dropped; the steady load is micro_speech's
    (a 49-frame window every 100 ms, ~1 M instructions each, plus the
    frontend) at 62.5 M instructions/s. The first period is lighter: the
    model starts once the feature window is full."""
    project, _ = tone_project
    banner, found = statuses(project, shift=4, count=5)
    assert banner.get("clock") == "62MHz"
    assert all(s.clock_mhz == 62 and s.dropped == 0 and 2000 <= s.audio_ms <= 2020 for s in found), found
    assert all(10 <= s.load_percent <= 40 for s in found[1:]), found
    assert found[0].load_percent <= found[1].load_percent


def test_cannot_keep_up_at_4_mhz(tone_project):
    """At 3.9 M instructions/s one inference takes ~270 ms of a 32 ms
    microphone buffer: audio is lost in every period and the load shows why."""
    project, _ = tone_project
    banner, found = statuses(project, shift=8, count=2)
    assert banner.get("clock") == "4MHz"
    assert all(s.dropped > 0 for s in found), found
    assert found[1].load_percent >= 100, found


def test_kws_default_model_streams_in_real_time_at_64_mhz(tmp_path_factory):
    """kws's default model shape (12 classes, DS-CNN width 44, depth 4) with
    runtime c streaming every 40 ms keeps up at 62.5 M instructions/s (about
    a 64 MHz Nano 33 BLE): 10 s of microphone audio, nothing dropped, and a
    load near the export's estimate (bench: ~14 M instructions per second of
    audio, frontend included)."""
    from conftest import tone_board, tone_build
    from bench.export import kws_ds_cnn

    model = tmp_path_factory.mktemp("model") / "ds_cnn.tflite"
    model.write_bytes(kws_ds_cnn(12, 44))
    labels = ["_silence_", "_unknown_", *"abcdefghij"]
    with tone_board(tmp_path_factory) as board:
        project = tone_build(board, model, tmp_path_factory.mktemp("fw"), labels, period_ms=40)
    settings = (project.path / "lib" / "kws_model" / "kws_model_settings.h").read_text()
    assert "#define KWS_MODEL_STREAM_FRAMES 2" in settings
    _, found = statuses(project, shift=4, count=5)
    assert all(s.dropped == 0 for s in found), found
    assert all(15 <= s.load_percent <= 40 for s in found[1:]), found


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a host C compiler")
def test_load_accounting_on_the_host(tmp_path):
    """Busy rounds only; a period's busy time includes the round that closed
    the previous one; dropped counts both counters, across a ring reset."""
    (tmp_path / "load_test.c").write_text(LOAD_PROGRAM)
    (tmp_path / "kws_frontend_config.h").write_text("#define KWS_FE_SAMPLE_RATE 16000\n")
    app = templates_dir() / "app"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{app}", f"-I{tmp_path}",
                    str(tmp_path / "load_test.c"), str(app / "kws_load.c"), "-o", str(tmp_path / "load_test")],
                   check=True, timeout=60)
    lines = subprocess.run([tmp_path / "load_test"], capture_output=True, text=True, check=True).stdout.splitlines()
    assert [parse_status(line) for line in lines] == [
        Status(21, 64, 2000, 0), Status(21, 64, 2000, 40), Status(21, 64, 2000, 5)]


def test_status_lines_parse_strictly():
    assert parse_status("Status load=21% clock=64MHz audio_ms=2000 dropped=0") == Status(21, 64, 2000, 0)
    assert Status(21, 64, 2000, 0).describe() == "load 21% at 64 MHz, 0 samples dropped"
    assert Status(21, 64, 2000, 0).keeps_up and not Status(120, 4, 2000, 0).keeps_up
    assert not Status(21, 64, 2000, 5).keeps_up
    for damaged in ("Status load=21 clock=64MHz audio_ms=2000 dropped=0", "Status load=21% clock=64MHz",
                    "Status load=-1% clock=64MHz audio_ms=2000 dropped=0",
                    "Status load=21% clock=64MHz audio_ms=2000 dropped=0 extra",
                    "Status load=21% clock=64MHz audio_ms=2000 dropped=0\n", "Status load=2\x001% clock=",
                    "Status load=٢١% clock=64MHz audio_ms=2000 dropped=0", "Status " + "9" * 400, ""):
        assert parse_status(damaged) is None, damaged


def test_live_view_shows_status_and_passes_damaged_lines_through(capsys):
    _show("Status load=21% clock=64MHz audio_ms=2000 dropped=0")
    _show("Status load=21% clock=64MHz audio_ms=20")
    shown = capsys.readouterr().out.splitlines()
    assert shown == ["load 21% at 64 MHz, 0 samples dropped", "Status load=21% clock=64MHz audio_ms=20"]


def test_icount_shift_replaces_the_boards_default():
    default = qemu_args()
    at = default.index("-icount") + 1
    assert default[at] == "shift=0"
    assert qemu_args(icount_shift=4)[at] == "shift=4" and len(qemu_args(icount_shift=4)) == len(default)
    assert qemu_args(realtime=False)[at] == "shift=0,sleep=off"
    with pytest.raises(UsageError, match="icount shift 11: pick 0..10"):
        qemu_args(icount_shift=11)
