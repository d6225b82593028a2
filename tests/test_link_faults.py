"""The serial link over a real socket to real firmware in QEMU survives line
faults: random garbage, a dropped byte, a corrupted CRC, the device
rebooting mid-stream, the port closing. Nothing hangs; each failure is one
clear LinkError.

The device runs a probe built from the real link code
(firmware_templates/link) that acknowledges every frame and answers END with
the byte count and FNV-1a hash of all audio payload since BEGIN, so a lost,
duplicated or reordered byte shows up in the answer."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest
import serial

from kws.device.emulator import Emulator, build_baremetal
from kws.device.serial_link import (
    FRAME_AUDIO,
    FRAME_BEGIN,
    FRAME_END,
    FRAME_MAX,
    LinkError,
    SerialLink,
    encode_frame,
)
from kws.resources import templates_dir

LINK_DIR = templates_dir() / "link"

PROBE = r"""
#include <stdio.h>
#include "qemu_hal.h"
#include "kws_link.h"

static kws_link_t link;
static uint32_t count, hash = 2166136261u;

static void on_frame(void *ctx, const kws_frame_t *frame)
{
  (void)ctx;
  if (frame->type == KWS_FRAME_BEGIN) {
    count = 0;
    hash = 2166136261u;
  } else if (frame->type == KWS_FRAME_AUDIO) {
    for (uint16_t i = 0; i < frame->len; i++) {
      hash = (hash ^ frame->payload[i]) * 16777619u;
    }
    count += frame->len;
  } else if (frame->type == KWS_FRAME_END) {
    char body[96];
    snprintf(body, sizeof body, "sum %lu %08lx %lu", (unsigned long)count, (unsigned long)hash,
             (unsigned long)(link.stats.crc_errors + link.stats.length_errors));
    kws_link_send_control(&link, body);
  }
}

int main(void)
{
  printf("KWS fw=link-probe proto=%d\n", KWS_LINK_PROTOCOL);
  kws_link_init(&link, hal_uart_write, on_frame, 0);
  for (;;) {
    int c;
    while ((c = hal_uart_read()) >= 0) {
      uint8_t byte = (uint8_t)c;
      kws_link_receive(&link, &byte, 1, hal_millis());
    }
    kws_link_poll(&link, hal_millis());
    __asm volatile("wfi");
  }
}
"""


def fnv1a(data: bytes) -> int:
    value = 2166136261
    for byte in data:
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


@pytest.fixture(scope="module")
def probe_elf(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probe")
    source = folder / "probe.c"
    source.write_text(PROBE)
    return build_baremetal(
        [source, LINK_DIR / "kws_link.c"], folder, include_dirs=[LINK_DIR], cflags=["-Wall", "-Wextra", "-Werror"]
    )


@pytest.fixture
def device(probe_elf):
    with Emulator(probe_elf) as emu:
        port = serial.serial_for_url(emu.url, timeout=1)
        link = SerialLink(port, reply_timeout=1.0)
        link.wait_banner(timeout=10)
        link.hello()
        yield emu, link
        port.close()


class FaultyWire:
    """The real socket port, with a scripted fault on the n-th write (every
    write when ``at_write`` is 0)."""

    def __init__(self, port, fault, at_write: int):
        self._port = port
        self._fault = fault
        self._at = at_write
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self._at in (0, self.writes):
            data = self._fault(data)
        return self._port.write(data)

    def __getattr__(self, name):
        return getattr(self._port, name)

    def __setattr__(self, name, value):
        if name == "timeout":
            self._port.timeout = value
        else:
            super().__setattr__(name, value)


def audio(n_bytes: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-32768, 32767, n_bytes // 2, dtype=np.int16)


def send_clip(link: SerialLink, samples: np.ndarray) -> list[str]:
    link.send_frames([(FRAME_BEGIN, b"\0\0\0\0"), *link.audio_frames(samples), (FRAME_END, b"")])
    return link.wait_control("sum", timeout=5)


def check_sum(fields: list[str], samples: np.ndarray) -> None:
    data = samples.astype("<i2").tobytes()
    assert int(fields[1]) == len(data)
    assert int(fields[2], 16) == fnv1a(data)


def test_clean_stream_and_window(device):
    _, link = device
    assert link.window >= 2
    samples = audio(4000)
    check_sum(send_clip(link, samples), samples)
    assert link.resends == 0


class InFlight(SerialLink):
    """The real link, counting the frames it has sent and not yet seen acknowledged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_flight = self.most_in_flight = 0

    def _write(self, data: bytes) -> None:
        super()._write(data)
        self.in_flight += data.startswith(b"\xa5\x5a")
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _next_control(self, deadline: float) -> list[str] | None:
        fields = super()._next_control(deadline)
        self.in_flight -= bool(fields and fields[0] == "ack")
        return fields


@pytest.mark.parametrize("rx_buffer,window", [(None, 3), (1023, 3), (2 * FRAME_MAX, 2), (FRAME_MAX, 1)])
def test_host_keeps_within_the_boards_receive_buffer(probe_elf, rx_buffer, window):
    """The device offers KWS_LINK_WINDOW (3) frames; a board that declares a
    smaller receive buffer never gets more frames in flight than it holds."""
    with Emulator(probe_elf) as emu:
        port = serial.serial_for_url(emu.url, timeout=1)
        link = InFlight(port, reply_timeout=1.0, rx_buffer=rx_buffer)
        link.wait_banner(timeout=10)
        link.hello()
        link.in_flight = link.most_in_flight = 0   # the HELLO frame is answered by ~hello, not ~ack
        assert link.window == window
        samples = audio(3000)
        check_sum(send_clip(link, samples), samples)
        assert link.most_in_flight == window and link.resends == 0
        port.close()


def test_receive_buffer_smaller_than_a_frame_is_refused():
    with pytest.raises(LinkError, match=r"rx_buffer = 200 B\) cannot hold one 264-byte link frame"):
        SerialLink(None, rx_buffer=200)


@pytest.mark.parametrize(
    "name,fault,resent",
    [
        ("dropped byte", lambda d: d[:9] + d[10:], True),
        ("corrupted crc", lambda d: d[:-1] + bytes([d[-1] ^ 0xFF]), True),
        ("truncated frame", lambda d: d[: len(d) // 2], True),
        ("fake header swallowing frames", lambda d: b"\xa5\x5aA\x07\xf0\x00" + d, False),
        ("garbage before a frame", lambda d: bytes(random.Random(1).randrange(256) for _ in range(700)) + d, False),
    ],
)
def test_fault_costs_at_most_a_resend(device, name, fault, resent):
    """Lost frames are resent; frames hidden behind garbage or a fake header
    are found again by the device's rescan without any resend."""
    _, link = device
    link.port = FaultyWire(link.port, fault, at_write=4)
    samples = audio(3000, seed=1)
    fields = send_clip(link, samples)
    check_sum(fields, samples)
    assert (link.resends > 0) == resent, name


def test_random_garbage_between_clips(device):
    _, link = device
    link.port.write(bytes(random.Random(2).randrange(256) for _ in range(3000)))
    samples = audio(2000, seed=2)
    check_sum(send_clip(link, samples), samples)


@pytest.mark.parametrize("fault,message", [("reset", "rebooted mid-stream"), ("stop", "serial port closed")])
def test_reboot_or_closed_port_mid_stream_is_reported(device, fault, message):
    emu, link = device
    threading.Timer(0.3, getattr(emu, fault)).start()
    start = time.monotonic()
    with pytest.raises(LinkError, match=message):
        send_clip(link, audio(20000, seed=3))
    assert time.monotonic() - start < 10
    if fault == "reset":  # a new session works after the reboot
        link.hello()
        samples = audio(1000, seed=4)
        check_sum(send_clip(link, samples), samples)


def test_silent_device_times_out(device):
    emu, link = device
    link.retries = 2
    link.reply_timeout = 0.3
    link.port = FaultyWire(link.port, lambda d: b"", at_write=0)  # no frame ever arrives
    start = time.monotonic()
    with pytest.raises(LinkError, match="stopped acknowledging"):
        link.send_frames([(FRAME_AUDIO, b"\1\2")])
    assert time.monotonic() - start < 3


def test_host_disconnect_mid_frame_then_reconnect(device):
    """The host dies in the middle of a frame; the device drops the partial
    frame after its timeout and a new connection works."""
    emu, link = device
    link.port.write(encode_frame(FRAME_AUDIO, 9, b"x" * 200)[:50])
    link.port.close()
    time.sleep(0.2)
    port = serial.serial_for_url(emu.url, timeout=1)
    fresh = SerialLink(port, reply_timeout=1.0)
    fresh.hello()
    samples = audio(1000, seed=6)
    check_sum(send_clip(fresh, samples), samples)
    port.close()
