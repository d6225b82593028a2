"""Cross-layer equalization keeps the float function and evens out per-channel weight ranges."""

from __future__ import annotations

import numpy as np

from kws.train.equalize import equalize
from kws.train.models import Architecture, build
from kws.train.quantize import TflmModel, convert

SHAPE = (49, 40)
# The shape these skewed models were drawn for (equalization does not depend on strides or kernel sizes).
ARCH = Architecture("ds_cnn", 16, 2, first_kernel=(10, 4), first_stride=(2, 2), depthwise_stride=1)


def _skewed_ds_cnn(seed: int = 0):
    """A DS-CNN whose batch norms scale channels by factors 0.01..10 (what training leaves behind)."""
    rng = np.random.default_rng(seed)
    model = build(ARCH, SHAPE, 4)
    for layer in model.layers:
        weights = layer.get_weights()
        if layer.__class__.__name__ == "BatchNormalization":
            n = weights[0].shape[0]
            weights = [10 ** rng.uniform(-2, 1, n), rng.normal(0, 0.5, n), rng.normal(0, 1, n), rng.uniform(0.5, 2, n)]
        elif weights:
            weights = [rng.normal(0, 0.3, w.shape) for w in weights]
        layer.set_weights([w.astype(np.float32) for w in weights])
    return model


def _depthwise_folded_ranges(model) -> list[np.ndarray]:
    layers = model.layers
    out = []
    for i, layer in enumerate(layers):
        if layer.__class__.__name__ == "DepthwiseConv2D":
            gamma, _, _, variance = layers[i + 1].get_weights()
            out.append(np.abs(layer.get_weights()[0]).max(axis=(0, 1, 3)) * np.abs(gamma) / np.sqrt(variance + 1e-3))
    return out


def test_equalization_keeps_outputs_and_evens_depthwise_ranges() -> None:
    model = _skewed_ds_cnn()
    x = np.random.default_rng(1).integers(-128, 128, (64, *SHAPE)).astype(np.float32)
    before = model.predict(x, verbose=0)
    spread_before = [r.max() / r.min() for r in _depthwise_folded_ranges(model)]
    # conv->dw, dw->pw for each of 2 blocks, last pw->dense
    assert equalize(model) == 5
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-4, atol=1e-6)
    spread_after = [r.max() / r.min() for r in _depthwise_folded_ranges(model)]
    assert all(a < b / 10 for a, b in zip(spread_after, spread_before)), (spread_before, spread_after)


def test_equalization_brings_int8_closer_to_float() -> None:
    model = _skewed_ds_cnn(seed=2)
    arch = ARCH
    rng = np.random.default_rng(3)
    calibration = rng.integers(-128, 128, (64, *SHAPE)).astype(np.int8)
    x = rng.integers(-128, 128, (200, *SHAPE)).astype(np.int8)
    probs = model.predict(x.astype(np.float32), verbose=0)

    def error() -> float:
        int8 = TflmModel(convert(model, arch, calibration)).scores(x).astype(np.float64)
        return float(np.abs((int8 + 128) / 256 - probs).mean())

    plain = error()
    equalize(model)
    assert error() < plain / 2


def test_models_without_batch_norm_are_left_alone() -> None:
    model = build(Architecture("tiny_conv", dropout=0.5), SHAPE, 4)
    weights = [w.copy() for w in model.get_weights()]
    assert equalize(model) == 0
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
