"""Where the shipped data folders are: inside the installed package (wheel)
or at the top of the source checkout (editable install)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"kws installation is incomplete: no {name}/ folder near {_PACKAGE}")


def templates_dir() -> Path:
    """firmware_templates/: Jinja templates and C/C++ sources for firmware."""
    return _find("firmware_templates")


def boards_dir() -> Path:
    """boards/: one TOML profile per board."""
    return _find("boards")


def datasets_dir() -> Path:
    """datasets/: dataset recipes (URLs, checksums)."""
    return _find("datasets")
