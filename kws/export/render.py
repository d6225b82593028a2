"""Shared rendering for the export: the Jinja environment over
``firmware_templates/`` and C literal formatting."""

from __future__ import annotations

from typing import Iterable

import jinja2
import numpy as np

from kws.resources import templates_dir

def environment() -> jinja2.Environment:
    """Templates are addressed as ``<folder>/<name>`` below firmware_templates/."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def static_file(folder: str, name: str) -> str:
    """A hand-written source shipped in ``firmware_templates/<folder>/``."""
    return (templates_dir() / folder / name).read_text(encoding="utf-8")


def c_array(values: bytes | Iterable[int] | np.ndarray, per_line: int = 16, hexadecimal: bool = False) -> str:
    """The body of a C array initializer, ``per_line`` values a line."""
    flat = np.frombuffer(values, np.uint8) if isinstance(values, bytes) else np.asarray(values).reshape(-1)
    if hexadecimal:
        items = [f"0x{int(v) & 0xFF:02x}" for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = (", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line))
    return ",\n".join("  " + line for line in lines)


def c_string(text: str) -> str:
    """A C string literal (quotes, backslashes and non-ASCII escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def c_float(value: float) -> str:
    """A float literal that round-trips the float32 value."""
    return f"{float(np.float32(value))!r}f"
