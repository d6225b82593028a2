"""Atomic artifact writes: a temp file in the target folder, then rename.

The file gets the mode a plain ``open()`` would give it (0666 less the
umask), not the temp file's private 0600.

A path kws cannot write (a folder, a read-only or virtual file system, no
permission) is a one-line KwsError naming it, never a traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kws.errors import KwsError


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so readers never see a partial file."""
    path = Path(path)
    if path.is_dir():
        raise KwsError(f"{path}: is a folder; give a file name (e.g. {path / 'out'}) or another path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _unwritable(path, err) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise _unwritable(path, err) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0o22)  # the only way to read it is to set it: put it back at once
    os.umask(mask)
    return mask


def _unwritable(path: Path, err: OSError) -> KwsError:
    reason = err.strerror or type(err).__name__
    return KwsError(f"{path}: cannot write there ({reason}); pick a folder you can write to")
