"""What every benchmark area shares: where ../shared is, the row format, a private kws cache."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PEERS = SHARED / "peers"
DEV_SET = SHARED / "data" / "speech_commands_test_dev"
HARNESS = REPO / "bench" / "harness"
REPORTS = REPO / "reports"


def row(name: str, value: float | None, unit: str, reference: float | None, note: str) -> dict:
    """One results row: the figure, its reference and their ratio (floats to 4 decimals)."""
    ratio = round(value / reference, 3) if value is not None and reference else None
    if isinstance(value, float):
        value = round(value, 4)
    return {"name": name, "value": value, "unit": unit, "reference": reference, "reference_note": note,
            "ratio": ratio}


@contextmanager
def private_cache(folder: Path) -> Iterator[Path]:
    """KWS_CACHE_DIR set to ``folder`` while the block runs (cold caches, no pollution)."""
    old = os.environ.get("KWS_CACHE_DIR")
    os.environ["KWS_CACHE_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if old is None:
            os.environ.pop("KWS_CACHE_DIR", None)
        else:
            os.environ["KWS_CACHE_DIR"] = old
