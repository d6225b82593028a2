"""Board profiles: one TOML file per board in ``boards/`` (shipped in the wheel
as ``kws.boards``), plus any ``*.toml`` in a user folder given by
``KWS_BOARDS_DIR``. A user adds a board by adding a file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kws.errors import UsageError
from kws.resources import boards_dir, templates_dir


RUNTIMES = ("tflm", "c")   # TFLite Micro; kws's plain C kernels (kws/export/c_codegen.py)


@dataclass(frozen=True)
class Mic:
    """``[mic]``: the microphone the firmware reads (``none``: audio over the serial link only)."""

    type: str = "none"               # none, i2s, pdm, dfsdm
    model: str = ""
    driver: str = ""
    sample_rate: int = 16000
    pins: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Led:
    """``[led]``: the LED that blinks on a detection (``pin = "none"``: no LED)."""

    pin: int | str = "none"
    active_low: bool = False

    @property
    def present(self) -> bool:
        return self.pin != "none"


@dataclass(frozen=True)
class Serial:
    """``[serial]``: the link to the host."""

    baud: int = 115200
    usb_ids: tuple[str, ...] = ()    # "vid:pid" in hex, lower case
    rx_buffer: int | None = None     # bytes the board's receive buffer holds, where bytes can be lost
    transport: str = "uart"          # uart, usb_cdc (USB flow control: nothing to overrun)


@dataclass(frozen=True)
class Upload:
    """``[upload]``: how `kws flash` writes the firmware."""

    method: str = "pio"              # pio, esptool, qemu
    hint: str = ""                   # shown when the board does not answer
    images: dict[str, int] = field(default_factory=dict)   # esptool: file -> flash offset
    chip: str = ""
    baud: int | None = None
    needs_port: bool = True          # False: the uploader finds the board by USB (Pico in BOOTSEL)


@dataclass(frozen=True)
class RuntimeBuild:
    """``[platformio.<runtime>]``: what one runtime adds to the build."""

    lib_deps: tuple[str, ...] = ()
    idf_components: dict[str, str] = field(default_factory=dict)
    build_flags: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    kernels: str = ""                # tflm: optimized kernels whose arena scratch kws accounts for
    distribution: str | None = None  # tflm: which TFLM the board builds (its op resolver)


@dataclass(frozen=True)
class PlatformIO:
    """``[platformio]``: the PlatformIO environment."""

    platform: str
    board: str
    framework: str = ""
    build_flags: tuple[str, ...] = ()
    src_flags: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    runtimes: dict[str, RuntimeBuild] = field(default_factory=dict)

    @property
    def platform_spec(self) -> str:
        """What platformio.ini names: a platform kws ships resolves to its folder."""
        return local_platforms().get(self.platform, self.platform)

    def build(self, runtime: str) -> RuntimeBuild:
        """What ``runtime`` adds to the build (nothing when the file says nothing)."""
        return self.runtimes.get(runtime, RuntimeBuild())


def local_platforms() -> dict[str, str]:
    """Platforms shipped inside kws, by the name board files use."""
    return {"kws-qemu": "symlink://" + str(templates_dir() / "platform")}


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
    runtimes: tuple[str, ...]  # subset of RUNTIMES, preferred first
    platformio: PlatformIO
    family: str = ""           # firmware glue in firmware_templates/boards/<family>/
    mic: Mic = field(default_factory=Mic)
    led: Led = field(default_factory=Led)
    serial: Serial = field(default_factory=Serial)
    upload: Upload = field(default_factory=Upload)
    runtime_notes: dict[str, str] = field(default_factory=dict)   # why a runtime is not listed
    path: Path | None = field(default=None, compare=False)

    @property
    def emulated(self) -> bool:
        """The emulated board: kws runs the firmware in QEMU instead of uploading it."""
        return self.upload.method == "qemu"


_REQUIRED = ("name", "description", "mcu", "core", "clock_hz", "flash_bytes", "ram_bytes", "runtimes", "platformio")
_TUPLES = {"usb_ids", "lib_deps", "build_flags", "src_flags"}


def _table(kind: type, values: Any, where: str) -> Any:
    """A typed section from its TOML table; unknown or missing keys are an error naming them."""
    if not isinstance(values, dict):
        raise UsageError(f"{where}: must be a table; see boards/README.md")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(values) - known)
    needed = sorted(f.name for f in fields(kind) if f.default is MISSING and f.default_factory is MISSING
                    and f.name not in values)
    if unknown or needed:
        raise UsageError(f"{where}: " + "; ".join(
            ([f"unknown key(s) {', '.join(unknown)}"] if unknown else [])
            + ([f"missing key(s) {', '.join(needed)}"] if needed else [])) + " (see boards/README.md)")
    return kind(**{k: tuple(str(i).lower() if k == "usb_ids" else i for i in v) if k in _TUPLES else v
                   for k, v in values.items()})


def _platformio(values: Any, path: Path) -> PlatformIO:
    runtimes = {name: _table(RuntimeBuild, values[name], f"{path} [platformio.{name}]")
                for name in RUNTIMES if isinstance(values, dict) and name in values}
    rest = {k: v for k, v in values.items() if k not in runtimes} if isinstance(values, dict) else values
    return replace(_table(PlatformIO, rest, f"{path} [platformio]"), runtimes=runtimes)


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
        platformio=_platformio(raw["platformio"], path),
        family=str(raw.get("family", "")),
        mic=_table(Mic, raw.get("mic", {}), f"{path} [mic]"),
        led=_table(Led, raw.get("led", {}), f"{path} [led]"),
        serial=_table(Serial, raw.get("serial", {}), f"{path} [serial]"),
        upload=_table(Upload, raw.get("upload", {}), f"{path} [upload]"),
        runtime_notes={str(k): str(v) for k, v in raw.get("runtime_notes", {}).items()},
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
