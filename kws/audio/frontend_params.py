"""The one set of frontend parameters shared by training, export and tests.

The algorithm is the TFLite Micro micro-frontend family (window, fixed-point
FFT, mel filterbank, noise reduction, PCAN gain control, log scale, int8
mapping). A ``FrontendParams`` travels with the model (as JSON in its
metadata) and is rendered into the firmware's generated header.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from kws.errors import UsageError


@dataclass(frozen=True)
class FrontendParams:
    """Every knob of the feature frontend; defaults match TFLM's micro_speech."""

    sample_rate: int = 16000
    window_ms: int = 30
    stride_ms: int = 20
    num_channels: int = 40
    lower_band_hz: float = 125.0
    upper_band_hz: float = 7500.0
    smoothing_bits: int = 10
    even_smoothing: float = 0.025
    odd_smoothing: float = 0.06
    min_signal_remaining: float = 0.05
    enable_pcan: bool = True
    pcan_strength: float = 0.95
    pcan_offset: float = 80.0
    pcan_gain_bits: int = 21
    enable_log: bool = True
    log_scale_shift: int = 6
    clip_ms: int = 1000

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.window_ms <= 0 or self.stride_ms <= 0:
            raise UsageError("frontend: sample_rate, window_ms and stride_ms must be positive")
        if self.stride_ms > self.window_ms:
            raise UsageError("frontend: stride_ms must not exceed window_ms")
        if not 256 < self.window_samples <= 512:
            raise UsageError(
                f"frontend: a window of {self.window_samples} samples is not supported; "
                "use 257-512 samples (e.g. 30 ms at 16 kHz) so the FFT has 512 points"
            )
        if not 0 < self.lower_band_hz < self.upper_band_hz <= self.sample_rate / 2:
            raise UsageError("frontend: need 0 < lower_band_hz < upper_band_hz <= sample_rate/2")
        if not 1 <= self.num_channels <= 128:
            raise UsageError("frontend: num_channels must be 1..128")
        if self.clip_ms < self.window_ms:
            raise UsageError("frontend: clip_ms must be at least window_ms")

    @property
    def window_samples(self) -> int:
        return self.window_ms * self.sample_rate // 1000

    @property
    def stride_samples(self) -> int:
        return self.stride_ms * self.sample_rate // 1000

    @property
    def fft_size(self) -> int:
        size = 1
        while size < self.window_samples:
            size *= 2
        return size

    @property
    def clip_samples(self) -> int:
        return self.clip_ms * self.sample_rate // 1000

    @property
    def num_frames(self) -> int:
        """Feature frames in one clip of ``clip_ms`` (49 for 1 s, 30/20 ms)."""
        return 1 + (self.clip_samples - self.window_samples) // self.stride_samples

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FrontendParams":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UsageError(f"frontend: unknown parameter(s) {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "FrontendParams":
        return cls.from_dict(json.loads(text))
