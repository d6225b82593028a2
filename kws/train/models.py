"""Every architecture in one place, and the search that fits one to a byte budget.

Input: int8 feature frames (frames, channels) given to the float model as
float values -128..127, so the int8 model's input quantization is the
identity (scale 1, zero point 0): the firmware copies the frontend's output
straight into the input tensor.  Layers are limited to what converts to
CONV_2D / DEPTHWISE_CONV_2D / AVERAGE_POOL_2D / FULLY_CONNECTED / SOFTMAX /
RESHAPE (batch norm folds into the convolutions, ReLU fuses).

Quantization scales are per tensor for ``ds_cnn``: per-channel scales and
zero points cost 24 bytes per channel and layer (a third of a 20 KB model),
and the int8 check shows per-tensor weights stay within a point of float.

* ``ds_cnn``: depthwise-separable CNN (Zhang et al., "Hello Edge"; the MLPerf
  Tiny KWS reference family): a strided first convolution, ``depth`` blocks of
  3x3 depthwise + 1x1 pointwise convolutions of ``width`` channels, global
  average pooling, one dense layer.  The default; sized by ``fit_budget``.
  Convolutions pad frequency as "same" does (an explicit PAD, which runtime c
  folds into the convolution) and never pad time, so each output time step
  depends only on the frames under it: the model is streamable (runtime c
  computes only the time steps that are new since the last inference,
  bit-exact with the whole window; see ``kws.export.streaming``).
* ``tiny_conv``: TFLM micro_speech's model (one 10x8 stride-2 convolution of
  8 filters, then a dense layer): the baseline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from kws.errors import UsageError


@dataclass(frozen=True)
class Architecture:
    """A concrete model shape; ``name`` picks the builder."""

    name: str
    width: int = 0
    depth: int = 0
    first_kernel: tuple[int, int] = (6, 4)
    first_stride: tuple[int, int] = (1, 2)    # every frame a time step for the first layer...
    depthwise_stride: int = 2                 # ...then the first depthwise conv halves time
    dropout: float = 0.2
    per_channel: bool = False  # int8 weight scales per output channel (costs 24 bytes/channel/layer)

    def describe(self) -> str:
        if self.name == "tiny_conv":
            return "tiny_conv (micro_speech: conv 10x8/2 x8 + dense)"
        return (f"ds_cnn width {self.width} depth {self.depth} "
                f"(conv {self.first_kernel[0]}x{self.first_kernel[1]}/{self.first_stride[0]}x{self.first_stride[1]}, "
                f"first depthwise /{self.depthwise_stride} in time)")

    def to_dict(self) -> dict:
        return asdict(self)


def build(arch: Architecture, input_shape: tuple[int, int], num_classes: int, batch_size: int | None = None):
    """The Keras model for ``arch`` (softmax output)."""
    builders: dict[str, Callable] = {"ds_cnn": _ds_cnn, "tiny_conv": _tiny_conv}
    if arch.name not in builders:
        raise UsageError(f"--architecture {arch.name}: use one of {', '.join(builders)}")
    import keras

    inputs = keras.Input(input_shape, batch_size=batch_size, name="features")
    x = keras.layers.Reshape((*input_shape, 1))(inputs)
    x = builders[arch.name](arch, x)
    x = keras.layers.Flatten()(x)
    if arch.dropout:
        x = keras.layers.Dropout(arch.dropout)(x)
    x = keras.layers.Dense(num_classes, name="logits")(x)
    outputs = keras.layers.Softmax(name="scores")(x)
    return keras.Model(inputs, outputs, name=arch.name)


def _conv_bn_relu(x, layer):
    import keras

    x = layer(x)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    return keras.layers.ReLU()(x)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of "same" along an axis of ``size``."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_frequency(x, kernel: int, stride: int):
    """Zero padding of the frequency axis as "same" would, none in time."""
    import keras

    before, after = same_padding(int(x.shape[2]), kernel, stride)
    return keras.layers.ZeroPadding2D(((0, 0), (before, after)))(x) if before or after else x


def _ds_cnn(arch: Architecture, x):
    import keras

    x = _pad_frequency(x, arch.first_kernel[1], arch.first_stride[1])
    x = _conv_bn_relu(x, keras.layers.Conv2D(arch.width, arch.first_kernel, strides=arch.first_stride,
                                             padding="valid", use_bias=False))
    for block in range(arch.depth):
        stride = (arch.depthwise_stride if block == 0 else 1, 1)
        x = _conv_bn_relu(_pad_frequency(x, 3, 1), keras.layers.DepthwiseConv2D(3, strides=stride, padding="valid",
                                                                                use_bias=False))
        x = _conv_bn_relu(x, keras.layers.Conv2D(arch.width, 1, use_bias=False))
    return keras.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)


def _tiny_conv(arch: Architecture, x):
    import keras

    return keras.layers.Conv2D(8, (10, 8), strides=(2, 2), padding="same", activation="relu")(x)


def candidates(name: str) -> list[Architecture]:
    """Shapes the budget search may pick, for an architecture family."""
    if name == "tiny_conv":
        return [Architecture("tiny_conv", dropout=0.5, per_channel=True)]
    return [Architecture("ds_cnn", width=w, depth=d) for d in (2, 3, 4, 5) for w in range(8, 129, 4)]


def macs(arch: Architecture, input_shape: tuple[int, int], num_classes: int) -> int:
    """Multiply-accumulates per inference (what the budget search maximizes)."""
    frames, channels = input_shape
    if arch.name == "tiny_conv":
        out = -(-frames // 2) * -(-channels // 2)
        return out * 10 * 8 * 8 + out * 8 * num_classes
    (ky, kx), (sy, sx), w = arch.first_kernel, arch.first_stride, arch.width
    rows, cols = (frames - ky) // sy + 1, -(-channels // sx)   # time "valid", frequency "same"
    total = rows * cols * ky * kx * w
    for block in range(arch.depth):
        rows = (rows - 3) // (arch.depthwise_stride if block == 0 else 1) + 1
        total += rows * cols * (9 * w + w * w)
    return total + w * num_classes


def fit_budget(pool: list[Architecture], input_shape: tuple[int, int], num_classes: int, budget: int,
               measure: Callable[[Architecture], int],
               affordable: Callable[[Architecture], str | None] | None = None) -> tuple[Architecture, int]:
    """The candidate of ``pool`` with the most MACs whose measured .tflite size
    fits ``budget`` and (with ``affordable``) whose compute the board affords.

    ``measure`` converts a candidate to int8 (with metadata) and returns its
    byte size; ``affordable`` returns None, or why the board cannot run it.
    Sizes and compute grow with width, so each depth is a binary search.
    """
    too_slow: str | None = None
    best: tuple[Architecture, int] | None = None
    smallest: tuple[Architecture, int] | None = None
    by_depth: dict[int, list[Architecture]] = {}
    for arch in pool:
        by_depth.setdefault(arch.depth, []).append(arch)
    for group in by_depth.values():
        lo, hi, fit = 0, len(group) - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            size = measure(group[mid])
            if smallest is None or size < smallest[1]:
                smallest = (group[mid], size)
            why = affordable(group[mid]) if affordable and size <= budget else None
            too_slow = why or too_slow
            if size <= budget and why is None:
                fit, lo = (group[mid], size), mid + 1
            else:
                hi = mid - 1
        if fit and (best is None or macs(fit[0], input_shape, num_classes) > macs(best[0], input_shape, num_classes)):
            best = fit
    if best is None:
        assert smallest is not None
        if too_slow:
            raise UsageError(f"no {pool[0].name} in the size budget fits the compute budget: {too_slow}")
        raise UsageError(f"--size-budget {budget}: the smallest {pool[0].name} for {num_classes} classes is "
                         f"{smallest[1]} bytes ({smallest[0].describe()}); raise the budget")
    return best
