"""kws metadata inside a .tflite file: labels, frontend, smoothing, model info.

The model carries everything the firmware and the host need to use it, as one
JSON blob in the flatbuffer's ``metadata`` table under the name
``kws_metadata``::

    {
      "format": 1,
      "labels": ["_silence_", "_unknown_", "yes", "no"],   # output order
      "frontend": {...},          # FrontendParams.to_dict()
      "smoothing": {              # posterior smoothing (kws.model_card.SmoothingParams)
        "average_window_ms": 1000, "threshold": 200,    # threshold: 0..255 score scale
        "suppression_ms": 1500, "minimum_count": 3, "inference_period_ms": 100
      },
      "model": {"architecture": "ds_cnn", "size_budget": 20480, "seed": 1,
                "data_sha256": "...", ...}
    }

Scores are the int8 softmax output plus 128 (0..255 = probability x 256).
Labels that start with ``_`` (``_silence_``, ``_unknown_``) are never reported
as detections.

Only the light flatbuffer schema shipped with ``tflite-micro`` is imported,
not TensorFlow. Rewriting keeps every weight buffer 16-byte aligned, as the
converter's own output is.
"""

from __future__ import annotations

import json
from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from kws.errors import KwsError, UsageError
from kws.model_card import SmoothingParams

METADATA_NAME = "kws_metadata"
FORMAT_VERSION = 1
_FILE_IDENTIFIER = b"TFL3"
_ALIGNMENT = 16


class _AlignedBufferT(schema.BufferT):
    """A buffer whose data vector starts on a 16-byte boundary."""

    def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 (flatbuffers naming)
        data = None
        if self.data is not None and len(self.data):
            payload = np.asarray(self.data, np.uint8).tobytes()
            builder.StartVector(1, len(payload), _ALIGNMENT)
            builder.head -= len(payload)
            builder.Bytes[builder.head : builder.head + len(payload)] = payload
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        if self.offset:
            schema.BufferAddOffset(builder, self.offset)
        if self.size:
            schema.BufferAddSize(builder, self.size)
        return schema.BufferEnd(builder)


def _parse(tflite_bytes: bytes) -> Any:
    if len(tflite_bytes) < 8 or bytes(tflite_bytes[4:8]) != _FILE_IDENTIFIER:
        raise KwsError("not a .tflite model (no TFL3 identifier); pass a file written by the TFLite converter")
    try:
        return schema.ModelT.InitFromPackedBuf(bytearray(tflite_bytes), 0)
    except Exception as err:  # flatbuffers raises assorted errors on damaged input
        raise KwsError(f"damaged .tflite model ({damage(err)}); convert or download it again") from None


def damage(err: Exception) -> str:
    """What a flatbuffers failure on a damaged model says, short (where it broke, when it says)."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1][:160]}" if text else type(err).__name__


def validate_metadata(metadata: dict[str, Any]) -> None:
    """Raise KwsError unless ``metadata`` has the keys the firmware relies on."""
    labels = metadata.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise KwsError("kws metadata: 'labels' must be a non-empty list of names")
    if len(set(labels)) != len(labels):
        raise KwsError("kws metadata: 'labels' has duplicates")
    if not isinstance(metadata.get("frontend"), dict):
        raise KwsError("kws metadata: 'frontend' must be FrontendParams.to_dict()")
    smoothing = metadata.get("smoothing")
    if smoothing is not None:
        missing = [k for k in SmoothingParams.keys() if k not in smoothing]
        if missing:
            raise KwsError(f"kws metadata: 'smoothing' lacks {', '.join(missing)}")
        try:
            SmoothingParams.from_dict(smoothing)
        except (UsageError, ValueError, TypeError) as err:
            raise KwsError(f"kws metadata: {err}") from None


def write_metadata(tflite_bytes: bytes, metadata: dict[str, Any]) -> bytes:
    """Return the model with ``metadata`` stored as JSON under ``kws_metadata``
    (replacing an earlier kws entry; other metadata entries are kept)."""
    validate_metadata(metadata)
    model = _parse(tflite_bytes)
    blob = json.dumps({"format": FORMAT_VERSION, **metadata}, sort_keys=True, separators=(",", ":"))
    model.metadata = [m for m in (model.metadata or []) if _name(m) != METADATA_NAME]
    model.buffers = list(model.buffers or [])
    _drop_unused_buffers(model)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(blob.encode("utf-8"), np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    return _pack(model, len(tflite_bytes) + len(blob))


def strip_tensor_names(tflite_bytes: bytes) -> bytes:
    """The model with intermediate tensor names emptied (they are long converter
    paths, often 5-10% of a tiny model); graph inputs and outputs keep theirs."""
    model = _parse(tflite_bytes)
    for sub in model.subgraphs or []:
        keep = set(sub.inputs or []) | set(sub.outputs or [])
        for index, tensor in enumerate(sub.tensors or []):
            if index not in keep:
                tensor.name = ""
    return _pack(model, len(tflite_bytes))


def _pack(model: Any, size_hint: int) -> bytes:
    """Serialize ``model`` with every buffer's data 16-byte aligned."""
    aligned = []
    for buf in model.buffers or []:
        copy = _AlignedBufferT()
        copy.data, copy.offset, copy.size = buf.data, buf.offset, buf.size
        aligned.append(copy)
    model.buffers = aligned
    builder = flatbuffers.Builder(max(1024, size_hint + 1024))
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())


def _name(entry: Any) -> str:
    name = entry.name
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def _drop_unused_buffers(model: Any) -> None:
    """Remove the buffer of a replaced metadata entry (only trailing, unreferenced
    buffers are dropped so tensor buffer indices never move)."""
    used = {m.buffer for m in model.metadata or []}
    for sub in model.subgraphs or []:
        used.update(t.buffer for t in sub.tensors or [])
    while len(model.buffers) > 1 and (len(model.buffers) - 1) not in used:
        model.buffers.pop()


def read_metadata(tflite_bytes: bytes) -> dict[str, Any]:
    """The kws metadata of a model, or ``{}`` for a model kws did not write."""
    model = _parse(tflite_bytes)
    for entry in model.metadata or []:
        if _name(entry) != METADATA_NAME:
            continue
        data = model.buffers[entry.buffer].data
        try:
            metadata = json.loads(np.asarray(data, np.uint8).tobytes().decode("utf-8"))
        except (TypeError, ValueError, AttributeError):
            raise KwsError("the model's kws_metadata is not valid JSON; retrain or re-export the model") from None
        validate_metadata(metadata)
        return metadata
    return {}
