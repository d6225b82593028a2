"""Augmentation that closes the gap between synthetic, clean and real speech.

Waveform side (int16 in, int16 out, one clip at a time, seeded per clip):
a lead-in of background before the clip (so the frontend's noise estimate
starts adapted, as on a device that has been listening for a while),
speed and pitch (audiomentations), time shift, room reverb from a synthetic
impulse response, band-limiting / EQ of cheap microphones (audiomentations),
gain, and background noise at a random SNR: a random stretch of a real noise
recording (Speech Commands ``_background_noise_``) when there is one,
generated coloured noise (white, pink, brown, blue...) otherwise.  Silence
clips for the ``_silence_`` class come from the same noise sources.

Feature side: SpecAugment time and frequency masks on int8 feature batches.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.signal import fftconvolve

from kws.audio.io import SAMPLE_RATE, load_wav
from kws.errors import KwsError

CLIP = SAMPLE_RATE


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges; ``digest`` names the cache of augmented features."""

    shift_ms: int = 100
    stretch_p: float = 0.25
    stretch: tuple[float, float] = (0.85, 1.15)
    pitch_p: float = 0.25
    semitones: tuple[float, float] = (-3.0, 3.0)
    reverb_p: float = 0.2
    rt60_s: tuple[float, float] = (0.1, 0.7)
    eq_p: float = 0.3
    bandpass_p: float = 0.15
    gain_db: tuple[float, float] = (-10.0, 6.0)
    noise_p: float = 0.5
    snr_db: tuple[float, float] = (8.0, 30.0)
    context_p: float = 0.5         # share of variants with a background lead-in: the frontend's noise
    context_s: tuple[float, float] = (0.5, 2.0)  # estimate then starts adapted, as when streaming
    time_masks: int = 2
    time_mask_frames: int = 6
    freq_masks: int = 2
    freq_mask_channels: int = 5

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise with power spectral density ~ 1/f**exponent
    (0 white, 1 pink, 2 brown, -1 blue)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n)
    freqs[0] = freqs[1]
    spectrum *= freqs ** (-exponent / 2)
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def load_noises(folder: Path | None) -> list[np.ndarray]:
    """Every wav in ``folder`` as float (-1..1) arrays; [] when there is no folder."""
    if folder is None:
        return []
    if not folder.is_dir():
        raise KwsError(f"{folder}: background noise folder not found; fix [data] background_noise in kws.toml")
    noises = [load_wav(p, resample=True, to_mono=True, convert_float=True) / 32768.0
              for p in sorted(folder.glob("*.wav"))]
    return [n for n in noises if len(n) >= CLIP]


class Augmenter:
    """Applies ``AugmentConfig`` to clips; all randomness comes from the caller's rng."""

    def __init__(self, config: AugmentConfig, noises: Sequence[np.ndarray] = (), stride: int = 320) -> None:
        import audiomentations as am  # imported here: it pulls in librosa

        self.config = config
        self.noises = list(noises)
        self.stride = stride  # lead-ins are whole frontend strides, so frames stay aligned with the clip
        self._stretch = am.TimeStretch(*config.stretch, leave_length_unchanged=True, p=1.0)
        self._pitch = am.PitchShift(*config.semitones, p=1.0)
        self._eq = am.SevenBandParametricEQ(-9.0, 9.0, p=1.0)
        self._bandpass = am.BandPassFilter(min_center_freq=800.0, max_center_freq=2500.0, p=1.0)

    def noise(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Unit-RMS background: a recorded noise stretch, or coloured noise."""
        if not self.noises or rng.random() >= 0.75:
            return coloured_noise(n, float(rng.uniform(-1.0, 2.0)), rng)
        pieces, have = [], 0
        while have < n:  # recordings shorter than n are joined end to end
            source = self.noises[int(rng.integers(len(self.noises)))]
            take = min(n - have, len(source))
            start = int(rng.integers(0, len(source) - take + 1))
            piece = source[start : start + take].astype(np.float64)
            pieces.append(piece / (np.sqrt(np.mean(piece**2)) + 1e-9))
            have += take
        return np.concatenate(pieces)

    def _context(self, rng: np.random.Generator) -> int:
        """Samples of lead-in audio (0: none), a whole number of frontend strides."""
        if rng.random() >= self.config.context_p:
            return 0
        return int(rng.uniform(*self.config.context_s) * SAMPLE_RATE) // self.stride * self.stride

    def silence(self, rng: np.random.Generator) -> np.ndarray:
        """A ``_silence_`` clip (1 s, plus lead-in): background at a random level,
        sometimes near-digital silence."""
        level_db = rng.uniform(-75.0, -20.0) if rng.random() < 0.9 else rng.uniform(-96.0, -75.0)
        return _to_int16(self.noise(CLIP + self._context(rng), rng) * 10 ** (level_db / 20))

    def __call__(self, clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One random variant of an int16 1 s clip; it may start with a lead-in of
        background only (the last second is the clip)."""
        c = self.config
        x = clip.astype(np.float32) / 32768.0
        # audiomentations draws from the global generators: seed them from ours
        random.seed(int(rng.integers(2**31)))
        np.random.seed(int(rng.integers(2**31)))
        if rng.random() < c.stretch_p:
            x = self._stretch(x, SAMPLE_RATE)
        if rng.random() < c.pitch_p:
            x = self._pitch(x, SAMPLE_RATE)
        x = _shift(x, int(rng.integers(-c.shift_ms, c.shift_ms + 1)) * SAMPLE_RATE // 1000)
        if rng.random() < c.reverb_p:
            x = _reverb(x, float(rng.uniform(*c.rt60_s)), rng)
        if rng.random() < c.eq_p:
            x = self._eq(x, SAMPLE_RATE)
        if rng.random() < c.bandpass_p:
            x = self._bandpass(x, SAMPLE_RATE)
        speech_rms = np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9
        x = np.concatenate([np.zeros(self._context(rng)), x.astype(np.float64)])
        if rng.random() < c.noise_p:
            level = speech_rms / 10 ** (rng.uniform(*c.snr_db) / 20)
        else:  # a faint bed, so a lead-in is never digital silence
            level = 10 ** (rng.uniform(-80.0, -55.0) / 20)
        x = x + self.noise(len(x), rng) * level
        x *= 10 ** (rng.uniform(*c.gain_db) / 20)
        return _to_int16(x)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def _shift(x: np.ndarray, samples: int) -> np.ndarray:
    """Move the audio by ``samples`` (positive: later), zero-filling the gap."""
    out = np.zeros_like(x)
    if samples >= 0:
        out[samples:] = x[: len(x) - samples]
    else:
        out[:samples] = x[-samples:]
    return out


def _reverb(x: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room impulse response (direct path + exponentially
    decaying noise tail reaching -60 dB at ``rt60_s``), keeping the input's RMS."""
    n = int(rt60_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s) * rng.uniform(0.1, 0.5)
    delay = int(rng.integers(0, SAMPLE_RATE // 200))
    ir[: delay + 1] = 0.0
    ir[0] = 1.0
    wet = fftconvolve(x, ir)[: len(x)]
    return (wet * (np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(wet**2)) + 1e-9))).astype(np.float32)


def spec_augment(features: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Time and frequency masks on an int8 batch (n, frames, channels), filled with
    each example's mean value; returns a new array."""
    out = features.copy()
    n, frames, channels = out.shape
    fill = out.reshape(n, -1).mean(axis=1).round().astype(np.int8)
    for masks, width, axis_len, axis in ((config.time_masks, config.time_mask_frames, frames, 1),
                                         (config.freq_masks, config.freq_mask_channels, channels, 2)):
        for _ in range(masks):
            widths = rng.integers(0, width + 1, n)
            starts = rng.integers(0, axis_len, n)
            idx = np.arange(axis_len)[None, :]
            hit = (idx >= starts[:, None]) & (idx < (starts + widths)[:, None])
            if axis == 1:
                out = np.where(hit[:, :, None], fill[:, None, None], out)
            else:
                out = np.where(hit[:, None, :], fill[:, None, None], out)
    return out.astype(np.int8)
