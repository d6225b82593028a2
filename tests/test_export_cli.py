"""`kws export` end to end through the real console command: the model
library and the PlatformIO project written into the firmware folder, board
fit refused or warned about in one line, a re-export replacing the whole
model folder, and the --verify check."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

KWS = Path(sys.executable).with_name("kws")
LABELS = "_silence_,_unknown_,yes,no"


def kws(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(KWS), *args], cwd=cwd, capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def micro_speech(peers) -> str:
    return str(peers / "micro_speech" / "micro_speech_quantized.tflite")


def test_default_folder_and_runtime_switch(micro_speech: str, tmp_path: Path) -> None:
    done = kws("export", "--model", micro_speech, "--labels", LABELS, "--board", "nano33ble", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    lib = tmp_path / "build" / "firmware" / "nano33ble" / "lib" / "kws_model"
    assert summary["runtime"] == "tflm" and Path(summary["model_dir"]) == Path("build/firmware/nano33ble/lib/kws_model")
    assert {p.name for p in lib.iterdir()} == {"kws_export.json", "kws_model.h", "kws_model_settings.h",
                                               "kws_model_data.h", "kws_model_data.cc", "kws_op_resolver.h",
                                               "kws_model_tflm.cc"}
    assert json.loads((lib / "kws_export.json").read_text())["arena_need_bytes"] == 7584
    project = tmp_path / "build" / "firmware" / "nano33ble"
    assert (project / "platformio.ini").is_file() and json.loads((project / "kws_project.json").read_text())["runtime"] == "tflm"
    assert "no frontend parameters" in done.stderr  # a peer model: the assumption is said, not hidden

    again = kws("export", "--model", micro_speech, "--labels", LABELS, "--board", "nano33ble", "--runtime", "c", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    names = {p.name for p in lib.iterdir()}
    assert "kws_model.c" in names and "kws_model_tflm.cc" not in names  # nothing of the tflm export lingers
    assert "memory plan: 4,248 B" in again.stdout
    assert not [p for p in lib.parent.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_board_that_cannot_fit_is_refused_in_one_line(micro_speech: str, tmp_path: Path) -> None:
    done = kws("export", "--model", micro_speech, "--labels", LABELS, "--board", "uno", "--runtime", "c", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "cannot fit --board uno" in done.stderr and "the board has 2,048 B" in done.stderr
    assert not (tmp_path / "build").exists()


def test_warns_above_80_percent(micro_speech: str, tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "tight.toml").write_text(
        'name = "tight"\nfamily = "qemu"\ndescription = "test board"\nmcu = "X"\ncore = "cortex-m4"\n'
        'clock_hz = 168000000\nflash_bytes = 1048576\nram_bytes = 17000\nruntimes = ["c"]\n'
        '[platformio]\nplatform = "kws-qemu"\nboard = "netduinoplus2"\n')
    env = {"KWS_BOARDS_DIR": str(boards), "PATH": "/usr/bin:/bin"}
    done = kws("export", "--model", micro_speech, "--labels", LABELS, "--board", "tight", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "board tight: the firmware would use ~90% of its RAM" in done.stderr


def test_bad_inputs_are_one_line_errors(micro_speech: str, tmp_path: Path) -> None:
    done = kws("export", "--model", micro_speech, "--labels", "yes,no", cwd=tmp_path)
    assert done.returncode == 2 and "2 names for 4 model outputs" in done.stderr and "Traceback" not in done.stderr
    missing = kws("export", cwd=tmp_path)  # no --model and no trained model yet
    assert missing.returncode == 1 and "build/model.tflite: cannot read it" in missing.stderr
    assert "kws train" in missing.stderr and missing.stderr.count("\n") == 1


def test_verify_compares_with_tflm(micro_speech: str, tmp_path: Path) -> None:
    done = kws("export", "--model", micro_speech, "--labels", LABELS, "--runtime", "c", "--verify", "50", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "verify: 0 of 200 values differ from TFLM on 50 inputs" in done.stdout


def test_runtime_c_is_verified_by_default_streams_included(tmp_path: Path) -> None:
    """A streaming export checks the whole-window call and the streaming
    steps against TFLM without being asked; --verify 0 skips it."""
    import model_factory

    model = tmp_path / "ds_cnn.tflite"
    model.write_bytes(model_factory.build("ds_cnn_stream"))
    labels = ",".join(f"c{i}" for i in range(12))
    done = kws("export", "--model", str(model), "--labels", labels, "--runtime", "c", "--period-ms", "40", "--json",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["stream_frames"] == 2 and summary["verify"]["differing"] == 0
    assert summary["verify"]["inputs"] == 200 + 20 * 3   # 200 windows, 20 streams of 3 full windows each
    skipped = kws("export", "--model", str(model), "--labels", labels, "--runtime", "c", "--verify", "0", cwd=tmp_path)
    assert skipped.returncode == 0 and "verify:" not in skipped.stdout


@pytest.mark.parametrize("model, labels, board, reason", [
    ("mlperf_tiny_kws/kws_ref_model.tflite", ",".join(f"k{i}" for i in range(12)), "nano33ble",
     r"the model input has 490 values \(tensor '.*' \(int8\[1, 49, 10, 1\]\)\) but kws's frontend gives 49 x 40 = "
     r"1960 features: the firmware cannot feed this model as it is"),
    ("micro_wake_word/hey_jarvis.tflite", "hey_jarvis", "esp32",
     r"a streaming model fed 3 frames of 40 features per inference .* streams only the models it runs with runtime c"),
])
def test_a_model_the_frontend_cannot_feed_is_refused(peers, tmp_path: Path, model: str, labels: str, board: str,
                                                     reason: str) -> None:
    """The project would stop at the app's #error: no project, no "next: kws flash", exit 1 and what would work."""
    done = kws("export", "--model", str(peers / model), "--labels", labels, "--board", board, cwd=tmp_path)
    assert done.returncode == 1 and "next: kws flash" not in done.stdout
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert re.search(reason + rf", so a {board} project would not build; export a model whose input is the "
                     r"frontend's 49 x 40 features \(`kws train` makes them\)", done.stderr), done.stderr
    assert not (tmp_path / "build").exists()
