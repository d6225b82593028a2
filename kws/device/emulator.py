"""The emulated board: STM32F405 programs and firmware in qemu-system-arm.

Everything here uses the local PlatformIO platform in
``firmware_templates/platform`` (startup code, linker script for 1 MiB flash /
128 KiB RAM, HAL, compiler flags and QEMU arguments from its board JSON), so
a bare-metal program and a PlatformIO firmware are built and run the same way.

Run a bare-metal C program to completion and get its UART output
(for instruction counts and on-target unit tests)::

    from kws.device.emulator import run_baremetal
    run = run_baremetal(["bench.c", "firmware_templates/common/kws_frontend.c"],
                        include_dirs=["build/gen"], defines={"N_FRAMES": "49"},
                        timeout=60)
    run.output     # str: everything the program wrote (printf goes to USART1)
    run.exit_code  # 0 when main() returned 0, 1 otherwise (QEMU semihosting)
    run.elf        # Path of the ELF; elf_size(run.elf) gives text/data/bss

In C, ``#include "qemu_hal.h"``: ``hal_cycles()`` reads SysTick (168 MHz);
QEMU runs with ``-icount shift=0`` (1 instruction = 1 ns), so
``HAL_INSNS(hal_cycles() - t0)`` is an exact, repeatable instruction count.
The DWT cycle counter reads 0 in QEMU. ``main``'s return value ends QEMU.
``build_baremetal`` only compiles; ``run_elf`` only runs.

Run a firmware with its UART on a loopback TCP port (what ``kws flash`` and
``kws monitor`` do for the emulated board)::

    with Emulator(elf) as emu:
        port = serial.serial_for_url(emu.url, timeout=1)   # socket://127.0.0.1:PORT
        ...
        emu.reset()   # like pressing the reset button (QMP system_reset)

QEMU waits for the first connection before starting the guest (``wait=on``),
so no boot output is lost. ``Emulator(elf, icount_shift=4)`` runs the guest at
2**4 ns per instruction (62.5 M instructions/s, about a 64 MHz Cortex-M4)
instead of 1 ns; ``realtime=False`` lets idle emulated time pass at once
instead of at wall-clock pace (see ``qemu_args``). Emulators stop on ``with``
exit, at interpreter exit, and (Linux) when the Python process dies: no
orphan QEMU.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kws.device.build import first_error
from kws.errors import KwsError, UsageError
from kws.resources import templates_dir

QEMU = "qemu-system-arm"
EMULATED_PIO_BOARD = "netduinoplus2"
MAX_ICOUNT_SHIFT = 10
_PORT_LINE = re.compile(r"waiting for connection on: disconnected:tcp:[^:]+:(\d+)")


def platform_dir() -> Path:
    """The local PlatformIO platform ``kws-qemu``."""
    return templates_dir() / "platform"


@lru_cache(maxsize=4)
def pio_board(name: str = EMULATED_PIO_BOARD) -> dict[str, Any]:
    """The platform's board JSON (compiler flags, QEMU arguments)."""
    return json.loads((platform_dir() / "boards" / f"{name}.json").read_text(encoding="utf-8"))


def _require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise KwsError(f"{tool} not found on PATH; install Debian's {package} (`make setup` does it)")
    return path


def _die_with_parent() -> None:
    """Child side of Popen: get SIGKILL when the Python process dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def qemu_args(board: str = EMULATED_PIO_BOARD, icount_shift: int | None = None, *, realtime: bool = True) -> list[str]:
    """The board JSON's QEMU arguments. ``icount_shift`` replaces its
    ``-icount shift=0``: each instruction takes 2**shift ns of emulated time
    (4: 62.5 M instructions/s, about a 64 MHz Cortex-M4). While the guest
    idles (WFI), emulated time follows the wall clock; ``realtime=False``
    jumps to the guest's next timer instead, so emulated seconds pass as fast
    as the host runs them (the guest sees the same timeline)."""
    args = list(pio_board(board)["upload"]["qemu_args"])
    at = args.index("-icount") + 1
    if icount_shift is not None:
        if not 0 <= icount_shift <= MAX_ICOUNT_SHIFT:
            raise UsageError(f"icount shift {icount_shift}: pick 0..{MAX_ICOUNT_SHIFT} "
                             "(2**shift ns per instruction)")
        args[at] = f"shift={icount_shift}"
    if not realtime:
        args[at] += ",sleep=off"
    return args


def _qemu_command(elf: Path, board: str, serial: str, icount_shift: int | None = None,
                  realtime: bool = True) -> list[str]:
    return [
        _require(QEMU, "qemu-system-arm"),
        *qemu_args(board, icount_shift, realtime=realtime),
        "-display", "none",
        "-monitor", "none",
        "-serial", serial,
        "-kernel", str(elf),
    ]


@dataclass(frozen=True)
class ProgramRun:
    """A bare-metal program that ran to completion in QEMU."""

    elf: Path
    output: str
    exit_code: int


def build_baremetal(
    sources: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    include_dirs: Iterable[str | os.PathLike] = (),
    defines: Mapping[str, str | int] | None = None,
    cflags: Iterable[str] = (),
    name: str = "program",
    board: str = EMULATED_PIO_BOARD,
    timeout: float = 300.0,
) -> Path:
    """Compile and link C/C++ ``sources`` with the platform's HAL, startup
    code and linker script into ``out_dir/NAME.elf``; compiler errors become
    a one-line KwsError."""
    sources = [Path(s) for s in sources]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    elf = out / f"{name}.elf"
    build = pio_board(board)["build"]
    hal = platform_dir() / "hal"
    cplusplus = any(s.suffix in (".cc", ".cpp", ".cxx") for s in sources)
    compiler = _require("arm-none-eabi-g++" if cplusplus else "arm-none-eabi-gcc", "gcc-arm-none-eabi")
    command = [
        compiler,
        *build["cpu_flags"],
        *build["opt_flags"],
        *cflags,
        f"-I{hal}",
        *(f"-I{d}" for d in include_dirs),
        *(f"-D{k}={v}" for k, v in (defines or {}).items()),
        *(str(s) for s in sorted(hal.glob("*.c"))),
        *(str(s) for s in sources),
        f"-T{platform_dir() / 'ldscripts' / build['ldscript']}",
        *build["link_flags"],
        f"-Wl,-Map,{out / (name + '.map')}",
        "-o", str(elf),
        "-lm",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise KwsError(f"compiling {name}.elf took more than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise KwsError(f"compiling {name}.elf failed: {first_error(done.stderr)}")
    return elf


def run_elf(elf: str | os.PathLike, *, timeout: float = 60.0, board: str = EMULATED_PIO_BOARD) -> ProgramRun:
    """Run ``elf`` in QEMU until main() returns; USART1 output is captured.
    A program still running after ``timeout`` seconds is killed (KwsError
    with the output so far)."""
    elf = Path(elf)
    command = _qemu_command(elf, board, "stdio")
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, preexec_fn=_die_with_parent
        )
    except subprocess.TimeoutExpired as err:
        tail = (err.stdout or b"").decode("utf-8", "replace")[-300:]
        raise KwsError(f"{elf.name} did not finish within {timeout:.0f} s in QEMU; output so far: {tail!r}") from None
    if done.returncode not in (0, 1):
        raise KwsError(f"QEMU failed on {elf.name}: {done.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    return ProgramRun(elf, done.stdout.decode("utf-8", "replace"), done.returncode)


def run_baremetal(
    sources: Iterable[str | os.PathLike],
    *,
    out_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
    **build_options: Any,
) -> ProgramRun:
    """``build_baremetal`` then ``run_elf``. Without ``out_dir`` the ELF goes
    to a temporary folder that is removed afterwards."""
    if out_dir is not None:
        return run_elf(build_baremetal(sources, out_dir, **build_options), timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="kws-baremetal-") as tmp:
        return run_elf(build_baremetal(sources, tmp, **build_options), timeout=timeout)


_RUNNING: set["Emulator"] = set()


class Emulator:
    """qemu-system-arm running a firmware, its UART on ``socket://`` loopback;
    ``icount_shift`` (instruction rate) and ``realtime`` (idle time follows
    the wall clock): see ``qemu_args``."""

    def __init__(self, elf: str | os.PathLike, *, board: str = EMULATED_PIO_BOARD, start_timeout: float = 10.0,
                 icount_shift: int | None = None, realtime: bool = True) -> None:
        self.elf = Path(elf)
        self.board = board
        self.icount_shift = icount_shift
        self.realtime = realtime
        self.start_timeout = start_timeout
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """pyserial URL of the board's UART (``socket://127.0.0.1:PORT``)."""
        if self.port is None:
            raise KwsError("the emulator is not running; start it first")
        return f"socket://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> "Emulator":
        """Start QEMU; returns once its UART port is listening (the guest
        starts when the first client connects)."""
        if not self.elf.is_file():
            raise KwsError(f"{self.elf}: no such firmware; build it first (`kws flash` builds it)")
        command = _qemu_command(self.elf, self.board, "tcp:127.0.0.1:0,server=on,wait=on,nodelay=on",
                                self.icount_shift, self.realtime)
        self._tmp = tempfile.TemporaryDirectory(prefix="kws-qemu-")
        tmp = Path(self._tmp.name)
        command += ["-qmp", f"unix:{tmp / 'qmp.sock'},server=on,wait=off"]
        log_path = tmp / "qemu.log"
        with open(log_path, "wb") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent
            )
        _RUNNING.add(self)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            found = _PORT_LINE.search(log_path.read_text(errors="replace"))
            if found:
                self.port = int(found.group(1))
                return self
            if self._process.poll() is not None:
                message = log_path.read_text(errors="replace").strip()
                self.stop()
                raise KwsError(f"QEMU exited at start: {message[-300:] or 'no message'}")
            time.sleep(0.02)
        self.stop()
        raise KwsError(f"QEMU did not open its UART port within {self.start_timeout:.0f} s")

    def reset(self, timeout: float = 5.0) -> None:
        """Reset the emulated chip (like its reset button) through QMP."""
        if not self.running or self._tmp is None:
            raise KwsError("the emulator is not running; cannot reset it")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as qmp:
                qmp.settimeout(timeout)
                qmp.connect(str(Path(self._tmp.name) / "qmp.sock"))
                stream = qmp.makefile("rwb")
                stream.readline()  # greeting
                for command in ("qmp_capabilities", "system_reset"):
                    stream.write(json.dumps({"execute": command}).encode() + b"\n")
                    stream.flush()
                    while True:  # skip asynchronous events until the command's answer
                        reply = json.loads(stream.readline() or b"{}")
                        if "return" in reply or "error" in reply or not reply:
                            break
                    if "return" not in reply:
                        raise KwsError(f"QEMU refused {command}: {reply.get('error', 'no answer')}")
        except OSError as err:
            raise KwsError(f"QEMU's control socket failed ({err}); the emulator has probably stopped") from None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop QEMU (terminate, then kill) and remove its temporary files."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
        _RUNNING.discard(self)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self.port = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for emulator in list(_RUNNING):
        emulator.stop()
