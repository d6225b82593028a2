"""What a kws model says about itself, read by every stage after training:
its classes and their roles, and how the firmware smooths its scores.

Class 0 is ``_silence_``, class 1 ``_unknown_``, keywords follow from class 2
in the order of kws.toml's ``keywords`` (as manifest labels: 'hey robot' ->
'hey_robot'). Labels starting with ``_`` are never reported as detections.
The labels and ``SmoothingParams`` travel in the .tflite metadata
(``kws.model_metadata``); ``kws train`` writes them, export, eval and
monitor read them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Sequence

from kws.labels import SILENCE, UNKNOWN
from kws.errors import UsageError

SILENCE_CLASS = 0
UNKNOWN_CLASS = 1
FIRST_KEYWORD_CLASS = 2
SMOOTHING_CAPACITY = 64        # KWS_SMOOTHING_MAX_RESULTS in the C code


def model_labels(keyword_labels: Sequence[str]) -> list[str]:
    """The output order of a model for these keywords (manifest labels)."""
    return [SILENCE, UNKNOWN, *keyword_labels]


def keyword_labels(labels: Sequence[str]) -> list[str]:
    """The keywords' labels of a model's ``labels``."""
    return list(labels[FIRST_KEYWORD_CLASS:])


def keyword_words(labels: Sequence[str]) -> list[str]:
    """The keywords as a user writes them ('hey_robot' -> 'hey robot')."""
    return [label.replace("_", " ") for label in keyword_labels(labels)]


def keyword_mask(labels: Sequence[str]) -> int:
    """Bit i set when class i may be reported (its label does not start with '_')."""
    return sum(1 << i for i, name in enumerate(labels) if not name.startswith("_"))


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
