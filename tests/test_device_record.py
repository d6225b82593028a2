"""`kws monitor --record` end to end on the emulated board with a test
microphone (a user board file: [mic] type = "tone", a sawtooth paced by the
board's clock): RECORD frame -> microphone -> ring -> "~pcm" lines ->
wav files in the dataset layout, every sample in order."""

from __future__ import annotations

import numpy as np
import pytest

from kws.audio.io import load_wav
from kws.boards import load_board
from kws.device.build import build
from kws.device.session import identify, open_session
from kws.export.exporter import export_model
from kws.export.project import render_project
from kws.monitor import record

TONE_BOARD = (
    (load_board("qemu-stm32f405").path.read_text(encoding="utf-8"))
    .replace('name = "qemu-stm32f405"', 'name = "qemu-tone"')
    .replace('[mic]\ntype = "none"', '[mic]\ntype = "tone"\nsample_rate = 16000')
)


@pytest.fixture(scope="module")
def tone_project(peers, tmp_path_factory):
    boards = tmp_path_factory.mktemp("boards")
    (boards / "qemu-tone.toml").write_text(TONE_BOARD)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KWS_BOARDS_DIR", str(boards))
        board = load_board("qemu-tone")
        export = export_model(peers / "micro_speech" / "micro_speech_quantized.tflite", tmp_path_factory.mktemp("fw"),
                              runtime="c", board=board, labels=["_silence_", "_unknown_", "yes", "no"])
        project = render_project(board, export)
        build(project.path, project.env)
        yield project, board


def test_recorded_clips_are_complete_and_in_order(tone_project, tmp_path):
    project, board = tone_project
    with open_session(project, board) as link:
        assert identify(link).get("mic") == "1"
        paths = record(link, "hey_robot", 2, tmp_path, seconds=0.25)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == ["hey_robot/board_0000.wav", "hey_robot/board_0001.wav"]
    for path in paths:
        samples = load_wav(path).astype(np.int32)
        assert len(samples) == 4000
        steps = np.diff(samples)
        assert set(np.unique(steps)) <= {512, -63 * 512}, "a sample was lost or repeated"
        assert samples.min() >= -16384 and samples.max() <= 15872
