"""Architectures, the size-budget search, int8 conversion and the TFLM check."""

from __future__ import annotations

import numpy as np
import pytest

from kws.errors import KwsError, UsageError
from kws.train.models import Architecture, build, candidates, fit_budget, macs
from kws.train.quantize import ALLOWED_OPS, TflmModel, check_model, convert, input_quantization, op_names

SHAPE = (49, 40)


def _features(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (n, *SHAPE)).astype(np.int8)


@pytest.mark.parametrize("arch", [Architecture("ds_cnn", 24, 3), Architecture("tiny_conv", dropout=0.5,
                                                                                per_channel=True)])
def test_conversion_ops_identity_input_and_tflm_matches_float(arch: Architecture) -> None:
    import keras

    keras.utils.set_random_seed(0)  # untrained weights: the same model at every run
    model = build(arch, SHAPE, 4)
    tflite = convert(model, arch, _features(32))
    ops = op_names(tflite)
    assert set(ops) <= set(ALLOWED_OPS) and ops[0] == "RESHAPE" and ops[-1] == "SOFTMAX"
    assert input_quantization(tflite) == (1.0, 0)
    x = _features(16, seed=1)
    int8 = TflmModel(tflite).scores(x).astype(np.float64)
    probs = model.predict(x.astype(np.float32), verbose=0)
    # the int8 output is probability x 256 - 128: close to the float model's probabilities
    assert np.abs((int8 + 128) / 256 - probs).mean() < 0.02
    assert (int8.argmax(1) == probs.argmax(1)).mean() >= 0.8


def test_tiny_conv_is_micro_speech_sized() -> None:
    arch = candidates("tiny_conv")[0]
    model = build(arch, SHAPE, 4)
    assert model.count_params() == 10 * 8 * 8 + 8 + 25 * 20 * 8 * 4 + 4  # conv + dense, as micro_speech
    assert 18000 < len(convert(model, arch, _features(8))) < 21000  # micro_speech: 18,800 B


def test_budget_search_picks_the_biggest_fitting_candidate() -> None:
    pool = [Architecture("ds_cnn", w, d) for d in (2, 3) for w in (8, 16, 24, 32, 40)]
    measured = []

    def fake_size(arch: Architecture) -> int:
        measured.append(arch)
        return 1000 + 10 * arch.width * arch.width * arch.depth

    arch, size = fit_budget(pool, SHAPE, 12, 20000, fake_size)
    assert size <= 20000
    fitting = [a for a in pool if 1000 + 10 * a.width**2 * a.depth <= 20000]
    assert arch == max(fitting, key=lambda a: macs(a, SHAPE, 12))
    assert len(measured) < len(pool)  # binary search per depth, not every candidate
    with pytest.raises(UsageError, match="--size-budget 500: the smallest ds_cnn for 12 classes is 2280 bytes"):
        fit_budget(pool, SHAPE, 12, 500, fake_size)


def test_budget_search_keeps_within_the_compute_budget() -> None:
    """A board that affords at most width 16 gets width 16 at each depth's best, whatever the size budget."""
    pool = [Architecture("ds_cnn", w, d) for d in (2, 3) for w in (8, 16, 24, 32, 40)]

    def too_slow(arch: Architecture) -> str | None:
        return f"width {arch.width} takes 80% load" if arch.width > 16 else None

    arch, _ = fit_budget(pool, SHAPE, 12, 10**6, lambda a: 1000, too_slow)
    assert arch == Architecture("ds_cnn", 16, 3)
    with pytest.raises(UsageError, match="fits the compute budget: width 8 takes 80% load"):
        fit_budget(pool, SHAPE, 12, 10**6, lambda a: 1000, lambda a: f"width {a.width} takes 80% load")


def test_check_model_refuses_other_ops_and_other_input_scales(peers) -> None:
    micro_speech = (peers / "micro_speech" / "micro_speech_quantized.tflite").read_bytes()
    # micro_speech's input is scaled (not the identity), so kws would have to rescale features
    with pytest.raises(KwsError, match="input quantization is scale"):
        check_model(micro_speech)
    kws_ref = (peers / "mlperf_tiny_kws" / "kws_ref_model.tflite").read_bytes()
    assert "AVERAGE_POOL_2D" in op_names(kws_ref)
