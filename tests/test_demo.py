"""`kws demo --quick`: the whole flow on the emulated board, end to end."""

from __future__ import annotations

from kws.boards import load_board
from kws.data.manifest import read_manifest
from kws.demo import DEMO_BOARD, DemoResult, run_demo
from kws.device.session import identify, open_session
from kws.export.project import load_project
from kws.monitor import eval_clips, evaluate


def test_quick_demo_end_to_end_then_real_speech_on_the_device(tmp_path, dev_set):
    lines = []
    result = run_demo(tmp_path / "demo", quick=True, say=lines.append)
    # every stage ran and said so
    assert [line for line in lines if line.startswith("[bold]")][-1].startswith("[bold]5/5")
    assert result.model.is_file() and 2048 < result.model_bytes <= 20480
    assert result.labels == ("_silence_", "_unknown_", "yes", "no")
    # the live stream (held-out voices, a natural pace): each streamed keyword reported exactly once
    assert result.streamed == ["yes", "yes", "no", "no"]
    assert result.heard == result.streamed and result.heard_each_once, result.hearing()
    # the device computed exactly what the host computed for every held-out clip
    assert result.eval_clips >= 8
    assert result.bit_exact_clips == result.eval_clips
    assert result.device_accuracy == result.host_accuracy
    assert 0 < result.firmware_flash_bytes < 1024 * 1024 and 0 < result.firmware_ram_bytes < 128 * 1024
    assert any(p.name == "device_eval.md" and p.is_file() for p in result.reports)
    assert any(p.name == "train.md" and p.is_file() for p in result.reports)
    # held-out voices were never trained on
    clips = read_manifest(tmp_path / "demo" / "data" / "manifest.csv")
    train_voices = {c.speaker for c in clips if c.split == "train"}
    test_voices = {c.speaker for c in clips if c.split == "test"}
    assert test_voices and not train_voices & test_voices

    # the kws-trained model on the device == on the host, bit for bit, on 50 real clips
    project = load_project(tmp_path / "demo" / "build" / "firmware" / DEMO_BOARD)
    clips = eval_clips(dev_set, project.labels, limit=50)
    with open_session(project, load_board(DEMO_BOARD)) as link:
        identify(link)
        report = evaluate(link, clips, project.labels, result.model.read_bytes(), project.frontend,
                          board=DEMO_BOARD, model_id=project.model_id)
    assert len(report.clips) == 50
    assert all(clip.bit_exact for clip in report.clips)


def test_the_summary_says_whether_each_keyword_was_heard_once(tmp_path) -> None:
    streamed = ["yes", "yes", "no", "no"]
    once = DemoResult(tmp_path, heard=list(streamed), streamed=streamed)
    assert once.heard_each_once and once.hearing().endswith(": each keyword heard exactly once")
    assert once.to_dict()["heard_each_once"] is True
    for heard in (["no"] * 4, ["yes", "yes", "no", "no", "no"], ["yes", "no", "yes", "no"], []):
        result = DemoResult(tmp_path, heard=heard, streamed=streamed)
        assert not result.heard_each_once and result.to_dict()["heard_each_once"] is False
        assert f"NOT each keyword exactly once ({len(heard)} report(s) for 4 keyword(s))" in result.hearing()
    assert "heard nothing" in DemoResult(tmp_path, streamed=streamed).hearing()
