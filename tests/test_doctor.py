"""`kws doctor` reports this machine's readiness and the fix for each problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _doctor(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kws", "doctor", "--json"], capture_output=True, text=True, env=env, timeout=600)


def test_doctor_all_green_after_setup():
    result = _doctor(dict(os.environ))
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if c["required"] and not c["ok"]]
    assert result.returncode == 0 and report["ok"], failed
    names = {c["name"] for c in report["checks"]}
    assert {"tensorflow", "platformio", "qemu-system-arm", "arm-none-eabi-gcc", "espeak-ng"} <= names


def test_doctor_names_the_fix_when_a_tool_is_missing(tmp_path):
    # a PATH with only this Python: every external tool goes missing
    (tmp_path / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(tmp_path)}
    result = _doctor(env)
    report = json.loads(result.stdout)
    qemu = next(c for c in report["checks"] if c["name"] == "qemu-system-arm")
    assert result.returncode == 1 and not report["ok"]
    assert not qemu["ok"] and "apt-get install qemu-system-arm" in qemu["fix"]
    assert Path(sys.executable).exists()
