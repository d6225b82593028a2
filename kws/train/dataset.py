"""Manifest clips -> int8 features from the bit-exact frontend, cached by content hash.

A task maps manifest labels onto the model's classes: ``_silence_`` is class
0, every label that is not a keyword is ``_unknown_`` (class 1), keywords
follow in config order.  Features live under the kws cache
(``features/<frontend digest>/<augmentation digest>/<sha[:2]>/<sha>.npy``):
clean features for evaluation, and ``variants`` augmented copies per clip for
training.  Variant ``v`` of a clip depends only on its content hash and ``v``,
so any worker computes the same bytes and a later run reuses them.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from kws.atomic import write_bytes_atomic
from kws.audio.frontend import compute_features
from kws.audio.frontend_params import FrontendParams
from kws.audio.io import SAMPLE_RATE, load_wav
from kws.cache import cache_dir, sha256_file
from kws.data.manifest import SILENCE, Clip
from kws.labels import SILENCE_CLASS, UNKNOWN_CLASS, keyword_labels
from kws.train.augment import AugmentConfig, Augmenter

CLEAN = "clean"
_CHUNK = 64  # clips per worker task


@dataclass
class Example:
    """One training/evaluation item: a manifest clip, or generated silence (``clip`` None)."""

    key: str            # content sha256, or "silence:<seed>:<i>" for generated silence
    target: int         # class index
    split: str
    synthetic: bool     # TTS or generated (not a real recording)
    speaker: str
    path: Path | None = None
    word: str = ""      # the manifest label (for per-word reports)


def target_of(label: str, labels: Sequence[str]) -> int:
    """Class index of a manifest label for a model with ``labels``."""
    if label == SILENCE:
        return SILENCE_CLASS
    return labels.index(label) if label in keyword_labels(labels) else UNKNOWN_CLASS


def examples_from(clips: Sequence[Clip], labels: Sequence[str], manifest_dir: Path) -> list[Example]:
    """Every manifest clip as an Example for the task ``labels``."""
    out = []
    for clip in clips:
        path = clip.resolve(manifest_dir)
        out.append(Example(key=clip.sha256 or sha256_file(path), target=target_of(clip.label, labels),
                           split=clip.split, synthetic=clip.source == "synth", speaker=clip.speaker, path=path,
                           word=clip.label))
    return out


def silence_examples(count: int, split: str, seed: int) -> list[Example]:
    """Generated ``_silence_`` examples (noise at random levels)."""
    return [Example(key=f"silence:{seed}:{split}:{i}", target=0, split=split, synthetic=True,
                    speaker="generated", word=SILENCE) for i in range(count)]


def load_clip(path: Path) -> np.ndarray:
    """A clip as exactly 1 s of int16 (shorter clips are zero-padded at the end)."""
    samples = load_wav(path, resample=True, to_mono=True, convert_float=True)
    out = np.zeros(SAMPLE_RATE, np.int16)
    out[: min(len(samples), SAMPLE_RATE)] = samples[:SAMPLE_RATE]
    return out


def _seed_of(key: str, variant: int) -> list[int]:
    return [int(hashlib.sha256(key.encode()).hexdigest()[:15], 16), variant]


class FeatureStore:
    """Computes and caches features for Examples (clean, or augmented variants)."""

    def __init__(self, frontend: FrontendParams, augment: AugmentConfig, noises: Sequence[np.ndarray] = (),
                 root: Path | None = None, jobs: int | None = None) -> None:
        self.frontend = frontend
        self.augment = augment
        self.noises = [np.asarray(n, np.float32) for n in noises]
        front = hashlib.sha256(frontend.to_json().encode()).hexdigest()[:16]
        noise = hashlib.sha256(b"".join(n.tobytes() for n in self.noises)).hexdigest()[:8]
        self.root = Path(root) if root else cache_dir("features")
        self.root = self.root / front
        self.aug_dir = f"{augment.digest()}-{noise}"
        self.jobs = jobs or min(4, os.cpu_count() or 1)

    def _path(self, kind: str, key: str) -> Path:
        name = hashlib.sha256(key.encode()).hexdigest() if ":" in key else key
        return self.root / kind / name[:2] / f"{name}.npy"

    def clean(self, examples: Sequence[Example], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(n, frames, channels) int8 features of the unmodified clips."""
        return self._gather(examples, CLEAN, 1, progress)[:, 0]

    def variants(self, examples: Sequence[Example], count: int,
                 progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(n, count, frames, channels) int8 features of augmented copies."""
        return self._gather(examples, self.aug_dir, count, progress)

    def stream(self, samples: np.ndarray) -> np.ndarray:
        """(frames, channels) int8 features of one long stretch of audio, one
        continuous frontend state (cached by the audio's hash)."""
        path = self._path("streams", hashlib.sha256(samples.tobytes()).hexdigest())
        cached = _read(path)
        if cached is not None:
            return cached
        feats = compute_features(samples, self.frontend)
        _write(path, feats)
        return feats

    def _gather(self, examples: Sequence[Example], kind: str, count: int,
                progress: Callable[[int], None] | None) -> np.ndarray:
        shape = (self.frontend.num_frames, self.frontend.num_channels)
        out = np.empty((len(examples), count, *shape), np.int8)
        missing = []
        for i, ex in enumerate(examples):
            cached = _read(self._path(kind, ex.key))
            if cached is not None and len(cached) >= count:
                out[i] = cached[:count]
                if progress:
                    progress(1)
            else:
                missing.append(i)
        tasks = [[(examples[i], self._path(kind, examples[i].key)) for i in missing[s : s + _CHUNK]]
                 for s in range(0, len(missing), _CHUNK)]
        if not tasks:
            return out
        args = (self.frontend, self.augment, self.noises, kind == CLEAN, count)
        if self.jobs > 1 and len(tasks) > 1:
            import multiprocessing

            with ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_init_worker, initargs=args) as pool:
                results = pool.map(_compute_chunk, tasks)
                self._collect(results, tasks, missing, out, progress)
        else:
            _init_worker(*args)
            self._collect(map(_compute_chunk, tasks), tasks, missing, out, progress)
        return out

    @staticmethod
    def _collect(results, tasks, missing, out, progress) -> None:
        position = 0
        for task, feats in zip(tasks, results):
            out[missing[position : position + len(task)]] = feats
            position += len(task)
            if progress:
                progress(len(task))


_WORKER: dict = {}


def _init_worker(frontend: FrontendParams, augment: AugmentConfig, noises: list, clean: bool, count: int) -> None:
    _WORKER.update(frontend=frontend, augmenter=Augmenter(augment, noises, frontend.stride_samples), clean=clean,
                   count=count)


def _compute_chunk(task: list[tuple[Example, Path]]) -> np.ndarray:
    """Features for a chunk of examples (in a worker); writes each to the cache."""
    count, clean = _WORKER["count"], _WORKER["clean"]
    clips = []
    for ex, _ in task:
        if ex.path is None:  # generated silence: each variant is a new stretch of noise
            clips.extend(_WORKER["augmenter"].silence(np.random.default_rng(_seed_of(ex.key, v)))
                         for v in range(count))
            continue
        audio = load_clip(ex.path)
        if clean:
            clips.append(audio)
        else:
            clips.extend(_WORKER["augmenter"](audio, np.random.default_rng(_seed_of(ex.key, v)))
                         for v in range(count))
    frontend = _WORKER["frontend"]
    # variants may start with a lead-in: keep each one's last clip-length of frames
    feats = np.stack([f[-frontend.num_frames:] for f in compute_features(clips, frontend)])
    feats = feats.reshape(len(task), count, frontend.num_frames, frontend.num_channels)
    for (_, path), f in zip(task, feats):
        _write(path, f)
    return feats


def _write(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    write_bytes_atomic(path, buffer.getvalue())


def _read(path: Path) -> np.ndarray | None:
    try:
        return np.load(path)
    except (OSError, ValueError):
        return None


def class_counts(examples: Sequence[Example], num_classes: int) -> np.ndarray:
    counts = Counter(e.target for e in examples)
    return np.array([counts.get(i, 0) for i in range(num_classes)], np.int64)


def class_weights(examples: Sequence[Example], num_classes: int) -> np.ndarray:
    """Balanced weights n / (classes x count_c) (0 for absent classes)."""
    counts = class_counts(examples, num_classes)
    weights = np.zeros(num_classes)
    present = counts > 0
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights

