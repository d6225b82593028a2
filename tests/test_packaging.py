"""`pip install .` (not editable) ships everything kws needs at run time."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_package_list_covers_every_python_package():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "kws").rglob("__init__.py")}
    assert found <= listed
    assert {"kws.firmware_templates", "kws.boards", "kws.datasets"} <= listed


def test_wheel_contains_templates_boards_and_recipes(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(tmp_path), "--no-deps", "--no-build-isolation", "-q"],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = tmp_path.glob("kws-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        "kws/firmware_templates/common/kws_frontend.c",
        "kws/firmware_templates/common/kws_frontend_tables.h.j2",
        "kws/firmware_templates/platform/platform.json",
        "kws/boards/qemu-stm32f405.toml",
        "kws/boards/esp32.toml",
        "kws/datasets/speech_commands.toml",
    }
    assert shipped <= names
    assert not any("__pycache__" in n for n in names)


def test_later_stages_do_not_import_training():
    """Export, flashing and monitoring read what a model says about itself
    (kws.model_card) and never pull in the training package (TensorFlow)."""
    code = ("import sys, kws.export.flow, kws.export.verify, kws.device.session, kws.monitor, kws.cli.export_cmd; "
            "print(sorted(m for m in sys.modules if m.startswith('kws.train') or m == 'tensorflow'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
