"""`kws monitor --record` end to end on the emulated board with a test
microphone (conftest's `tone_project`): RECORD frame -> microphone -> ring ->
"~pcm" lines -> wav files in the dataset layout, every sample in order."""

from __future__ import annotations

import numpy as np

from kws.audio.io import load_wav
from kws.device.session import identify, open_session
from kws.monitor import record


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
