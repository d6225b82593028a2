"""Import folders of wavs: the Speech Commands layout or any ``<label>/*.wav``.

Accepted layouts (under DIR):
  <label>/<speaker>_nohash_<n>.wav             Speech Commands
  _unknown_/<word>_<speaker>_nohash_<n>.wav    Speech Commands test sets
  _silence_/<n>.wav                            ready-made silence clips
  <label>/<speaker>/<anything>.wav             one folder per speaker
  <label>/<anything>.wav                       no speaker known: each file is its own
A ``_background_noise_`` folder becomes 1 s ``_silence_`` clips (see silence.py).
Files stay where they are; the manifest points at them.  What the layout
cannot place (a wav directly in DIR or nested deeper, a linked folder, which is
not followed) is listed in rejected.csv with the fix, never skipped unsaid.
"""

from __future__ import annotations

from pathlib import Path

from kws.data.manifest import SPLITS, UNKNOWN, split_for
from kws.data.batch import Batch
from kws.data.silence import BACKGROUND_NOISE, add_noise_clips
from kws.data.validate import Verdict
from kws.errors import KwsError, UsageError

NOHASH = "_nohash_"


def speaker_of(relative: Path) -> str:
    """The speaker id a file's place in the layout tells (see the module docstring)."""
    label = relative.parts[0]
    if len(relative.parts) > 2:
        return relative.parts[1]
    stem = relative.stem
    if NOHASH not in stem:
        return f"{label}/{stem}"
    speaker = stem.split(NOHASH)[0]
    if label == UNKNOWN and "_" in speaker:
        speaker = speaker.split("_", 1)[1]
    return speaker


def word_of(relative: Path) -> str:
    """The spoken word of a clip: its folder, or for ``_unknown_/<word>_..._nohash_`` files the word."""
    label, stem = relative.parts[0], relative.stem
    if label == UNKNOWN and NOHASH in stem and "_" in stem.split(NOHASH)[0]:
        return stem.split("_", 1)[0]
    return label


def wav_files(root: Path) -> list[Path]:
    """Wav files at depth 2 or 3 below ``root``, relative, outside hidden and noise folders."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if (path.suffix.lower() == ".wav" and 2 <= len(relative.parts) <= 3
                and relative.parts[0] != BACKGROUND_NOISE
                and not any(p.startswith(".") for p in relative.parts) and path.is_file()):
            found.append(relative)
    return sorted(found)


def unplaced(root: Path) -> list[Verdict]:
    """Wavs and folder links under ``root`` that ``wav_files`` leaves out, each with why and the fix."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(p.startswith(".") for p in relative.parts) or relative.parts[0] == BACKGROUND_NOISE:
            continue
        if path.is_symlink() and path.is_dir():
            reason = (f"a link to a folder ({path.resolve()}), not followed: import that folder itself "
                      "or copy it here")
        elif path.suffix.lower() != ".wav" or not path.is_file() or 2 <= len(relative.parts) <= 3:
            continue
        elif len(relative.parts) == 1:
            reason = f"directly in {root}: move it into a folder named after its word ({root}/<word>/)"
        else:
            reason = "nested deeper than <word>/<speaker>/<file>.wav: move it up into its word's folder"
        found.append(Verdict(path, "", 0.0, reason))
    return found


def import_folder(root: str | Path, batch: Batch, silence_dir: Path, *, split: str | None = None,
                  source: str = "import") -> Batch:
    """Add every wav under ``root`` to ``batch``; ``split`` forces one split for all clips.

    Silence cut from a ``_background_noise_`` folder is written to ``silence_dir``.
    """
    root = Path(root)
    if not root.is_dir():
        raise KwsError(f"{root}: no such folder; pass a folder of <label>/*.wav files")
    if split is not None and split not in SPLITS:
        raise UsageError(f"--split {split}: use one of {', '.join(SPLITS)}")
    files = wav_files(root)
    noise = root / BACKGROUND_NOISE
    if not files and not noise.is_dir():
        raise KwsError(f"{root}: no <label>/*.wav files found; put each word's wavs in a folder "
                       f"named after the word (e.g. {root}/yes/take1.wav)")
    batch.roots.append(root)
    batch.rejected.extend(unplaced(root))
    for relative in files:
        speaker = speaker_of(relative)
        batch.add(root / relative, label=relative.parts[0], speaker=speaker, source=source,
                  split=split or split_for(speaker))
    if noise.is_dir():
        add_noise_clips(sorted(noise.glob("*.wav")), silence_dir, batch)
    return batch
