"""Recording: take processing on real speech, and a clear error without a microphone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.data.record import input_device, process_take
from kws.data.signal import voiced_span
from kws.errors import KwsError
from test_data_import import private_cache, run_kws  # noqa: F401 (fixture)


def _speech(dev_set: Path, word: str = "yes", index: int = 0) -> np.ndarray:
    path = sorted((dev_set / word).glob("*.wav"))[index]
    samples = sf.read(str(path), dtype="int16")[0]
    start, end = voiced_span(samples)
    return samples[start:end]


def _room(seconds: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 8, int(16000 * seconds)).astype(np.int16)


def test_take_is_trimmed_and_centred(dev_set: Path) -> None:
    word = _speech(dev_set)
    take = np.concatenate([_room(0.6), word, _room(0.3, 1)])[:24000]
    result = process_take(take)
    assert result.reason is None and result.samples.shape == (16000,) and result.samples.dtype == np.int16
    start, end = voiced_span(result.samples)
    assert abs((start + end) / 2 - 8000) < 800  # centred
    assert abs((end - start) - len(word)) < 1000


def test_clipped_silent_and_long_takes_are_rejected(dev_set: Path) -> None:
    word = _speech(dev_set)
    loud = np.clip(word.astype(np.int32) * 50, -32768, 32767).astype(np.int16)
    assert "clipped" in process_take(np.concatenate([_room(0.5), loud])).reason
    assert "silent" in process_take(_room(1.5)).reason
    assert "silent" in process_take(np.zeros(24000, np.int16)).reason
    chatter = np.concatenate([_speech(dev_set, w, 1) // 2 for w in ("left", "right", "stop", "go")])
    assert len(chatter) > 16000
    assert "too long" in process_take(chatter[:24000]).reason


def test_input_device_choice() -> None:
    speakers_only = [{"name": "hdmi", "max_input_channels": 0, "max_output_channels": 2}]
    with pytest.raises(KwsError, match="no microphone"):
        input_device(speakers_only, None)
    mic = {"name": "usb mic", "max_input_channels": 1, "max_output_channels": 0}
    assert input_device([*speakers_only, mic], None) == 1
    assert input_device([mic, mic], 1) == 1


def test_record_without_microphone_fails_clearly(tmp_path: Path) -> None:
    import sounddevice as sd

    if any(d["max_input_channels"] > 0 for d in sd.query_devices()):
        pytest.skip("this machine has a microphone; the no-microphone path cannot be shown here")
    done = run_kws("data", "record", "--word", "yes", "-n", "1", cwd=tmp_path)
    assert done.returncode == 1 and "no microphone" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "manifest.csv").exists()
