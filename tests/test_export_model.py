"""kws/export/tflite_model.py + op_support.py: any .tflite is read faithfully
(ops, versions, tensors, quantization, metadata, kws metadata), and models a
runtime cannot run are refused in one line naming the op, the tensor and the
runtime that can."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import flatbuffers
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from kws.audio.frontend_params import FrontendParams
from kws.errors import KwsError
from kws.boards import list_boards
from kws.export.exporter import board_tflm, export_model
from kws.export.op_support import TFLM_DISTRIBUTIONS, TFLM_RESOLVER_METHODS, UPSTREAM_TFLM, check_model
from kws.export.tflite_model import read_model
from kws.model_metadata import write_metadata


@pytest.fixture(scope="module")
def micro_speech(peers) -> bytes:
    return (peers / "micro_speech" / "micro_speech_quantized.tflite").read_bytes()


def _edited(model: bytes, edit: Callable[[schema.ModelT], None]) -> bytes:
    """``model`` with ``edit`` applied to its flatbuffer object tree."""
    tree = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    edit(tree)
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _set_opcode(name: str, replacing: str = "SOFTMAX") -> Callable[[schema.ModelT], None]:
    def edit(tree: schema.ModelT) -> None:
        code = next(c for c in tree.operatorCodes
                    if max(c.builtinCode, c.deprecatedBuiltinCode) == getattr(schema.BuiltinOperator, replacing))
        code.builtinCode = getattr(schema.BuiltinOperator, name)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)   # 127: PLACEHOLDER_FOR_GREATER_OP_CODES
        if name == "CUSTOM":
            code.customCode = b"MyWindow"
    return edit


def test_reads_micro_speech(micro_speech: bytes) -> None:
    model = read_model(micro_speech, "micro_speech.tflite")
    assert model.ops == ["RESHAPE", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"]
    assert [op.version for op in model.main.operators] == [1, 3, 4, 2]
    assert model.sha256 == hashlib.sha256(micro_speech).hexdigest()
    assert (model.input.shape, model.input.dtype, model.input.quant.zero_point) == ((1, 1960), "int8", -128)
    assert model.input.quant.scale == pytest.approx(0.10171568, rel=1e-6)
    assert (model.output.shape, model.output.quant.scale, model.output.quant.zero_point) == ((1, 4), 1 / 256, -128)
    conv = model.main.operators[1]
    filt = model.main.tensors[conv.inputs[1]]
    assert filt.is_constant and filt.data.shape == (1, 10, 8, 8) and filt.dtype == "int8"
    assert len(model.main.tensors[conv.inputs[2]].quant.scales) == 8        # per-channel bias scales
    assert conv.options.depthMultiplier == 8 and conv.options.strideH == 2
    assert "min_runtime_version" in model.metadata
    assert model.labels is None and model.frontend is None and not model.uses_resource_variables


def test_reads_streaming_model(peers) -> None:
    model = read_model(peers / "micro_wake_word" / "hey_jarvis.tflite")
    assert len(model.subgraphs) == 2 and model.uses_resource_variables
    assert model.resource_variable_count == 6
    assert {"CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"} <= set(model.ops)
    assert model.output.dtype == "uint8"
    check_model(model, "tflm")


def test_kws_metadata_travels(micro_speech: bytes) -> None:
    frontend = FrontendParams(num_channels=40, lower_band_hz=100.0)
    smoothing = {"average_window_ms": 800, "threshold": 190, "suppression_ms": 1000, "minimum_count": 2,
                 "inference_period_ms": 100}
    tagged = write_metadata(micro_speech, {"labels": ["_silence_", "_unknown_", "yes", "no"],
                                           "frontend": frontend.to_dict(), "smoothing": smoothing})
    model = read_model(tagged)
    assert model.labels == ["_silence_", "_unknown_", "yes", "no"]
    assert model.frontend == frontend
    assert model.smoothing == smoothing


@pytest.mark.parametrize("edit, runtime, expected", [
    (_set_opcode("LOG_SOFTMAX"), "c",
     r"op LOG_SOFTMAX v2 at operator 3 \(output tensor 'labels_softmax'\) is not supported by runtime c; "
     r"runtime tflm supports it: use --runtime tflm"),
    (_set_opcode("CUSTOM"), "tflm", r"op CUSTOM:MyWindow .* not supported by runtime tflm; no kws runtime supports it"),
])
def test_unsupported_ops_are_named(micro_speech: bytes, edit, runtime: str, expected: str) -> None:
    with pytest.raises(KwsError, match=expected):
        check_model(read_model(_edited(micro_speech, edit)), runtime)


def test_streaming_model_is_tflm_only(peers) -> None:
    model = read_model(peers / "micro_wake_word" / "okay_nabu.tflite")
    with pytest.raises(KwsError, match="resource variables .* is TFLM-only.*use --runtime tflm"):
        check_model(model, "c")


def test_float_io_and_dynamic_shapes_are_refused(micro_speech: bytes) -> None:
    def float_input(tree: schema.ModelT) -> None:
        tree.subgraphs[0].tensors[tree.subgraphs[0].inputs[0]].type = schema.TensorType.FLOAT32

    def dynamic(tree: schema.ModelT) -> None:
        tree.subgraphs[0].tensors[tree.subgraphs[0].inputs[0]].shapeSignature = [1, -1]

    with pytest.raises(KwsError, match=r"input tensor 'Reshape_1' .* is float32; .*full-integer quantization"):
        check_model(read_model(_edited(micro_speech, float_input)), "tflm")
    with pytest.raises(KwsError, match=r"tensor 'Reshape_1' .* has a dynamic shape \(signature \[1, -1\]\)"):
        check_model(read_model(_edited(micro_speech, dynamic)), "c")


def test_not_a_model(tmp_path) -> None:
    bad = tmp_path / "notes.tflite"
    bad.write_text("hello")
    with pytest.raises(KwsError, match="notes.tflite: not a .tflite model"):
        read_model(bad)
    with pytest.raises(KwsError, match="missing.tflite: cannot read it"):
        read_model(tmp_path / "missing.tflite")


def test_resolver_table_names_tflm_methods() -> None:
    assert TFLM_RESOLVER_METHODS["DEPTHWISE_CONV_2D"] == "AddDepthwiseConv2D"
    assert TFLM_RESOLVER_METHODS["UNIDIRECTIONAL_SEQUENCE_LSTM"] == "AddUnidirectionalSequenceLSTM"
    assert len(TFLM_RESOLVER_METHODS) == 100


@pytest.mark.parametrize("board, op, distribution", [
    ("nano33ble", "REVERSE_V2", "tflite-micro-arduino-examples@7948b85"),
    ("nano33ble", "REDUCE_MIN", "tflite-micro-arduino-examples@7948b85"),
    ("esp32", "REDUCE_ALL", "esp-tflite-micro@1.3.5"),
    ("esp32s3", "REDUCE_ALL", "esp-tflite-micro@1.3.5"),
])
def test_export_refuses_ops_the_boards_tflm_lacks(micro_speech: bytes, tmp_path, board: str, op: str,
                                                  distribution: str) -> None:
    model = read_model(_edited(micro_speech, _set_opcode(op)), "edited.tflite")
    check_model(model, "tflm")          # upstream TFLM has it
    method = TFLM_RESOLVER_METHODS[op]
    with pytest.raises(KwsError, match=rf"^edited.tflite: the TFLM this board builds against \({re.escape(distribution)}\) "
                                       rf"lacks op {op} \({method}\); re-convert the model without it"):
        export_model(model, tmp_path, runtime="tflm", board=board, labels=["a", "b", "c", "d"])
    assert not (tmp_path / "lib").exists()


def test_refusal_names_every_lacking_op(micro_speech: bytes) -> None:
    def two(tree: schema.ModelT) -> None:
        _set_opcode("REVERSE_V2")(tree)
        _set_opcode("BATCH_MATMUL", replacing="RESHAPE")(tree)
    model = read_model(_edited(micro_speech, two), "two.tflite")
    with pytest.raises(KwsError, match=r"lacks ops BATCH_MATMUL \(AddBatchMatMul\), REVERSE_V2 \(AddReverseV2\); "):
        check_model(model, "tflm", TFLM_DISTRIBUTIONS["tflite-micro-arduino-examples@7948b85"])


def test_every_tflm_board_names_its_distribution() -> None:
    """A board that lists runtime tflm says which TFLM it builds against, and only lacks ops upstream has."""
    tflm_boards = [board for board in list_boards() if "tflm" in board.runtimes]
    assert {b.name for b in tflm_boards} == {"esp32", "esp32s3", "nano33ble"}
    for board in tflm_boards:
        assert board_tflm(board).name in TFLM_DISTRIBUTIONS and board_tflm(board) is not UPSTREAM_TFLM
    for distribution in TFLM_DISTRIBUTIONS.values():
        assert distribution.lacks <= set(TFLM_RESOLVER_METHODS)


@pytest.mark.parametrize("distribution", sorted(TFLM_DISTRIBUTIONS))
def test_op_table_matches_the_distributions_header(distribution: str) -> None:
    """Each Add method kws registers exists in that distribution's op resolver,
    and each it says is lacking does not; needs a checkout at the pinned
    version: KWS_TFLM_DIR (tflite-micro), KWS_TFLM_ARDUINO_DIR
    (tflite-micro-arduino-examples @ 7948b85), KWS_ESP_TFLITE_MICRO_DIR
    (esp-tflite-micro @ v1.3.5)."""
    tflm = TFLM_DISTRIBUTIONS[distribution]
    checkout = os.environ.get(tflm.checkout_env)
    if not checkout:
        pytest.skip(f"set {tflm.checkout_env} to a checkout of {tflm.name}")
    header = (Path(checkout) / tflm.header).read_text(encoding="utf-8")
    declared = set(re.findall(r"TfLiteStatus (Add\w+)\(", header))
    assert {TFLM_RESOLVER_METHODS[op] for op in tflm.ops} <= declared
    assert not {TFLM_RESOLVER_METHODS[op] for op in tflm.lacks} & declared


def test_every_unsupported_op_is_named_by_the_cli(micro_speech: bytes, tmp_path: Path) -> None:
    def two_ops(tree: schema.ModelT) -> None:
        _set_opcode("LOG_SOFTMAX")(tree)
        _set_opcode("TANH", replacing="RESHAPE")(tree)

    (tmp_path / "m.tflite").write_bytes(_edited(micro_speech, two_ops))
    done = subprocess.run([sys.executable, "-m", "kws", "export", "--model", "m.tflite", "--runtime", "c",
                           "--labels", "_silence_,_unknown_,yes,no", "--out", "fw"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert re.fullmatch(r"error: m\.tflite: op TANH v\d at operator 0 \(output tensor '[^']+'\), "
                        r"op LOG_SOFTMAX v2 at operator 3 \(output tensor 'labels_softmax'\) are not supported "
                        r"by runtime c; runtime tflm supports them: use --runtime tflm", done.stderr.strip())
