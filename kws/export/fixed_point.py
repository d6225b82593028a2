"""Export-time integer parameters, computed exactly as TFLite Micro's kernels
compute them at Prepare time (same float32/float64 steps, same rounding), so
the C runtime's outputs are bit-exact with TFLM.

Facts from TFLM's kernels (tensorflow/lite/kernels/internal/quantization_util,
kernel_util, padding.h): QuantizeMultiplier uses frexp and round-half-away;
conv and fully connected (per-channel and per-tensor alike: the installed
interpreter's GetQuantizedConvolutionMultipler widens both scales to double
before multiplying) effective scale = double(in) * double(filter) /
double(out); the activation range quantizes 0 and 6 in float32.
"""

from __future__ import annotations

import math

import numpy as np


def round_half_away(value: float) -> int:
    """std::round for a double: halves go away from zero."""
    floor = math.floor(abs(value))
    rounded = floor + 1 if abs(value) - floor >= 0.5 else floor
    return int(math.copysign(rounded, value))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """(Q31 multiplier, shift) with real ~= multiplier / 2^31 * 2^shift."""
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)
    q = round_half_away(fraction * (1 << 31))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q, shift


def conv_multipliers(input_scale: float, filter_scales: tuple[float, ...], output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """Per-output-channel (multipliers, shifts) of CONV_2D / DEPTHWISE_CONV_2D /
    FULLY_CONNECTED (a single, per-tensor filter scale is broadcast)."""
    pairs = [
        quantize_multiplier(input_scale * filter_scales[i if len(filter_scales) > 1 else 0] / output_scale)
        for i in range(channels)
    ]
    return [m for m, _ in pairs], [s for _, s in pairs]


def _quantize_float32(scale: float, zero_point: int, value: float) -> int:
    ratio = float(np.float32(value) / np.float32(scale))
    return zero_point + round_half_away(ratio)


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int]:
    """Quantized (min, max) of a fused activation for an int8 output
    (0 NONE, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6)."""
    low, high = -128, 127
    if activation == 1:
        return max(low, _quantize_float32(scale, zero_point, 0.0)), high
    if activation == 3:
        return max(low, _quantize_float32(scale, zero_point, 0.0)), min(high, _quantize_float32(scale, zero_point, 6.0))
    if activation == 2:
        return max(low, _quantize_float32(scale, zero_point, -1.0)), min(high, _quantize_float32(scale, zero_point, 1.0))
    if activation == 0:
        return low, high
    raise ValueError(f"fused activation {activation}")


def same_or_valid_padding(padding: int, stride: int, dilation: int, in_size: int, filter_size: int) -> tuple[int, int]:
    """(output size, leading padding) as TFLM's ComputePaddingHeightWidth
    (padding 0 = SAME, 1 = VALID)."""
    effective = (filter_size - 1) * dilation + 1
    out = (in_size + stride - 1) // stride if padding == 0 else (in_size + stride - effective) // stride
    total = max(0, (out - 1) * stride + effective - in_size)
    return out, total // 2


def softmax_parameters(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input multiplier, input left shift, diff_min) of int8 SOFTMAX with
    kScaledDiffIntegerBits = 5 (PreprocessSoftmaxScaling, CalculateInputRadius)."""
    integer_bits = 5
    real = min(beta * input_scale * float(1 << (31 - integer_bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    radius = math.floor(((1 << integer_bits) - 1) * float(1 << (31 - integer_bits)) / float(1 << left_shift))
    return multiplier, left_shift, -radius


def add_parameters(scale1: float, scale2: float, output_scale: float) -> dict[str, int]:
    """Multipliers/shifts of int8 ADD (left shift 20, inputs scaled to twice the larger scale)."""
    left_shift = 20
    twice_max = 2.0 * float(max(np.float32(scale1), np.float32(scale2)))
    m1, s1 = quantize_multiplier(scale1 / twice_max)
    m2, s2 = quantize_multiplier(scale2 / twice_max)
    mo, so = quantize_multiplier(twice_max / (float(1 << left_shift) * output_scale))
    return {"left_shift": left_shift, "multiplier1": m1, "shift1": s1, "multiplier2": m2, "shift2": s2,
            "output_multiplier": mo, "output_shift": so}


def mean_multiplier(input_scale: float, output_scale: float, elements: int) -> tuple[int, int]:
    """int8 MEAN's multiplier with the 1/elements factor folded in (QuantizedMeanOrSum)."""
    multiplier, shift = quantize_multiplier(input_scale / output_scale)
    fold = min(elements.bit_length() - 1, 32, 31 + shift)
    return (multiplier << fold) // elements, shift - fold
