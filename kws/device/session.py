"""A serial-link session with the board a firmware project was built for:
the emulated board runs the project's ELF in QEMU for the session; a real
board is reached on its port (given, or found from its USB VID:PID)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from kws.boards import Board
from kws.device.emulator import Emulator
from kws.device.ports import find_port
from kws.device.serial_link import Banner, SerialLink
from kws.errors import KwsError
from kws.export.project import Project

BANNER_TIMEOUT_S = 15.0


@contextmanager
def open_session(project: Project, board: Board, port: str | None = None, *,
                 icount_shift: int | None = None) -> Iterator[SerialLink]:
    """A SerialLink to the project's board; QEMU (at ``icount_shift``, see
    ``Emulator``) is stopped when it closes."""
    with ExitStack() as stack:
        if board.emulated:
            if not project.elf.is_file():
                raise KwsError(f"{project.elf}: not built yet; run `kws flash --board {board.name}`")
            url = stack.enter_context(Emulator(project.elf, icount_shift=icount_shift)).url
        else:
            url = port or find_port(board)
        serial = board.section("serial")
        yield stack.enter_context(SerialLink.open(url, baud=int(serial.get("baud", 115200)),
                                                  rx_buffer=serial.get("rx_buffer")))


def check_banner(banner: Banner, project: Project) -> None:
    """The board must run the firmware and model of ``project`` and be healthy."""
    if banner.get("fw") != project.firmware_id or banner.get("model") != project.model_id:
        raise KwsError(
            f"the board runs firmware {banner.get('fw', '?')} with model {banner.get('model', '?')}, not the "
            f"one just built ({project.firmware_id}, model {project.model_id}); flash again and check --port"
        )
    if banner.get("status") != "ok":
        raise KwsError(f"the firmware started but its model did not: status {banner.get('status', '?')}; "
                       "see `kws monitor` for the firmware's error line (often: tensor arena too small)")


def identify(link: SerialLink) -> Banner:
    """The firmware's banner: the boot line if it is still coming, else asked
    for with a handshake (the firmware repeats it)."""
    link.hello(timeout=BANNER_TIMEOUT_S)
    if link.banner is None:
        raise KwsError("the device answered the handshake without a banner; is it running kws firmware?")
    return link.banner


def flash(project: Project, board: Board, port: str | None = None, *, build_first: bool = True,
          say: Callable[[str], None] = lambda _: None) -> Banner:
    """Build (``pio run``), upload and check that the board boots the firmware
    and model just built; ``say`` hears each step. Returns its banner. A real
    board's first build refuses at once when what PlatformIO would download
    cannot be (kws.device.platform_packages)."""
    from kws.device.build import build
    from kws.device.platform_packages import check_downloads
    from kws.device.upload import upload

    if build_first:
        note = check_downloads(board)
        if note:
            say(note)
        say(f"building {project.path} for {board.name} ...")
        build(project.path, project.env)
    else:
        say(f"uploading what was built last in {project.path} ...")
    used_port = upload(board, project.path, project.env, port, build_first=build_first)
    with open_session(project, board, used_port) as link:
        banner = identify(link)
    check_banner(banner, project)
    return banner
