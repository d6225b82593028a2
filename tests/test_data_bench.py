"""The data benchmark rows that `make bench` collects."""

from __future__ import annotations

import pytest

from bench import data as bench
from bench.common import DEV_SET


def test_bench_rows() -> None:
    if not DEV_SET.is_dir():  # the benchmark's own large data; the product's tests use tests/data
        pytest.skip("the data benchmark imports ../shared/data/speech_commands_test_dev, absent here")
    rows = {row["name"]: row for row in bench.run()}
    for row in rows.values():
        assert set(row) == {"name", "value", "unit", "reference", "reference_note", "ratio"}
        assert isinstance(row["value"], float | int) and row["value"] > 0
    assert rows["data: TTS synthesis (all cores)"]["unit"] == "clips/s"
    assert rows["data: distinct synth voice identities"]["value"] >= 30
    assert rows["data: import speech_commands_test_dev (cold cache)"]["value"] < 60
    assert "clips kept" in rows["data: import speech_commands_test_dev (warm cache)"]["reference_note"]
