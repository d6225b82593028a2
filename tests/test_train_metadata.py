"""kws/model_metadata.py: JSON metadata inside a .tflite, read back intact,
weights untouched (same TFLM outputs), buffers aligned, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from kws.audio.frontend_params import FrontendParams
from kws.errors import KwsError
from kws.model_metadata import read_metadata, write_metadata

METADATA = {
    "labels": ["_silence_", "_unknown_", "yes", "no"],
    "frontend": FrontendParams().to_dict(),
    "smoothing": {"average_window_ms": 1000, "threshold": 200, "suppression_ms": 1500,
                  "minimum_count": 3, "inference_period_ms": 100},
    "model": {"architecture": "tiny_conv", "seed": 3},
}


@pytest.fixture(scope="module")
def micro_speech(peers) -> bytes:
    return (peers / "micro_speech" / "micro_speech_quantized.tflite").read_bytes()


def _run(model: bytes, features: np.ndarray) -> np.ndarray:
    interp = runtime.Interpreter.from_bytes(model, arena_size=20000)
    interp.set_input(features.reshape(interp.get_input_details(0)["shape"]), 0)
    interp.invoke()
    return interp.get_output(0)


def test_round_trip_keeps_model_behaviour(micro_speech: bytes) -> None:
    assert read_metadata(micro_speech) == {}
    tagged = write_metadata(micro_speech, METADATA)
    back = read_metadata(tagged)
    assert back["labels"] == METADATA["labels"]
    assert FrontendParams.from_dict(back["frontend"]) == FrontendParams()
    assert back["smoothing"] == METADATA["smoothing"] and back["format"] == 1
    features = np.random.default_rng(0).integers(-128, 128, (1, 49 * 40)).astype(np.int8)
    np.testing.assert_array_equal(_run(tagged, features), _run(micro_speech, features))


def test_rewrite_replaces_entry_and_keeps_buffers_aligned(micro_speech: bytes) -> None:
    once = write_metadata(micro_speech, METADATA)
    changed = write_metadata(once, {**METADATA, "labels": ["_silence_", "_unknown_", "on", "off"]})
    assert read_metadata(changed)["labels"][2:] == ["on", "off"]
    assert len(changed) == len(once)  # the old blob is gone, not kept beside the new one
    model = schema.Model.GetRootAsModel(changed, 0)
    names = [model.Metadata(i).Name() for i in range(model.MetadataLength())]
    assert names.count(b"kws_metadata") == 1
    for i in range(model.BuffersLength()):
        buf = model.Buffers(i)
        if buf.DataLength():
            assert buf._tab.Vector(buf._tab.Offset(4)) % 16 == 0


def test_bad_inputs_are_one_line_errors(micro_speech: bytes) -> None:
    with pytest.raises(KwsError, match="TFL3"):
        read_metadata(b"not a model at all")
    with pytest.raises(KwsError, match="labels"):
        write_metadata(micro_speech, {**METADATA, "labels": ["yes", "yes"]})
    with pytest.raises(KwsError, match="threshold"):
        write_metadata(micro_speech, {**METADATA, "smoothing": {**METADATA["smoothing"], "threshold": 300}})
    with pytest.raises(KwsError, match="minimum_count"):
        write_metadata(micro_speech, {**METADATA, "smoothing": {**METADATA["smoothing"], "minimum_count": 0}})
    with pytest.raises(KwsError, match="lacks suppression_ms"):
        write_metadata(micro_speech, {**METADATA, "smoothing": {k: v for k, v in METADATA["smoothing"].items()
                                                                 if k != "suppression_ms"}})


def test_model_card_round_trip(micro_speech: bytes) -> None:
    """The card train writes is the card export, eval and monitor read."""
    from kws.export.tflite_model import read_model
    from kws.labels import keyword_labels, keyword_mask
    from kws.model_card import ModelCard, SmoothingParams

    assert ModelCard.read(micro_speech) is None                      # a model kws did not train
    card = ModelCard(("_silence_", "_unknown_", "hey_robot"), FrontendParams(), SmoothingParams(500, 230, 1500, 3, 40),
                     {"architecture": "ds_cnn", "seed": 1})
    written = card.write(micro_speech)
    assert ModelCard.read(written) == card and read_model(written).card == card
    assert keyword_labels(card.labels) == ["hey_robot"] and keyword_mask(card.labels) == 0b100
    assert read_metadata(written) == {"format": 1, **card.to_metadata()}
    with pytest.raises(KwsError, match="kws metadata"):
        ModelCard.from_metadata({**METADATA, "frontend": {"window_ms": "long"}})
