"""`kws doctor`: check this machine for every kws stage."""

from __future__ import annotations

import json

import typer

from kws.cli import app


@app.command("doctor")
def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
    board: list[str] = typer.Option(None, "--board", "-b", help="Check that this board's PlatformIO platform, "
                                    "toolchain and framework are installed or can be downloaded (repeatable; "
                                    "default: kws.toml's [board])."),
) -> None:
    """Check Python packages, TensorFlow, PlatformIO, QEMU, the ARM compiler,
    TTS engines and serial ports; print the fix for each problem, and
    whether the project's board (or each --board) can be built for here (a
    real board's first build downloads its platform and toolchain: it needs
    the internet once).

    Exit code 0 when every required check passes, 1 otherwise.

    Examples:
    ```
    kws doctor
    kws doctor --json
    kws doctor --board esp32
    ```
    """
    from kws.boards import load_board
    from kws.config import load_config
    from kws.doctor import as_dicts, run_checks

    checks = run_checks([load_board(name) for name in board or [load_config().board.name]])
    failed = [c for c in checks if c.required and not c.ok]
    if as_json:
        typer.echo(json.dumps({"ok": not failed, "checks": as_dicts(checks)}, indent=2))
    else:
        for c in checks:
            mark = typer.style("ok  ", fg="green") if c.ok else typer.style(
                "FAIL" if c.required else "warn", fg="red" if c.required else "yellow")
            line = f"{mark} {c.name}: {c.detail}"
            if not c.ok and c.fix:
                line += f"  -> {c.fix}"
            typer.echo(line)
        typer.echo("all required checks passed" if not failed else f"{len(failed)} required check(s) failed")
    raise typer.Exit(1 if failed else 0)
