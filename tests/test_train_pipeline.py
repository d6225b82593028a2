"""train_model end to end on real speech (quick preset): int8 model within budget,
metadata, TFLM scores, reports, determinism, resume, kws eval, CLI errors."""

from __future__ import annotations

import re

import json
from pathlib import Path

import numpy as np
import pytest

from kws.config import Config
from kws.data.folders import speaker_of
from kws.data.manifest import Clip, split_for, write_manifest
from kws.errors import KwsError
from kws.model_metadata import read_metadata
from kws.train.quantize import ALLOWED_OPS, input_quantization, op_names

WORDS = ("yes", "no", "up", "down", "_unknown_", "_silence_")


def _manifest(dev_set: Path, folder: Path, per_label: int = 16) -> Path:
    """Real dev-set clips, split by speaker with the manifest's hash rule (salted:
    the dev set holds only Speech Commands test speakers, one hash range)."""
    clips = []
    for label in WORDS:
        for path in sorted((dev_set / label).glob("*.wav"))[:per_label]:
            speaker = speaker_of(path.relative_to(dev_set))
            clips.append(Clip(str(path), label, speaker, "import", split_for(f"test:{speaker}", 20, 30), 1.0))
    return write_manifest(folder / "data" / "manifest.csv", clips)


@pytest.fixture(scope="module")
def project(dev_set: Path, tmp_path_factory) -> Config:
    folder = tmp_path_factory.mktemp("project")
    return Config().override({"keywords": "yes,no", "data.manifest": str(_manifest(dev_set, folder)),
                              "train.preset": "quick", "paths.build": str(folder / "build"),
                              "paths.reports": str(folder / "reports")})


@pytest.fixture(scope="module", autouse=True)
def _private_cache(tmp_path_factory) -> None:
    mp = pytest.MonkeyPatch()
    mp.setenv("KWS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def trained(project: Config):
    from kws.train import train_model

    return train_model(project)


def test_quick_training_gives_a_valid_int8_model_and_reports(trained, project: Config) -> None:
    model = trained.tflite.read_bytes()
    assert trained.size_bytes == len(model) <= project.model.size_budget
    assert set(op_names(model)) <= set(ALLOWED_OPS)
    assert input_quantization(model) == (1.0, 0)
    meta = read_metadata(model)
    assert meta["labels"] == ["_silence_", "_unknown_", "yes", "no"]
    assert meta["frontend"]["num_channels"] == 40
    assert meta["smoothing"]["threshold"] == trained.metrics["streaming"]["smoothing"]["threshold"]
    assert meta["model"]["architecture"] == "ds_cnn" and meta["model"]["seed"] == 1
    m = trained.metrics
    assert m["test_count"] == sum(m["int8"]["confusion"][i][j] for i in range(4) for j in range(4))
    assert m["int8_accuracy"] > 0.4  # 4 classes: clearly better than chance after a few epochs
    assert abs(m["int8_minus_float_points"]) <= 3.0
    report = json.loads(trained.reports["json"].read_text())
    assert report["data"]["test_is_real"] and report["metrics"]["int8"]["accuracy"] == m["int8_accuracy"]
    assert report["streaming"]["test"]["hours"] >= 1 / 60
    # the validation stream's score at the threshold it tuned, beside the test stream's (does it transfer?)
    tuning = report["streaming"]["tuning"]
    assert tuning["threshold"] == meta["smoothing"]["threshold"] and tuning["hours"] >= 1 / 60
    assert tuning["false_accepts"] <= tuning["detections"] and tuning["keywords"] > 0
    for name in ("confusion", "roc_det", "training", "streaming"):
        assert trained.reports[name].read_bytes()[:4] == b"\x89PNG"
    assert "| yes |" in trained.reports["markdown"].read_text()
    assert re.search(r"- fits: [\d.]+ KB of 20.5 KB; \d+% load on qemu-stm32f405 \(runtime c, streaming",
                     trained.reports["markdown"].read_text())


def test_same_data_and_seed_give_the_same_bytes_and_rerun_resumes(trained, project: Config, tmp_path) -> None:
    from kws.train import train_model

    again = train_model(project.override({"paths.build": str(tmp_path / "b2"),
                                          "paths.reports": str(tmp_path / "r2")}))
    assert again.tflite.read_bytes() == trained.tflite.read_bytes()
    resumed = train_model(project.override({"paths.reports": str(tmp_path / "r3")}))
    report = json.loads(resumed.reports["json"].read_text())
    assert report["training"]["resumed_from"] == report["training"]["epochs_run"]
    assert resumed.tflite.read_bytes() == trained.tflite.read_bytes()


def test_eval_rescores_the_model(trained, project: Config) -> None:
    from kws.train import evaluate_model

    result = evaluate_model(project, trained.tflite)
    assert result["metrics"]["int8"]["confusion"] == trained.metrics["int8"]["confusion"]
    assert result["reports"]["json"].name == "eval.json"
    # the model's own smoothing on the same generated test audio: the same detections
    assert result["streaming"]["test"] == trained.metrics["streaming"]["test"]
    assert not result["streaming"]["tuned"] and trained.metrics["streaming"]["tuned"]
    assert "tuning" not in result["streaming"]  # the model's own smoothing: nothing tuned


def test_missing_keyword_data_is_a_one_line_error(project: Config) -> None:
    from kws.train import train_model

    with pytest.raises(KwsError, match="no training clips for left; add some with `kws data synth --words left`"):
        train_model(project.override({"keywords": "yes,left"}))


def test_unknown_examples_are_capped_per_source() -> None:
    from kws.train.dataset import Example
    from kws.train.pipeline import _cap_unknown

    def examples(target: int, synthetic: bool, n: int) -> list[Example]:
        return [Example(f"{target}{synthetic}{i}", target, "train", synthetic, "s") for i in range(n)]

    # 2 keywords with 10 real + 30 TTS clips each; 100 real and 100 TTS _unknown_ clips
    train = (examples(2, False, 10) + examples(3, False, 10) + examples(2, True, 30) + examples(3, True, 30)
             + examples(1, False, 100) + examples(1, True, 100))
    kept = _cap_unknown(train, 2.0)
    unknown = [e for e in kept if e.target == 1]
    assert sum(not e.synthetic for e in unknown) == 20 and sum(e.synthetic for e in unknown) == 60
    assert len(kept) - len(unknown) == 80
    # keywords only from TTS: real _unknown_ clips are capped against all keyword clips
    kept = _cap_unknown(examples(2, True, 30) + examples(1, False, 100) + examples(1, True, 100), 1.0)
    assert sum(e.target == 1 and not e.synthetic for e in kept) == 30


def test_streaming_scores_match_tflm_the_device_interpreter(trained, dev_set: Path) -> None:
    from kws.audio.frontend import compute_features
    from kws.audio.frontend_params import FrontendParams
    from kws.train.dataset import load_clip
    from kws.train.quantize import TflmModel
    from kws.train.streaming import stream_scores

    frontend = FrontendParams()
    samples = np.concatenate([load_clip(p) for p in sorted(dev_set.glob("*/*.wav"))[::10][:12]])
    features = compute_features(samples, frontend)
    ends = np.arange(frontend.num_frames, len(features) + 1, 2)  # every 40 ms, as below
    model = trained.tflite.read_bytes()
    reference = TflmModel(model).scores(np.stack([features[e - frontend.num_frames : e] for e in ends]))
    _, scores = stream_scores(model, samples, frontend, 40)
    diff = np.abs(scores.astype(int) - reference.astype(int))
    assert len(scores) == len(ends) and diff.max() <= 3 and (diff > 0).mean() < 0.05, (diff.max(), (diff > 0).mean())


def test_bench_scores_the_model_on_keyword_free_sentences(trained, tmp_path: Path) -> None:
    import numpy as np

    from bench.train import sentence_rows
    from kws.data.sentences import sentence_clips
    from kws.train import streaming
    from kws.train.augment import AugmentConfig, Augmenter

    spoken = sentence_clips(["yes", "no"], 6, 1, cache=tmp_path, jobs=2)
    stream = streaming.build_stream(np.random.default_rng(0), [], [s.samples for s in spoken],
                                    Augmenter(AugmentConfig()), 60.0, pace=streaming.CONVERSATION)
    facts = {"sentences": len(spoken), "voices": len({s.speaker for s in spoken})}
    fa, ratio = sentence_rows("yes/no", trained.tflite, trained.metrics, stream, facts)
    assert fa["name"] == "train: yes/no false accepts on TTS sentences" and fa["unit"] == "per hour"
    assert fa["reference"] == 2.0 and "from 6 keyword-free sentences" in fa["reference_note"]
    false_accepts = int(re.search(r"; (\d+) false accepts at threshold (\d+)", fa["reference_note"]).group(1))
    assert fa["value"] == pytest.approx(false_accepts / (stream.duration_s / 3600), rel=1e-3)
    threshold = trained.metrics["streaming"]["smoothing"]["threshold"]
    assert f"threshold {threshold} from the model's metadata" in fa["reference_note"]
    tuning, test = trained.metrics["streaming"]["tuning"], trained.metrics["streaming"]["test"]
    assert ratio["name"] == "train: yes/no tuned-on-validation vs test false accepts" and ratio["reference"] == 2.0
    validation = tuning["false_accepts"] / tuning["hours"] if tuning["false_accepts"] else 1 / tuning["hours"]
    assert ratio["value"] == pytest.approx(test["fa_per_hour"] / validation, rel=1e-3)
