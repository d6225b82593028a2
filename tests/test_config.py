"""kws.toml: defaults, file values, flag overrides, one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kws.config import Config, load_config
from kws.errors import KwsError, UsageError


def test_defaults_without_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config == Config()
    assert config.labels == ["_silence_", "_unknown_", "yes", "no"]
    assert config.model.size_budget == 20480


def test_file_values_paths_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "kws.toml"
    path.write_text('keywords = ["Yes", "hey robot"]\n[model]\nsize_budget = 18800\n'
                    '[data]\nmanifest = "d/m.csv"\n[paths]\nreports = "/abs/r"\n')
    config = load_config(path)
    assert config.labels == ["_silence_", "_unknown_", "yes", "hey_robot"]
    assert config.model.size_budget == 18800 and config.model.seed == 1
    assert config.data.manifest == tmp_path / "d" / "m.csv"  # relative to the file, not the cwd
    assert config.paths.reports == Path("/abs/r")
    changed = config.override({"keywords": "up,down", "model.seed": "7", "model.size_budget": None})
    assert changed.keywords == ("up", "down") and changed.model.seed == 7
    assert changed.model.size_budget == 18800  # None means "flag not given"


@pytest.mark.parametrize("text,message", [
    ('keywords = "yes"\n', "keywords must be a list"),
    ('[model]\nsize = 3\n', "unknown key 'size' in \\[model\\]"),
    ('[model]\narchitecture = "resnet"\n', "architecture 'resnet'; use one of ds_cnn, tiny_conv"),
    ('[model]\nseed = "abc"\n', "model.seed: bad value"),
    ('keywords = ["_silence_"]\n', "reserved"),
    ('keywords = ["yes", "yes"]\n', "listed twice"),
    ('[train]\npreset = "huge"\n', "preset 'huge'"),
    ('keywords = [\n', "not valid TOML"),
])
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "kws.toml"
    path.write_text(text)
    with pytest.raises(KwsError, match=message) as err:
        load_config(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
    assert err.value.exit_code == 1  # the file's content, not a usage mistake


def test_missing_explicit_file_and_bad_flag() -> None:
    with pytest.raises(KwsError, match="no such config file") as err:
        load_config("/nonexistent/kws.toml")
    assert err.value.exit_code == 1
    with pytest.raises(UsageError, match="^--size-budget: size_budget 10 bytes"):
        Config().override({"model.size_budget": 10}, names={"model.size_budget": "--size-budget"})
