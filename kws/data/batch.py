"""Add a batch of validated clips to the project's manifest and write the reports.

Every source (Speech Commands, folders, TTS, microphone) fills a ``Batch``:
each file is validated once, good clips become manifest rows, bad ones go to
``rejected.csv`` with their reason.  ``save`` merges the batch into the
manifest, replacing earlier rows from the same folders, keeps one row per
content hash (a symlink, a copied folder or a word asked for twice adds
nothing, and no byte-identical clip sits in two splits; the duplicates are
listed in ``rejected.csv``), and saves the class balance next to it.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from kws.atomic import write_text_atomic
from kws.labels import normal_label
from kws.data.manifest import (Clip, class_balance, read_manifest, relative_to_manifest,
                               write_manifest)
from kws.data.validate import Validator, Verdict, write_rejects

REJECTED_NAME = "rejected.csv"
BALANCE_NAME = "class_balance.json"


@dataclass
class Batch:
    """Clips collected from one source for one manifest."""

    manifest: Path
    roots: list[Path] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    rejected: list[Verdict] = field(default_factory=list)
    validator: Validator = field(default_factory=Validator)

    def add(self, path: str | os.PathLike, *, label: str, speaker: str, source: str, split: str,
            engine: str = "", voice: str = "") -> Clip | None:
        """Validate ``path`` and keep it as a clip, or record why it is left out;
        ``label`` goes through ``normal_label`` (folder 'Yes' -> label 'yes')."""
        label = normal_label(label)
        verdict = self.validator.check(path, label)
        if verdict.reason is not None:
            self.rejected.append(verdict)
            return None
        clip = Clip(path=relative_to_manifest(path, self.manifest.parent), label=label,
                    speaker=speaker, source=source, split=split, duration_s=verdict.duration_s,
                    engine=engine, voice=voice, sha256=verdict.sha256)
        self.clips.append(clip)
        return clip


@dataclass
class Saved:
    """What ``save`` wrote."""

    manifest: Path
    rejected_report: Path
    balance_file: Path
    balance: dict
    added: int
    rejected: int
    total: int
    duplicates: int = 0


def _under(path: Path, roots: list[Path]) -> bool:
    path = Path(os.path.abspath(path))
    return any(path == root or root in path.parents for root in roots)


def save(batch: Batch) -> Saved:
    """Merge ``batch`` into its manifest (atomic) and write rejected.csv and class_balance.json."""
    batch.validator.save()
    manifest_dir = batch.manifest.parent
    roots = [Path(os.path.abspath(r)) for r in batch.roots]
    kept = [c for c in (read_manifest(batch.manifest) if batch.manifest.is_file() else [])
            if not _under(c.resolve(manifest_dir), roots)]
    clips, duplicates = _one_per_content(kept + batch.clips, manifest_dir)
    new = {id(clip) for clip in batch.clips}
    added = sum(id(clip) in new for clip in clips)
    write_manifest(batch.manifest, clips)

    report = manifest_dir / REJECTED_NAME
    old = []
    if report.is_file():
        with report.open(newline="", encoding="utf-8") as handle:
            old = [Verdict(Path(r["path"]), "", 0.0, r["reason"]) for r in csv.DictReader(handle)
                   if not _under(Path(r["path"]), roots)]
    write_rejects(report, old + batch.rejected + duplicates)

    balance = class_balance(clips)
    balance_file = write_text_atomic(manifest_dir / BALANCE_NAME, json.dumps(balance, indent=2) + "\n")
    return Saved(batch.manifest, report, balance_file, balance, added, len(batch.rejected), len(clips),
                 len(duplicates))


def _one_per_content(clips: list[Clip], manifest_dir: Path) -> tuple[list[Clip], list[Verdict]]:
    """The first clip of each content hash (of each file when a row has no
    hash), and a rejection for every later one naming the clip it repeats."""
    first: dict[str, Clip] = {}
    unique, duplicates = [], []
    for clip in clips:
        key = clip.sha256 or os.path.abspath(clip.resolve(manifest_dir))
        if key in first:
            path = clip.resolve(manifest_dir)
            if path != first[key].resolve(manifest_dir):
                duplicates.append(Verdict(path, clip.sha256, clip.duration_s,
                                          f"duplicate: same bytes as {first[key].resolve(manifest_dir)}"))
            continue
        first[key] = clip
        unique.append(clip)
    return unique, duplicates
