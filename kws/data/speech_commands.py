"""Google Speech Commands: download, verify, safely extract the wanted words, keep the official splits.

Only the wanted words, a deterministic sample of the other words (as
``_unknown_``), ``_background_noise_`` (cut into ``_silence_`` clips), the
split lists and the license are extracted.  Splits come from the dataset's
``validation_list.txt`` / ``testing_list.txt``.  With ``test_set`` the
canonical test archive replaces the main archive's test clips.
"""

from __future__ import annotations

import json
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kws.atomic import write_text_atomic
from kws.cache import cache_dir
from kws.data.download import Unreachable, download
from kws.data.extract import safe_extract
from kws.data.folders import NOHASH, speaker_of, wav_files, word_of
from kws.data.manifest import SILENCE, UNKNOWN
from kws.data.batch import Batch
from kws.data.silence import BACKGROUND_NOISE, add_noise_clips
from kws.errors import KwsError, UsageError
from kws.resources import datasets_dir

DEFAULT_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
LISTS = {"validation_list.txt": "val", "testing_list.txt": "test"}
TEST_SET_FOLDER = "test_set"


@dataclass(frozen=True)
class Archive:
    url: str
    sha256: str
    size: int | None = None

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Recipe:
    version: int
    words: tuple[str, ...]
    main: Archive
    test: Archive | None


def recipe_file() -> Path:
    """datasets/speech_commands.toml, shipped with kws."""
    return datasets_dir() / "speech_commands.toml"


def load_recipe(version: int = 2, path: Path | None = None) -> Recipe:
    """The archive URLs, checksums and word list of one Speech Commands version."""
    path = path or recipe_file()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise KwsError(f"{path}: cannot read the recipe ({err}); fix or remove --recipe") from None
    entry = table.get(f"v{version}")
    if entry is None:
        have = ", ".join(k[1:] for k in table if k.startswith("v"))
        raise UsageError(f"--version {version}: Speech Commands versions known here are {have}")
    test = entry.get("test")
    return Recipe(version, tuple(entry["words"]), Archive(**entry["main"]), Archive(**test) if test else None)


@dataclass(frozen=True)
class Selection:
    """Which archive members to keep, and under which label."""

    words: tuple[str, ...]
    unknown_pct: float

    def label(self, name: str) -> str | None:
        parts = name.split("/")
        if len(parts) != 2 or not parts[1].endswith(".wav") or parts[0].startswith("_"):
            return None
        if parts[0] in self.words:
            return parts[0]
        return UNKNOWN if zlib.crc32(name.encode()) % 10000 < self.unknown_pct * 100 else None

    def keep(self, name: str) -> bool:
        return "/" not in name or name.startswith(BACKGROUND_NOISE + "/") or self.label(name) is not None


def fetch(batch: Batch, dest: Path, words: tuple[str, ...] = DEFAULT_WORDS, *, version: int = 2,
          unknown_pct: float = 10.0, test_set: bool = False, recipe: Recipe | None = None) -> Batch:
    """Download and extract Speech Commands into ``dest`` and add its clips to ``batch``."""
    recipe = recipe or load_recipe(version)
    unknown = [w for w in words if w not in recipe.words]
    if unknown:
        raise UsageError(f"--words: {', '.join(unknown)} not in Speech Commands v{recipe.version} "
                         f"(it has {', '.join(recipe.words)}); use `kws data synth` for other words")
    if not 0 <= unknown_pct <= 100:
        raise UsageError(f"--unknown-pct {unknown_pct}: use a percentage from 0 to 100")
    if test_set and recipe.test is None:
        raise UsageError(f"--test-set: Speech Commands v{recipe.version} has no separate test archive here")
    selection = Selection(tuple(words), unknown_pct)
    _extract_once(recipe.main, dest, selection.keep, {"words": sorted(words), "unknown_pct": unknown_pct})
    lists = {line.strip(): split for name, split in LISTS.items() if (dest / name).is_file()
             for line in (dest / name).read_text().splitlines() if line.strip()}
    batch.roots.append(dest)
    for folder in sorted(p for p in dest.iterdir() if p.is_dir()):
        for wav in sorted(folder.glob("*.wav")):
            name = f"{folder.name}/{wav.name}"
            label, split = selection.label(name), lists.get(name, "train")
            if label is None or (test_set and split == "test"):
                continue
            batch.add(wav, label=label, speaker=wav.stem.split(NOHASH)[0], source="speech_commands",
                      split=split)
    add_noise_clips(sorted((dest / BACKGROUND_NOISE).glob("*.wav")), dest / SILENCE, batch)
    if test_set:
        _add_test_set(batch, recipe.test, dest / TEST_SET_FOLDER, selection)
    return batch


def _extract_once(archive: Archive, dest: Path, keep: Callable[[str], bool], selected: dict) -> None:
    """Download ``archive`` and extract what ``keep`` accepts, unless a run did that already."""
    stamp = dest / f".kws-{archive.name}.json"
    want = {"sha256": archive.sha256, **selected}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        return
    try:
        path = download(archive.url, cache_dir("downloads") / archive.name, archive.sha256)
    except Unreachable as err:
        raise KwsError(f"{err}; connect and run the command again, or import a copy of Speech Commands you "
                       "already have with `kws data import DIR`") from None
    if not safe_extract(path, dest, keep):
        raise KwsError(f"{path}: the archive holds none of the wanted files; delete it and download again")
    write_text_atomic(stamp, json.dumps(want))


def _add_test_set(batch: Batch, archive: Archive, dest: Path, selection: Selection) -> None:
    """The canonical test archive: every clip is test; other words become ``_unknown_``."""
    _extract_once(archive, dest, lambda name: True, {})
    for relative in wav_files(dest):
        folder = relative.parts[0]
        word = word_of(relative)
        label = folder if folder == SILENCE else word if word in selection.words else UNKNOWN
        batch.add(dest / relative, label=label, speaker=speaker_of(relative), source="speech_commands",
                  split="test")
