"""Finding and opening the board's serial port.

``find_port`` picks the port whose USB VID:PID matches the board profile's
``[serial] usb_ids``; ``open_port`` opens a device path or a pyserial URL
(``socket://127.0.0.1:PORT`` for the emulated board) and turns the usual
failures into one-line errors: no port, port busy (another program has it
open; real ports are opened exclusively), permission denied (the dialout
group), nothing listening on a socket.
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass

import serial
import serial.tools.list_ports

from kws.boards import Board
from kws.errors import KwsError, UsageError


@dataclass(frozen=True)
class PortInfo:
    device: str
    usb_id: str          # "vid:pid" in lower-case hex, "" when not USB
    description: str


def list_ports() -> list[PortInfo]:
    """Serial ports of this computer, USB ones with their VID:PID."""
    return [
        PortInfo(p.device, f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else "", p.description or "")
        for p in sorted(serial.tools.list_ports.comports(), key=lambda p: p.device)
    ]


def board_usb_ids(board: Board) -> list[str]:
    return [item.lower() for item in board.section("serial").get("usb_ids", [])]


def find_port(board: Board, ports: list[PortInfo] | None = None) -> str:
    """The one port whose USB VID:PID belongs to ``board``."""
    wanted = board_usb_ids(board)
    ports = list_ports() if ports is None else ports
    matches = [p for p in ports if p.usb_id and p.usb_id in wanted]
    if len(matches) == 1:
        return matches[0].device
    if not matches:
        seen = ", ".join(f"{p.device} ({p.usb_id or 'not USB'})" for p in ports) or "none"
        raise KwsError(
            f"no serial port of a {board.name} found (USB IDs {', '.join(wanted) or 'unknown'}; ports seen: {seen}); "
            "plug the board in with a data cable, or pass --port"
        )
    raise UsageError(
        f"several ports look like a {board.name}: {', '.join(p.device for p in matches)}; choose one with --port"
    )


def wait_for_port(board: Board, timeout: float) -> str:
    """The board's port, polled until it appears (after an upload that
    rebooted a board which had none); a one-line KwsError at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return find_port(board)
        except UsageError:
            raise
        except KwsError as err:
            if time.monotonic() >= deadline:
                raise KwsError(f"uploaded, but within {timeout:.0f} s {str(err)[0].lower()}{str(err)[1:]}") from None
        time.sleep(0.25)


def explain_open_error(port: str, err: Exception) -> KwsError:
    """A one-line error for a port that failed to open."""
    code = getattr(err, "errno", None)
    text = str(err)
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return KwsError(
            f"permission denied on {port}: add yourself to the dialout group "
            "(`sudo usermod -aG dialout $USER`, then log out and in again)"
        )
    if code in (errno.EBUSY, errno.EWOULDBLOCK) or "exclusively lock" in text or "busy" in text.lower():
        return KwsError(f"{port} is busy: another program (a serial monitor, the IDE) has it open; close it and retry")
    if code == errno.ENOENT or "No such file" in text:
        return KwsError(f"{port}: no such serial port; check the cable or pick one of `kws boards --ports`")
    if "Connection refused" in text or code == errno.ECONNREFUSED:
        return KwsError(f"nothing is listening at {port}; is the emulator running?")
    return KwsError(f"cannot open {port}: {text}")


def open_port(port: str, baud: int, timeout: float = 1.0) -> serial.SerialBase:
    """Open ``port`` (a device path or a pyserial URL) at ``baud``."""
    exclusive = "://" not in port
    try:
        if exclusive:
            return serial.Serial(port, baud, timeout=timeout, exclusive=True)
        return serial.serial_for_url(port, baudrate=baud, timeout=timeout)
    except (serial.SerialException, OSError, ValueError) as err:
        raise explain_open_error(port, err) from None
