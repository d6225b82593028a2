"""Custom keywords from offline TTS, randomized and post-processed, on all cores.

Each clip draws (from ``seed``, the word and its index only) an engine and
voice, a speed and pitch for the engine, a pitch shift and tempo change that
sox applies afterwards, a loudness and where the word sits in its second.
The same seed therefore gives the same bytes, whichever worker renders a clip.
Clips are 16 kHz mono int16, 1 s, named ``<label>/<engine>-<voice>_nohash_<n>.wav``;
the speaker of a clip is its ``engine:voice``, so splits keep voices apart.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from kws.audio.io import SAMPLE_RATE, write_wav
from kws.data.folders import NOHASH
from kws.labels import UNKNOWN, label_for
from kws.data.manifest import split_for
from kws.data.batch import Batch
from kws.data.signal import place_in_second, voiced_span
from kws.data.tts import ENGINES, Prosody, catalogue, safe_name
from kws.data.validate import Verdict
from kws.errors import KwsError, UsageError
from kws.progress import bar

MAX_WORD_S = 0.95
_OURS = re.compile(rf"^(?:[a-z0-9'-]+_)?(?:{'|'.join(ENGINES)})-.+{NOHASH}\d+\.wav$")


@dataclass(frozen=True)
class Job:
    """Everything needed to render one clip; fully decided before rendering."""

    text: str
    label: str
    engine: str
    voice: str
    prosody: Prosody
    semitones: float
    tempo: float
    peak_db: float
    lead: float
    path: Path

    @property
    def speaker(self) -> str:
        return f"{self.engine}:{self.voice}"


def _spoken(text: str) -> str:
    return " ".join(text.lower().split())


def plan(words: list[str], n: int, seed: int, out_dir: Path, unknown_words: Sequence[str] = (),
         unknown_n: Mapping[str, int] | None = None) -> list[Job]:
    """The jobs for ``n`` clips of every word (and of every unknown word, labelled
    ``_unknown_``: ``unknown_n[word]`` clips when given)."""
    voices = catalogue()
    engines = sorted(voices)
    jobs = []
    targets = dict.fromkeys([(_spoken(w), label_for(w)) for w in words]  # a word asked for twice: once
                            + [(_spoken(w), UNKNOWN) for w in unknown_words])
    for text, label in targets:
        count = (unknown_n or {}).get(text, n) if label == UNKNOWN else n
        prefix = "" if label != UNKNOWN else label_for(text).replace("_", "-") + "_"
        for index in range(count):
            rng = np.random.default_rng([seed, zlib.crc32(text.encode()), index])
            engine = engines[rng.integers(len(engines))]
            voice = voices[engine][rng.integers(len(voices[engine]))]
            jobs.append(Job(
                text=text, label=label, engine=engine, voice=voice,
                prosody=Prosody(speed=float(rng.uniform(0.8, 1.25)), pitch=float(rng.uniform(0.25, 0.75))),
                semitones=float(rng.uniform(-2.0, 2.0)), tempo=float(rng.uniform(0.9, 1.1)),
                peak_db=float(rng.uniform(-20.0, -1.0)), lead=float(rng.uniform(0.0, 1.0)),
                path=out_dir / label / f"{prefix}{engine}-{safe_name(voice)}{NOHASH}{index}.wav"))
    return jobs


def postprocess(raw: Path, semitones: float, tempo: float) -> np.ndarray:
    """sox: pitch shift and tempo change, resampled to 16 kHz mono float32 (deterministic: -R, no dither)."""
    args = ["sox", "-R", "-D", str(raw), "-t", "f32", "-c", "1", "-r", str(SAMPLE_RATE), "-",
            "pitch", f"{semitones * 100:.1f}", "tempo", "-s", f"{tempo:.4f}"]
    try:
        done = subprocess.run(args, capture_output=True, timeout=60)
    except OSError as err:
        raise KwsError(f"sox: could not run ({err}); install it (tools/setup.sh)") from None
    if done.returncode != 0:
        raise KwsError(f"sox: failed ({done.stderr.decode(errors='replace').strip()[:200]})")
    return np.frombuffer(done.stdout, np.float32)


def render(job: Job) -> str | None:
    """Render one clip to ``job.path``; returns an error message instead of raising."""
    try:
        with tempfile.TemporaryDirectory(prefix="kws-tts-") as tmp:
            raw = Path(tmp) / "raw.wav"
            ENGINES[job.engine].render(job.text, job.voice, job.prosody, raw)
            tempo = job.tempo
            for _ in range(3):
                audio = postprocess(raw, job.semitones, tempo) * 32768.0
                span = voiced_span(audio)
                if span is None:
                    return f"{job.speaker} produced no audible speech for {job.text!r}"
                word = audio[span[0]:span[1]]
                if len(word) <= MAX_WORD_S * SAMPLE_RATE:
                    break
                tempo *= len(word) / (MAX_WORD_S * SAMPLE_RATE) * 1.05  # speed up to fit in 1 s
            else:
                return f"{job.speaker} speaks {job.text!r} too long for one second"
        gain = 32767 * 10 ** (job.peak_db / 20) / max(float(np.abs(word).max()), 1.0)
        samples = np.clip(np.round(word * gain), -32767, 32767).astype(np.int16)
        write_wav(job.path, place_in_second(samples, job.lead))
    except KwsError as err:
        return str(err)
    return None


@dataclass
class SynthStats:
    clips: int
    failed: int
    seconds: float
    identities: int

    @property
    def clips_per_s(self) -> float:
        return self.clips / self.seconds if self.seconds else 0.0


def synthesize(batch: Batch, out_dir: Path, words: list[str], n: int, seed: int = 0, *,
               unknown_words: Sequence[str] = (), unknown_n: Mapping[str, int] | None = None,
               jobs: int | None = None) -> SynthStats:
    """Render ``n`` clips per word (``unknown_n[word]`` per unknown word when given)
    into ``out_dir`` on ``jobs`` processes and add them to ``batch``."""
    if n < 1:
        raise UsageError(f"-n {n}: ask for at least one clip per word")
    if not words and not unknown_words:
        raise UsageError("--words: give at least one word, e.g. --words \"yes,no,hey robot\"")
    todo = plan(words, n, seed, out_dir, unknown_words, unknown_n)
    folders = {job.path.parent for job in todo}
    wanted = {job.path for job in todo}
    for folder in folders:  # synth clips of an earlier, larger run (never other files)
        for stale in folder.glob(f"*{NOHASH}*.wav"):
            if stale not in wanted and _OURS.match(stale.name):
                stale.unlink()
    batch.roots.extend(folders)
    start = time.perf_counter()
    workers = jobs or os.cpu_count() or 1
    failed = 0
    with bar() as progress, ProcessPoolExecutor(workers) as pool:
        task = progress.add_task("synthesize", total=len(todo))
        for job, error in zip(todo, pool.map(render, todo, chunksize=4)):
            progress.advance(task)
            if error:
                failed += 1
                batch.rejected.append(Verdict(job.path, "", 0.0, error))
            else:
                batch.add(job.path, label=job.label, speaker=job.speaker, source="synth",
                          split=split_for(job.speaker), engine=job.engine, voice=job.voice)
    seconds = time.perf_counter() - start
    return SynthStats(len(todo) - failed, failed, seconds, len({job.speaker for job in todo}))
