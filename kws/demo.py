"""`kws demo`: the whole flow on the emulated board, with no download and no
board: synthesized yes/no data (held-out voices kept apart) -> the default
model -> export (runtime c) -> PlatformIO build -> QEMU boot -> held-out clips
streamed over the serial link -> what the device heard, on-device vs host
accuracy, and where the reports are.

Everything lands in one folder (default ``kws-demo/``), laid out like a user
project: ``data/``, ``build/``, ``reports/``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from kws.audio.io import SAMPLE_RATE, load_wav, write_wav
from kws.boards import load_board
from kws.config import Config
from kws.data.manifest import SILENCE, UNKNOWN, read_manifest

DEMO_BOARD = "qemu-stm32f405"
KEYWORDS = ("yes", "no")
# Other words, synthesized as the _unknown_ class.
STREAM_PAUSE_S = 1.0  # quiet after each keyword clip of the live stream
UNKNOWN_WORDS = ("up", "down", "left", "right", "on", "off", "stop", "go", "wow", "house", "bed", "cat")


@dataclass(frozen=True)
class DemoSize:
    """How much data and training the demo does."""

    clips_per_word: int
    unknown_per_word: int
    preset: str
    eval_clips: int


SIZES = {
    "full": DemoSize(clips_per_word=400, unknown_per_word=60, preset="full", eval_clips=60),
    # enough clips (and the quick preset's 40 epochs) that the live stream is heard right on seeds 1-3
    "quick": DemoSize(clips_per_word=200, unknown_per_word=25, preset="quick", eval_clips=12),
}


@dataclass
class DemoResult:
    """What the demo did, for the summary screen and --json."""

    folder: Path
    model: Path | None = None
    model_bytes: int = 0
    labels: tuple[str, ...] = ()
    heard: list[str] = field(default_factory=list)      # keywords the device reported, in order
    streamed: list[str] = field(default_factory=list)   # keywords in the live stream, in order
    device_accuracy: float | None = None
    host_accuracy: float | None = None
    bit_exact_clips: int = 0
    eval_clips: int = 0
    host_test_accuracy: float | None = None
    firmware_flash_bytes: int | None = None
    firmware_ram_bytes: int | None = None
    reports: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def heard_each_once(self) -> bool:
        """Every streamed keyword reported exactly once, in order, and nothing else."""
        return bool(self.streamed) and self.heard == self.streamed

    def hearing(self) -> str:
        """One line: what was streamed, what the device reported, and whether that is each keyword once."""
        verdict = ("each keyword heard exactly once" if self.heard_each_once else
                   f"NOT each keyword exactly once ({len(self.heard)} report(s) for {len(self.streamed)} keyword(s))")
        return f"streamed {', '.join(self.streamed) or '-'} -> heard {', '.join(self.heard) or 'nothing'}: {verdict}"

    def to_dict(self) -> dict:
        return {**{k: (str(v) if isinstance(v, Path) else [str(p) for p in v] if k == "reports" else v)
                   for k, v in dataclasses.asdict(self).items()}, "heard_each_once": self.heard_each_once}


def _timed(result: DemoResult, stage: str, say: Callable[[str], None]):
    class _Stage:
        def __enter__(self):
            say(f"[bold]{stage}[/bold]")
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            result.seconds[stage] = round(time.perf_counter() - self.start, 1)
            return False

    return _Stage()


def synthesize_data(folder: Path, size: DemoSize, seed: int) -> Path:
    """yes/no + other words from offline TTS into ``folder/data``; returns the manifest."""
    from kws.data import synth
    from kws.data.batch import Batch, save

    manifest = folder / "data" / "manifest.csv"
    batch = Batch(manifest)
    synth.synthesize(batch, manifest.parent / "synth", list(KEYWORDS), size.clips_per_word, seed)
    synth.synthesize(batch, manifest.parent / "synth", [], size.unknown_per_word, seed,
                     unknown_words=list(UNKNOWN_WORDS))
    save(batch)
    return manifest


def demo_config(folder: Path, size: DemoSize, seed: int) -> Config:
    """The project settings the demo trains with (the defaults, in ``folder``)."""
    return Config().override({
        "keywords": list(KEYWORDS),
        "data.manifest": str(folder / "data" / "manifest.csv"),
        "model.seed": seed,
        "train.preset": size.preset,
        "board.name": DEMO_BOARD,
        "paths.build": str(folder / "build"),
        "paths.reports": str(folder / "reports"),
    })


def held_out_clips(manifest: Path, labels: tuple[str, ...], limit: int) -> list[tuple[Path, int]]:
    """Test-split clips (voices never trained on), balanced over the labels."""
    by_label: dict[int, list[Path]] = {}
    for clip in read_manifest(manifest):
        if clip.split == "test" and clip.label in labels:
            by_label.setdefault(labels.index(clip.label), []).append(manifest.parent / clip.path)
    chosen: list[tuple[Path, int]] = []
    per_label = max(1, limit // max(1, len(by_label)))
    for index in sorted(by_label):
        chosen += [(path, index) for path in sorted(by_label[index])[:per_label]]
    return chosen


def live_stream(clips: list[tuple[Path, int]], labels: tuple[str, ...], out: Path) -> tuple[Path, list[str]]:
    """One wav of a few held-out keyword clips, as a microphone would hear a
    person say them at a natural pace: after a second of quiet (so the
    device's feature window is full when the first keyword starts), each
    1-second clip followed by ``STREAM_PAUSE_S`` of quiet, so one word starts
    about 2 s after the previous one."""
    pause = np.zeros(int(STREAM_PAUSE_S * SAMPLE_RATE), np.int16)
    picked = []
    for wanted in (label for label in labels if label not in (SILENCE, UNKNOWN)):
        picked += [path for path, index in clips if labels[index] == wanted][:2]
    audio = np.concatenate([np.zeros(SAMPLE_RATE, np.int16), *(np.concatenate([load_wav(p), pause]) for p in picked)])
    names = [p.parent.name for p in picked]
    return write_wav(out, audio), names


def run_demo(folder: Path, *, quick: bool = False, seed: int = 1,
             say: Callable[[str], None] = print) -> DemoResult:
    """Run every stage; ``say`` receives progress lines (rich markup)."""
    from kws.device.build import elf_size
    from kws.device.session import flash, identify, open_session
    from kws.export.flow import export_project
    from kws.monitor import evaluate, parse_heard, stream_wav, watch, write_report
    from kws.train import train_model

    size = SIZES["quick" if quick else "full"]
    folder = folder.resolve()
    result = DemoResult(folder)
    board = load_board(DEMO_BOARD)

    with _timed(result, "1/5 data: synthesizing yes/no and other words with offline TTS", say):
        manifest = synthesize_data(folder, size, seed)

    config = demo_config(folder, size, seed)
    with _timed(result, "2/5 train: the default model (DS-CNN sized to the budget)", say):
        trained = train_model(config)
    result.model = trained.tflite
    result.model_bytes = trained.size_bytes
    result.host_test_accuracy = trained.metrics.get("int8_accuracy")
    result.reports += list(trained.reports.values())

    with _timed(result, f"3/5 export: runtime c for {DEMO_BOARD}", say):
        exported, project = export_project(trained.tflite, board, config.paths.firmware(DEMO_BOARD), runtime="c")
    result.labels = tuple(project.labels)

    with _timed(result, "4/5 build + boot: PlatformIO (offline), then QEMU", say):
        banner = flash(project, board)
        say(f"  device banner: {banner.get('fw', '?')} model {banner.get('model', '?')} status {banner.get('status', '?')}")
        firmware = elf_size(project.elf)
        result.firmware_flash_bytes = firmware.flash
        result.firmware_ram_bytes = firmware.ram

    clips = held_out_clips(manifest, result.labels, size.eval_clips)
    with _timed(result, "5/5 on the device: live stream, then held-out clips over the serial link", say):
        wav, result.streamed = live_stream(clips, result.labels, folder / "build" / "demo_stream.wav")
        def collect(line: str) -> None:
            heard = parse_heard(line)
            if heard:
                result.heard.append(heard.word)
                say(f"  [green]{line.strip()}[/green]")

        with open_session(project, board) as link:
            identify(link)
            stream_wav(link, wav)
            watch(link, timeout=3.0, show=collect)
            report = evaluate(link, clips, result.labels, trained.tflite.read_bytes(), exported.frontend,
                              board=DEMO_BOARD, model_id=project.model_id)
        summary = report.summary()
        result.device_accuracy = summary["device_accuracy"]
        result.host_accuracy = summary["host_accuracy"]
        result.bit_exact_clips = summary["bit_exact_clips"]
        result.eval_clips = summary["clips"]
        result.reports += write_report(report, config.paths.reports)
    return result
