"""``_silence_`` clips: 1 s windows of background-noise recordings plus digital silence.

Each noise file is cut in time order: its first 80 % feeds train, the next
10 % val, the last 10 % test, so no stretch of noise is in two splits.
Digital silence (all zeros) is one clip, in train: byte-identical clips live
in one split (the manifest keeps one row per content hash).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kws.audio.io import SAMPLE_RATE, load_wav, write_wav
from kws.data.manifest import SILENCE
from kws.data.batch import Batch
from kws.data.validate import Verdict
from kws.errors import AudioFileError

BACKGROUND_NOISE = "_background_noise_"


def split_at(fraction: float) -> str:
    """train for the first 80 % of a recording, then val, then test."""
    return "train" if fraction < 0.8 else "val" if fraction < 0.9 else "test"


def add_noise_clips(noise_files: list[Path], out_dir: Path, batch: Batch, hop_s: float = 1.0) -> None:
    """Cut ``noise_files`` into 1 s clips in ``out_dir``, add them and digital silence to ``batch``."""
    batch.roots.append(out_dir)
    hop = int(hop_s * SAMPLE_RATE)
    for noise in noise_files:
        try:
            samples = load_wav(noise, resample=True, to_mono=True, convert_float=True)
        except AudioFileError as err:
            batch.rejected.append(Verdict(noise, "", 0.0, str(err).split(": ", 1)[-1]))
            continue
        starts = range(0, len(samples) - SAMPLE_RATE + 1, hop)
        for k, start in enumerate(starts):
            split = split_at(k / len(starts))
            path = write_wav(out_dir / f"{noise.stem}_{k:04d}.wav", samples[start:start + SAMPLE_RATE])
            batch.add(path, label=SILENCE, speaker=f"noise:{noise.stem}:{split}", source="noise", split=split)
    path = write_wav(out_dir / "digital.wav", np.zeros(SAMPLE_RATE, np.int16))
    batch.add(path, label=SILENCE, speaker="digital", source="noise", split="train")
