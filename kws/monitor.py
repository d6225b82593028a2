"""What the firmware hears: live detections, scripted checks, on-device
evaluation and recording, all over the serial link.

- ``watch``: print the device's lines (detections highlighted) and, with
  ``expect``, stop at the first ``Heard <word>`` (True) or at the timeout.
  ``parse_status`` reads the firmware's real-time report
  (``Status load=21% clock=64MHz audio_ms=2000 dropped=0``, every 2 s of audio).
- ``evaluate``: stream every clip of a folder (``<label>/*.wav``, Speech
  Commands layout; unknown folders count as ``_unknown_``) to the device, which
  computes features and scores exactly as it does for its microphone, and
  compute the host's scores for the same clips (Python frontend twin + TFLM
  interpreter). ``write_report`` writes JSON, Markdown and confusion-matrix
  PNGs: accuracy on the device beside the host, how many clips agree bit for
  bit, and latency (device time per clip, wall time per clip over the link).
- ``record``: capture clips from the board's own microphone into the dataset
  layout ``<out>/<word>/<n>.wav``.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kws.atomic import write_text_atomic
from kws.audio.frontend import compute_features
from kws.audio.frontend_params import FrontendParams
from kws.audio.io import load_wav, write_wav
from kws.data.folders import wav_files
from kws.labels import UNKNOWN, normal_label
from kws.device.serial_link import FRAME_RECORD, ClipResult, LinkError, SerialLink
from kws.errors import KwsError, UsageError

HEARD = re.compile(r"Heard (?P<word>[^\s()]{1,64}) \((?P<score>[0-9]{1,3}(?:\.[0-9]{1,6})?)\) "
                   r"@(?P<ms>[0-9]{1,12})ms")
STATUS = re.compile(r"Status load=(?P<load>[0-9]{1,6})% clock=(?P<mhz>[0-9]{1,6})MHz "
                    r"audio_ms=(?P<audio_ms>[0-9]{1,10}) dropped=(?P<dropped>[0-9]{1,10})")


@dataclass(frozen=True)
class Detection:
    word: str
    score: float
    ms: int


def parse_heard(line: str) -> Detection | None:
    """A ``Heard <word> (<score>) @<ms>ms`` line, or None for anything else (a damaged one too)."""
    found = HEARD.fullmatch(line)
    return Detection(found["word"], float(found["score"]), int(found["ms"])) if found else None


@dataclass(frozen=True)
class Status:
    """The firmware's real-time report for one period of audio: busy time
    per audio time (percent), processor clock, the period's audio and the
    samples lost in it (ring buffer or microphone overruns)."""

    load_percent: int
    clock_mhz: int
    audio_ms: int
    dropped: int

    @property
    def keeps_up(self) -> bool:
        return self.dropped == 0 and self.load_percent < 100

    def describe(self) -> str:
        return f"load {self.load_percent}% at {self.clock_mhz} MHz, {self.dropped} samples dropped"


def parse_status(line: str) -> Status | None:
    """A ``Status ...`` line, or None for anything else (a damaged one too)."""
    found = STATUS.fullmatch(line)
    if not found:
        return None
    return Status(int(found["load"]), int(found["mhz"]), int(found["audio_ms"]), int(found["dropped"]))


def damaged(line: str) -> bool:
    """A line that claims to be a detection or a status report but does not parse."""
    return line.startswith(("Heard", "Status")) and parse_heard(line) is None and parse_status(line) is None


def watch(link: SerialLink, *, expect: str | None = None, timeout: float | None = None,
          show: Callable[[str], None] = print) -> Detection | None:
    """Show every line from the device; return the first detection of
    ``expect`` (None at the timeout, or when nothing is expected). Damaged
    detection and status lines are not shown: they count in ``link.skipped``."""
    deadline = time.monotonic() + timeout if timeout is not None else float("inf")
    while (left := deadline - time.monotonic()) > 0:
        line = link.next_line(min(left, 1.0))
        if line is None:
            continue
        if damaged(line):
            link.skipped += 1
            continue
        show(line)
        heard = parse_heard(line)
        if heard and expect is not None and heard.word == expect:
            return heard
    return None


def check_received(link: SerialLink, seconds: float, baud: int) -> None:
    """A KwsError with where to look when not one line came from the device in ``seconds``."""
    if not link.lines and not link.skipped:
        raise KwsError(f"nothing came from the board on {getattr(link.port, 'port', '?')} in {seconds:g} s; "
                       f"check that it is powered and runs kws firmware (`kws flash`), that this is its port "
                       f"(`kws boards --ports`) and that it talks at {baud} baud")


def stream_wav(link: SerialLink, path: str | Path, tail_seconds: float = 1.0, sample_rate: int = 16000) -> None:
    """Send a wav to the device as live audio, followed by ``tail_seconds`` of
    silence so the last word still fills the feature window and the
    smoothing's averaging window (as a microphone would keep going)."""
    audio = load_wav(path, resample=True, to_mono=True)
    link.stream(np.concatenate([audio, np.zeros(int(tail_seconds * sample_rate), np.int16)]))


# -- evaluation ---------------------------------------------------------------


@dataclass(frozen=True)
class EvalClip:
    path: str
    truth: int
    device: ClipResult
    host_scores: np.ndarray

    @property
    def bit_exact(self) -> bool:
        return bool(np.array_equal(self.device.scores, self.host_scores))


@dataclass
class EvalReport:
    labels: tuple[str, ...]
    board: str
    model_id: str
    clips: list[EvalClip] = field(default_factory=list)
    seconds: float = 0.0

    def accuracy(self, which: str) -> float:
        if not self.clips:
            return 0.0
        tops = [c.device.top if which == "device" else int(np.argmax(c.host_scores)) for c in self.clips]
        return float(np.mean([top == c.truth for top, c in zip(tops, self.clips)]))

    def confusion(self, which: str) -> np.ndarray:
        matrix = np.zeros((len(self.labels), len(self.labels)), np.int64)
        for clip in self.clips:
            top = clip.device.top if which == "device" else int(np.argmax(clip.host_scores))
            matrix[clip.truth, top] += 1
        return matrix

    def summary(self) -> dict:
        n = len(self.clips)
        model_us = np.array([c.device.model_us for c in self.clips]) if n else np.zeros(1)
        frontend_us = np.array([c.device.frontend_us for c in self.clips]) if n else np.zeros(1)
        return {
            "board": self.board,
            "model": self.model_id,
            "labels": list(self.labels),
            "clips": n,
            "device_accuracy": round(self.accuracy("device"), 4),
            "host_accuracy": round(self.accuracy("host"), 4),
            "bit_exact_clips": sum(c.bit_exact for c in self.clips),
            "same_top_label": sum(c.device.top == int(np.argmax(c.host_scores)) for c in self.clips),
            "device_model_ms_median": round(float(np.median(model_us)) / 1000, 3),
            "device_frontend_ms_per_clip_median": round(float(np.median(frontend_us)) / 1000, 3),
            "wall_seconds_per_clip": round(self.seconds / n, 3) if n else 0.0,
            "clips_per_second": round(n / self.seconds, 3) if self.seconds else 0.0,
        }


def eval_clips(folder: str | Path, labels: tuple[str, ...], limit: int | None = None) -> list[tuple[Path, int]]:
    """(wav, label index) for ``folder/<label>/*.wav``; folders that are not a
    label count as ``_unknown_`` when the model has it, else they are skipped.
    ``limit`` keeps an evenly spaced subset (every class stays represented)."""
    root = Path(folder)
    if not root.is_dir():
        raise KwsError(f"--eval {root}: no such folder; pass a folder of <label>/*.wav clips")
    index = {label: i for i, label in enumerate(labels)}
    clips = []
    for relative in wav_files(root):
        truth = index.get(normal_label(relative.parts[0]), index.get(UNKNOWN))
        if truth is not None:
            clips.append((root / relative, truth))
    if not clips:
        raise UsageError(f"--eval {root}: no <label>/*.wav clips for labels {', '.join(labels)}")
    if limit is not None and limit < len(clips):
        picks = np.linspace(0, len(clips) - 1, limit).round().astype(int)
        clips = [clips[i] for i in picks]
    return clips


def fit_clip(samples: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad or cut a clip to ``length`` samples (as training does)."""
    out = np.zeros(length, np.int16)
    out[: min(length, len(samples))] = samples[:length]
    return out


def host_scores(model: bytes, features: np.ndarray) -> np.ndarray:
    """Scores (0..255) of the TFLM interpreter on the host for int8 features."""
    from kws.export.verify import run_tflm

    return (run_tflm(model, features.reshape(len(features), -1)).astype(np.int16) + 128).astype(np.uint8)


def evaluate(link: SerialLink, clips: list[tuple[Path, int]], labels: tuple[str, ...], model: bytes,
             frontend: FrontendParams, *, board: str, model_id: str,
             progress: Callable[[int, int], None] | None = None) -> EvalReport:
    """Classify ``clips`` on the device and on the host."""
    audio = np.stack([fit_clip(load_wav(path), frontend.clip_samples) for path, _ in clips])
    reference = host_scores(model, np.stack(compute_features(list(audio), frontend)))
    report = EvalReport(labels, board, model_id)
    start = time.monotonic()
    for i, ((path, truth), samples) in enumerate(zip(clips, audio)):
        result = link.classify(samples, clip_id=i)
        if len(result.scores) != len(labels):
            raise LinkError(f"the device reports {len(result.scores)} scores for {len(labels)} labels; "
                            "it runs another model: flash this one with `kws flash`")
        report.clips.append(EvalClip(str(path), truth, result, reference[i]))
        if progress:
            progress(i + 1, len(clips))
    report.seconds = time.monotonic() - start
    return report


def _confusion_png(matrix: np.ndarray, labels: tuple[str, ...], title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.2 + 0.6 * len(labels), 1.0 + 0.6 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for (row, col), value in np.ndenumerate(matrix):
        ax.text(col, row, str(value), ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(report: EvalReport, out_dir: str | Path, name: str = "device_eval") -> list[Path]:
    """``<name>.json``, ``<name>.md`` and device/host confusion PNGs in ``out_dir``."""
    out = Path(out_dir)
    summary = report.summary()
    pngs = [
        _confusion_png(report.confusion(which), report.labels, f"{which} ({summary[which + '_accuracy']:.1%})",
                       out / f"{name}_{which}_confusion.png")
        for which in ("device", "host")
    ]
    rows = [{"clip": c.path, "truth": report.labels[c.truth], "device": report.labels[c.device.top],
             "host": report.labels[int(np.argmax(c.host_scores))], "bit_exact": c.bit_exact,
             "device_scores": c.device.scores.tolist(), "host_scores": c.host_scores.tolist(),
             "model_us": c.device.model_us, "frontend_us": c.device.frontend_us,
             "seconds": round(c.device.seconds, 3)} for c in report.clips]
    json_path = write_text_atomic(out / f"{name}.json", json.dumps({"summary": summary, "clips": rows}, indent=1))
    lines = [f"# On-device evaluation: {report.board}, model {report.model_id}", "",
             "| | device | host |", "|---|---|---|",
             f"| accuracy ({summary['clips']} clips) | {summary['device_accuracy']:.1%} | {summary['host_accuracy']:.1%} |",
             f"| confusion matrix | ![device]({pngs[0].name}) | ![host]({pngs[1].name}) |", "",
             f"- scores equal bit for bit on {summary['bit_exact_clips']} of {summary['clips']} clips; "
             f"same top label on {summary['same_top_label']}",
             f"- device time per clip (median): model {summary['device_model_ms_median']} ms, "
             f"frontend {summary['device_frontend_ms_per_clip_median']} ms for the whole clip",
             f"- over the link: {summary['wall_seconds_per_clip']} s per clip ({summary['clips_per_second']} clips/s)"]
    md_path = write_text_atomic(out / f"{name}.md", "\n".join(lines) + "\n")
    return [json_path, md_path, *pngs]


# -- recording ----------------------------------------------------------------


def record(link: SerialLink, word: str, count: int, out_dir: str | Path, *, seconds: float = 1.0,
           sample_rate: int = 16000, announce: Callable[[int], None] = lambda i: None) -> list[Path]:
    """Record ``count`` clips of ``seconds`` from the board's microphone into
    ``out_dir/<word>/``. The device answers a RECORD frame with
    ``~pcm <base64 int16>`` lines and ``~pcm end <dropped>``."""
    if not link.banner or link.banner.get("mic") != "1":
        raise KwsError("this board has no microphone kws can record from; record with your computer "
                       "(`kws data record`) or pick a board with a mic")
    folder = Path(out_dir) / word
    samples_per_clip = int(seconds * sample_rate)
    written = []
    for i in range(count):
        announce(i)
        link.send_frames([(FRAME_RECORD, struct.pack("<I", samples_per_clip))])
        chunks = []
        while True:
            fields = link.wait_control("pcm", timeout=seconds + 10)
            if fields[1:2] == ["end"]:
                dropped = int(fields[2]) if len(fields) > 2 else 0
                break
            chunks.append(np.frombuffer(base64.b64decode(fields[1]), "<i2"))
        if dropped:
            raise LinkError(f"the serial link was too slow for the microphone ({dropped} samples lost); "
                            "use a faster baud rate or a board with native USB")
        existing = len(list(folder.glob("*.wav")))
        written.append(write_wav(folder / f"board_{existing:04d}.wav", np.concatenate(chunks), sample_rate))
    return written
