"""Every line from a device is untrusted: `kws monitor` parses strictly,
skips and counts damaged lines, never passes control or escape bytes to the
terminal, and stays bounded when the device floods without newlines. The
device is a pseudo-terminal driven by the test, opened as a real serial port."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import random
import subprocess
import sys
import threading
import time
import tracemalloc
import tty
from pathlib import Path

import serial

from kws.audio.frontend_params import FrontendParams
from kws.device.serial_link import MAX_LINE, SerialLink, printable
from kws.monitor import damaged, parse_heard, parse_status

FLOOD = 1_000_000  # bytes without a newline


class FakeDevice:
    """A pty whose slave side is the 'board'; the test writes what it sends."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)

    def wait_opened(self, timeout: float = 60.0) -> None:
        """Until a program holds the port (kws opens real ports with an exclusive lock)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            except BlockingIOError:
                time.sleep(0.2)  # opened and being configured; let it finish
                return
            finally:
                os.close(fd)
            time.sleep(0.05)
        raise TimeoutError("nobody opened the fake device")

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view[:65536]):]

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def fake_project(root: Path) -> Path:
    project = root / "fw"
    project.mkdir()
    (project / "kws_project.json").write_text(json.dumps({
        "board": "esp32", "env": "esp32", "runtime": "c", "firmware_id": "0123456789ab", "model_sha256": "0" * 64,
        "labels": ["_silence_", "_unknown_", "yes", "no"], "emulated": False,
        "frontend": FrontendParams().to_dict()}))
    return project


def test_monitor_survives_a_noisy_flooding_device(tmp_path: Path) -> None:
    device = FakeDevice()
    project = fake_project(tmp_path)
    monitor = subprocess.Popen([sys.executable, "-m", "kws", "monitor", "--project", str(project),
                                "--port", device.port, "--timeout", "6"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def board() -> None:
        device.wait_opened()
        device.send(b"KWS fw=0123456789ab model=000000000000 status=ok\r\n"
                    b"Heard yes (1.2.3) @5ms\r\n"                  # corrupted on the wire
                    b"Heard yes (0.93) @1234ms\r\n"
                    b"Status load=21% clock=64MHz audio_ms=2000 dropped=0\r\n"
                    b"Status load=2\xff% clock=64MHz\r\n"             # damaged status
                    b"\x1b]0;owned\x07\x1b[2Jhello \xfe\xfftext\r\n"   # escape sequences, invalid UTF-8
                    + b"A" * FLOOD + b"\r\n"                         # a flood without newlines
                    + b"Heard no (0.88) @2000ms\r\n")

    writer = threading.Thread(target=board, daemon=True)
    writer.start()
    try:
        out, err = monitor.communicate(timeout=60)
    finally:
        device.close()
    stdout, stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    assert monitor.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "Heard yes (0.93) @1234ms" in stdout and "Heard no (0.88) @2000ms" in stdout
    assert "load 21% at 64 MHz, 0 samples dropped" in stdout
    assert "1.2.3" not in stdout and "AAAA" not in stdout
    assert "\x1b" not in stdout and "\x07" not in stdout and "hello" in stdout
    assert "skipped 3 damaged line(s) from the device" in stdout


def test_a_flood_without_newlines_keeps_memory_bounded() -> None:
    device = FakeDevice()
    link = SerialLink(serial.Serial(device.port, 115200, timeout=0.5))
    writer = threading.Thread(target=device.send, args=(b"B" * 8_000_000 + b"\nHeard yes (0.5) @1ms\n",),
                              daemon=True)
    tracemalloc.start()
    try:
        writer.start()
        lines = [link.read_line(time.monotonic() + 30), link.read_line(time.monotonic() + 5)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        link.close()
        device.close()
    assert lines == ["Heard yes (0.5) @1ms", None]
    assert link.skipped == 1
    assert peak < 4 * (MAX_LINE + 65536) + 200_000, peak


def test_line_parsers_never_raise_on_random_and_mutated_lines() -> None:
    rng = random.Random(15)
    good = [b"Heard yes (0.93) @1234ms", b"Status load=21% clock=64MHz audio_ms=2000 dropped=0",
            b"KWS fw=0123456789ab model=abc status=ok", b"~ack 5 *1A2B"]
    start = time.monotonic()
    for _ in range(20000):
        line = bytearray(rng.choice(good))
        for _ in range(rng.randint(0, 4)):
            position = rng.randrange(len(line) + 1)
            action = rng.random()
            if action < 0.4:
                line[position:position + 1] = bytes([rng.randrange(256)])
            elif action < 0.7:
                line[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
            else:
                del line[position:position + rng.randint(1, 3)]
        text = printable(bytes(line))
        assert all(ch == " " or ch.isprintable() for ch in text)
        heard, status = parse_heard(text), parse_status(text)
        assert heard is None or (0 <= heard.score < 1000 and heard.ms >= 0)
        assert status is None or status.load_percent >= 0
        damaged(text)
    assert time.monotonic() - start < 20
    assert parse_heard("Heard yes (1.2.3) @5ms") is None and parse_heard("Heard yes (0.93) @1234ms").score == 0.93


def test_a_silent_device_is_an_error_with_where_to_look(tmp_path: Path) -> None:
    device = FakeDevice()
    try:
        done = subprocess.run([sys.executable, "-m", "kws", "monitor", "--project", str(fake_project(tmp_path)),
                               "--port", device.port, "--timeout", "2"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
    finally:
        device.close()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (f"error: nothing came from the board on {device.port} in 2 s; check that it is "
                                   "powered and runs kws firmware (`kws flash`), that this is its port "
                                   "(`kws boards --ports`) and that it talks at 921600 baud")  # the esp32 board file's
