"""The dataset manifest: one CSV row per clip (path, label, speaker, source, split, duration).

This module is the contract between data, training and evaluation: training
reads clips only through ``read_manifest``.  Paths are stored relative to the
manifest's folder when the clip lies below it, absolute otherwise (imported
user folders stay where they are).  Splits follow Speech Commands' own rule
(``split_for``): a hash of the speaker (or TTS engine:voice), so no speaker is
in two splits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from kws.atomic import write_text_atomic
from kws.labels import SILENCE, UNKNOWN, normal_label
from kws.errors import KwsError
__all__ = ["SILENCE", "UNKNOWN", "SOURCES", "SPLITS", "DEFAULT_MANIFEST", "Clip", "COLUMNS", "split_for",
           "read_manifest", "write_manifest", "relative_to_manifest", "class_balance"]  # labels' names re-exported

SOURCES = ("speech_commands", "import", "synth", "record", "noise")
SPLITS = ("train", "val", "test")
DEFAULT_MANIFEST = Path("data") / "manifest.csv"

# Speech Commands' input_data.py: MAX_NUM_WAVS_PER_CLASS = 2**27 - 1
_MAX_NUM_WAVS_PER_CLASS = 2**27 - 1


@dataclass
class Clip:
    """One audio clip of the dataset."""

    path: str
    label: str
    speaker: str
    source: str
    split: str
    duration_s: float
    engine: str = ""
    voice: str = ""
    sha256: str = ""

    def resolve(self, manifest_dir: str | os.PathLike) -> Path:
        """Absolute path of the clip, given the folder of its manifest."""
        path = Path(self.path)
        return path if path.is_absolute() else Path(manifest_dir) / path


COLUMNS = tuple(f.name for f in fields(Clip))
_REQUIRED = COLUMNS[:6]


def split_for(speaker: str, val_pct: float = 10, test_pct: float = 10) -> str:
    """Speech Commands' ``which_set`` rule on a speaker id: 'train', 'val' or 'test'."""
    digest = int(hashlib.sha1(speaker.encode("utf-8")).hexdigest(), 16)
    percentage = (digest % (_MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / _MAX_NUM_WAVS_PER_CLASS)
    if percentage < val_pct:
        return "val"
    if percentage < val_pct + test_pct:
        return "test"
    return "train"


def _manifest_text(path: Path) -> str:
    """The manifest's text: UTF-8, with or without the BOM spreadsheet programs write."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise KwsError(f"{path}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x}); save the manifest as "
                       "UTF-8 (\"CSV UTF-8\" in spreadsheet programs) or regenerate it with `kws data import`") from None


def read_manifest(path: str | os.PathLike) -> list[Clip]:
    """Read a manifest CSV; a missing file or column, or a split other than
    train/val/test, is a one-line KwsError.
    Labels go through ``normal_label`` (a hand-edited 'Yes' is 'yes')."""
    path = Path(path)
    if not path.is_file():
        raise KwsError(f"{path}: no manifest; create one with `kws data import DIR`, `kws data synth` "
                       "or `kws data speech-commands`")
    reader = csv.DictReader(io.StringIO(_manifest_text(path), newline=""))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise KwsError(f"{path}: manifest lacks column(s) {', '.join(missing)}; "
                       "regenerate it with `kws data import`")
    clips = []
    for line, row in enumerate(reader, start=2):
        try:
            clip = Clip(**{c: row.get(c) or "" for c in COLUMNS[:5]}, duration_s=float(row["duration_s"]),
                        **{c: row.get(c) or "" for c in COLUMNS[6:]})
        except (TypeError, ValueError):
            raise KwsError(f"{path}:{line}: duration_s {row['duration_s']!r} is not a number; "
                           "fix the row or regenerate the manifest") from None
        if clip.split not in SPLITS:
            raise KwsError(f"{path}:{line}: split {clip.split!r} is not one of {', '.join(SPLITS)}; "
                           "fix the row or regenerate the manifest")
        clip.label = normal_label(clip.label)
        clips.append(clip)
    return clips


def write_manifest(path: str | os.PathLike, clips: list[Clip]) -> Path:
    """Write ``clips`` to ``path`` atomically, sorted by split, label and path."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for clip in sorted(clips, key=lambda c: (c.split, c.label, c.path)):
        row = asdict(clip)
        row["duration_s"] = f"{clip.duration_s:.4f}"
        writer.writerow(row)
    return write_text_atomic(path, buffer.getvalue())


def relative_to_manifest(path: str | os.PathLike, manifest_dir: str | os.PathLike) -> str:
    """The path to store: relative when below the manifest's folder, else absolute.
    Symlinks are kept as they are (a linked file stays where the user put it)."""
    path = Path(os.path.abspath(path))
    try:
        return path.relative_to(os.path.abspath(manifest_dir)).as_posix()
    except ValueError:
        return str(path)


def class_balance(clips: list[Clip]) -> dict:
    """Clip counts per label and split: {label: {"train": n, "val": n, "test": n, "total": n}}."""
    counts = Counter((c.label, c.split) for c in clips)
    balance: dict[str, dict[str, int]] = {}
    for label in sorted({c.label for c in clips}):
        row = {split: counts[(label, split)] for split in SPLITS}
        row["total"] = sum(row.values())
        balance[label] = row
    return balance


def split_notes(balance: dict, minimum: int = 10) -> list[str]:
    """One line per split that holds every clip of some labels (with ``minimum``
    clips or more), naming the fix: the speaker hash does that when every
    speaker of a folder belongs to, e.g., Speech Commands' test set."""
    alone: dict[str, list[str]] = {}
    for label, row in balance.items():
        only = [split for split in SPLITS if row[split] == row["total"]]
        if row["total"] >= minimum and only:
            alone.setdefault(only[0], []).append(label)
    notes = []
    for split, labels in alone.items():
        names = ", ".join(labels)
        if split == "train":
            notes.append(f"every clip of {names} is in 'train', none to validate or test on; add other "
                         "speakers, or import a held-out folder with `kws data import DIR --split test`")
        else:
            notes.append(f"every clip of {names} is in '{split}' (the speaker hash put all their speakers there), "
                         "none to train on; to train on them, import the folder again with "
                         "`kws data import DIR --split train`")
    return notes
