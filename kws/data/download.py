"""Resumable HTTP downloads into the cache, verified by sha256.

An interrupted download leaves ``<name>.part``; the next attempt (automatic,
or a later run) asks for the rest with an HTTP Range request.  A finished file
whose sha256 differs from the expected one is removed and reported; a cached
file with the right sha256 is reused without touching the network.  When
the server cannot be reached at all, ``Unreachable`` says so (offline).
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from kws.cache import sha256_file
from kws.errors import KwsError
from kws.progress import bar

CHUNK = 1 << 16
TIMEOUT_S = 30
_RETRY_CODES = (408, 429, 500, 502, 503, 504)


class Unreachable(KwsError):
    """Not one byte came: no network, no name resolution, or the server refused."""


class _Incomplete(Exception):
    """The server closed the connection before the whole body arrived."""


def download(url: str, dest: Path, sha256: str, *, attempts: int = 3) -> Path:
    """Fetch ``url`` to ``dest`` (resuming ``dest``.part) and check its sha256."""
    if dest.is_file():
        if sha256_file(dest) == sha256:
            return dest
        dest.unlink()  # a cached copy that no longer matches: fetch it again
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    error: Exception | None = None
    for _ in range(attempts):
        try:
            _fetch(url, part)
            error = None
            break
        except (_Incomplete, urllib.error.URLError, http.client.HTTPException, OSError) as err:
            error = err
            if isinstance(err, urllib.error.HTTPError) and err.code not in _RETRY_CODES:
                raise KwsError(f"{url}: download failed ({_describe(err)}); check the address") from None
    if error is not None:
        done = part.stat().st_size if part.exists() else 0
        if not done and isinstance(error, urllib.error.URLError) and isinstance(error.reason, OSError):
            raise Unreachable(f"{url}: the network is unreachable ({_describe(error)})")
        raise KwsError(f"{url}: download interrupted ({_describe(error)}); run the command again "
                       f"to resume from byte {done}")
    digest = sha256_file(part)
    if digest != sha256:
        part.unlink()
        raise KwsError(f"{url}: checksum mismatch (sha256 {digest[:16]}..., expected {sha256[:16]}...); "
                       "the corrupted download was removed, run the command again to fetch it afresh")
    os.replace(part, dest)
    return dest


def _fetch(url: str, part: Path) -> None:
    """Download (the rest of) ``url`` into ``part``."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # nothing left to send: the part is complete
            return
        raise
    with response:
        if response.status != 206:
            offset = 0
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length is not None else None
        received = offset
        with open(part, "ab" if offset else "wb") as out, bar("bytes") as progress:
            task = progress.add_task(Path(url).name, total=expected, completed=offset)
            while block := response.read(CHUNK):
                out.write(block)
                received += len(block)
                progress.update(task, completed=received)
    if expected is not None and received < expected:
        raise _Incomplete(f"got {received} of {expected} bytes")


def _describe(error: Exception | None) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__
