"""CLI conventions: --help with examples everywhere, --version, global flags,
usage errors exit 2 without a traceback."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.main import get_command
from typer.testing import CliRunner

from kws import __version__
from kws.cli import _register_subcommands, app

runner = CliRunner()


def _command_paths() -> list[list[str]]:
    _register_subcommands()
    root = get_command(app)
    paths = []

    def walk(command, prefix):
        for name, sub in getattr(command, "commands", {}).items():
            if getattr(sub, "commands", None):
                walk(sub, prefix + [name])
            else:
                paths.append(prefix + [name])

    walk(root, [])
    return paths


def test_every_command_has_help_with_examples():
    paths = _command_paths()
    expected = {"demo", "init", "doctor", "boards", "export", "flash", "monitor", "features", "train", "eval"}
    assert expected <= {p[0] for p in paths}
    assert {"speech-commands", "import", "synth", "record"} <= {p[-1] for p in paths if p[0] == "data"}
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, path
        assert "Examples" in result.output, path
        examples = [line.strip() for line in result.output.splitlines() if line.strip().startswith("kws ")]
        assert any(line.startswith("kws " + " ".join(path)) for line in examples), (path, examples)


def test_version_and_global_flags():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    help_text = runner.invoke(app, ["--help"], terminal_width=200).output
    for flag in ("--verbose", "--quiet", "--debug", "--version"):
        assert flag in help_text


def test_usage_error_exits_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "kws", "export", "--no-such-flag"], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "-m", "kws", "export", "--board", "nosuchboard"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown board" in result.stderr and "Traceback" not in result.stderr
    assert isinstance(app, typer.Typer)
