"""Building firmware with PlatformIO, offline.

kws runs PlatformIO (the ``platformio`` package installed beside kws) with its
own core directory, ``<kws cache>/platformio`` (``PLATFORMIO_CORE_DIR``), so
builds never depend on the state of ``~/.platformio``. Before a build kws
pre-installs the two packages PlatformIO would otherwise download:

- ``tool-scons``: PlatformIO's build engine, provided by PyPI's ``scons``
  (a dependency of kws) through a two-line ``scons.py`` launcher;
- ``toolchain-gccarmnoneeabi-system``: the system ``arm-none-eabi-*`` tools
  (Debian's gcc-arm-none-eabi), used by the local ``kws-qemu`` platform in
  ``firmware_templates/platform``.

With those in place ``pio run`` for the emulated board needs no network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kws.atomic import write_text_atomic
from kws.cache import cache_dir
from kws.errors import KwsError

SCONS_PACKAGE = "tool-scons"
TOOLCHAIN_PACKAGE = "toolchain-gccarmnoneeabi-system"
ARM_GCC = "arm-none-eabi-gcc"
BUILD_TIMEOUT_S = 900.0


def platformio_core_dir() -> Path:
    """The PlatformIO home kws uses for every build: ``<kws cache>/platformio``."""
    return cache_dir("platformio")


def _write_if_changed(path: Path, text: str) -> None:
    """Atomic, so concurrent builds never read a half-written manifest."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text)


def _install_local_package(core: Path, name: str, owner: str, version: str, description: str) -> Path:
    """Create ``packages/<name>`` with the manifest and install metadata
    (``.piopm``) PlatformIO checks when it looks for an installed package."""
    folder = core / "packages" / name
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "description": description}
    _write_if_changed(folder / "package.json", json.dumps(manifest, indent=2, sort_keys=True))
    spec = {"owner": owner, "id": None, "name": name, "requirements": None, "uri": None}
    install = {"type": "tool", "name": name, "version": version, "spec": spec}
    _write_if_changed(folder / ".piopm", json.dumps(install, indent=2, sort_keys=True))
    return folder


def _scons_package_version() -> str:
    """The version PlatformIO requires for tool-scons (``~4.41101.0``), so it
    accepts the package without asking the registry."""
    from platformio.dependencies import get_core_dependencies

    return get_core_dependencies()[SCONS_PACKAGE].lstrip("~^=<> ")


def _arm_toolchain_bin() -> Path:
    gcc = shutil.which(ARM_GCC)
    if gcc is None:
        raise KwsError(
            f"{ARM_GCC} not found on PATH; install Debian's gcc-arm-none-eabi and "
            "libnewlib-arm-none-eabi (`make setup` does it)"
        )
    return Path(gcc).resolve().parent


def ensure_offline_packages(core: Path | None = None) -> Path:
    """Pre-install tool-scons and the system ARM toolchain into PlatformIO's core dir."""
    core = core or platformio_core_dir()
    import SCons

    scons = _install_local_package(
        core, SCONS_PACKAGE, "platformio", _scons_package_version(), f"SCons {SCons.__version__} from PyPI, installed by kws"
    )
    _write_if_changed(scons / "scons.py", "import SCons.Script\n\nSCons.Script.main()\n")

    gcc_bin = _arm_toolchain_bin()
    version = subprocess.run([str(gcc_bin / ARM_GCC), "-dumpversion"], capture_output=True, text=True, timeout=30).stdout
    toolchain = _install_local_package(
        core, TOOLCHAIN_PACKAGE, "kws", version.strip() or "0.0.0", f"system arm-none-eabi tools in {gcc_bin}"
    )
    bin_dir = toolchain / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in gcc_bin.glob("arm-none-eabi-*"):
        link = bin_dir / tool.name
        if not link.is_symlink() or link.resolve() != tool.resolve():
            link.unlink(missing_ok=True)
            try:
                link.symlink_to(tool)
            except FileExistsError:  # a concurrent build made it
                pass
    return core


def pio_environment(core: Path | None = None) -> dict[str, str]:
    """Environment for a PlatformIO subprocess: kws's core dir, no telemetry,
    no update checks (they would wait for the unreachable registry)."""
    env = dict(os.environ)
    env.update(
        PLATFORMIO_CORE_DIR=str(core or platformio_core_dir()),
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="No",
        PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="3650",
        PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD="0",
        PLATFORMIO_DISABLE_PROGRESSBAR="true",
        PLATFORMIO_NO_ANSI="true",
    )
    return env


def run_pio(args: list[str], project_dir: Path, *, timeout: float = BUILD_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run ``pio ARGS`` in ``project_dir`` with kws's core dir; raise a one-line
    KwsError naming the first compiler/PlatformIO error when it fails."""
    core = ensure_offline_packages()
    command = [sys.executable, "-m", "platformio", *args]
    try:
        done = subprocess.run(
            command, cwd=project_dir, env=pio_environment(core), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise KwsError(f"`pio {' '.join(args)}` in {project_dir} took more than {timeout:.0f} s; stopped it") from None
    if done.returncode != 0:
        raise KwsError(f"`pio {' '.join(args)}` failed in {project_dir}: {first_error(done.stdout + done.stderr)}")
    return done


def first_error(log: str) -> str:
    """The most telling line of a failed build log."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for pattern in (r"\berror\b", r"Error:", r"\bError\b", r"undefined reference", r"FAILED"):
        for line in lines:
            if re.search(pattern, line):
                return line
    return lines[-1] if lines else "no output"


@dataclass(frozen=True)
class FirmwareSize:
    """``arm-none-eabi-size`` figures of an ELF, in bytes."""

    text: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        return self.text + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss


def elf_size(elf: Path, size_tool: str = "arm-none-eabi-size") -> FirmwareSize:
    """Berkeley-format sizes of ``elf``."""
    done = subprocess.run([size_tool, "-B", "-d", str(elf)], capture_output=True, text=True, timeout=30, check=True)
    text, data, bss = (int(v) for v in done.stdout.splitlines()[1].split()[:3])
    return FirmwareSize(text, data, bss)


@dataclass(frozen=True)
class BuildResult:
    project_dir: Path
    env_name: str
    elf: Path
    log: str


def build(project_dir: Path, env_name: str, *, timeout: float = BUILD_TIMEOUT_S) -> BuildResult:
    """``pio run -e ENV`` in ``project_dir``; returns the ELF."""
    done = run_pio(["run", "-e", env_name], project_dir, timeout=timeout)
    elf = project_dir / ".pio" / "build" / env_name / "firmware.elf"
    if not elf.is_file():
        raise KwsError(f"`pio run -e {env_name}` succeeded but wrote no {elf}; check the platform's builder")
    return BuildResult(project_dir, env_name, elf, done.stdout)
