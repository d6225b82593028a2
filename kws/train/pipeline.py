"""``train_model(config)``: manifest -> features -> sized model -> int8 .tflite -> reports.

The library entry point behind ``kws train`` (and the demo).  Steps:
add TTS negatives when the training split lacks non-keyword speech
(``kws.data.negatives``), select examples by split (train; speaker-disjoint val for early stopping;
real test speakers for the headline numbers), compute or reuse cached
features, pick the architecture that fits the size budget, train, convert
to int8 with metadata, score float and int8 (TFLM) on the test clips,
evaluate streaming audio and tune the detection threshold, judge the run
(``verdict.py``), write the model and the reports.  ``evaluate_model`` re-scores an existing .tflite.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from kws import __version__
from kws.atomic import write_bytes_atomic
from kws.audio.frontend_params import FrontendParams
from kws.boards import Board, load_board
from kws.cache import JsonStore
from kws.config import Config
from kws.data import negatives
from kws.data.manifest import SILENCE, Clip, read_manifest
from kws.errors import KwsError
from kws.export.c_codegen import lower_model
from kws.export.compute import WARN_LOAD, Load, Work, lightest_load
from kws.export.tflite_model import read_model
from kws.labels import (FIRST_KEYWORD_CLASS, SILENCE_CLASS, UNKNOWN_CLASS, check_keyword_labels, keyword_labels,
                        keyword_mask, keyword_words)
from kws.model_card import ModelCard, SmoothingParams
from kws.model_metadata import write_metadata
from kws.progress import bar
from kws.train import evaluate, report, stream_windows, streaming
from kws.train.augment import AugmentConfig, Augmenter, load_noises
from kws.train.dataset import (Example, FeatureStore, class_counts, class_weights, examples_from, load_clip,
                               silence_examples)
from kws.train.equalize import equalize
from kws.train.fit import Checkpoints, FitOptions, Phase, TrainData, fit
from kws.train.models import Architecture, build, candidates, fit_budget
from kws.train.quantize import TflmModel, convert
from kws.train.verdict import Facts, Verdict, judge

log = logging.getLogger(__name__)

MAX_INT8_DROP = 1.0    # points of accuracy the int8 model may lose against the float one
SIZE_MARGIN = 32       # bytes kept free by the budget search


@dataclass(frozen=True)
class Preset:
    """How much work a run does."""

    variants: int                   # augmented copies of each training clip
    fit: FitOptions
    finetune_epochs: int            # added for few-real tasks
    stream_minutes: float           # non-keyword audio in the streaming test
    depths: tuple[int, ...]         # DS-CNN depths the budget search tries
    max_per_class: int | None = None
    unknown_ratio: float = 3.0      # at most this many _unknown_ examples per keyword example (mean)
    streams: int = 1                # training streams cut into windows (``stream_windows``); 0: clips only
    tuning_minutes: float = 60.0    # non-keyword audio of the validation stream the threshold is tuned on


PRESETS = {
    # the whole cosine schedule (patience = epochs): validation accuracy on a few hundred clips swings by
    # up to 10 points from epoch to epoch, and early stopping cut runs at a third of the schedule
    "full": Preset(variants=8, fit=FitOptions(phases=(Phase("train", 80, 3e-3),), patience=80), finetune_epochs=15,
                   stream_minutes=30.0, depths=(4,)),
    "quick": Preset(variants=2, fit=FitOptions(phases=(Phase("train", 40, 5e-3),), batch_size=32, patience=20),
                    finetune_epochs=2, stream_minutes=1.0, depths=(2,), max_per_class=200,
                    tuning_minutes=1.0),
}
DEFAULT_SMOOTHING = SmoothingParams(average_window_ms=500, threshold=200,
                                    suppression_ms=streaming.SUPPRESSION_MS, minimum_count=3,
                                    inference_period_ms=40)
STREAM_PERIOD_FRAMES = DEFAULT_SMOOTHING.inference_period_ms // FrontendParams().stride_ms


@dataclass
class TrainResult:
    """What a training run produced."""

    tflite: Path
    reports: dict[str, Path]
    metrics: dict
    seconds: float
    size_bytes: int
    architecture: dict = field(default_factory=dict)
    verdict: Verdict | None = None


@dataclass
class _Data:
    train: list[Example]
    val: list[Example]          # early stopping and the tuning stream's keywords: real speakers when there are enough
    val_all: list[Example]      # the tuning stream's other words: every validation clip
    test: list[Example]         # headline numbers: real held-out speakers when there are any
    test_all: list[Example]     # test stream fillers: every test clip (real and TTS)
    test_is_real: bool
    tts_tested: list[str] = field(default_factory=list)  # keywords whose test clips are TTS voices only


def _real_first(examples: list[Example]) -> tuple[list[Example], list[int]]:
    """The real speakers' clips plus the TTS clips of keywords that have no real
    ones (a custom keyword is still measured); (clips, those keywords' targets)."""
    real = [e for e in examples if not e.synthetic]
    lacking = sorted({e.target for e in examples if e.target >= FIRST_KEYWORD_CLASS} - {e.target for e in real})
    return real + [e for e in examples if e.synthetic and e.target in lacking], lacking


def _check_present(clips: list[Clip], manifest: Path) -> None:
    """Every clip the manifest lists is there, before any training starts."""
    gone = [path for path in (clip.resolve(manifest.parent) for clip in clips) if not path.is_file()]
    if gone:
        raise KwsError(f"{manifest}: {len(gone)} listed clip(s) no longer exist (first: {gone[0]}); restore "
                       "them, or import their folder again (`kws data import DIR` replaces its rows)")


def _select(config: Config, preset: Preset, labels: list[str]) -> _Data:
    manifest = config.data.manifest
    clips = read_manifest(manifest)
    _check_present(clips, manifest)
    check_keyword_labels((c.label for c in clips), keyword_labels(labels), manifest)
    examples = examples_from(clips, labels, manifest.parent)
    train = [e for e in examples if e.split == "train"]
    if preset.max_per_class:
        train = _cap(train, preset.max_per_class, config.model.seed)
    counts = class_counts(train, len(labels))
    missing = [labels[i] for i in range(FIRST_KEYWORD_CLASS, len(labels)) if counts[i] == 0]
    if missing:
        elsewhere = sorted({e.split for e in examples if e.word in missing})
        hint = (f" (their clips are all in {'/'.join(elsewhere)}: re-import them with "
                "`kws data import DIR --split train`)" if elsewhere else "")
        raise KwsError(f"{manifest}: no training clips for {', '.join(missing)}{hint}; add some with "
                       f"`kws data synth --words {','.join(missing)}` or `kws data record`")
    train = _cap_unknown(train, preset.unknown_ratio)
    counts = class_counts(train, len(labels))
    silence_needed = max(0, int(counts[FIRST_KEYWORD_CLASS:].mean()) - int(counts[SILENCE_CLASS]))
    train += silence_examples(silence_needed, "train", config.model.seed)
    val_all = [e for e in examples if e.split == "val"]
    real_val, _ = _real_first(val_all)
    val = real_val if sum(not e.synthetic for e in real_val) >= 20 else val_all
    if not val:
        raise KwsError(f"{manifest}: no validation clips (split 'val'); import or synthesize more speakers/voices "
                       "so the speaker hash puts some in val")
    test_all = [e for e in examples if e.split == "test"]
    test, tts_tested = _real_first(test_all)
    test_is_real = any(not e.synthetic for e in test)
    if not test_is_real:
        test, tts_tested = test_all, list(range(FIRST_KEYWORD_CLASS, len(labels)))
    if not test:
        raise KwsError(f"{manifest}: no test clips (split 'test'); import or synthesize more speakers/voices")
    if preset.max_per_class:
        val, val_all, test, test_all = (_cap(x, preset.max_per_class, i)
                                        for i, x in enumerate((val, val_all, test, test_all)))
    return _Data(train, val, val_all, test, test_all, test_is_real, [labels[i] for i in tts_tested])


def _cap(examples: list[Example], per_class: int, seed: int) -> list[Example]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(examples))
    seen: dict[int, int] = {}
    kept = []
    for i in sorted(order, key=lambda i: examples[i].key):
        target = examples[i].target
        if seen.get(target, 0) < per_class:
            seen[target] = seen.get(target, 0) + 1
            kept.append(examples[i])
    return kept


def _cap_unknown(train: list[Example], ratio: float) -> list[Example]:
    """At most ``ratio`` x the mean keyword count of _unknown_ examples, capped per source:
    real recordings against the real keyword clips, TTS against the TTS ones (in content-hash
    order), so "sounds synthetic" never tells the classes apart.  A source the keywords lack
    is capped against all keyword clips."""
    keywords = [e for e in train if e.target >= FIRST_KEYWORD_CLASS]
    num_keywords = len({e.target for e in keywords})
    dropped = set()
    for synthetic in (False, True):
        same_source = sum(e.synthetic == synthetic for e in keywords) or len(keywords)
        limit = int(ratio * same_source / max(num_keywords, 1))
        unknown = sorted((e for e in train if e.target == UNKNOWN_CLASS and e.synthetic == synthetic), key=lambda e: e.key)
        dropped |= {id(e) for e in unknown[limit:]}
    return [e for e in train if id(e) not in dropped]


def _noises(config: Config, train: list[Example]) -> list[np.ndarray]:
    """Background noise: the configured folder, else the real training silence clips that hold noise."""
    if config.data.background_noise is not None:
        return load_noises(config.data.background_noise)
    clips = [load_clip(e.path) / 32768.0 for e in train if e.word == SILENCE and e.path is not None]
    return [c for c in clips if np.sqrt(np.mean(c**2)) > 1e-3]


def _stream_examples(config: Config, preset: Preset, train: list[Example], store: FeatureStore,
                     frontend: FrontendParams) -> stream_windows.Examples:
    """Examples of windows cut from ``preset.streams`` streams of the training clips
    (``kws.train.stream_windows``): every keyword clip once per stream, between the
    training split's other words."""
    keywords = [(load_clip(e.path), e.target, e.synthetic) for e in train
                if e.target >= FIRST_KEYWORD_CLASS and e.path is not None]
    fillers = [load_clip(e.path) for e in train if e.target == UNKNOWN_CLASS and e.path is not None]
    if not preset.streams or not keywords or not fillers:
        return stream_windows.Examples.empty(preset.variants, frontend)
    augmenter = Augmenter(store.augment, store.noises)
    parts = []
    with bar() as progress:
        task = progress.add_task("training streams", total=preset.streams)
        for index in range(preset.streams):
            rng = np.random.default_rng([config.model.seed, 3, index])
            parts.append(stream_windows.stream_examples(keywords, fillers, augmenter, frontend, preset.variants,
                                                        len(keywords), rng, store.stream))
            progress.advance(task)
    return stream_windows.Examples.join(parts)


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _measure(arch: Architecture, input_shape: tuple[int, int], labels: list[str],
             metadata: dict) -> tuple[int, Work]:
    """Bytes of ``arch`` as int8 .tflite with metadata, and its compute
    (cached: neither depends on the weights)."""
    import tensorflow as tf

    model = build(arch, input_shape, len(labels))
    metadata = {**metadata, "model": {**metadata["model"], **_model_info(arch, model)}}
    key = _fingerprint(tf.__version__, arch.to_dict(), input_shape, len(labels), len(json.dumps(metadata)),
                       "work-v1", STREAM_PERIOD_FRAMES)
    store = JsonStore("model_sizes")
    hit = store.get(key)
    if hit:
        return int(hit["bytes"]), Work(**hit["work"])
    rng = np.random.default_rng(0)
    # trained-like weights: the converter shares or drops identical (e.g. all-zero) buffers of untrained layers
    for weight in model.weights:
        values = (rng.uniform(0.5, 1.5, weight.shape) if "variance" in weight.path
                  else rng.normal(0.0, 0.1, weight.shape))
        weight.assign(values.astype(weight.dtype))
    rep = rng.integers(-128, 128, (8, *input_shape)).astype(np.int8)
    tflite = convert(model, arch, rep, metadata)
    work = _work(tflite, input_shape[0])
    store.put(key, {"bytes": len(tflite), "work": asdict(work)})
    store.save()
    return len(tflite), work


def _work(tflite: bytes, frames: int) -> Work:
    return Work.of(lower_model(read_model(tflite), frames, STREAM_PERIOD_FRAMES))


def _model_info(arch: Architecture, model) -> dict:
    """The architecture part of the metadata (measured sizes include it)."""
    return {**arch.to_dict(), "description": arch.describe(), "params": int(model.count_params())}


def _architecture(config: Config, preset: Preset, input_shape: tuple[int, int], labels: list[str],
                  metadata: dict, board: Board) -> tuple[Architecture, int]:
    name = config.model.architecture
    pool = [a for a in candidates(name) if a.name != "ds_cnn" or a.depth in preset.depths]

    @functools.cache  # size and work of each candidate, measured once (a Keras build each)
    def measured(arch: Architecture) -> tuple[int, Work]:
        return _measure(arch, input_shape, labels, metadata)

    def measure(arch: Architecture) -> int:
        return measured(arch)[0]

    def affordable(arch: Architecture) -> str | None:
        load = _load(board, measured(arch)[1])
        if load.fraction <= WARN_LOAD:
            return None
        return (f"{arch.describe()} would take {load.summary()}, over {WARN_LOAD:.0%}; "
                "lower --size-budget or pick a faster --board")

    if name == "tiny_conv":
        arch = pool[0]
        size = measure(arch)
        if size > config.model.size_budget:
            raise KwsError(f"--size-budget {config.model.size_budget}: tiny_conv for {len(labels)} classes is "
                           f"{size} bytes; raise the budget or use --architecture ds_cnn")
        return arch, size
    # the margin covers flatbuffer padding when the tuned threshold changes the metadata's length
    return fit_budget(pool, input_shape, len(labels), config.model.size_budget - SIZE_MARGIN, measure, affordable)


def _load(board: Board, work: Work) -> Load:
    """The load of the board's lightest runtime at kws's inference period."""
    return lightest_load(board, work, STREAM_PERIOD_FRAMES, FrontendParams().stride_ms)


def _features(store: FeatureStore, examples: list[Example], what: str, variants: int = 0) -> np.ndarray:
    with bar() as progress:
        task = progress.add_task(f"features: {what}", total=len(examples))

        def advance(n: int) -> None:
            progress.advance(task, n)

        if variants:
            return store.variants(examples, variants, advance)
        return store.clean(examples, advance)


def _train_progress():
    """A rich bar for training steps (ETA) plus a log line per epoch."""
    progress = bar()
    task = progress.add_task("training", total=1)

    def update(phase: str, step: int, total: int, metrics: dict) -> None:
        if "val_accuracy" in metrics:
            log.info("%s epoch %d: loss %.3f, accuracy %.3f, val accuracy %.3f", phase, metrics["epoch"] + 1,
                     metrics["loss"], metrics["accuracy"], metrics["val_accuracy"])
        progress.update(task, total=total, completed=step,
                        description=f"training ({phase}, loss {metrics.get('loss', 0):.3f})")

    return progress, update


def train_model(config: Config, *, out: Path | None = None, report_stem: str | None = None,
                jobs: int | None = None) -> TrainResult:
    """Train, quantize and evaluate the model ``config`` describes; write
    ``<build>/model.tflite`` (or ``out``) and reports under ``<reports>/``."""
    started = time.monotonic()
    preset = PRESETS[config.train.preset]
    labels = config.labels
    seed = config.model.seed
    frontend = FrontendParams()
    added = _add_negatives(config)
    data = _select(config, preset, labels)
    tts_only = _tts_only(data.train, labels)
    augment = AugmentConfig()
    store = FeatureStore(frontend, augment, _noises(config, data.train), jobs=jobs)
    log.info("data: %d train (%d real), %d val, %d test examples", len(data.train),
             sum(not e.synthetic for e in data.train), len(data.val), len(data.test))
    variants = _features(store, data.train, "training clips (augmented)", preset.variants)
    clean = _features(store, data.train, "training clips")
    x_val = _features(store, data.val, "validation clips")
    x_test = _features(store, data.test, "test clips")
    input_shape = (frontend.num_frames, frontend.num_channels)

    data_sha = _fingerprint(sorted((e.key, e.target) for e in data.train))[:16]
    metadata = ModelCard(tuple(labels), frontend, DEFAULT_SMOOTHING,
                         {"architecture": config.model.architecture, "size_budget": config.model.size_budget,
                          "seed": seed, "data_sha256": data_sha}).to_metadata()
    board = load_board(config.board.name)
    arch, _ = _architecture(config, preset, input_shape, labels, metadata, board)
    log.info("architecture: %s", arch.describe())

    targets = np.array([e.target for e in data.train])
    synthetic = np.array([e.synthetic for e in data.train])
    weights = class_weights(data.train, len(labels))[targets] * np.where(synthetic, preset.fit.synthetic_weight, 1.0)
    real = ~synthetic | (targets < FIRST_KEYWORD_CLASS)
    windows = _stream_examples(config, preset, data.train, store, frontend)
    if len(windows):
        log.info("%d examples of windows cut from %d training stream(s)", len(windows), preset.streams)
        weights = np.concatenate([weights, class_weights(data.train, len(labels))[windows.targets]
                                  * np.where(windows.synthetic, preset.fit.synthetic_weight, 1.0)])
        variants = np.concatenate([variants, windows.variants])
        clean = np.concatenate([clean, windows.clean])
        targets = np.concatenate([targets, windows.targets])
        synthetic = np.concatenate([synthetic, windows.synthetic])
        real = np.concatenate([real, ~windows.synthetic])
    options = preset.fit
    real_per_keyword = class_counts([e for e in data.train if not e.synthetic], len(labels))[FIRST_KEYWORD_CLASS:]
    if synthetic[targets >= FIRST_KEYWORD_CLASS].any() and real_per_keyword.min() > 0:
        # TTS pretraining on everything, then fine-tuning on the real recordings (and silence/unknown)
        base = options.phases[0]
        options = replace(options, phases=(replace(base, name="pretrain"),
                                           Phase("finetune", preset.finetune_epochs, base.learning_rate / 10,
                                                 real_only=True)))
        log.info("TTS pretraining, then fine-tuning on real clips (%d for the rarest keyword)",
                 real_per_keyword.min())
    build_dir = config.paths.build
    checkpoints = Checkpoints(build_dir / "checkpoints",
                              _fingerprint(__version__, data_sha, arch.to_dict(), asdict(options), augment.digest(),
                                           seed, preset.variants, labels, preset.streams))
    progress, update = _train_progress()
    fit_started = time.monotonic()
    with progress:
        model, fitted = fit(lambda: build(arch, input_shape, len(labels)), TrainData(variants, clean, targets,
                            weights, real), (x_val, np.array([e.target for e in data.val])), options, augment,
                            seed, checkpoints, update)
    fit_seconds = time.monotonic() - fit_started

    rng = np.random.default_rng(seed)
    representative = np.concatenate([clean[rng.permutation(len(clean))[:200]],
                                     variants[rng.permutation(len(clean))[:100], 0]])
    metadata["model"].update(_model_info(arch, model))
    equalize(model)  # same float function, weight ranges that suit per-tensor int8
    tflite = convert(model, arch, representative, metadata)

    y_test = np.array([e.target for e in data.test])
    float_probs = model.predict(x_test.astype(np.float32), batch_size=512, verbose=0)
    metrics = _clip_metrics(tflite, x_test, y_test, labels, float_probs)

    stream_report = None
    if preset.stream_minutes:
        stream_report, smoothing = _streaming(config, preset, tflite, data, labels, frontend, store)
        metadata["smoothing"] = smoothing.to_dict()
        tflite = write_metadata(tflite, metadata)
    if len(tflite) > config.model.size_budget:
        raise KwsError(f"--size-budget {config.model.size_budget}: the trained model is {len(tflite)} bytes; "
                       "raise the budget")
    model_path = out or config.paths.model
    write_bytes_atomic(model_path, tflite)
    seconds = time.monotonic() - started
    load = _load(board, _work(tflite, input_shape[0]))
    log.info("compute: %s", load.summary())
    summary = {
        "labels": labels,
        "model": {**metadata["model"], "tflite_bytes": len(tflite), "path": str(model_path),
                  "size_budget": config.model.size_budget, "seed": seed, "load": load.to_dict()},
        "data": {"manifest": str(config.data.manifest), "train": len(data.train),
                 "train_real": int((~synthetic).sum()), "val": len(data.val), "test": len(data.test),
                 "test_is_real": data.test_is_real, "tts_tested": data.tts_tested, "data_sha256": data_sha},
        "training": {"epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch,
                     "best_val_accuracy": fitted.best_val_accuracy, "resumed_from": fitted.resumed_from,
                     "history": fitted.history, "seconds": fit_seconds,
                     "phases": [asdict(p) for p in options.phases]},
        "metrics": metrics,
        "streaming": stream_report,
        "seconds": seconds,
    }
    verdict = judge(_facts(config, data, labels, metrics, stream_report, added, tts_only))
    summary["verdict"] = verdict.to_dict()
    summary["data"].update(negatives_added=added, tts_only=tts_only)
    plots = _plots(summary, labels)
    paths = report.write_report(summary, config.paths.reports, report_stem or "train", plots)
    return TrainResult(model_path, paths, _headline(metrics, stream_report), seconds, len(tflite), arch.to_dict(),
                       verdict)


def _add_negatives(config: Config) -> int:
    """TTS negatives when the training split lacks non-keyword speech (and they are not
    turned off); how many clips were added."""
    if not config.train.negatives:
        return 0
    added = negatives.top_up(config.data.manifest, config.keywords)
    if added is None:
        return 0
    log.info("the training split has too little non-keyword speech: added %d TTS clips of %d words and phrases "
             "(%d voices; near-misses of the keywords: %s) to %s; --no-negatives turns this off", added.clips,
             added.phrases, added.identities, ", ".join(added.near_misses[:8]), config.data.manifest)
    return added.clips


def _tts_only(train: list[Example], labels: list[str]) -> list[str]:
    """Labels (keywords and _unknown_) with no training clip from a real speaker; says so."""
    real = {e.target for e in train if not e.synthetic}
    names = [labels[i] for i in range(1, len(labels)) if i not in real]
    if names:
        log.info("no training clips from real speakers for %s: TTS voices only (import or record real speech "
                 "with `kws data import DIR --split train` or `kws data record`)", ", ".join(names))
    return names


def _facts(config: Config, data: _Data, labels: list[str], metrics: dict, stream_report: dict | None,
           added: int, tts_only: list[str]) -> Facts:
    counts = class_counts(data.train, len(labels))
    test = (stream_report or {}).get("test", {})
    return Facts(keyword_clips={labels[i]: int(counts[i]) for i in range(FIRST_KEYWORD_CLASS, len(labels))},
                 keyword_voices={labels[i]: len({e.speaker for e in data.train if e.target == i})
                                 for i in range(FIRST_KEYWORD_CLASS, len(labels))},
                 negatives=int(counts[1]), accuracy=metrics["int8"]["accuracy"], test_count=metrics["test_count"],
                 test_is_real=data.test_is_real, tts_tested=data.tts_tested, target_fa_per_hour=config.train.target_fa_per_hour,
                 fa_per_hour=test.get("fa_per_hour"), detection_rate=test.get("detection_rate"),
                 negatives_added=added, negatives_off=not config.train.negatives, tts_only=tts_only)


def _headline(metrics: dict, stream_report: dict | None) -> dict:
    """The full metrics plus flat headline keys (int8_accuracy, float_accuracy, fa_per_hour, detection_rate)."""
    test = (stream_report or {}).get("test", {})
    return {**metrics, "streaming": stream_report, "int8_accuracy": metrics["int8"]["accuracy"],
            "float_accuracy": metrics.get("float", {}).get("accuracy"), "fa_per_hour": test.get("fa_per_hour"),
            "detection_rate": test.get("detection_rate")}


def _clip_metrics(tflite: bytes, x_test: np.ndarray, y_test: np.ndarray, labels: list[str],
                  float_probs: np.ndarray | None) -> dict:
    int8_scores = TflmModel(tflite).scores(x_test)
    int8 = evaluate.classification_metrics(y_test, int8_scores, labels)
    int8["curves"] = evaluate.keyword_curves(y_test, (int8_scores.astype(np.float64) + 128) / 256, labels)
    metrics = {"int8": int8, "test_count": int(len(y_test))}
    if float_probs is not None:
        flt = evaluate.classification_metrics(y_test, float_probs, labels)
        drop = 100 * (int8["accuracy"] - flt["accuracy"])
        agreement = float((int8_scores.argmax(1) == float_probs.argmax(1)).mean())
        metrics.update(float=flt, int8_minus_float_points=drop, int8_check=bool(drop >= -MAX_INT8_DROP),
                       int8_float_agreement=agreement)
        if drop < -MAX_INT8_DROP:
            log.warning("int8 accuracy is %.2f points below float (limit %.1f)", -drop, MAX_INT8_DROP)
    return metrics


def _streaming(config: Config, preset: Preset, tflite: bytes, data: _Data, labels: list[str],
               frontend: FrontendParams, store: FeatureStore,
               fixed: SmoothingParams | None = None) -> tuple[dict, SmoothingParams]:
    """Tune the smoothing on a validation stream (unless ``fixed``), report on a test stream."""
    augmenter = Augmenter(store.augment, store.noises)
    mask = keyword_mask(labels)
    streams = {}
    for name, spoken, others in (("tuning", data.val, data.val_all), ("test", data.test, data.test_all)):
        if name == "tuning" and fixed is not None:
            continue
        keywords = [(load_clip(e.path), e.target) for e in spoken if e.target >= FIRST_KEYWORD_CLASS and e.path is not None]
        fillers = [load_clip(e.path) for e in others if e.target == UNKNOWN_CLASS and e.path is not None]
        rng = np.random.default_rng([config.model.seed, 0 if name == "tuning" else 1])
        minutes = preset.tuning_minutes if name == "tuning" else preset.stream_minutes
        streams[name] = streaming.build_stream(rng, keywords, fillers, augmenter, minutes * 60)
    if fixed is None:
        tuned, target_met, tuning = streaming.tune(tflite, streams["tuning"], frontend, DEFAULT_SMOOTHING, mask,
                                                   config.train.target_fa_per_hour)
        if not target_met:
            log.warning("no threshold keeps false accepts within %s/hour while detecting %d%% of the validation "
                        "keywords; using threshold %d (more real recordings of the keywords help)",
                        config.train.target_fa_per_hour, 100 * streaming.MIN_DETECTION, tuned.threshold)
    else:
        tuned, target_met, tuning = fixed, None, None
    sweep = streaming.run_stream(tflite, streams["test"], frontend, tuned, mask)
    stream_report = {
        "smoothing": tuned.to_dict(),
        "target_fa_per_hour": config.train.target_fa_per_hour,
        "target_met": target_met,
        "min_detection": streaming.MIN_DETECTION,
        "tuned": fixed is None,
        "test": sweep[tuned.threshold].to_dict() | {"filler_clips": streams["test"].filler_clips},
        "test_sweep": [s.to_dict() for s in sweep],
    }
    if tuning is not None:  # the validation stream's score at the chosen threshold: does the tuning transfer?
        stream_report["tuning"] = tuning.to_dict()
    return stream_report, tuned


def _plots(summary: dict, labels: list[str]) -> dict[str, bytes]:
    metrics = summary["metrics"]
    plots = {
        "confusion": report.plot_confusion(metrics["int8"]["confusion"], labels, "int8 model, test speakers"),
        "roc_det": report.plot_roc_det(metrics["int8"]["curves"], "int8 model, test speakers"),
    }
    if summary.get("training", {}).get("history"):
        plots["training"] = report.plot_training(summary["training"]["history"], "training")
    if summary.get("streaming"):
        s = summary["streaming"]
        plots["streaming"] = report.plot_streaming(s["test_sweep"], s["smoothing"]["threshold"],
                                                   "streaming, test audio")
    return plots


def evaluate_model(config: Config, model_path: Path, *, report_stem: str = "eval") -> dict:
    """Score an existing .tflite on the manifest's test clips (and streaming audio)."""
    if not model_path.is_file():
        raise KwsError(f"{model_path}: no such model; train one with `kws train` or pass --model")
    tflite = model_path.read_bytes()
    try:
        card = ModelCard.read(tflite)
    except KwsError as err:
        raise KwsError(f"{model_path}: {err}") from None
    if card is None:
        raise KwsError(f"{model_path}: no kws metadata (labels, frontend); kws eval needs a model from `kws train`")
    labels, frontend = list(card.labels), card.frontend
    preset = PRESETS[config.train.preset]
    config = config.override({"keywords": keyword_words(labels)})
    data = _select(config, preset, labels)
    store = FeatureStore(frontend, AugmentConfig(), _noises(config, data.train))
    x_test = _features(store, data.test, "test clips")
    y_test = np.array([e.target for e in data.test])
    metrics = _clip_metrics(tflite, x_test, y_test, labels, None)
    stream_report = None
    if preset.stream_minutes:
        fixed = card.smoothing or DEFAULT_SMOOTHING
        stream_report, _ = _streaming(config, preset, tflite, data, labels, frontend, store, fixed)
    summary = {"labels": labels, "model": {**card.model, "path": str(model_path),
                                          "tflite_bytes": len(tflite)},
               "metrics": metrics, "streaming": stream_report}
    paths = report.write_report(summary, config.paths.reports, report_stem, _plots(summary, labels))
    return {"metrics": _headline(metrics, stream_report), "streaming": stream_report, "reports": paths}
