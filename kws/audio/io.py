"""Wav input/output with validation: 16 kHz mono int16 is what everything uses.

``load_wav`` refuses what it would have to guess about (another sample rate,
stereo, float samples) unless the caller asked for conversion, and reports a
bad file in one line that names the file and the fix.  ``write_wav`` writes
atomically (temp file + rename).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from kws.atomic import write_bytes_atomic
from kws.errors import AudioFileError

SAMPLE_RATE = 16000


def load_wav(
    path: str | os.PathLike,
    *,
    sample_rate: int = SAMPLE_RATE,
    resample: bool = False,
    to_mono: bool = False,
    convert_float: bool = False,
) -> np.ndarray:
    """Read a wav file as int16 mono samples at ``sample_rate``.

    Conversions happen only when asked: ``resample`` (other rates),
    ``to_mono`` (average the channels), ``convert_float`` (float or 32-bit
    samples scaled to int16).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError) as err:
        raise AudioFileError(
            f"{path}: not a readable audio file ({_short(err)}); re-export it as 16-bit PCM wav"
        ) from None
    if info.frames == 0:
        raise AudioFileError(f"{path}: the file has no audio samples; record or export it again")
    if info.channels != 1 and not to_mono:
        raise AudioFileError(
            f"{path}: {info.channels} channels; kws needs mono (pass to_mono / --mono to average channels)"
        )
    is_int16 = info.subtype == "PCM_16"
    if not is_int16 and not convert_float:
        raise AudioFileError(
            f"{path}: samples are {info.subtype}, kws needs 16-bit PCM "
            "(pass convert_float / --convert to scale them, or re-export as 16-bit PCM)"
        )
    if info.samplerate != sample_rate and not resample:
        raise AudioFileError(
            f"{path}: sample rate {info.samplerate} Hz, kws needs {sample_rate} Hz "
            "(pass resample / --resample, or convert with: sox in.wav -r 16000 out.wav)"
        )
    try:
        if is_int16:
            data, rate = sf.read(str(path), dtype="int16", always_2d=True)
        else:
            data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise AudioFileError(f"{path}: truncated or damaged audio ({_short(err)}); record or export it again") from None
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: the file has no audio samples; record or export it again")
    if not is_int16 and not np.isfinite(data).all():
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise AudioFileError(f"{path}: {bad} samples are NaN or infinite (a damaged float wav); "
                             "re-export it as 16-bit PCM wav")
    if data.shape[1] > 1:
        data = data.astype(np.float64).mean(axis=1, keepdims=True)
    samples = data[:, 0]
    if rate != sample_rate:
        import librosa

        samples = librosa.resample(samples.astype(np.float64), orig_sr=rate, target_sr=sample_rate)
    if samples.dtype != np.int16:
        scale = 32768.0 if np.issubdtype(samples.dtype, np.floating) and not is_int16 else 1.0
        samples = np.clip(np.round(samples * scale), -32768, 32767).astype(np.int16)
    return samples


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write int16 mono samples atomically; returns the path."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(samples, np.int16), sample_rate, subtype="PCM_16", format="WAV")
    return write_bytes_atomic(path, buffer.getvalue())


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[-1] if text else type(err).__name__
