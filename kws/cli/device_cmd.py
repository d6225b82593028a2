"""`kws boards`, `kws flash`, `kws monitor`: the board side of kws."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kws.cli import app
from kws.cli.options import CONFIG
from kws.errors import KwsError, UsageError

console = Console()

BOARD = typer.Option(None, "--board", "-b", help="Board profile (default: kws.toml [board] name; see `kws boards`).")
PORT = typer.Option(None, "--port", "-p", help="Serial port or pyserial URL (default: found from the board's USB IDs).")
PROJECT = typer.Option(None, "--project", help="Firmware project (default: `build/firmware/<board>/` from `kws export`).")


def _project_and_board(config, board_name: str | None, project_dir: Path | None):
    from kws.boards import load_board
    from kws.export.project import load_project

    name = board_name or config.board.name
    project = load_project(project_dir or config.paths.firmware(name))
    if board_name and project.board != board_name:
        raise UsageError(f"--board {board_name}: {project.path} was exported for {project.board}; "
                         f"run `kws export --board {board_name}` or pick --project")
    return project, load_board(project.board)


@app.command("boards")
def boards(ports: bool = typer.Option(False, "--ports", help="Also list serial ports and the board each looks like.")) -> None:
    """List the board profiles kws can build for (one TOML file each in boards/).

    Examples:
    ```
    kws boards
    kws boards --ports
    ```
    """
    from kws.boards import list_boards
    from kws.device.ports import board_usb_ids, list_ports

    known = list_boards()
    table = Table("board", "MCU", "core", "flash", "RAM", "mic", "runtimes", "upload")
    for b in known:
        table.add_row(b.name, b.mcu, b.core, f"{b.flash_bytes // 1024}K", f"{b.ram_bytes // 1024}K",
                      b.mic.type, ",".join(b.runtimes), b.upload.method)
    console.print(table)
    for b in known:
        console.print(f"  {b.name}: {b.description}", highlight=False)
    if ports:
        table = Table("port", "USB VID:PID", "looks like", "description")
        for port in list_ports():
            owners = [b.name for b in known if port.usb_id and port.usb_id in board_usb_ids(b)]
            table.add_row(port.device, port.usb_id or "-", ", ".join(owners) or "-", port.description)
        console.print(table)


@app.command("flash")
def flash(
    board: str = BOARD,
    port: str = PORT,
    project: Path = PROJECT,
    no_build: bool = typer.Option(False, "--no-build", help="Upload what was built last."),
    config_path: Path = CONFIG,
) -> None:
    """Build the exported firmware with PlatformIO, upload it and check that
    the board boots it (its banner must name the firmware and model just built).
    The emulated board boots in QEMU instead.

    Examples:
    ```
    kws flash --board qemu-stm32f405
    kws flash --board esp32 --port /dev/ttyUSB0
    ```
    """
    from kws.config import load_config
    from kws.device.session import flash as flash_board

    chosen, profile = _project_and_board(load_config(config_path), board, project)
    banner = flash_board(chosen, profile, port, build_first=not no_build,
                         say=lambda line: console.print(line, highlight=False))
    where = "booted in QEMU" if profile.emulated else "flashed and booted"
    console.print(f"[green]{profile.name} {where}[/green]: firmware {banner.get('fw')}, model {banner.get('model')}, "
                  f"runtime {banner.get('runtime')}, arena {banner.get('arena')} B, clock {banner.get('clock', '?')}")


def _show(line: str) -> None:
    from kws.monitor import parse_heard, parse_status

    if heard := parse_heard(line):
        console.print(f"[bold green]Heard {heard.word}[/bold green] ({heard.score:.2f}) @{heard.ms}ms")
    elif status := parse_status(line):
        console.print(status.describe(), style="dim" if status.keeps_up else "bold red", highlight=False)
    else:
        console.print(line, markup=False, highlight=False)


@app.command("monitor")
def monitor(
    board: str = BOARD,
    port: str = PORT,
    project: Path = PROJECT,
    expect: str = typer.Option(None, "--expect", help="Exit 0 once this word is heard, 1 at --timeout."),
    timeout: float = typer.Option(None, "--timeout", help="Stop after this many seconds (default: 30 with --expect, else never)."),
    stream: Path = typer.Option(None, "--stream", help="Send this wav to the board as live audio (boards without a mic)."),
    eval_dir: Path = typer.Option(None, "--eval", help="Classify every `<label>/*.wav` of this folder on the device."),
    limit: int = typer.Option(None, "--limit", help="--eval: an evenly spread subset of this many clips."),
    model: Path = typer.Option(None, "--model", help="--eval: the .tflite for the host's side (default build/model.tflite)."),
    out: Path = typer.Option(None, "--out", help="--eval: report folder (default reports/); --record: dataset folder."),
    record_word: str = typer.Option(None, "--record", help="Record training clips of this word from the board's mic."),
    count: int = typer.Option(10, "-n", "--count", help="--record: how many clips."),
    icount_shift: int = typer.Option(None, "--icount-shift", help="Emulated board: 2^N ns per instruction "
                                     "(4: 62.5 M instructions/s, about a 64 MHz Cortex-M4; default 0)."),
    config_path: Path = CONFIG,
) -> None:
    """Watch what the board hears; check a word; evaluate on the device; record clips.

    Examples:
    ```
    kws monitor
    kws monitor --board qemu-stm32f405 --stream yes.wav --expect yes
    kws monitor --eval data/speech_commands/test --limit 200
    kws monitor --board nano33ble --record hey_robot -n 20
    kws monitor --board qemu-stm32f405 --stream yes.wav --icount-shift 4
    ```
    Every 2 s of audio the firmware reports its load (busy time per audio
    time) and the samples it dropped: `load 21% at 64 MHz, 0 samples dropped`.
    """
    from kws.config import load_config
    from kws.device.session import identify, open_session

    modes = [m for m in (eval_dir, record_word, stream) if m is not None]
    if len(modes) > 1:
        raise UsageError("--eval, --record and --stream: pick one")
    config = load_config(config_path)
    chosen, profile = _project_and_board(config, board, project)
    if icount_shift is not None and not profile.emulated:
        raise UsageError(f"--icount-shift: {profile.name} is a real board; it only applies to the emulated one")
    with open_session(chosen, profile, port, icount_shift=icount_shift) as link:
        if eval_dir is not None:
            _evaluate(link, chosen, eval_dir, limit, model or config.paths.model,
                      out or config.paths.reports)
            return
        if record_word is not None:
            _record(link, record_word, count, out or config.data.manifest.parent / "board_recordings")
            return
        if stream is not None:
            from kws.monitor import stream_wav

            identify(link)
            stream_wav(link, stream)
        if expect is not None:
            from kws.monitor import check_received, watch

            wait = 30.0 if timeout is None else timeout
            heard = watch(link, expect=expect, timeout=wait, show=_show)
            _report_skipped(link)
            check_received(link, wait, profile.serial.baud)
            if heard is None:
                console.print(f"[red]did not hear '{expect}' within {wait:.0f} s[/red]")
                raise typer.Exit(1)
            raise typer.Exit(0)
        from kws.monitor import check_received, watch

        if profile.emulated and stream is None:
            console.print("the emulated board has no microphone: give it audio with --stream WAV, "
                          "or evaluate with --eval DIR", style="yellow")
        try:
            watch(link, timeout=timeout, show=_show)
        except KeyboardInterrupt:
            console.print("stopped")
            return
        finally:
            _report_skipped(link)
        check_received(link, timeout, profile.serial.baud)


def _report_skipped(link) -> None:
    if link.skipped:
        console.print(f"skipped {link.skipped} damaged line(s) from the device (noise on the serial line? "
                      "check the cable and the baud rate)", style="yellow", highlight=False)


def _evaluate(link, project, folder: Path, limit: int | None, model_path: Path, out: Path) -> None:
    import hashlib

    from kws.device.session import check_banner, identify
    from kws.monitor import eval_clips, evaluate, write_report

    if not model_path.is_file():
        raise KwsError(f"--model {model_path}: no such file; pass the .tflite the firmware was exported from")
    model = model_path.read_bytes()
    if hashlib.sha256(model).hexdigest() != project.model_sha256:
        raise UsageError(f"--model {model_path} is not the model in {project.path}; pass the exported .tflite")
    check_banner(identify(link), project)
    clips = eval_clips(folder, project.labels, limit)
    with console.status("") as status:
        report = evaluate(link, clips, project.labels, model, project.frontend, board=project.board,
                          model_id=project.model_id,
                          progress=lambda done, total: status.update(f"clip {done}/{total} on the device"))
    summary = report.summary()
    table = Table("", "device", "host")
    table.add_row(f"accuracy ({summary['clips']} clips)", f"{summary['device_accuracy']:.1%}", f"{summary['host_accuracy']:.1%}")
    console.print(table)
    console.print(f"bit-exact on {summary['bit_exact_clips']}/{summary['clips']} clips; model {summary['device_model_ms_median']} ms "
                  f"on the device; {summary['clips_per_second']} clips/s over the link")
    for path in write_report(report, out):
        console.print(f"  wrote {path}")


def _record(link, word: str, count: int, out: Path) -> None:
    from kws.labels import label_for
    from kws.device.session import identify
    from kws.monitor import record

    identify(link)
    label = label_for(word)
    paths = record(link, label, count, out, announce=lambda i: console.print(f"say '{word}' now ({i + 1}/{count})"))
    console.print(f"recorded {len(paths)} clips into {out / label}; add them with `kws data import {out}`")
