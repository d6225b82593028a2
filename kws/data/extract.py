"""Safe tar extraction: refuse absolute paths, ``..``, links and devices; write only inside DEST.

Members are streamed into a staging folder inside DEST and moved into place
only when the whole archive has been read, so a refused or broken archive
leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import Callable

from kws.errors import KwsError
from kws.progress import bar

CHUNK = 1 << 20


class UnsafeArchive(KwsError):
    """The archive tries to write outside DEST or holds links or devices."""


def member_name(member: tarfile.TarInfo, archive: Path) -> str:
    """The member's normalized relative name; raises UnsafeArchive for anything unsafe."""
    name = member.name
    why = None
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or (len(name) > 1 and name[1] == ":"):
        why = "has an absolute path"
    elif ".." in PurePosixPath(name.replace("\\", "/")).parts:
        why = "climbs out with '..'"
    elif member.issym() or member.islnk():
        why = "is a link"
    elif not (member.isfile() or member.isdir()):
        why = "is a device, fifo or other special file"
    if why:
        raise UnsafeArchive(f"{archive}: refused: member {name!r} {why}; this is not a safe archive, "
                            "nothing was extracted (delete it and download it again)")
    parts = [p for p in PurePosixPath(name).parts if p not in (".", "")]
    return "/".join(parts)


class _Counting:
    """A read-only file wrapper that reports how many bytes were read."""

    def __init__(self, handle, on_read: Callable[[int], None]) -> None:
        self._handle, self._on_read = handle, on_read

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._on_read(len(data))
        return data


def safe_extract(archive: Path, dest: Path, keep: Callable[[str], bool]) -> list[str]:
    """Extract the regular files of ``archive`` whose name ``keep`` accepts into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = dest / f".extracting-{archive.name}"
    shutil.rmtree(staging, ignore_errors=True)
    names = []
    try:
        with open(archive, "rb") as raw, bar("bytes") as progress:
            task = progress.add_task(f"extract {archive.name}", total=archive.stat().st_size)
            counted = _Counting(raw, lambda n: progress.advance(task, n))
            try:
                with tarfile.open(fileobj=counted, mode="r|*") as tar:
                    for member in tar:
                        name = member_name(member, archive)
                        if not member.isfile() or not name or not keep(name):
                            continue
                        target = staging / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with tar.extractfile(member) as src, open(target, "wb") as out:
                            shutil.copyfileobj(src, out, CHUNK)
                        names.append(name)
            except (tarfile.TarError, EOFError, OSError) as err:
                raise KwsError(f"{archive}: not a readable tar archive ({err}); delete it and download "
                               "it again") from None
        inside = dest.resolve()
        for name in names:
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if inside not in target.parent.resolve().parents and target.parent.resolve() != inside:
                raise KwsError(f"{target.parent}: a link that leads out of {dest}; remove it and run again")
            os.replace(staging / name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return names
