"""`kws init` writes a commented kws.toml that reads back, and never
overwrites the user's file."""

from __future__ import annotations

import subprocess
import sys

from kws.config import load_config


def _kws(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kws", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_init_writes_a_commented_file_that_reads_back(tmp_path):
    result = _kws("init", "--words", "hey robot,stop", "--board", "esp32", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "kws.toml").read_text()
    assert text.count("#") > 10  # commented
    config = load_config(tmp_path / "kws.toml")
    assert list(config.keywords) == ["hey robot", "stop"]
    assert config.board.name == "esp32"
    assert config.model.size_budget == 20480


def test_init_refuses_to_overwrite_and_checks_the_board(tmp_path):
    (tmp_path / "kws.toml").write_text("keywords = ['mine']\n")
    result = _kws("init", cwd=tmp_path)
    assert result.returncode == 2 and "--force" in result.stderr
    assert (tmp_path / "kws.toml").read_text() == "keywords = ['mine']\n"
    bad = _kws("init", "--path", "other.toml", "--board", "nosuchboard", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown board" in bad.stderr and not (tmp_path / "other.toml").exists()
