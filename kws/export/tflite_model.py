"""Read any .tflite flatbuffer into plain Python objects and check it against a runtime.

``read_model`` gives subgraphs, operators (builtin name + version + options),
tensors (shape, dtype, quantization, constant data), metadata entries and the
kws metadata (labels, frontend parameters, posterior smoothing) written by
``kws train`` (see ``kws.model_metadata``). ``check_model`` refuses what a
runtime cannot run with one line naming the op, the tensor and the runtime
that does support it.

Only the flatbuffer schema shipped with ``tflite-micro`` is used (the same
schema version as the interpreter kws measures arenas with), not TensorFlow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from kws.audio.frontend_params import FrontendParams
from kws.errors import KwsError
from kws.model_card import ModelCard
from kws.model_metadata import damage, read_metadata

_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_NUMPY_TYPES = {
    "float32": np.float32, "float16": np.float16, "float64": np.float64, "int8": np.int8,
    "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32,
    "uint32": np.uint32, "int64": np.int64, "uint64": np.uint64, "bool": np.bool_,
}
# Ops that exist only to keep state between invocations (streaming models).
RESOURCE_VARIABLE_OPS = frozenset({"VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"})


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per axis."""

    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    axis: int = 0

    @property
    def scale(self) -> float:
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0]

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1


@dataclass(frozen=True)
class Tensor:
    """One tensor of a subgraph; ``data`` is set for constants (weights, shapes)."""

    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...] | None
    quant: Quantization | None
    data: np.ndarray | None = field(default=None, repr=False, compare=False)
    is_variable: bool = False

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        numpy_type = _NUMPY_TYPES.get(self.dtype)
        return self.size * (np.dtype(numpy_type).itemsize if numpy_type else 0)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"tensor '{self.name}' ({self.dtype}{list(self.shape)})"


@dataclass(frozen=True)
class Operator:
    """One operator: builtin name (``CUSTOM:<code>`` for custom ops), version, tensors."""

    index: int
    opcode: str
    version: int
    inputs: tuple[int, ...]    # -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Subgraph:
    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor(self, index: int) -> Tensor | None:
        """Tensor ``index``, or None for an omitted optional input (-1)."""
        return None if index < 0 else self.tensors[index]


@dataclass(frozen=True)
class TfliteModel:
    """A parsed .tflite model plus its kws metadata."""

    source: str
    data: bytes = field(repr=False)
    description: str
    subgraphs: tuple[Subgraph, ...]
    metadata: dict[str, bytes] = field(repr=False)
    kws_metadata: dict[str, Any] = field(repr=False)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def main(self) -> Subgraph:
        return self.subgraphs[0]

    @property
    def input(self) -> Tensor:
        return self.main.tensors[self.main.inputs[0]]

    @property
    def output(self) -> Tensor:
        return self.main.tensors[self.main.outputs[0]]

    @property
    def ops(self) -> list[str]:
        """Distinct operator names over all subgraphs, in order of first use."""
        return list(dict.fromkeys(op.opcode for sub in self.subgraphs for op in sub.operators))

    @property
    def uses_resource_variables(self) -> bool:
        return bool(RESOURCE_VARIABLE_OPS.intersection(self.ops))

    @property
    def resource_variable_count(self) -> int:
        """Distinct VAR_HANDLE shared names (what MicroResourceVariables must hold)."""
        return len({op.options.sharedName for sub in self.subgraphs for op in sub.operators if op.opcode == "VAR_HANDLE"})

    @cached_property
    def card(self) -> ModelCard | None:
        """What the model says about itself (kws metadata), None for models kws did not train."""
        return ModelCard.from_metadata(self.kws_metadata) if self.kws_metadata else None

    @property
    def labels(self) -> list[str] | None:
        return list(self.card.labels) if self.card else None

    @property
    def frontend(self) -> FrontendParams | None:
        return self.card.frontend if self.card else None

    @property
    def smoothing(self) -> dict[str, Any] | None:
        return self.card.smoothing.to_dict() if self.card and self.card.smoothing else None


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _quantization(q: Any) -> Quantization | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    zero_points = q.zeroPoint if q.zeroPoint is not None and len(q.zeroPoint) else [0] * len(q.scale)
    return Quantization(
        scales=tuple(float(np.float32(s)) for s in q.scale),
        zero_points=tuple(int(z) for z in zero_points),
        axis=int(q.quantizedDimension),
    )


def _buffer_bytes(raw: bytes, buffer: Any) -> bytes | None:
    if buffer is None:
        return None
    if buffer.offset > 1:  # large models keep buffers after the flatbuffer
        return raw[buffer.offset : buffer.offset + buffer.size]
    if buffer.data is None or len(buffer.data) == 0:
        return None
    return np.asarray(buffer.data, np.uint8).tobytes()


def _tensor(index: int, t: Any, buffers: list[Any], raw: bytes) -> Tensor:
    dtype = _TYPE_NAMES.get(t.type, f"type{t.type}")
    shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
    signature = tuple(int(d) for d in t.shapeSignature) if t.shapeSignature is not None else None
    payload = _buffer_bytes(raw, buffers[t.buffer]) if t.buffer < len(buffers) else None
    data = None
    if payload is not None and dtype in _NUMPY_TYPES:
        data = np.frombuffer(payload, _NUMPY_TYPES[dtype])
        if data.size == int(np.prod(shape, dtype=np.int64)):  # sparse tensors stay flat
            data = data.reshape(shape)
    return Tensor(index, _text(t.name), dtype, shape, signature, _quantization(t.quantization), data, bool(t.isVariable))


def _opcode_name(code: Any) -> str:
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    name = _BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}")
    return f"CUSTOM:{_text(code.customCode)}" if name == "CUSTOM" else name


def read_model(model: str | Path | bytes, source: str | None = None) -> TfliteModel:
    """Parse a .tflite file (path) or its bytes; one-line KwsError when it is not one."""
    if isinstance(model, (str, Path)):
        path = Path(model)
        try:
            raw = path.read_bytes()
        except OSError as err:
            raise KwsError(f"--model {path}: cannot read it ({err.strerror}); train one with `kws train` or pass --model PATH") from None
        source = source or str(path)
    else:
        raw = bytes(model)
        source = source or "<model bytes>"
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise KwsError(f"{source}: not a .tflite model (no TFL3 identifier); pass a file written by the TFLite converter")
    try:
        m = schema.ModelT.InitFromPackedBuf(bytearray(raw), 0)
    except Exception as err:  # flatbuffers raises assorted errors on damaged input
        raise KwsError(f"{source}: damaged .tflite model ({damage(err)}); convert or download it again") from None
    buffers = list(m.buffers or [])
    codes = [(_opcode_name(c), int(c.version)) for c in m.operatorCodes or []]
    subgraphs = []
    for sub in m.subgraphs or []:
        tensors = tuple(_tensor(i, t, buffers, raw) for i, t in enumerate(sub.tensors or []))
        operators = tuple(
            Operator(
                index=i,
                opcode=codes[op.opcodeIndex][0],
                version=codes[op.opcodeIndex][1],
                inputs=tuple(int(x) for x in (op.inputs if op.inputs is not None else [])),
                outputs=tuple(int(x) for x in (op.outputs if op.outputs is not None else [])),
                options=op.builtinOptions,
            )
            for i, op in enumerate(sub.operators or [])
        )
        subgraphs.append(Subgraph(
            _text(sub.name), tensors, operators,
            tuple(int(x) for x in (sub.inputs if sub.inputs is not None else [])),
            tuple(int(x) for x in (sub.outputs if sub.outputs is not None else [])),
        ))
    if not subgraphs or not subgraphs[0].inputs or not subgraphs[0].outputs:
        raise KwsError(f"{source}: the model has no main subgraph with inputs and outputs")
    metadata = {_text(e.name): _buffer_bytes(raw, buffers[e.buffer]) or b"" for e in m.metadata or []}
    try:
        kws_meta = read_metadata(raw)
    except KwsError as err:
        raise KwsError(f"{source}: {err}") from None
    return TfliteModel(source, raw, _text(m.description), tuple(subgraphs), metadata, kws_meta)


def check_io(model: TfliteModel) -> None:
    """kws firmware feeds int8 features and reads integer scores: refuse float I/O
    and dynamic shapes (a leading batch of -1 in the signature is fine)."""
    for role, indices in (("input", model.main.inputs), ("output", model.main.outputs)):
        for index in indices:
            tensor = model.main.tensors[index]
            if tensor.dtype not in ("int8", "uint8", "int16"):
                raise KwsError(
                    f"{model.source}: {role} {tensor.describe()} is {tensor.dtype}; kws firmware needs integer I/O: "
                    "convert with full-integer quantization (inference_input_type=tf.int8, inference_output_type=tf.int8)"
                )
            if tensor.quant is None and tensor.dtype != "int16":
                raise KwsError(f"{model.source}: {role} {tensor.describe()} has no quantization parameters; re-convert the model with a representative dataset")
    for sub in model.subgraphs:
        for tensor in sub.tensors:
            dynamic = any(d < 0 for d in tensor.shape) or (
                tensor.shape_signature is not None and any(d < 0 for d in tensor.shape_signature[1:])
            )
            if dynamic:
                raise KwsError(
                    f"{model.source}: {tensor.describe()} has a dynamic shape (signature {list(tensor.shape_signature or tensor.shape)}); "
                    "microcontroller runtimes need fixed shapes: convert with a fixed input shape (batch 1)"
                )
