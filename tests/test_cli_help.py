"""Every help text renders as written: placeholders such as <board> and <label> survive the markup."""

from __future__ import annotations

import re

from typer.main import get_command

from kws.cli import app
from test_cli import _command_paths, runner

PLACEHOLDER = re.compile(r"<[a-z_]+>")


def _command(path: list[str]):
    command = get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def test_placeholders_in_help_texts_are_printed() -> None:
    checked = 0
    for path in _command_paths():
        command = _command(path)
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        wanted = {m for text in texts for m in PLACEHOLDER.findall(text)}
        if not wanted:
            continue
        output = runner.invoke(app, [*path, "--help"], terminal_width=200).output
        for placeholder in wanted:
            assert placeholder in output, (path, placeholder)
            checked += 1
    assert checked >= 4  # <label> (import, monitor --eval), <board> (export --out, flash/monitor --project)
