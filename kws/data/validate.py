"""Check every clip once: readable, whole, 16 kHz, mono, 16-bit, length, clipping, silence.

The facts measured on a file (rate, channels, peak, ...) are cached by the
sha256 of its bytes, so a clip is decoded once however often it is imported;
the verdict is then a cheap rule on those facts.  Bad clips are left out of
the manifest and listed with their reason in a CSV report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from kws.atomic import write_text_atomic
from kws.audio.io import SAMPLE_RATE
from kws.cache import JsonStore
from kws.data.manifest import SILENCE

MIN_DURATION_S = 0.25
MAX_SAMPLES = SAMPLE_RATE  # clips are at most 1 s
FULL_SCALE = 32767
MAX_CLIPPED_FRACTION = 0.01  # share of samples at full scale
SILENT_PEAK = 64  # about -54 dBFS
_FACTS_VERSION = 2  # 2: declared_frames (truncated files)


@dataclass
class Verdict:
    """The outcome of validating one file; ``reason`` is None when the clip is usable."""

    path: Path
    sha256: str
    duration_s: float
    reason: str | None


def measure(data: bytes) -> dict:
    """Facts about wav bytes: format, length, peak and clipped-sample count (or an error)."""
    facts: dict = {"v": _FACTS_VERSION}
    try:
        with sf.SoundFile(io.BytesIO(data)) as handle:
            facts.update(rate=handle.samplerate, channels=handle.channels, subtype=handle.subtype,
                         frames=handle.frames)
            samples = handle.read(dtype="int16")
    except (RuntimeError, sf.LibsndfileError) as err:
        facts["error"] = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        return facts
    declared = _declared_data_bytes(data)
    if declared is not None and facts["channels"]:
        facts["declared_frames"] = declared // (2 * facts["channels"]) if facts["subtype"] == "PCM_16" else None
    wide = np.abs(samples.astype(np.int32))
    facts["peak"] = int(wide.max()) if wide.size else 0
    facts["clipped"] = int(np.count_nonzero(wide >= FULL_SCALE))
    return facts


def judge(facts: dict, label: str) -> str | None:
    """Why a clip with these facts is unusable for ``label``, or None."""
    if "error" in facts:
        return f"unreadable ({facts['error']}); re-export it as 16-bit PCM wav"
    if (facts.get("declared_frames") or 0) > facts["frames"]:
        rate = facts["rate"] or SAMPLE_RATE
        return (f"truncated (the header promises {facts['declared_frames'] / rate:.2f} s, the file holds "
                f"{facts['frames'] / rate:.2f} s): copy or export it again")
    if facts["rate"] != SAMPLE_RATE:
        return f"sample rate {facts['rate']} Hz, needs {SAMPLE_RATE} Hz (sox in.wav -r {SAMPLE_RATE} out.wav)"
    if facts["channels"] != 1:
        return f"{facts['channels']} channels, needs mono (sox in.wav -c 1 out.wav)"
    if facts["subtype"] != "PCM_16":
        return f"samples are {facts['subtype']}, needs 16-bit PCM (sox in.wav -b 16 out.wav)"
    duration = facts["frames"] / SAMPLE_RATE
    if duration < MIN_DURATION_S:
        return f"too short ({duration:.2f} s), needs at least {MIN_DURATION_S} s"
    if facts["frames"] > MAX_SAMPLES:
        return f"too long ({duration:.2f} s), needs at most 1 s: trim it around the word"
    if facts["clipped"] > MAX_CLIPPED_FRACTION * facts["frames"]:
        return f"clipped ({facts['clipped']} samples at full scale): record it less loud"
    if label != SILENCE and facts["peak"] < SILENT_PEAK:
        return f"silent (peak {facts['peak']} of 32767): nothing to hear"
    return None


def _declared_data_bytes(data: bytes) -> int | None:
    """The size a RIFF/WAVE file's header gives its ``data`` chunk, or None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4:offset + 8], "little")
        if data[offset:offset + 4] == b"data":
            return size
        offset += 8 + size + (size & 1)
    return None


class Validator:
    """Validates files through the fact cache; call ``save`` when done."""

    def __init__(self) -> None:
        self._store = JsonStore("clip_facts")

    def check(self, path: str | os.PathLike, label: str) -> Verdict:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            return Verdict(path, "", 0.0, f"unreadable ({err.strerror})")
        digest = hashlib.sha256(data).hexdigest()
        facts = self._store.get(digest)
        if facts is None or facts.get("v") != _FACTS_VERSION:
            facts = measure(data)
            self._store.put(digest, facts)
        duration = facts.get("frames", 0) / max(facts.get("rate", SAMPLE_RATE), 1)
        return Verdict(path, digest, round(duration, 4), judge(facts, label))

    def save(self) -> None:
        self._store.save()


def write_rejects(path: str | os.PathLike, rejected: list[Verdict]) -> Path:
    """The report of left-out clips: a CSV with path and reason, written atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "reason"])
    for verdict in sorted(rejected, key=lambda v: str(v.path)):
        writer.writerow([str(verdict.path), verdict.reason])
    return write_text_atomic(path, buffer.getvalue())
