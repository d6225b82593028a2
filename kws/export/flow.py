"""The export stage in one call: a .tflite model becomes a board's firmware
project (model library + PlatformIO project), as ``kws export``, ``kws demo``
and the benchmarks run it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from kws.boards import Board, load_board
from kws.export.exporter import ExportResult, export_model
from kws.export.project import Project, render_project


def export_project(model: str | Path | bytes, board: str | Board, out_dir: str | Path, *, runtime: str,
                   labels: Sequence[str] | None = None, period_ms: int | None = None,
                   force: bool = False) -> tuple[ExportResult, Project]:
    """Export ``model`` for ``board`` and ``runtime`` and write the project into
    ``out_dir``, owning only the files kws generates (``force``: also those
    the user changed)."""
    profile = board if isinstance(board, Board) else load_board(board)
    result = export_model(model, out_dir, runtime=runtime, board=profile, labels=labels, period_ms=period_ms,
                          write=False)
    return result, render_project(profile, result, force=force)
