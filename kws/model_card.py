"""What a kws model says about itself, read by every stage after training:
its labels (roles in ``kws.labels``), the frontend that feeds it, how the
firmware smooths its scores, and how it was made. ``kws train`` writes the
card into the .tflite metadata (``kws.model_metadata``); export, eval and
monitor read it from there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from kws.audio.frontend_params import FrontendParams
from kws.errors import KwsError, UsageError

SMOOTHING_CAPACITY = 64        # KWS_SMOOTHING_MAX_RESULTS in the C code


@dataclass(frozen=True)
class SmoothingParams:
    """What the firmware's posterior smoothing needs; in the model metadata under ``smoothing``."""

    average_window_ms: int = 1000
    threshold: int = 200
    suppression_ms: int = 1500
    minimum_count: int = 3
    inference_period_ms: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 255:
            raise UsageError(f"smoothing threshold {self.threshold}: use 0..255 (probability x 256)")
        if self.average_window_ms <= 0 or self.suppression_ms < 0 or self.inference_period_ms <= 0:
            raise UsageError("smoothing: average_window_ms and inference_period_ms must be positive, "
                             "suppression_ms non-negative")
        if not 1 <= self.minimum_count <= SMOOTHING_CAPACITY:
            raise UsageError(f"smoothing minimum_count {self.minimum_count}: use 1..{SMOOTHING_CAPACITY}")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_dict(cls, values: dict) -> "SmoothingParams":
        return cls(**{k: int(values[k]) for k in cls.keys()})


@dataclass(frozen=True)
class ModelCard:
    """A model's labels (output order), frontend, smoothing (None: kws's
    defaults apply) and facts about how it was made (architecture, size
    budget, seed, data hash, ...)."""

    labels: tuple[str, ...]
    frontend: FrontendParams
    smoothing: SmoothingParams | None = None
    model: dict[str, Any] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        """The JSON the .tflite metadata holds (see ``kws.model_metadata``)."""
        data: dict[str, Any] = {"labels": list(self.labels), "frontend": self.frontend.to_dict(),
                                "model": dict(self.model)}
        if self.smoothing is not None:
            data["smoothing"] = self.smoothing.to_dict()
        return data

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> "ModelCard":
        try:
            smoothing = metadata.get("smoothing")
            return cls(tuple(metadata["labels"]), FrontendParams.from_dict(metadata["frontend"]),
                       None if smoothing is None else SmoothingParams.from_dict(smoothing),
                       dict(metadata.get("model", {})))
        except (KeyError, TypeError, ValueError, UsageError) as err:
            raise KwsError(f"kws metadata: {err}") from None

    @classmethod
    def read(cls, tflite: bytes) -> "ModelCard | None":
        """The card in a .tflite, None when the model has no kws metadata."""
        from kws.model_metadata import read_metadata

        metadata = read_metadata(tflite)
        return cls.from_metadata(metadata) if metadata else None

    def write(self, tflite: bytes) -> bytes:
        """``tflite`` with this card as its kws metadata."""
        from kws.model_metadata import write_metadata

        return write_metadata(tflite, self.to_metadata())
