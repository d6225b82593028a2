"""Shared test fixtures: paths to the repository and to the test data committed
under tests/data (real speech, peer models), and the emulated board with a test
microphone."""

from __future__ import annotations

from contextlib import contextmanager

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def dev_set() -> Path:
    """120 real Speech Commands clips in the dataset's layout (tests/data/README.md)."""
    return DATA / "speech_commands"


@pytest.fixture(scope="session")
def peers() -> Path:
    """Models made by other projects: micro_speech, MLPerf Tiny kws, microWakeWord."""
    return DATA / "peers"


@pytest.fixture(scope="session")
def tone_project(peers, tmp_path_factory):
    """micro_speech built for the emulated board with a test microphone (a
    user board file: [mic] type = "tone", a sawtooth paced by the board's
    clock); (project, board)."""
    with tone_board(tmp_path_factory) as board:
        yield tone_build(board, peers / "micro_speech" / "micro_speech_quantized.tflite",
                         tmp_path_factory.mktemp("fw"), ["_silence_", "_unknown_", "yes", "no"]), board


@contextmanager
def tone_board(tmp_path_factory):
    """The emulated board with a test microphone, as a user board file."""
    from kws.boards import load_board

    text = (load_board("qemu-stm32f405").path.read_text(encoding="utf-8")
            .replace('name = "qemu-stm32f405"', 'name = "qemu-tone"')
            .replace('[mic]\ntype = "none"', '[mic]\ntype = "tone"\nsample_rate = 16000'))
    boards = tmp_path_factory.mktemp("boards")
    (boards / "qemu-tone.toml").write_text(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KWS_BOARDS_DIR", str(boards))
        yield load_board("qemu-tone")


def tone_build(board, model, out, labels, period_ms=None):
    """Export (runtime c), render and build ``model`` for the tone board; the project."""
    from kws.device.build import build
    from kws.export.exporter import export_model
    from kws.export.project import render_project

    project = render_project(board, export_model(model, out, runtime="c", board=board, labels=labels,
                                                 period_ms=period_ms))
    build(project.path, project.env)
    return project
