"""The training loop: phases, checkpoints, early stopping, progress, determinism.

Each epoch draws, from ``(seed, phase, epoch)`` only, which augmented variant
of every clip to use (or the clean clip), SpecAugment masks and the order;
TensorFlow runs with op determinism and fixed seeds, so the same data and
seed give the same weights (and .tflite bytes) on the same machine.

After every epoch the model (with optimizer state), the best weights so far
and a small state file go to the checkpoint folder; a rerun with the same
data and options resumes after the last finished epoch.  Early stopping
watches accuracy on the speaker-disjoint validation split.  A run may have
two phases: TTS pretraining on everything, then fine-tuning on the real
clips at a lower learning rate (used when a task has both TTS and real clips
of its keywords).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from kws.atomic import write_text_atomic
from kws.train.augment import AugmentConfig, spec_augment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phase:
    """One stage of training: which examples, how long, how fast."""

    name: str
    epochs: int
    learning_rate: float
    real_only: bool = False


@dataclass(frozen=True)
class FitOptions:
    phases: tuple[Phase, ...] = (Phase("train", 60, 3e-3),)
    batch_size: int = 64
    label_smoothing: float = 0.05
    patience: int = 15
    clean_share: float = 0.15      # share of each epoch's examples shown without augmentation
    synthetic_weight: float = 1.0  # loss weight of TTS examples relative to real ones


@dataclass
class TrainData:
    """Training features: augmented variants (n, k, frames, channels), clean (n, frames, channels)."""

    variants: np.ndarray
    clean: np.ndarray
    targets: np.ndarray
    weights: np.ndarray            # per-example loss weight (class balance x synthetic weight)
    real: np.ndarray               # bool: a real recording (fine-tuning keeps these)


@dataclass
class FitResult:
    best_epoch: int
    best_val_accuracy: float
    epochs_run: int
    history: list[dict] = field(default_factory=list)
    resumed_from: int | None = None


def set_determinism(seed: int) -> None:
    """Seed Python, numpy and TensorFlow and make TF ops deterministic."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def epoch_batch(data: TrainData, keep: np.ndarray, options: FitOptions, augment: AugmentConfig,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features float32, targets, weights) for one epoch, in a seeded order."""
    idx = np.flatnonzero(keep)
    idx = idx[rng.permutation(len(idx))]
    k = data.variants.shape[1]
    choice = rng.integers(0, k, len(idx))
    clean = rng.random(len(idx)) < options.clean_share
    x = np.where(clean[:, None, None], data.clean[idx], data.variants[idx, choice])
    x = spec_augment(x, augment, rng)
    return x.astype(np.float32), data.targets[idx], data.weights[idx]


def _cosine(phase: Phase, epoch: int) -> float:
    return phase.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / max(1, phase.epochs)))


class Checkpoints:
    """last.keras (model + optimizer), best.weights.h5 and state.json in one folder."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def _state_path(self) -> Path:
        return self.folder / "state.json"

    def load_state(self) -> dict | None:
        try:
            state = json.loads(self._state_path.read_text())
        except (OSError, ValueError):
            return None
        if state.get("fingerprint") != self.fingerprint or not (self.folder / "last.keras").is_file():
            return None
        return state

    def save(self, model, state: dict, best_changed: bool) -> None:
        _save_atomic(model.save, self.folder / "last.keras")
        if best_changed:
            _save_atomic(model.save_weights, self.folder / "best.weights.h5")
        write_text_atomic(self._state_path, json.dumps({**state, "fingerprint": self.fingerprint}, indent=1))

    def restore_last(self):
        import keras

        return keras.models.load_model(self.folder / "last.keras")

    def restore_best(self, model) -> None:
        model.load_weights(self.folder / "best.weights.h5")


def _save_atomic(save: Callable[[str], None], path: Path) -> None:
    tmp = path.with_name(f".tmp-{path.name}")  # keeps the suffix Keras insists on
    save(str(tmp))
    os.replace(tmp, path)


def fit(build_model: Callable[[], object], data: TrainData, val: tuple[np.ndarray, np.ndarray],
        options: FitOptions, augment: AugmentConfig, seed: int, checkpoints: Checkpoints,
        progress: Callable[[str, int, int, dict], None] | None = None):
    """Train (or resume) and return (model with the best weights, FitResult).

    ``progress(phase, step, total_steps, metrics)`` is called after every batch.
    """
    import keras

    set_determinism(seed)
    num_classes = int(data.targets.max()) + 1 if len(data.targets) else 1
    num_classes = max(num_classes, int(val[1].max()) + 1 if len(val[1]) else 1)
    keeps = [data.real if phase.real_only else np.ones(len(data.targets), bool) for phase in options.phases]
    steps_per_epoch = [math.ceil(keep.sum() / options.batch_size) for keep in keeps]
    total_steps = sum(p.epochs * s for p, s in zip(options.phases, steps_per_epoch))

    state = checkpoints.load_state()
    result = FitResult(best_epoch=-1, best_val_accuracy=-1.0, epochs_run=0)
    start_phase, start_epoch = 0, 0
    if state is not None:
        model = checkpoints.restore_last()
        result = FitResult(**{**state["result"], "resumed_from": state["global_epoch"]})
        start_phase, start_epoch = state["phase"], state["epoch"] + 1
        log.info("resuming from %s epoch %d", options.phases[start_phase].name, start_epoch)
    else:
        model = build_model()
        model.compile(optimizer=keras.optimizers.Adam(options.phases[0].learning_rate),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=options.label_smoothing),
                      metrics=["accuracy"])
    done_steps = sum(p.epochs * s for p, s in zip(options.phases[:start_phase], steps_per_epoch[:start_phase]))
    done_steps += start_epoch * steps_per_epoch[start_phase] if start_phase < len(options.phases) else 0
    x_val = val[0].astype(np.float32)
    global_epoch = result.epochs_run

    for p_index in range(start_phase, len(options.phases)):
        phase = options.phases[p_index]
        stale = 0 if p_index != start_phase or state is None else state.get("stale", 0)
        first = start_epoch if p_index == start_phase else 0
        for epoch in range(first, phase.epochs):
            if stale >= options.patience:
                done_steps += steps_per_epoch[p_index] * (phase.epochs - epoch)
                break
            model.optimizer.learning_rate.assign(_cosine(phase, epoch))
            rng = np.random.default_rng([seed, p_index, epoch])
            x, y, w = epoch_batch(data, keeps[p_index], options, augment, rng)
            callbacks = []
            if progress is not None:
                callbacks.append(_batch_callback(progress, phase.name, done_steps, total_steps))
            history = model.fit(x, keras.utils.to_categorical(y, num_classes), sample_weight=w,
                                batch_size=options.batch_size, epochs=1, shuffle=False, verbose=0,
                                callbacks=callbacks)
            done_steps += steps_per_epoch[p_index]
            probs = model.predict(x_val, batch_size=512, verbose=0) if len(x_val) else np.zeros((0, num_classes))
            val_acc = float((probs.argmax(1) == val[1]).mean()) if len(x_val) else 0.0
            row = {"phase": phase.name, "epoch": epoch, "loss": float(history.history["loss"][0]),
                   "accuracy": float(history.history["accuracy"][0]), "val_accuracy": val_acc,
                   "learning_rate": _cosine(phase, epoch)}
            result.history.append(row)
            global_epoch += 1
            result.epochs_run = global_epoch
            improved = val_acc > result.best_val_accuracy
            if improved:
                result.best_val_accuracy, result.best_epoch, stale = val_acc, global_epoch - 1, 0
            else:
                stale += 1
            if progress is not None:
                progress(phase.name, done_steps, total_steps, row)
            state_out = {"phase": p_index, "epoch": epoch, "global_epoch": global_epoch, "stale": stale,
                         "result": {k: v for k, v in asdict(result).items() if k != "resumed_from"}}
            checkpoints.save(model, state_out, improved)
        start_epoch = 0
    checkpoints.restore_best(model)
    return model, result


def _batch_callback(progress: Callable[[str, int, int, dict], None], phase: str, offset: int, total: int):
    """A Keras callback reporting every finished batch to ``progress``."""
    import keras

    class BatchProgress(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            progress(phase, offset + batch + 1, total, logs or {})

    return BatchProgress()
