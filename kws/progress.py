"""Rich progress bars with ETA, on stderr, silent when stderr is not a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn, TransferSpeedColumn)

_console = Console(stderr=True)


def bar(kind: str = "items") -> Progress:
    """A progress bar for counting ``items`` or ``bytes``; use as a context manager."""
    middle = [DownloadColumn(), TransferSpeedColumn()] if kind == "bytes" else [MofNCompleteColumn()]
    return Progress(TextColumn("{task.description}"), BarColumn(), *middle, TimeRemainingColumn(),
                    console=_console, transient=True, disable=not _console.is_terminal)
