"""The wav reader on random and mutated files: nothing but a kws error ever
escapes (bounded count and time, in the normal test run)."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from kws.audio.io import load_wav
from kws.data.validate import judge, measure
from kws.errors import KwsError
from wav_maker import tone_clip


def _seeds() -> list[bytes]:
    out = []
    for subtype, data in (("PCM_16", tone_clip(1)), ("FLOAT", tone_clip(2) / 32768.0), ("PCM_24", tone_clip(3))):
        buffer = io.BytesIO()
        sf.write(buffer, data, 16000, subtype=subtype, format="WAV")
        out.append(buffer.getvalue())
    return out


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        action = rng.random()
        position = rng.randrange(min(64, len(data)) if rng.random() < 0.7 else len(data))  # headers mostly
        if action < 0.5:
            data[position] = rng.randrange(256)
        elif action < 0.7:
            data[position:position + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00",
                                                      np.float32(np.nan).tobytes(), np.float32(np.inf).tobytes()])
        elif action < 0.85:
            del data[rng.randrange(len(data)):]  # truncated
        else:
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def test_wav_reader_raises_only_kws_errors(tmp_path: Path) -> None:
    rng = random.Random(15)
    seeds = _seeds()
    path = tmp_path / "fuzz.wav"
    start = time.monotonic()
    outcomes = {"read": 0, "refused": 0}
    for i in range(400):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))) if i % 10 == 0 \
            else _mutate(rng, rng.choice(seeds))
        path.write_bytes(data)
        try:
            samples = load_wav(path, resample=False, to_mono=True, convert_float=True)
        except KwsError:
            outcomes["refused"] += 1
        else:
            assert samples.dtype == np.int16 and samples.ndim == 1
            outcomes["read"] += 1
        facts = measure(data)   # the import's validator: facts or an error, never an exception
        judge(facts, "yes")
    assert time.monotonic() - start < 60
    assert outcomes["read"] > 20 and outcomes["refused"] > 20, outcomes
