"""Training: manifest clips -> features -> Keras model -> int8 .tflite + reports.

``train_model(config) -> TrainResult`` and ``evaluate_model(config, path)``
are the library entry points (``kws train`` / ``kws eval`` call them); they
are imported lazily so that ``import kws.train`` stays cheap.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ chatter, before its first import

__all__ = ["train_model", "evaluate_model", "TrainResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kws.train import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'kws.train' has no attribute {name!r}")
