"""Add a batch of validated clips to the project's manifest and write the reports.

Every source (Speech Commands, folders, TTS, microphone) fills a ``Batch``:
each file is validated once, good clips become manifest rows, bad ones go to
``rejected.csv`` with their reason.  ``save`` merges the batch into the
manifest, replacing earlier rows from the same folders, and saves the class
balance next to it.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from kws.atomic import write_text_atomic
from kws.data.labels import normal_label
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


def _under(path: Path, roots: list[Path]) -> bool:
    path = path.resolve()
    return any(path == root or root in path.parents for root in roots)


def save(batch: Batch) -> Saved:
    """Merge ``batch`` into its manifest (atomic) and write rejected.csv and class_balance.json."""
    batch.validator.save()
    manifest_dir = batch.manifest.parent
    roots = [Path(r).resolve() for r in batch.roots]
    kept = [c for c in (read_manifest(batch.manifest) if batch.manifest.is_file() else [])
            if not _under(c.resolve(manifest_dir), roots)]
    clips = kept + batch.clips
    write_manifest(batch.manifest, clips)

    report = manifest_dir / REJECTED_NAME
    old = []
    if report.is_file():
        with report.open(newline="", encoding="utf-8") as handle:
            old = [Verdict(Path(r["path"]), "", 0.0, r["reason"]) for r in csv.DictReader(handle)
                   if not _under(Path(r["path"]), roots)]
    write_rejects(report, old + batch.rejected)

    balance = class_balance(clips)
    balance_file = write_text_atomic(manifest_dir / BALANCE_NAME, json.dumps(balance, indent=2) + "\n")
    return Saved(batch.manifest, report, balance_file, balance, len(batch.clips), len(batch.rejected),
                 len(clips))
