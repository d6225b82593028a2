"""The data benchmark rows that `make bench` collects."""

from __future__ import annotations

from pathlib import Path

from bench import data as bench


def test_bench_rows(dev_set: Path) -> None:
    rows = {row["name"]: row for row in bench.run()}
    for row in rows.values():
        assert set(row) == {"name", "value", "unit", "reference", "reference_note", "ratio"}
        assert isinstance(row["value"], float | int) and row["value"] > 0
    assert rows["data: TTS synthesis (all cores)"]["unit"] == "clips/s"
    assert rows["data: distinct synth voice identities"]["value"] >= 30
    assert rows["data: import speech_commands_test_dev (cold cache)"]["value"] < 60
    assert "clips kept" in rows["data: import speech_commands_test_dev (warm cache)"]["reference_note"]
