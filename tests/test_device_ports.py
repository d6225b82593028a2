"""Finding the board's port from its USB VID:PID and opening ports with
one-line errors: no port, several candidates, busy (a real pseudo-terminal
held by another opener), permission denied (dialout), missing device,
nothing listening on a socket URL."""

from __future__ import annotations

import errno
import os
import socket

import pytest
import serial

from kws.boards import load_board
from kws.device.ports import PortInfo, explain_open_error, find_port, open_port
from kws.errors import KwsError, UsageError

ESP32_CP2102 = PortInfo("/dev/ttyUSB0", "10c4:ea60", "CP2102 USB to UART Bridge Controller")
NANO = PortInfo("/dev/ttyACM0", "2341:805a", "Nano 33 BLE")
BUILTIN = PortInfo("/dev/ttyS0", "", "n/a")


def test_the_matching_usb_id_wins():
    assert find_port(load_board("esp32"), [BUILTIN, NANO, ESP32_CP2102]) == "/dev/ttyUSB0"
    assert find_port(load_board("nano33ble"), [BUILTIN, NANO, ESP32_CP2102]) == "/dev/ttyACM0"


def test_no_matching_port_lists_what_was_seen():
    with pytest.raises(KwsError) as caught:
        find_port(load_board("esp32"), [BUILTIN, NANO])
    message = str(caught.value)
    assert "no serial port of a esp32 found" in message and "/dev/ttyACM0 (2341:805a)" in message
    assert "--port" in message


def test_two_candidates_ask_for_port():
    other = PortInfo("/dev/ttyUSB1", "1a86:7523", "CH340")
    with pytest.raises(UsageError, match="several ports look like a esp32: /dev/ttyUSB0, /dev/ttyUSB1"):
        find_port(load_board("esp32"), [ESP32_CP2102, other])


def test_busy_port_is_reported():
    controller, device = os.openpty()
    try:
        name = os.ttyname(device)
        first = open_port(name, 115200)
        try:
            with pytest.raises(KwsError, match=f"{name} is busy: another program"):
                open_port(name, 115200)
        finally:
            first.close()
        open_port(name, 115200).close()  # free again once the first user closed it
    finally:
        os.close(controller)
        os.close(device)


def test_permission_denied_points_at_dialout():
    err = serial.SerialException(errno.EACCES, "could not open port /dev/ttyUSB0: [Errno 13] Permission denied")
    message = str(explain_open_error("/dev/ttyUSB0", err))
    assert "permission denied on /dev/ttyUSB0" in message and "usermod -aG dialout" in message


def test_missing_device_and_silent_socket():
    with pytest.raises(KwsError, match="/dev/ttyKWS9: no such serial port"):
        open_port("/dev/ttyKWS9", 115200)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with pytest.raises(KwsError, match="nothing is listening at socket://127.0.0.1"):
        open_port(f"socket://127.0.0.1:{free}", 115200)
