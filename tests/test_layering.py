"""The packages import downwards only (docs/architecture.md, "Layers"):
every import in kws/, lazy ones inside functions too, read with ast."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# What every stage shares: no stage's code, no TensorFlow.
FOUNDATION = {"errors", "atomic", "resources", "cache", "progress", "boards", "config", "labels", "logs"}
MODEL = {"model_card", "model_metadata"}     # what a model says about itself (its frontend comes from audio)
# Each unit above the foundation and what it may import besides the foundation. cli, demo and doctor sit on top.
ALLOWED = {
    "audio": set(),
    "model_card": {"audio", "model_metadata"},
    "model_metadata": {"audio", "model_card"},
    "data": {"audio"},
    "export": {"audio"} | MODEL,
    "train": {"audio", "data", "export"} | MODEL,
    "device": {"export"} | MODEL,
    "monitor": {"audio", "data", "device", "export"} | MODEL,
}
TOP = {"cli", "demo", "doctor", "__main__", "__init__"}


def _imports(package: Path) -> dict[str, set[str]]:
    """Top-level kws unit (package or module) -> the units and 'bench' it imports."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        unit = parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                head = name.split(".")
                if head[0] == "bench":
                    found.setdefault(unit, set()).add("bench")
                elif head[0] == "kws" and len(head) > 1 and head[1] != unit:
                    found.setdefault(unit, set()).add(head[1])
    return found


def test_every_unit_has_a_layer() -> None:
    units = {p.stem if p.is_file() else p.name for p in (REPO / "kws").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    assert units <= FOUNDATION | set(ALLOWED) | TOP, units - (FOUNDATION | set(ALLOWED) | TOP)


def _violations(package: Path) -> list[str]:
    wrong = []
    for unit, targets in sorted(_imports(package).items()):
        if unit in TOP:
            allowed = FOUNDATION | set(ALLOWED) | TOP
        elif unit in FOUNDATION:
            allowed = FOUNDATION
        else:
            allowed = FOUNDATION | ALLOWED.get(unit, set())
        wrong += [f"kws.{unit} imports {'bench' if t == 'bench' else 'kws.' + t}" for t in sorted(targets - allowed)]
    return wrong


def test_imports_go_downwards_only() -> None:
    assert not _violations(REPO / "kws")


def test_upward_imports_are_caught(tmp_path: Path) -> None:
    """export -> train, device -> monitor, a stage -> bench, the foundation -> a stage: each one is named."""
    files = {"export/lowering.py": "def f():\n    from kws.train.smoothing import detect\n",
             "device/link.py": "import kws.monitor\n", "data/speed.py": "from bench.common import row\n",
             "boards.py": "from kws.export import exporter\n", "export/fine.py": "from kws.audio import io\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert _violations(tmp_path) == ["kws.boards imports kws.export", "kws.data imports bench",
                                     "kws.device imports kws.monitor", "kws.export imports kws.train"]
