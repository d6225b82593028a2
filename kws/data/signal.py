"""Small signal helpers shared by synthesis and recording: level, trim, place in 1 s."""

from __future__ import annotations

import numpy as np

from kws.audio.io import SAMPLE_RATE

FRAME = SAMPLE_RATE // 50  # 20 ms


def frame_rms(samples: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """RMS of consecutive frames (the last partial frame included), in int16 units."""
    x = np.asarray(samples, np.float64)
    pad = (-len(x)) % frame
    x = np.concatenate([x, np.zeros(pad)]).reshape(-1, frame)
    return np.sqrt((x * x).mean(axis=1))


def voiced_span(samples: np.ndarray, *, top_db: float = 35.0, floor: float = 60.0,
                margin_s: float = 0.05, frame: int = FRAME) -> tuple[int, int] | None:
    """(start, end) of the part louder than ``top_db`` below the loudest ``frame``, with a margin.

    None when no frame reaches ``floor`` (RMS in int16 units, ~-55 dBFS): silence.
    """
    rms = frame_rms(samples, frame)
    if rms.size == 0 or rms.max() < floor:
        return None
    loud = np.flatnonzero(rms >= max(floor, rms.max() * 10 ** (-top_db / 20)))
    margin = int(margin_s * SAMPLE_RATE)
    start = max(0, loud[0] * frame - margin)
    end = min(len(samples), (loud[-1] + 1) * frame + margin)
    return start, end


def place_in_second(segment: np.ndarray, lead_fraction: float) -> np.ndarray:
    """Put ``segment`` (at most 1 s) into 1 s of int16 silence, ``lead_fraction`` of the slack first."""
    segment = np.asarray(segment)
    if len(segment) > SAMPLE_RATE:
        raise ValueError(f"segment of {len(segment)} samples does not fit in one second")
    out = np.zeros(SAMPLE_RATE, np.int16)
    lead = int(round((SAMPLE_RATE - len(segment)) * min(max(lead_fraction, 0.0), 1.0)))
    out[lead:lead + len(segment)] = segment
    return out
