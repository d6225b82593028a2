"""Record keywords from the computer's microphone: countdown, trim, reject bad takes.

``process_take`` is the pure part (trim the silence around the word, reject
clipped, silent or too-long takes, centre the word in one second);
``record`` drives sounddevice.  Takes are saved as
``<word>/<speaker>_nohash_<n>.wav`` so the folder importer reads them too.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from kws.audio.io import SAMPLE_RATE, write_wav
from kws.data.folders import NOHASH
from kws.data.manifest import split_for
from kws.data.batch import Batch
from kws.data.signal import place_in_second, voiced_span
from kws.data.validate import FULL_SCALE
from kws.errors import KwsError, UsageError

TAKE_S = 1.5
MAX_CLIPPED = 3  # full-scale samples tolerated in a take


@dataclass
class Take:
    """A processed take: 1 s of int16 audio, or the reason it was rejected."""

    samples: np.ndarray | None
    reason: str | None = None


def process_take(samples: np.ndarray) -> Take:
    """Trim and centre a raw int16 take, or say why it is unusable."""
    samples = np.asarray(samples, np.int16).reshape(-1)
    clipped = int(np.count_nonzero(np.abs(samples.astype(np.int32)) >= FULL_SCALE))
    if clipped > MAX_CLIPPED:
        return Take(None, f"clipped ({clipped} samples at full scale): speak softer or move back")
    span = voiced_span(samples)
    if span is None:
        return Take(None, "silent: nothing heard, speak closer to the microphone")
    word = samples[span[0]:span[1]]
    if len(word) > SAMPLE_RATE:
        return Take(None, f"too long ({len(word) / SAMPLE_RATE:.1f} s of sound): say only the word, "
                          "in a quiet room")
    return Take(place_in_second(word, 0.5))


def input_device(devices: list[dict], default: int | None) -> int:
    """The index of the input device to use; KwsError when there is none."""
    inputs = [i for i, d in enumerate(devices) if d.get("max_input_channels", 0) > 0]
    if not inputs:
        raise KwsError("no microphone found (no audio input device); connect one, or record "
                       "elsewhere and use `kws data import DIR`")
    return default if default in inputs else inputs[0]


def _sounddevice():
    try:
        import sounddevice
    except OSError:
        raise KwsError("PortAudio is missing, so kws cannot use the microphone; install it "
                       "(apt-get install libportaudio2) or use `kws data import DIR`") from None
    return sounddevice


def record(batch: Batch, out_dir: Path, word: str, n: int, speaker: str, *,
           say: Callable[[str], None] = print, countdown: int = 3, max_tries: int = 3) -> int:
    """Record ``n`` good takes of ``word`` into ``out_dir/word``; returns how many were kept."""
    if not re.fullmatch(r"[A-Za-z0-9.-]+", speaker):
        raise UsageError(f"--speaker {speaker!r}: use letters, digits, '.' and '-' only")
    sd = _sounddevice()
    try:
        device = input_device(list(sd.query_devices()), sd.default.device[0])
    except sd.PortAudioError as err:
        raise KwsError(f"cannot open the audio system ({err}); check the microphone") from None
    folder = out_dir / word
    batch.roots.append(folder)
    first = 1 + max((int(p.stem.split(NOHASH)[1]) for p in folder.glob(f"{speaker}{NOHASH}*.wav")
                     if p.stem.split(NOHASH)[1].isdigit()), default=-1)
    kept = 0
    for index in range(first, first + n):
        for attempt in range(max_tries):
            say(f"take {index - first + 1}/{n}: say '{word}' after the countdown")
            for tick in range(countdown, 0, -1):
                say(f"  {tick}...")
                time.sleep(1)
            say("  speak now")
            raw = sd.rec(int(TAKE_S * SAMPLE_RATE), samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                         device=device)
            sd.wait()
            take = process_take(raw)
            if take.samples is not None:
                write_wav(folder / f"{speaker}{NOHASH}{index}.wav", take.samples)
                kept += 1
                break
            say(f"  rejected: {take.reason}")
    for path in sorted(folder.glob(f"*{NOHASH}*.wav")):  # earlier takes stay in the manifest too
        owner = path.stem.split(NOHASH)[0]
        batch.add(path, label=word, speaker=owner, source="record", split=split_for(owner))
    return kept
