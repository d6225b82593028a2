"""The frontend's Cortex-M4 build (DSP/SIMD instructions) computes the same
features as the Python twin, on the emulated board."""

from __future__ import annotations

import numpy as np

from bench.audio import cortex_m4_instructions_per_frame
from kws.audio.io import load_wav


def test_dsp_build_on_emulated_cortex_m4_equals_python(dev_set):
    speech = load_wav(sorted((dev_set / "yes").glob("*.wav"))[0])
    t = np.arange(16000) / 16000
    clips = {
        "speech": speech,
        "clipped_speech": np.clip(speech.astype(np.int64) * 64, -32768, 32767).astype(np.int16),
        "square_full_scale": np.where(np.sin(2 * np.pi * 440 * t) >= 0, 32767, -32768).astype(np.int16),
    }
    for name, clip in clips.items():
        result = cortex_m4_instructions_per_frame(clip)
        assert result["frames"] == 49, name
        assert result["features_match_python"], name
