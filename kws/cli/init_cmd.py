"""`kws init`: write a commented kws.toml project file."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import typer

from kws.atomic import write_text_atomic
from kws.cli import app
from kws.cli.options import comma_list
from kws.errors import UsageError


def config_template() -> str:
    """The commented kws.toml with every key at its default: the literal block
    of kws.config's documentation, so the two never drift apart."""
    import kws.config

    doc = kws.config.__doc__ or ""
    block = doc.split("::", 1)[1].split("\n\nRelative paths", 1)[0]
    header = (
        "# kws project file: every kws command reads it (--config, default ./kws.toml);\n"
        "# command-line flags override it. Relative paths are relative to this file.\n\n"
    )
    return header + textwrap.dedent(block).strip() + "\n"


@app.command("init")
def init(
    path: Path = typer.Option(Path("kws.toml"), "--config", "-c", "--path",
                              help="Where to write the project file (the --config every command reads)."),
    words: str = typer.Option(None, "--words", "-w", help="Comma-separated keywords, e.g. \"yes,no\" or \"hey robot\"."),
    board: str = typer.Option(None, "--board", "-b", help="Board profile (see `kws boards`)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Write a commented kws.toml (keywords, data sources, model size budget,
    board) that every command reads; flags override it.

    Examples:
    ```
    kws init
    kws init --words "hey robot,stop" --board esp32
    ```
    """
    from kws.boards import load_board
    from kws.config import load_config

    if path.exists() and not force:
        raise UsageError(f"{path} exists; edit it, or pass --force to replace it")
    text = config_template()
    if words:
        keywords = comma_list(words)
        if not keywords:
            raise UsageError('--words: give at least one word, e.g. --words "yes,no"')
        text = re.sub(r"^keywords = .*?(\s+#)", lambda m: f"keywords = {json.dumps(keywords)}{m[1]}", text, count=1, flags=re.M)
    if board:
        load_board(board)
        text = re.sub(r'^name = "[^"]*"', f'name = "{board}"', text, count=1, flags=re.M)
    write_text_atomic(path, text)
    load_config(path)  # what we wrote must read back
    typer.echo(f"wrote {path}; next: kws data ... then kws train")
