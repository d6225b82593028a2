"""Data benchmarks for `make bench`: TTS clips/s, dev-set import time, synth voice identities."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.common import DEV_SET, private_cache, row
from kws.data.folders import import_folder
from kws.data.batch import Batch, save
from kws.data.synth import synthesize
from kws.data.tts import catalogue

PER_CORE_REFERENCE = 1 / 0.0275  # DESIGN.md: 20-35 ms per 1 s clip and engine call
MIN_IDENTITIES = 30  # issue 3


def run() -> list[dict]:
    """Benchmark rows (name, value, unit, reference, reference_note, ratio)."""
    rows = []
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="kws-bench-") as tmp, private_cache(Path(tmp) / "cache"):
        tmp = Path(tmp)
        stats = synthesize(Batch(tmp / "synth.csv"), tmp / "synth", ["yes", "hey robot"], 40, seed=1)
        reference = round(PER_CORE_REFERENCE * cores, 1)
        rows.append(row("data: TTS synthesis (all cores)", stats.clips_per_s, "clips/s", reference,
                         f"DESIGN.md: 20-35 ms per clip and engine call, x {cores} cores; "
                         "kws adds sox post-processing and validation"))
        if DEV_SET.is_dir():
            for kind in ("cold", "warm"):
                start = time.perf_counter()
                batch = Batch(tmp / f"{kind}.csv")
                import_folder(DEV_SET, batch, tmp / "silence", split="test")
                save(batch)
                rows.append(row(f"data: import speech_commands_test_dev ({kind} cache)",
                                 time.perf_counter() - start, "s", None,
                                 f"{len(batch.clips)} clips kept, {len(batch.rejected)} left out; no reference"))
    identities = sum(len(v) for v in catalogue().values())
    rows.append(row("data: distinct synth voice identities", identities, "voices", MIN_IDENTITIES,
                     f"issue 3 asks for at least {MIN_IDENTITIES}; engines: {', '.join(sorted(catalogue()))}"))
    return rows
