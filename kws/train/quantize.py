"""Full-integer int8 conversion, the op-set check, and the real TFLM interpreter.

The float model is rebuilt with batch size 1 (static shapes, so the op set
stays CONV_2D / DEPTHWISE_CONV_2D / AVERAGE_POOL_2D / FULLY_CONNECTED /
SOFTMAX / RESHAPE) and calibrated on training features.  The input range is
pinned to -128..127 so the input quantization is the identity (scale 1, zero
point 0): the firmware feeds the frontend's int8 frames unchanged.  Tensor
names are emptied (they are converter paths, pure flash cost) and the kws
metadata is embedded.  ``TflmModel`` runs the result in tflite-micro's own
interpreter, the reference for everything that runs on a device.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Iterator

import numpy as np

from kws.errors import KwsError
from kws.model_metadata import strip_tensor_names, write_metadata
from kws.train.models import Architecture, build

ALLOWED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX", "RESHAPE", "PAD")
HOST_ARENA = 256 * 1024  # generous: the host only evaluates; export measures the real need


def convert(model, arch: Architecture, representative: np.ndarray, metadata: dict | None = None) -> bytes:
    """int8 .tflite bytes for a trained Keras ``model`` of ``arch``.

    ``representative``: int8 features (n, frames, channels) from the training set.
    """
    import tensorflow as tf

    frames, channels = representative.shape[1:]
    num_classes = int(model.output_shape[-1])
    single = build(arch, (frames, channels), num_classes, batch_size=1)
    single.set_weights(model.get_weights())
    pinned = representative[:1].copy()
    pinned[0, 0, 0], pinned[0, 0, 1] = -128, 127  # input range -128..127 -> identity quantization

    def samples():
        for x in np.concatenate([pinned, representative]):
            yield [x[None].astype(np.float32)]

    with quiet():
        converter = tf.lite.TFLiteConverter.from_keras_model(single)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = samples
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        converter._experimental_disable_per_channel = not arch.per_channel  # noqa: SLF001 (no public switch)
        tflite = strip_tensor_names(converter.convert())
    check_model(tflite)
    return write_metadata(tflite, metadata) if metadata else tflite


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the converter's prints and C++ logs (file descriptors 1 and 2, and
    Python's sys.stdout, which kws.logs may keep apart from descriptor 1; not
    sys.stderr: absl binds a root log handler to it on first use);
    what it wrote is replayed on stderr if it fails."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    stdout = sys.stdout
    with tempfile.TemporaryFile() as sink:
        text = open(sink.fileno(), "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        sys.stdout = text
        try:
            yield
        except BaseException:
            text.flush()
            sys.stdout = stdout
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace")[-4000:])
            raise
        finally:
            text.flush()
            sys.stdout = stdout
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            text.close()


def op_names(tflite: bytes) -> list[str]:
    """Builtin operator names of the first subgraph, in execution order."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    return [names[codes[op.opcodeIndex]] for op in model.subgraphs[0].operators]


def input_quantization(tflite: bytes) -> tuple[float, int]:
    """(scale, zero point) of the model's input tensor."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    sub = model.subgraphs[0]
    quant = sub.tensors[sub.inputs[0]].quantization
    return float(quant.scale[0]), int(quant.zeroPoint[0])


def check_model(tflite: bytes) -> None:
    """Raise unless the ops are the allowed set and the input quantization is the identity."""
    extra = sorted(set(op_names(tflite)) - set(ALLOWED_OPS))
    if extra:
        raise KwsError(f"the converted model uses {', '.join(extra)}; kws models may only use "
                       f"{', '.join(ALLOWED_OPS)} (change the architecture in kws/train/models.py)")
    scale, zero = input_quantization(tflite)
    if abs(scale - 1.0) > 1e-6 or zero != 0:
        raise KwsError(f"input quantization is scale {scale} zero point {zero}, not the identity; "
                       "the representative data must span -128..127")


class TflmModel:
    """An int8 .tflite in the real TFLM interpreter (tflite-micro from PyPI)."""

    def __init__(self, tflite: bytes, arena_size: int = HOST_ARENA) -> None:
        from tflite_micro.python.tflite_micro import runtime

        try:
            self._interp = runtime.Interpreter.from_bytes(tflite, arena_size=arena_size)
        except (RuntimeError, ValueError) as err:
            raise KwsError(f"TFLM cannot load the model ({str(err).strip()[:200]})") from None
        self._shape = tuple(self._interp.get_input_details(0)["shape"])

    def scores(self, features: np.ndarray) -> np.ndarray:
        """int8 output scores (n, classes) for int8 features (n, frames, channels)."""
        out = []
        for x in np.asarray(features, np.int8):
            self._interp.set_input(x.reshape(self._shape), 0)
            self._interp.invoke()
            out.append(np.array(self._interp.get_output(0)).reshape(-1))
        return np.stack(out).astype(np.int8)
