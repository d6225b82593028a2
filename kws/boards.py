"""Board profiles: one TOML file per board in ``boards/`` (shipped in the wheel
as ``kws.boards``), plus any ``*.toml`` in a user folder given by
``KWS_BOARDS_DIR``. A user adds a board by adding a file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kws.errors import UsageError
from kws.resources import boards_dir


@dataclass(frozen=True)
class Board:
    """One board profile (see boards/README.md for every key)."""

    name: str
    description: str
    mcu: str
    core: str                  # e.g. cortex-m4, cortex-m33, xtensa-lx6, avr
    clock_hz: int
    flash_bytes: int
    ram_bytes: int
    fpu: bool
    dsp: bool
    runtimes: tuple[str, ...]  # subset of ("tflm", "c"), preferred first
    emulated: bool = False
    family: str = ""           # firmware glue in firmware_templates/boards/<family>/
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    path: Path | None = field(default=None, compare=False)

    def section(self, name: str) -> dict[str, Any]:
        """A TOML table such as ``mic``, ``led``, ``platformio``, ``upload``, ``serial``."""
        return dict(self.raw.get(name, {}))


_REQUIRED = ("name", "description", "mcu", "core", "clock_hz", "flash_bytes", "ram_bytes", "runtimes")


def _parse(path: Path) -> Board:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise UsageError(f"{path}: not a valid board file ({err}); fix the TOML syntax") from None
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise UsageError(f"{path}: missing key(s) {', '.join(missing)}; see boards/README.md")
    return Board(
        name=str(raw["name"]),
        description=str(raw["description"]),
        mcu=str(raw["mcu"]),
        core=str(raw["core"]),
        clock_hz=int(raw["clock_hz"]),
        flash_bytes=int(raw["flash_bytes"]),
        ram_bytes=int(raw["ram_bytes"]),
        fpu=bool(raw.get("fpu", False)),
        dsp=bool(raw.get("dsp", False)),
        runtimes=tuple(raw["runtimes"]),
        emulated=bool(raw.get("emulated", False)),
        family=str(raw.get("family", "")),
        raw=raw,
        path=path,
    )


def _board_files() -> list[Path]:
    files = sorted(boards_dir().glob("*.toml"))
    extra = os.environ.get("KWS_BOARDS_DIR")
    if extra:
        files += sorted(Path(extra).glob("*.toml"))
    return files


def list_boards() -> list[Board]:
    """All known boards, user boards overriding built-in ones of the same name."""
    boards: dict[str, Board] = {}
    for path in _board_files():
        board = _parse(path)
        boards[board.name] = board
    return sorted(boards.values(), key=lambda b: b.name)


def load_board(name: str) -> Board:
    """The board called ``name``; a clear error lists the known ones otherwise."""
    boards = {b.name: b for b in list_boards()}
    if name not in boards:
        raise UsageError(f"--board {name}: unknown board; known boards: {', '.join(sorted(boards))} (see `kws boards`)")
    return boards[name]
