"""Bad audio input gives one clear line naming the file and the fix;
conversions happen only when asked for."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from kws.audio.io import load_wav, write_wav
from kws.errors import AudioFileError

TONE = np.round(8000 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.int16)


def _assert_one_line(err: AudioFileError, path, *words: str) -> None:
    text = str(err)
    assert "\n" not in text and str(path) in text
    for word in words:
        assert word in text


def test_good_wav_round_trip(tmp_path):
    path = write_wav(tmp_path / "tone.wav", TONE)
    assert np.array_equal(load_wav(path), TONE)
    assert not list(tmp_path.glob("*.tmp*"))  # atomic write left nothing behind


def test_wrong_sample_rate_refused_then_resampled_on_request(tmp_path):
    path = tmp_path / "8k.wav"
    sf.write(path, TONE[::2], 8000, subtype="PCM_16")
    with pytest.raises(AudioFileError) as err:
        load_wav(path)
    _assert_one_line(err.value, path, "8000 Hz", "16000", "resample")
    out = load_wav(path, resample=True)
    assert out.dtype == np.int16 and abs(len(out) - 16000) <= 2


def test_stereo_refused_then_mixed_on_request(tmp_path):
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([TONE, TONE], axis=1), 16000, subtype="PCM_16")
    with pytest.raises(AudioFileError) as err:
        load_wav(path)
    _assert_one_line(err.value, path, "2 channels", "mono")
    assert np.array_equal(load_wav(path, to_mono=True), TONE)


def test_float_wav_refused_then_converted_on_request(tmp_path):
    path = tmp_path / "float.wav"
    sf.write(path, TONE.astype(np.float32) / 32768, 16000, subtype="FLOAT")
    with pytest.raises(AudioFileError) as err:
        load_wav(path)
    _assert_one_line(err.value, path, "FLOAT", "16-bit PCM")
    assert np.abs(load_wav(path, convert_float=True).astype(int) - TONE).max() <= 1


def test_empty_and_truncated_and_garbage_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    header_only = tmp_path / "header_only.wav"
    sf.write(header_only, np.zeros(0, np.int16), 16000, subtype="PCM_16")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(write_wav(tmp_path / "full.wav", TONE).read_bytes()[:30])
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio at all" * 10)
    for path in (empty, header_only, truncated, garbage):
        with pytest.raises(AudioFileError) as err:
            load_wav(path)
        _assert_one_line(err.value, path)
    with pytest.raises(AudioFileError, match="no such file"):
        load_wav(tmp_path / "missing.wav")


def test_cli_reports_bad_file_in_one_line_without_traceback(tmp_path):
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([TONE, TONE], axis=1), 16000, subtype="PCM_16")
    result = subprocess.run([sys.executable, "-m", "kws", "features", str(path)], capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.stderr
    ok = subprocess.run([sys.executable, "-m", "kws", "features", str(path), "--mono", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and '"frames": 49' in ok.stdout
