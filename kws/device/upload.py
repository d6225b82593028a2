"""Putting a built firmware on the board, by the board profile's
``[upload] method``:

- ``esptool`` (ESP32 family): esptool writes the images PlatformIO built
  (``[upload] images``: file name -> flash offset) with its flasher stub,
  compressed and verified, showing its progress bar. A chip that does not
  answer gets the board's hint (e.g. hold BOOT, tap EN).
- ``pio``: PlatformIO's own upload target (bossac, picotool, ST-LINK...).
  With ``[upload] needs_port = false`` (the Pico: picotool finds a board in
  BOOTSEL mode, or a blank one, by USB, where there is no serial port yet) a
  board without a serial port is uploaded to without ``--upload-port``, and
  kws then waits for the port the new firmware opens.
- ``qemu``: nothing to write; the emulator runs the ELF (kws.device.emulator).
"""

from __future__ import annotations

from pathlib import Path

import serial

from kws.boards import Board
from kws.device.build import run_pio
from kws.device.ports import find_port, wait_for_port
from kws.errors import KwsError, UsageError

ESPTOOL_CONNECT_ATTEMPTS = 7
PORT_AFTER_UPLOAD_S = 20.0   # picotool reboots the Pico; USB CDC enumerates within seconds


def upload_method(board: Board) -> str:
    return str(board.section("upload").get("method", "pio"))


def _hint(board: Board) -> str:
    hint = board.section("upload").get("hint")
    return f"; {hint}" if hint else ""


def esptool_images(build_dir: Path, board: Board) -> list[tuple[int, Path]]:
    """(offset, file) pairs to write, in flash order; missing files are an error."""
    images = sorted((int(offset), build_dir / name) for name, offset in board.section("upload")["images"].items())
    missing = [str(path) for _, path in images if not path.is_file()]
    if missing:
        raise KwsError(f"{', '.join(missing)} not built; run `kws flash` (it builds first) or `pio run`")
    return images


def esptool_upload(build_dir: Path, board: Board, port: str, *, baud: int | None = None,
                   connect_attempts: int = ESPTOOL_CONNECT_ATTEMPTS) -> None:
    """Write the ESP32 images in ``build_dir`` through esptool (in-process)."""
    import esptool

    upload = board.section("upload")
    argv = [
        "--chip", str(upload["chip"]), "--port", port, "--baud", str(baud or upload.get("baud", 460800)),
        "--connect-attempts", str(connect_attempts), "--before", "default-reset", "--after", "hard-reset",
        "write-flash", "--compress", "--flash-mode", "keep", "--flash-freq", "keep", "--flash-size", "keep",
    ]
    for offset, path in esptool_images(build_dir, board):
        argv += [f"0x{offset:x}", str(path)]
    try:
        esptool.main(argv)
    except esptool.FatalError as err:
        reason = str(err).splitlines()[0]
        if "Failed to connect" in reason or "No serial data" in reason:
            raise KwsError(f"{port}: the {upload['chip']} does not answer ({reason}){_hint(board)}") from None
        raise KwsError(f"{port}: esptool failed: {reason}{_hint(board)}") from None
    except (serial.SerialException, OSError) as err:
        raise KwsError(f"{port}: the serial port failed during the upload ({err}); check the cable") from None
    except SystemExit as err:  # esptool's option parser
        raise KwsError(f"esptool refused its arguments (exit {err.code}); this is a kws bug") from None


def upload(board: Board, project_dir: Path, env: str, port: str | None = None, *, build_first: bool = True) -> str | None:
    """Upload the firmware (built first by PlatformIO's upload target unless
    ``build_first`` is False); returns the serial port used (None for the emulator)."""
    method = upload_method(board)
    if method == "qemu":
        return None
    if method == "esptool":
        port = port or find_port(board)
        esptool_upload(project_dir / ".pio" / "build" / env, board, port)
        return port
    if port is None:
        port = _port_if_needed(board)
    args = ["run", "-e", env, "-t", "upload", *([] if build_first else ["-t", "nobuild"]),
            *(["--upload-port", port] if port else [])]
    try:
        run_pio(args, project_dir)
    except KwsError as err:
        where = f" on {port}" if port else " (no serial port: found by USB)"
        raise KwsError(f"uploading to the {board.name}{where} failed: {err}{_hint(board)}") from None
    return port or wait_for_port(board, PORT_AFTER_UPLOAD_S)


def _port_if_needed(board: Board) -> str | None:
    """The board's serial port; None when there is none and its uploader
    finds the board without one (``[upload] needs_port = false``)."""
    try:
        return find_port(board)
    except UsageError:
        raise
    except KwsError:
        if board.section("upload").get("needs_port", True):
            raise
        return None
