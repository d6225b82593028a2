"""Every command reads kws.toml through one shared --config option, and the
data commands honour its `[data] manifest` as `kws train` does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kws.cli import app
from kws.data.manifest import read_manifest
from test_cli import _command_paths
from wav_maker import write_clip

READS_CONFIG = {("data", "speech-commands"), ("data", "import"), ("data", "synth"), ("data", "record"),
                ("data", "summary"), ("train",), ("eval",), ("export",), ("flash",), ("monitor",), ("init",)}


def kws(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, KWS_CACHE_DIR=str(cwd / ".cache"))
    return subprocess.run([sys.executable, "-m", "kws", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_every_command_that_reads_kws_toml_takes_config() -> None:
    paths = {tuple(p) for p in _command_paths()}
    assert READS_CONFIG <= paths
    for path in READS_CONFIG:
        help_text = CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output
        assert "--config" in help_text, path


def test_data_commands_honour_the_manifest_in_kws_toml(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "kws.toml").write_text('keywords = ["yes"]\n[data]\nmanifest = "clips/list.csv"\n')
    user = tmp_path / "mine"
    for k in range(2):
        write_clip(user / "yes" / f"take{k}.wav", k)

    done = kws("data", "import", str(user), cwd=project)
    assert done.returncode == 0, done.stderr
    assert len(read_manifest(project / "clips" / "list.csv")) == 2 and not (project / "data").exists()
    summary = kws("data", "summary", cwd=project)
    assert summary.returncode == 0 and "2 clips in" in summary.stdout and "list.csv" in summary.stdout

    elsewhere = tmp_path / "elsewhere"   # --config from another folder: paths relative to the kws.toml
    elsewhere.mkdir()
    summary = kws("data", "summary", "--config", str(project / "kws.toml"), cwd=elsewhere)
    assert summary.returncode == 0 and "2 clips in" in summary.stdout, summary.stderr
    synth = kws("data", "synth", "--words", "no", "-n", "1", "-j", "1", "--config", str(project / "kws.toml"),
                cwd=elsewhere)
    assert synth.returncode == 0, synth.stderr
    assert {c.label for c in read_manifest(project / "clips" / "list.csv")} == {"yes", "no"}
    assert (project / "clips" / "synth" / "no").is_dir() and not (elsewhere / "data").exists()

    flag = kws("data", "summary", "--manifest", str(project / "clips" / "list.csv"), "--config", "nope.toml",
               cwd=elsewhere)
    assert flag.returncode == 1 and "nope.toml: no such config file" in flag.stderr
