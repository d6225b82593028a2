"""Cross-layer equalization: make a trained model friendly to per-tensor int8 weights.

kws models quantize weights per tensor (per-channel scales would cost a
third of a 20 KB model), and folding batch norm into a depthwise convolution
leaves channels whose weight ranges differ a hundredfold: one scale for all
of them wipes out the small ones.  ReLU is positively homogeneous
(relu(x / s) = relu(x) / s), so dividing output channel c of a layer (its
batch-norm gamma and beta) by s_c and multiplying input channel c of the next
layer by s_c leaves the float function unchanged.  With
s_c = sqrt(r1_c / r2_c) (r1: channel c's folded weight range in the first
layer, r2: in the second) both layers end with range sqrt(r1_c r2_c) for the
channel (Nagel et al., "Data-Free Quantization Through Weight Equalization
and Bias Correction", 2019).  Repeating over every pair spreads the ranges
evenly through the network.
"""

from __future__ import annotations

import numpy as np

TINY = 1e-12


def _pairs(model) -> list[tuple[object, object, object]]:
    """(producer conv, its batch norm, consumer) for every conv -> BN -> ReLU -> consumer chain;
    pooling, flatten and dropout between the ReLU and the consumer are linear per channel."""
    import keras

    passthrough = (keras.layers.AveragePooling2D, keras.layers.Flatten, keras.layers.Dropout, keras.layers.ZeroPadding2D)
    consumers = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    pairs = []
    for i, layer in enumerate(layers[1:-1], start=1):
        if not (isinstance(layer, keras.layers.BatchNormalization) and isinstance(layers[i + 1], keras.layers.ReLU)):
            continue
        j = i + 2
        while j < len(layers) and isinstance(layers[j], passthrough):
            j += 1
        if j < len(layers) and isinstance(layers[j], consumers):
            pairs.append((layers[i - 1], layer, layers[j]))
    return pairs


def _per_input_channel(kernel: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(largest |weight| per input channel, shape that broadcasts a per-channel scale) of a
    consumer kernel: conv (h, w, c, out), depthwise (h, w, c, 1) or dense (c, out)."""
    if kernel.ndim == 2:
        return np.abs(kernel).max(axis=1), (-1, 1)
    return np.abs(kernel).max(axis=(0, 1, 3)), (1, 1, -1, 1)


def equalize(model, rounds: int = 20) -> int:
    """Equalize ``model`` (Keras, trained, with conv -> BN -> ReLU blocks) in place;
    returns the number of layer pairs equalized (0 for models without such blocks)."""
    import keras

    pairs = _pairs(model)
    for _ in range(rounds):
        for producer, norm, consumer in pairs:
            gamma, beta, _mean, variance = (w.numpy() for w in norm.weights)
            folded = np.abs(gamma) / np.sqrt(variance + norm.epsilon)
            kernel = producer.get_weights()[0]
            # output channels: axis 2 of a depthwise kernel (h, w, c, 1), axis 3 of a conv kernel
            out_axis = 2 if isinstance(producer, keras.layers.DepthwiseConv2D) else 3
            r1 = np.abs(kernel).max(axis=tuple(a for a in range(4) if a != out_axis)) * folded
            weights = consumer.get_weights()
            r2, shape = _per_input_channel(weights[0])
            usable = (r1 > TINY) & (r2 > TINY)  # a dead channel keeps scale 1
            scale = np.where(usable, np.sqrt(np.maximum(r1, TINY) / np.maximum(r2, TINY)), 1.0)
            norm.weights[0].assign((gamma / scale).astype(gamma.dtype))
            norm.weights[1].assign((beta / scale).astype(beta.dtype))
            weights[0] = (weights[0] * scale.reshape(shape)).astype(weights[0].dtype)
            consumer.set_weights(weights)
    return len(pairs)
