"""Render the frontend's generated C headers from ``FrontendParams``.

``kws_frontend_config.h`` holds the #defines every firmware module may use;
``kws_frontend_tables.h`` holds the integer tables (from
``kws.audio.frontend_tables``) and is included by kws_frontend.c only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import jinja2
import numpy as np

from kws.atomic import write_text_atomic
from kws.audio.frontend_params import FrontendParams
from kws.audio.frontend_tables import frontend_tables
from kws.resources import templates_dir

FRONTEND_SOURCES = ("kws_frontend.h", "kws_frontend.c")


def _c_list(values: Iterable, per_line: int = 12) -> str:
    items = [str(int(v)) for v in values]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("  " + line for line in lines)


def _c_packed(pairs: np.ndarray, per_line: int = 6) -> str:
    """int16 (re, im) pairs as 32-bit words: re in the low half, im in the high half."""
    words = [f"0x{(int(a) & 0xFFFF) | ((int(b) & 0xFFFF) << 16):08X}u" for a, b in pairs]
    lines = [", ".join(words[i : i + per_line]) for i in range(0, len(words), per_line)]
    return ",\n".join("  " + line for line in lines)


def params_hash(params: FrontendParams) -> str:
    """Short identity of a parameter set (also printed by the firmware)."""
    return hashlib.sha256(params.to_json().encode()).hexdigest()[:12]


def render_frontend_headers(params: FrontendParams) -> dict[str, str]:
    """File name -> text of the two generated headers."""
    t = frontend_tables(params)
    band_start = np.searchsorted(t.bin_channel, np.arange(params.num_channels + 2)) + t.start_bin
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "common")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    context = {
        "p": params,
        "t": t,
        "params_json": params.to_json(),
        "params_hash": params_hash(params),
        "window": _c_list(np.concatenate([t.window, np.zeros(params.fft_size - len(t.window), np.int16)])),
        "twiddles": _c_packed(t.twiddles),
        "super_twiddles": _c_packed(t.super_twiddles),
        "fft_src": _c_list(2 * t.bitrev.astype(np.int64)),
        "band_start": _c_list(band_start),
        "weight": _c_list(t.bin_weight),
        "unweight": _c_list(t.bin_unweight),
        "pcan_lut": _c_list(t.pcan_lut),
        "pcan_len": len(t.pcan_lut),
        "log_lut": _c_list(t.log_lut),
        "log_len": len(t.log_lut),
    }
    return {
        name: env.get_template(name + ".j2").render(**context)
        for name in ("kws_frontend_config.h", "kws_frontend_tables.h")
    }


def write_frontend_headers(params: FrontendParams, out_dir: str | Path) -> list[Path]:
    """Write the generated headers into ``out_dir`` (atomically)."""
    out_dir = Path(out_dir)
    return [write_text_atomic(out_dir / name, text) for name, text in render_frontend_headers(params).items()]


def frontend_source_paths() -> list[Path]:
    """The hand-written C sources of the frontend (to copy into firmware)."""
    return [templates_dir() / "common" / name for name in FRONTEND_SOURCES]
