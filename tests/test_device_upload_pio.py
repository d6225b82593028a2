"""`kws flash`'s PlatformIO upload (kws.device.upload) for boards whose
uploader PlatformIO runs: a blank Pico (no serial port, only a USB drive in
BOOTSEL) is uploaded to without --upload-port and kws then waits for the port
the new firmware opens; boards whose uploader needs the port still refuse
without one. PlatformIO and the port list are stood in for (there is no
board here): the stand-in PlatformIO checks the arguments it is given and
"reboots" the board by making its port appear."""

from __future__ import annotations

from pathlib import Path

import pytest

import kws.device.ports as ports
import kws.device.upload as upload_module
from kws.boards import load_board
from kws.device.ports import PortInfo
from kws.device.upload import upload
from kws.errors import KwsError

PICO_PORT = PortInfo("/dev/ttyACM0", "2e8a:000a", "Pico")
OTHER = PortInfo("/dev/ttyUSB0", "10c4:ea60", "CP2102")


class Bench:
    """The ports this computer shows, and a PlatformIO that checks what it is asked."""

    def __init__(self, monkeypatch, seen: list[PortInfo], after_upload: list[PortInfo]) -> None:
        self.seen, self.after_upload, self.calls = list(seen), after_upload, []
        monkeypatch.setattr(ports, "list_ports", lambda: list(self.seen))
        monkeypatch.setattr(upload_module, "run_pio", self.run_pio)
        monkeypatch.setattr(upload_module, "PORT_AFTER_UPLOAD_S", 1.0)

    def run_pio(self, args: list[str], project_dir: Path, **_) -> None:
        assert project_dir == Path("/project") and args[:5] == ["run", "-e", "pico", "-t", "upload"]
        self.calls.append(args[5:])
        self.seen = list(self.after_upload)


def test_blank_pico_is_uploaded_by_usb_and_its_port_awaited(monkeypatch):
    bench = Bench(monkeypatch, seen=[OTHER], after_upload=[OTHER, PICO_PORT])
    assert upload(load_board("rp2040"), Path("/project"), "pico") == "/dev/ttyACM0"
    assert bench.calls == [[]]   # no --upload-port: picotool finds the board by USB


def test_a_pico_with_a_port_gets_it(monkeypatch):
    bench = Bench(monkeypatch, seen=[PICO_PORT], after_upload=[PICO_PORT])
    assert upload(load_board("rp2040"), Path("/project"), "pico", build_first=False) == "/dev/ttyACM0"
    assert bench.calls == [["-t", "nobuild", "--upload-port", "/dev/ttyACM0"]]


def test_no_port_after_the_upload_is_one_line(monkeypatch):
    bench = Bench(monkeypatch, seen=[], after_upload=[])
    with pytest.raises(KwsError, match=r"^uploaded, but within 1 s no serial port of a rp2040 found .*--port$"):
        upload(load_board("rp2040"), Path("/project"), "pico")
    assert bench.calls == [[]]


def test_boards_whose_uploader_needs_the_port_still_refuse(monkeypatch):
    bench = Bench(monkeypatch, seen=[OTHER], after_upload=[])
    with pytest.raises(KwsError, match="no serial port of a nano33ble found"):
        upload(load_board("nano33ble"), Path("/project"), "pico")
    assert bench.calls == []
