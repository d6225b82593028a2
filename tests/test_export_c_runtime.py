"""Runtime c is bit-exact with TFLM: the generated C, compiled once with the
host cc (-Wall -Wextra -Werror), runs >= 1000 inputs (random and real
features from the dev set) per model and every output value equals the
tflite_micro interpreter's. Also: the memory plan beats TFLM's arena, the
sources build for Cortex-M4 (SMLAD path) and Cortex-M0+ (portable path) with
-Werror, and streaming models are refused as TFLM-only."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws.audio.frontend import compute_features
from kws.audio.io import load_wav
from kws.errors import KwsError
from kws.export.arena import measure_arena
from kws.export.c_codegen import lower_model, short_requant_records
from kws.export.exporter import export_model
from kws.export.fixed_point import quantize_multiplier
from kws.export.tflite_model import read_model
from kws.export.verify import compare_with_tflm

import model_factory

REAL_CLIPS = 500
RANDOM_INPUTS = 500
PEERS = {"micro_speech": "micro_speech/micro_speech_quantized.tflite", "kws_ref_model": "mlperf_tiny_kws/kws_ref_model.tflite"}


@pytest.fixture(scope="module")
def models(peers) -> dict[str, bytes]:
    built = {kind: model_factory.build(kind) for kind in ("ds_cnn", "tiny_conv", "all_ops", "conv_shapes",
                                                                  "cancelling_dense")}
    return built | {name: (peers / path).read_bytes() for name, path in PEERS.items()}


@pytest.fixture(scope="module")
def real_features(dev_set: Path) -> np.ndarray:
    """int8 49x40 frontend features of real Speech Commands speech: the clips run
    together, a window every 8 frames (160 ms)."""
    frames = compute_features(np.concatenate([load_wav(f) for f in sorted(dev_set.glob("*/*.wav"))]))
    windows = [frames[start:start + 49] for start in range(0, len(frames) - 48, 8)]
    assert len(windows) >= REAL_CLIPS
    return np.stack(windows[:REAL_CLIPS])


def _inputs(size: int, real: np.ndarray, seed: int) -> np.ndarray:
    """Random int8 inputs plus real features (49x40; kws_ref_model's 49x10 MFCC
    input gets the first 10 channels: real-speech statistics, not real MFCCs)."""
    random = np.random.default_rng(seed).integers(-128, 128, (RANDOM_INPUTS, size), dtype=np.int8)
    frames = real.reshape(len(real), 49, -1)[:, :, : size // 49].reshape(len(real), -1)
    return np.concatenate([random, frames])


@pytest.mark.parametrize("name", ["ds_cnn", "tiny_conv", "all_ops", "conv_shapes", "micro_speech", "kws_ref_model"])
def test_bit_exact_with_tflm(models, real_features, tmp_path: Path, name: str) -> None:
    model = read_model(models[name], name)
    result = export_model(model, tmp_path, runtime="c", labels=[f"l{i}" for i in range(model.output.size)])
    inputs = _inputs(model.input.size, real_features, seed=len(name))
    comparison = compare_with_tflm(models[name], result.model_dir, inputs)
    assert comparison.inputs >= 1000
    assert comparison.differing == 0, f"{name}: {comparison}"


def test_conv_shapes_take_every_kernel(models) -> None:
    """conv_shapes (above) reaches each specialised kernel and the fallback."""
    layers = lower_model(read_model(models["conv_shapes"])).layers
    assert {layer.function for layer in layers} >= {"kws_conv", "kws_conv_1x1", "kws_depthwise"}


def _bit_exact_on_random(model_bytes: bytes, tmp_path: Path, count: int) -> None:
    model = read_model(model_bytes)
    result = export_model(model, tmp_path, runtime="c", labels=[f"l{i}" for i in range(model.output.size)])
    inputs = np.random.default_rng(3).integers(-128, 128, (count, model.input.size), dtype=np.int8)
    comparison = compare_with_tflm(model_bytes, result.model_dir, inputs)
    assert comparison.differing == 0, str(comparison)


def test_per_tensor_fully_connected_multiplier(tmp_path: Path) -> None:
    """Per-tensor FULLY_CONNECTED: TFLM widens both scales to double before
    multiplying; this model has a layer where a float32 product would give
    another multiplier (and other outputs)."""
    model_bytes = model_factory.build("dense_stack", seed=12)
    sub = read_model(model_bytes).main
    fcs = [op for op in sub.operators if op.opcode == "FULLY_CONNECTED"]
    scales = [tuple(sub.tensors[op.inputs[i]].quant for i in (0, 1)) + (sub.tensors[op.outputs[0]].quant,)
              for op in fcs]
    assert fcs and not any(filt.per_channel for _, filt, _ in scales)
    assert any(quantize_multiplier(float(np.float32(i.scale) * np.float32(f.scale)) / o.scale)
               != quantize_multiplier(i.scale * f.scale / o.scale) for i, f, o in scales)
    _bit_exact_on_random(model_bytes, tmp_path, 2000)


def test_both_requantizations(models, tmp_path: Path) -> None:
    """A layer whose multiplier is above 1 keeps the 64-bit requantization
    (KWS_REQUANT_WIDE) beside a layer on the 32-bit one; both bit-exact."""
    model_bytes = models["cancelling_dense"]
    kinds = [layer.fields["requant_kind"] for layer in lower_model(read_model(model_bytes)).layers
             if "requant_kind" in layer.fields]
    assert kinds == ["KWS_REQUANT_SHORT", "KWS_REQUANT_WIDE"]
    _bit_exact_on_random(model_bytes, tmp_path, 2000)


def test_short_requantization_needs_room() -> None:
    """The 32-bit requantization only where it is exact: right shifts of 1..30
    and sums below 2^30 for any input; else the 64-bit one (None)."""
    rows = np.full((2, 9), 127, np.int8)
    multipliers, right = [1 << 30, 1 << 30], [-3, -7]
    records = short_requant_records(multipliers, right, None, rows, -5)
    assert records.tolist() == [[1 << 30, 4 - 5 * 8, 3, 0], [1 << 30, 64 - 5 * 128, 7, 0]]
    assert short_requant_records(multipliers, [-3, 0], None, rows, 0) is None            # no right shift
    assert short_requant_records(multipliers, [-3, 1], None, rows, 0) is None            # a left shift
    assert short_requant_records(multipliers, right, np.array([0, 1 << 30]), rows, 0) is None  # sums too large


def test_mlperf_anomaly_detection_model(peers, tmp_path: Path) -> None:
    """MLPerf Tiny's ad01 (fully connected layers only), where present."""
    found = sorted(peers.glob("**/ad01*.tflite"))
    if not found:
        pytest.skip("no ad01_int8.tflite in tests/data/peers")
    _bit_exact_on_random(found[0].read_bytes(), tmp_path, 2000)


@pytest.mark.parametrize("name, fraction", [("micro_speech", 1.0), ("ds_cnn", 0.8), ("kws_ref_model", 0.8)])
def test_memory_plan_beats_tflm_arena(models, tmp_path: Path, name: str, fraction: float) -> None:
    model = read_model(models[name], name)
    result = export_model(model, tmp_path, runtime="c", labels=[f"l{i}" for i in range(model.output.size)])
    tflm = measure_arena(models[name]).need
    assert result.arena_bytes <= fraction * tflm, f"{name}: plan {result.arena_bytes} B vs TFLM {tflm} B"


def test_streaming_model_is_tflm_only(peers, tmp_path: Path) -> None:
    with pytest.raises(KwsError, match="TFLM-only.*use --runtime tflm"):
        export_model(peers / "micro_wake_word" / "hey_jarvis.tflite", tmp_path, runtime="c", labels=["hey_jarvis"])
    assert not (tmp_path / "lib").exists()


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
@pytest.mark.parametrize("cpu, simd", [("cortex-m4", True), ("cortex-m0plus", False)])
def test_builds_for_cortex_m(models, tmp_path: Path, cpu: str, simd: bool) -> None:
    result = export_model(read_model(models["micro_speech"]), tmp_path, runtime="c", labels=["a", "b", "c", "d"])
    for source in ("kws_kernels.c", "kws_model.c"):
        obj = tmp_path / f"{source}.o"
        subprocess.run(["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", "-std=c99", "-Os", "-Wall", "-Wextra",
                        "-Werror", "-pedantic", "-I", str(result.model_dir), "-c", str(result.model_dir / source),
                        "-o", str(obj)], check=True)
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "kws_kernels.c.o")],
                             capture_output=True, text=True, check=True).stdout
    assert ("smlad" in listing) is simd


@pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                    reason="needs qemu-system-arm and arm-none-eabi-gcc")
@pytest.mark.parametrize("name", ["micro_speech", "all_ops", "ds_cnn", "conv_shapes", "cancelling_dense"])
def test_bit_exact_on_emulated_cortex_m4(models, tmp_path: Path, name: str) -> None:
    """The SMLAD/SMMULR path (only the device has it) gives TFLM's outputs
    too, for every kernel: ds_cnn and conv_shapes reach kws_conv_1x1,
    kws_depthwise and kws_conv at channel counts with and without a tail of
    1-3; cancelling_dense both requantizations."""
    from bench.export import run_on_cortex_m4
    from kws.export.verify import run_tflm

    model = read_model(models[name], name)
    result = export_model(model, tmp_path, runtime="c", labels=[f"l{i}" for i in range(model.output.size)])
    inputs = np.random.default_rng(7).integers(-128, 128, (6, model.input.size), dtype=np.int8)
    device = run_on_cortex_m4(result.model_dir, inputs)
    np.testing.assert_array_equal(device.outputs, run_tflm(models[name], inputs))
    assert abs(device.calibration - 1000 / 168) < 0.01  # SysTick at 168 MHz, 1 instruction = 1 ns
