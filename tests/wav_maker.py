"""Small real wav files for data tests: a voiced tone burst, distinct per seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone_clip(seed: int, rate: int = 16000) -> np.ndarray:
    """1 s of int16: a 0.4 s tone with a little noise (not silent, not clipped)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rate) / rate
    burst = (np.abs(t - 0.5) < 0.2) * np.sin(2 * np.pi * (200 + 10 * seed) * t) * 8000
    return (burst + rng.normal(0, 100, rate)).astype(np.int16)


def write_clip(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone_clip(seed), 16000, subtype="PCM_16")
    return path
