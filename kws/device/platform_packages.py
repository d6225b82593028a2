"""What the first build for a real board would download, known before building.

A real board's ``pio run`` installs the board's PlatformIO platform (pinned in
``boards/<board>.toml``) and then the toolchain, framework and tools that
platform asks for, from the PlatformIO registry. Offline that fails after
about a minute with ``HTTPClientError``. ``missing_packages`` asks PlatformIO
itself (in a child process on kws's core dir, see kws.device.build) which of
them are not installed; ``check_downloads`` refuses before building when some
are missing and the registry cannot be reached, and otherwise says what the
build will fetch. Run as a module it is that child: ``python -m
kws.device.platform_packages PLATFORM BOARD FRAMEWORK`` prints a JSON list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kws.boards import Board
from kws.device.build import platformio_core_dir, pio_environment
from kws.errors import KwsError

REGISTRY = "https://registry.platformio.org"
CHECK_TIMEOUT_S = 120.0


def _platform_spec(board: Board) -> str:
    from kws.export.project import local_platforms

    spec = str(board.section("platformio")["platform"])
    return local_platforms().get(spec, spec)


def missing_packages(board: Board, core: Path | None = None) -> list[str]:
    """What PlatformIO would still install to build for ``board``: the
    platform (``platform SPEC``) when it is not installed, else the packages
    it requires for the board and framework that are not."""
    pio = board.section("platformio")
    command = [sys.executable, "-m", "kws.device.platform_packages", _platform_spec(board), str(pio.get("board", "")),
               str(pio.get("framework", ""))]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                              env=pio_environment(core or platformio_core_dir()))
    except subprocess.TimeoutExpired:
        raise KwsError(f"asking PlatformIO what {board.name} needs took over {CHECK_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise KwsError(f"asking PlatformIO what {board.name} needs failed: {last}")
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def describe(missing: list[str]) -> str:
    """What ``missing_packages`` found, for a sentence."""
    platform_first = missing[0].startswith("platform ")
    return ", ".join(missing) + (" and the toolchain and framework it names" if platform_first else "")


def registry_error(timeout: float = 5.0) -> str:
    """Why the PlatformIO registry cannot be reached ("" when it can); honours the proxy variables."""
    import requests

    try:
        requests.head(REGISTRY, timeout=timeout, allow_redirects=False)
    except requests.RequestException as err:
        return f"{type(err).__name__}"
    return ""


def check_downloads(board: Board, core: Path | None = None) -> str:
    """Before building for a real board: "" when everything is installed; a
    note naming what the first build downloads when the registry answers (or
    why PlatformIO could not be asked); a one-line KwsError when the registry
    does not answer."""
    if board.emulated:
        return ""
    try:
        missing = missing_packages(board, core)
    except KwsError as err:   # a platform whose own code fails this question: let the build speak
        return f"{err}; building anyway"
    if not missing:
        return ""
    what = describe(missing)
    offline = registry_error()
    if offline:
        raise KwsError(
            f"the first build for {board.name} downloads {what} from the internet, and "
            f"this computer cannot reach the PlatformIO registry ({REGISTRY}: {offline}); connect to the internet once and retry "
            f"(later builds work offline), or use --board qemu-stm32f405")
    return f"first build for {board.name}: PlatformIO downloads {what} (once; later builds work offline)"


def _main(platform: str, board: str, framework: str) -> list[str]:
    """In the child: PlatformIO's own view of what is not installed."""
    from platformio.package.manager.platform import PlatformPackageManager
    from platformio.platform.factory import PlatformFactory

    installed = PlatformPackageManager().get_package(platform)
    if installed is None:
        return [f"platform {platform}"]
    found = PlatformFactory.new(installed)
    frameworks = [framework] if framework else []
    found.configure_default_packages({"board": board, "framework": frameworks, "pioframework": frameworks}, ["upload"])
    return [name for name, options in sorted(found.packages.items())
            if not options.get("optional") and found.get_package(name) is None]


if __name__ == "__main__":
    print(json.dumps(_main(*sys.argv[1:4])))
