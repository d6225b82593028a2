"""The kws cache folder and a small JSON store keyed by content hash.

Downloads and per-file facts live under ``$KWS_CACHE_DIR`` (default
``$XDG_CACHE_HOME/kws`` or ``~/.cache/kws``), never in the project or in git.
Entries are keyed by the sha256 of the content they describe, so a changed
file simply misses the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from kws.atomic import write_text_atomic


def cache_dir(*parts: str) -> Path:
    """A folder under the kws cache (created on demand)."""
    base = os.environ.get("KWS_CACHE_DIR")
    if not base:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kws"
    path = Path(base, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class JsonStore:
    """A dict persisted as one JSON file in the cache; ``save`` writes atomically."""

    def __init__(self, name: str) -> None:
        self.path = cache_dir() / f"{name}.json"
        try:
            self._data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._data = {}
        self._dirty = False

    def get(self, key: str) -> dict | None:
        return self._data.get(key)

    def put(self, key: str, value: dict) -> None:
        self._data[key] = value
        self._dirty = True

    def save(self) -> None:
        if self._dirty:
            write_text_atomic(self.path, json.dumps(self._data, separators=(",", ":")))
            self._dirty = False
