"""`kws doctor`: is this machine ready for every kws stage? Each check says
what it found and, when it fails, the fix."""

from __future__ import annotations

import grp
import importlib
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from kws.boards import Board, list_boards
from kws.device.ports import board_usb_ids, list_ports
from kws.errors import KwsError

SETUP_HINT = "run `make setup` (tools/setup.sh) in the kws checkout"

# module -> what it is for
PYTHON_PACKAGES = {
    "numpy": "arrays",
    "numba": "the frontend's compiled loops",
    "soundfile": "wav files",
    "librosa": "resampling",
    "audiomentations": "augmentation",
    "tflite_micro": "the TFLM reference interpreter",
    "ai_edge_litert": "LiteRT, the streaming evaluation's interpreter",
    "jinja2": "firmware templates",
    "serial": "the serial link (pyserial)",
    "esptool": "ESP32 uploads",
    "platformio": "firmware builds",
    "matplotlib": "report plots",
    "rich": "progress bars",
}

# tool -> (Debian package, what it is for, required)
TOOLS = {
    "arm-none-eabi-gcc": ("gcc-arm-none-eabi", "Cortex-M firmware builds", True),
    "qemu-system-arm": ("qemu-system-arm", "the emulated board", True),
    "cc": ("build-essential", "host builds of the C frontend/runtime", True),
    "espeak-ng": ("espeak-ng", "text-to-speech for custom words", True),
    "flite": ("flite", "more text-to-speech voices", True),
    "sox": ("sox", "pitch/tempo post-processing of synthesized clips", True),
    "pico2wave": ("libttspico-utils (non-free)", "optional extra TTS voices", False),
    "mbrola": ("mbrola (contrib)", "optional extra TTS voices", False),
}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"failed: {err}"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else f"exit {out.returncode}"


def check_python() -> list[Check]:
    checks = [Check("python", sys.version_info >= (3, 10), sys.version.split()[0], "install Python 3.10-3.12")]
    for module, purpose in PYTHON_PACKAGES.items():
        try:
            mod = importlib.import_module(module)
            checks.append(Check(f"python: {module}", True, f"{getattr(mod, '__version__', 'ok')} ({purpose})"))
        except Exception as err:  # any import failure is a finding, not a crash
            checks.append(Check(f"python: {module}", False, f"import failed: {err}", SETUP_HINT))
    return checks


def check_tensorflow() -> Check:
    """TensorFlow in a child process: its import is slow and noisy."""
    code = "import tensorflow as tf; print(tf.__version__)"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    except subprocess.TimeoutExpired:
        return Check("tensorflow", False, "import took over 5 minutes", SETUP_HINT)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["unknown error"])[-1]
        return Check("tensorflow", False, f"import failed: {last}", SETUP_HINT)
    return Check("tensorflow", True, out.stdout.strip().splitlines()[-1])


def check_platformio() -> Check:
    pio = Path(sys.executable).with_name("pio")
    if not pio.exists():
        found = shutil.which("pio")
        if not found:
            return Check("platformio", False, "pio not found", SETUP_HINT)
        pio = Path(found)
    return Check("platformio", True, _version([str(pio), "--version"]))


def check_tools() -> list[Check]:
    checks = []
    for tool, (package, purpose, required) in TOOLS.items():
        path = shutil.which(tool)
        if path:
            detail = _version([path, "--version"]) if tool not in ("pico2wave", "mbrola") else path
            checks.append(Check(tool, True, f"{detail} ({purpose})", required=required))
        else:
            fix = f"sudo apt-get install {package.split()[0]}" if required else f"optional: install {package}"
            checks.append(Check(tool, False, f"not found ({purpose})", fix, required))
    return checks


def check_serial() -> list[Check]:
    boards = list_boards()
    ids = {usb: b.name for b in boards for usb in board_usb_ids(b)}
    ports = list_ports()
    checks = []
    in_dialout = os.geteuid() == 0
    if not in_dialout:
        try:
            in_dialout = grp.getgrnam("dialout").gr_gid in os.getgroups()
        except KeyError:
            in_dialout = True
    checks.append(Check(
        "serial permissions", in_dialout,
        "root" if os.geteuid() == 0 else ("member of dialout" if in_dialout else "not in the dialout group"),
        "sudo usermod -aG dialout $USER, then log out and in again", required=False,
    ))
    if not ports:
        checks.append(Check("serial ports", True, "none connected (the emulated board needs none)", required=False))
    for port in ports:
        guess = ids.get(port.usb_id, "unknown board")
        usable = os.access(port.device, os.R_OK | os.W_OK)
        checks.append(Check(
            f"port {port.device}", usable,
            f"{port.usb_id or 'no USB id'} {port.description} -> {guess}",
            "" if usable else "no read/write access: add yourself to the dialout group", required=False,
        ))
    return checks


def check_board_platform(board: Board) -> Check:
    """Are the PlatformIO platform, toolchain and framework of ``board``
    installed, or can its first build download them?"""
    from kws.device.platform_packages import describe, missing_packages, registry_error

    name = f"platformio packages for {board.name}"
    if board.emulated:
        return Check(name, True, "local platform and the system arm-none-eabi-gcc: nothing to download")
    try:
        missing = missing_packages(board)
    except KwsError as err:
        return Check(name, False, str(err), "the first `kws flash` of this board will tell", required=False)
    if not missing:
        return Check(name, True, "installed: builds work offline")
    what = describe(missing)
    offline = registry_error()
    if offline:
        return Check(name, False, f"not installed: {what}; the PlatformIO registry is unreachable ({offline})",
                     f"connect to the internet once and run `kws flash --board {board.name}` "
                     "(its first build downloads them; later builds work offline)")
    return Check(name, True, f"not installed yet: the first build downloads {what} (the registry answers)")


def run_checks(boards: list[Board] | None = None) -> list[Check]:
    """Every check, in the order of the kws flow; with ``boards``, whether each can be built for."""
    return [
        *check_python(),
        check_tensorflow(),
        check_platformio(),
        *(check_board_platform(board) for board in boards or []),
        *check_tools(),
        *check_serial(),
    ]


def as_dicts(checks: list[Check]) -> list[dict]:
    return [asdict(c) for c in checks]
