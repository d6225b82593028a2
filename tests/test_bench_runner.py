"""`make bench` runner: a subset re-run replaces its area's rows and keeps the others."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

import bench.runner as runner


def _area(value: float):
    def run() -> list[dict]:
        return [{"name": "figure", "value": value, "unit": "s", "reference": 2.0, "reference_note": "", "ratio": 0.5}]

    return types.SimpleNamespace(run=run)


def test_subset_rerun_keeps_other_areas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "OUT_DIR", tmp_path)
    modules = {"bench.audio": _area(1.0), "bench.train": _area(2.0)}
    monkeypatch.setattr(runner.importlib, "import_module", modules.__getitem__)
    assert runner.main(["audio", "train"]) == 0
    modules["bench.train"] = _area(3.0)
    assert runner.main(["train"]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["area"], r["value"]) for r in rows] == [("audio", 1.0), ("train", 3.0)]
    assert all(r["measured"] for r in rows)
    assert "| figure | 3.0 s |" in (tmp_path / "results.md").read_text()

    def broken() -> list[dict]:
        raise RuntimeError("benchmark crashed")

    modules["bench.audio"] = types.SimpleNamespace(run=broken)
    assert runner.main(["audio"]) == 1  # a failed re-run keeps the area's previous rows
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["area"], r["value"]) for r in rows] == [("audio", 1.0), ("train", 3.0)]
