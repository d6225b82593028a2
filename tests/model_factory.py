"""Test helper: small int8 keyword-spotting models built with real TensorFlow.

``kws train`` will produce the real ones; these stand in for them wherever a
test needs a model kws could have trained: a DS-CNN (kws's default family),
micro_speech's tiny_conv, and a model that uses every other op the C runtime
lowers (MAX_POOL_2D, ADD, MEAN). Weights are random plus a few fit steps on
random data (bit-exactness does not need a trained model). Conversion is
full-integer: int8 input and output, representative dataset at batch 1.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

INPUT_SHAPE = (49, 40, 1)


def _start(seed: int):
    """(keras, its layers, a batch-1 input) with the random seed set."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    return tf.keras, tf.keras.layers, tf.keras.Input(INPUT_SHAPE, batch_size=1)


def ds_cnn(classes: int = 12, channels: int = 24, blocks: int = 2, seed: int = 0, streamable: bool = False):
    """Conv2D -> [DepthwiseConv2D -> Conv2D 1x1] x blocks, BN + ReLU -> AveragePooling2D -> Dense -> Softmax.
    ``streamable``: the shape ``kws train`` makes (frequency padded by PAD ops, time not at all)."""
    keras, layers, inputs = _start(seed)
    padding = "valid" if streamable else "same"

    def pad(x, total: int):
        return layers.ZeroPadding2D(((0, 0), (total // 2, total - total // 2)))(x) if streamable else x

    x = layers.Conv2D(channels, (10, 4), strides=(2, 2), padding=padding, use_bias=False)(pad(inputs, 2))
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for _ in range(blocks):
        x = layers.DepthwiseConv2D((3, 3), padding=padding, use_bias=False)(pad(x, 2))
        x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.Conv2D(channels, (1, 1), use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = layers.Flatten()(x)
    outputs = layers.Softmax()(layers.Dense(classes)(x))
    return keras.Model(inputs, outputs, name="ds_cnn")


def tiny_conv(classes: int = 4, seed: int = 0):
    """micro_speech's tiny_conv: Conv2D(8, 10x8, stride 2) -> ReLU -> Dense -> Softmax."""
    keras, layers, inputs = _start(seed)
    x = layers.Conv2D(8, (10, 8), strides=(2, 2), padding="same", activation="relu")(inputs)
    outputs = layers.Softmax()(layers.Dense(classes)(layers.Flatten()(x)))
    return keras.Model(inputs, outputs, name="tiny_conv")


def all_ops(classes: int = 5, seed: int = 0):
    """Exercises MAX_POOL_2D, a residual ADD, MEAN (global average pooling) and RELU6."""
    keras, layers, inputs = _start(seed)
    x = layers.Conv2D(12, (5, 5), strides=(1, 2), padding="valid", activation="relu6")(inputs)
    x = layers.MaxPooling2D((3, 2), strides=(2, 2), padding="same")(x)
    y = layers.DepthwiseConv2D((3, 3), padding="same", depth_multiplier=1, activation="relu")(x)
    y = layers.Conv2D(12, (1, 1))(y)
    x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Softmax()(layers.Dense(classes)(x))
    return keras.Model(inputs, outputs, name="all_ops")


def stream_ops(classes: int = 4, seed: int = 0):
    """Streamable at a period of 4 frames, with what plain DS-CNNs lack: a
    stride of 2 in time after the first layer, max pooling in time, a
    residual ADD of sliced tensors, and a dense layer over the flattened
    remaining window (a window op)."""
    keras, layers, inputs = _start(seed)
    x = layers.Conv2D(8, (5, 3), strides=(1, 2), padding="valid", activation="relu")(inputs)
    x = layers.DepthwiseConv2D((3, 3), strides=(2, 1), padding="valid", activation="relu")(x)
    x = layers.MaxPooling2D((2, 2), strides=(2, 2), padding="valid")(x)
    y = layers.Conv2D(8, (1, 1), activation="relu")(x)
    x = layers.Add()([x, y])
    x = layers.Conv2D(6, (3, 1), dilation_rate=(2, 1), padding="valid", activation="relu")(x)
    outputs = layers.Softmax()(layers.Dense(classes)(layers.Flatten()(x)))
    return keras.Model(inputs, outputs, name="stream_ops")


def conv_shapes(classes: int = 5, seed: int = 0):
    """Every specialised runtime-c path at awkward shapes: SAME padding with
    even and odd kernels on every edge, stride 2, channel counts that are not
    multiples of 4, depthwise with depth multiplier 2, patches with a tap tail
    (k % 4 != 0), 1x1 convs with few and many channels and with stride 2."""
    keras, layers, inputs = _start(seed)
    x = layers.Conv2D(7, (4, 4), strides=(2, 2), padding="same", activation="relu")(inputs)
    x = layers.DepthwiseConv2D((3, 3), padding="same", activation="relu")(x)
    x = layers.DepthwiseConv2D((4, 3), strides=(2, 1), padding="same")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same", depth_multiplier=2, activation="relu")(x)
    x = layers.Conv2D(13, (1, 1), activation="relu6")(x)
    x = layers.DepthwiseConv2D((5, 5), padding="same")(x)
    x = layers.Conv2D(72, (1, 1), activation="relu")(x)
    x = layers.Conv2D(3, (1, 1))(x)
    x = layers.Conv2D(6, (3, 3), strides=(2, 2), padding="same", activation="relu")(x)
    x = layers.Conv2D(9, (1, 1), strides=(2, 2))(x)
    outputs = layers.Softmax()(layers.Dense(classes)(layers.Flatten()(x)))
    return keras.Model(inputs, outputs, name="conv_shapes")


def dense_stack(classes: int = 5, units: int = 9, seed: int = 0):
    """Fully connected layers only (after pooling the input down); converted
    with per-tensor filter scales (see ``PER_TENSOR_DENSE``)."""
    keras, layers, inputs = _start(seed)
    x = layers.Flatten()(layers.AveragePooling2D((7, 8))(inputs))
    x = layers.Dense(units, activation="relu")(x)
    x = layers.Dense(units + 3, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(classes)(x), name="dense_stack")


def cancelling_dense(classes: int = 4, seed: int = 0):
    """Two frozen Dense layers: the first copies the pooled input twice, the
    second weighs the copies nearly oppositely, so its output range is tiny
    next to input x filter scales and its requantization multiplier is above
    1 (a left shift); the first has an ordinary multiplier below 1."""
    keras, layers, inputs = _start(seed)
    x = layers.Flatten()(layers.AveragePooling2D((7, 8))(inputs))
    width = int(x.shape[-1])
    copy, mix = layers.Dense(2 * width, trainable=False), layers.Dense(classes, trainable=False)
    outputs = mix(copy(x))
    copy.set_weights([np.concatenate([np.eye(width), np.eye(width)], axis=1).astype(np.float32),
                      np.zeros(2 * width, np.float32)])
    half = np.random.default_rng(seed).uniform(-1.0, 1.0, (width, classes)).astype(np.float32)
    mix.set_weights([np.concatenate([half, -half * 0.9999]), np.zeros(classes, np.float32)])
    return keras.Model(inputs, outputs, name="cancelling_dense")


def _random_features(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 26.0, (count, *INPUT_SHAPE)).astype(np.float32)


def to_int8_tflite(model, seed: int = 0, fit_steps: int = 4, per_channel_dense: bool = True) -> bytes:
    """A few fit steps on random data, then full-integer conversion (int8 I/O);
    ``per_channel_dense=False`` gives FULLY_CONNECTED one filter scale."""
    import tensorflow as tf

    keras = tf.keras
    classes = int(model.output.shape[-1])
    x = _random_features(fit_steps, seed)
    y = np.random.default_rng(seed + 1).integers(0, classes, fit_steps)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    calibration = _random_features(32, seed + 2)

    def representative():
        for row in calibration:
            yield [row[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = not per_channel_dense
    return converter.convert()


BUILDERS: dict[str, Callable] = {"ds_cnn": ds_cnn, "tiny_conv": tiny_conv, "all_ops": all_ops,
                                 "ds_cnn_stream": lambda seed=0: ds_cnn(streamable=True, seed=seed),
                                 "stream_ops": stream_ops, "conv_shapes": conv_shapes, "dense_stack": dense_stack,
                                 "cancelling_dense": cancelling_dense}
PER_TENSOR_DENSE = frozenset({"dense_stack"})


def build(kind: str, seed: int = 0) -> bytes:
    """The int8 .tflite bytes of model ``kind`` (see ``BUILDERS``)."""
    return to_int8_tflite(BUILDERS[kind](seed=seed), seed=seed, per_channel_dense=kind not in PER_TENSOR_DENSE)
