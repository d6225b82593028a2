"""The complete PlatformIO project for one board and one exported model.

``export_model`` writes the model library (``lib/kws_model/``);
``render_project`` adds everything else, so the folder opens in VS Code's
PlatformIO unchanged::

    platformio.ini        pinned platform/framework/libraries from boards/<board>.toml
    src/                  shared firmware core (app, ring, link, frontend, smoothing) + board glue
    include/              generated headers: frontend tables, pins, firmware identity
    lib/kws_model/        the model (from export_model)
    kws_project.json      what kws flash / kws monitor need: env, firmware and model identity
    kws_files.json        every file kws generated, with its sha256 (see owned.py)

Board glue comes from ``firmware_templates/boards/<family>/``: its files go
to ``src/`` and its ``root/`` folder to the project root (``*.j2`` rendered).
The firmware identity (``fw=`` in the boot banner) is a sha256 prefix over
every generated file, so ``kws flash`` can tell the firmware it built from
any other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kws import __version__
from kws.audio.frontend_header import frontend_source_paths, render_frontend_headers
from kws.audio.frontend_params import FrontendParams
from kws.boards import Board, load_board
from kws.errors import KwsError, UsageError
from kws.export.board_fit import check_runtime
from kws.export.exporter import MODEL_LIB, ExportResult
from kws.export.owned import OwnedFolder
from kws.export.render import environment
from kws.export.settings import inference_period_frames
from kws.labels import keyword_mask
from kws.model_card import SmoothingParams
from kws.resources import templates_dir

PROJECT_FILE = "kws_project.json"
LED_BLINK_MS = 200
CORE_SOURCES = (
    "app/kws_app.c", "app/kws_app.h", "app/kws_board.h", "app/kws_load.c", "app/kws_load.h",
    "app/kws_ring.c", "app/kws_ring.h",
    "link/kws_link.c", "link/kws_link.h", "common/kws_smoothing.c", "common/kws_smoothing.h",
)
_APP_CONFIG = "kws_app_config.h"


@dataclass(frozen=True)
class Project:
    """A rendered firmware project (also stored as ``kws_project.json``)."""

    path: Path
    board: str
    env: str
    runtime: str
    firmware_id: str
    model_sha256: str
    labels: tuple[str, ...]
    emulated: bool
    frontend: FrontendParams

    @property
    def model_id(self) -> str:
        return self.model_sha256[:12]

    @property
    def elf(self) -> Path:
        return self.path / ".pio" / "build" / self.env / "firmware.elf"

    def to_dict(self) -> dict[str, Any]:
        return {
            "board": self.board, "env": self.env, "runtime": self.runtime, "firmware_id": self.firmware_id,
            "model_sha256": self.model_sha256, "labels": list(self.labels), "emulated": self.emulated,
            "frontend": self.frontend.to_dict(),
        }


def load_project(path: str | Path) -> Project:
    """The project rendered in ``path`` (a clear error when there is none)."""
    path = Path(path)
    try:
        data = json.loads((path / PROJECT_FILE).read_text(encoding="utf-8"))
        return Project(path=path, board=data["board"], env=data["env"], runtime=data["runtime"],
                       firmware_id=data["firmware_id"], model_sha256=data["model_sha256"],
                       labels=tuple(data["labels"]), emulated=bool(data["emulated"]),
                       frontend=FrontendParams.from_dict(data["frontend"]))
    except FileNotFoundError:
        raise KwsError(f"{path}: no kws firmware project here; run `kws export --board BOARD` first") from None
    except (KeyError, TypeError, json.JSONDecodeError):
        raise KwsError(f"{path / PROJECT_FILE}: damaged; run `kws export` again") from None


def _glue_dir(board: Board) -> Path:
    folder = templates_dir() / "boards" / board.family
    if not board.family or not folder.is_dir():
        raise UsageError(f"--board {board.name}: kws has no firmware for its family '{board.family or '?'}'; "
                         "see `kws boards` for the boards it can build for")
    return folder


def _ini_value(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _context(board: Board, export: ExportResult) -> dict[str, Any]:
    pio = board.platformio
    runtime_pio = pio.build(export.runtime)
    smoothing = SmoothingParams.from_dict(export.smoothing) if export.smoothing else SmoothingParams()
    options = {**pio.options, **runtime_pio.options}
    return {
        "board": board,
        "mic": board.mic,
        "led": board.led,
        "serial": board.serial,
        "baud": board.serial.baud,
        "upload_speed": board.upload.baud,
        "env": board.name,
        "platform": pio.platform_spec,
        "pio_board": pio.board,
        "framework": pio.framework,
        "build_flags": [*pio.build_flags, *runtime_pio.build_flags],
        "src_flags": list(pio.src_flags),
        "lib_deps": list(runtime_pio.lib_deps),
        "idf_components": runtime_pio.idf_components,
        "options": sorted((k, _ini_value(v)) for k, v in options.items()),
        "kws_version": __version__,
        "runtime": export.runtime,
        "model_id": export.model_sha256[:12],
        "labels": export.labels,
        "smoothing": smoothing,
        "smoothing_source": "from the model's metadata" if export.smoothing else "kws defaults; the model has none",
        "keyword_mask": keyword_mask(export.labels),
        "infer_every_frames": inference_period_frames(export.smoothing, export.frontend),
        "has_mic": board.mic.type != "none",
        "led_blink_ms": LED_BLINK_MS,
    }


def _render_glue(env, folder: Path, context: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(src files, project-root files) of a board family's glue."""
    src: dict[str, str] = {}
    root: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        target = root if relative.parts[0] == "root" else src
        name = str(Path(*relative.parts[1:]) if target is root else relative)
        if path.suffix == ".j2":
            template = str(path.relative_to(templates_dir()))
            target[name[:-3]] = env.get_template(template).render(**context)
        else:
            target[name] = path.read_text(encoding="utf-8")
    return src, root


def _firmware_id(parts: dict[str, str | bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(parts):
        content = parts[name]
        digest.update(name.encode() + b"\0" + (content.encode() if isinstance(content, str) else content) + b"\0")
    return digest.hexdigest()[:12]


def render_project(board: str | Board, export: ExportResult, out_dir: str | Path | None = None, *,
                   force: bool = False) -> Project:
    """Write the PlatformIO project for ``board`` around ``export`` (whose
    ``lib/kws_model`` it writes too, by default into export.out_dir). Every
    file is checked before any is written: only files kws generated are
    overwritten (``owned.py``); ``force`` overwrites files the user changed
    or created too."""
    board = board if isinstance(board, Board) else load_board(board)
    out = Path(out_dir) if out_dir is not None else export.out_dir
    check_runtime(board, export.runtime)
    env = environment()
    context = _context(board, export)
    src, root = _render_glue(env, _glue_dir(board), context)
    for relative in CORE_SOURCES:
        src[Path(relative).name] = (templates_dir() / relative).read_text(encoding="utf-8")
    for path in frontend_source_paths():
        src[path.name] = path.read_text(encoding="utf-8")
    include = dict(render_frontend_headers(export.frontend))
    include["kws_board_config.h"] = env.get_template("project/kws_board_config.h.j2").render(**context)
    root["platformio.ini"] = env.get_template("project/platformio.ini.j2").render(**context)
    root["README.md"] = env.get_template("project/README.md.j2").render(**context)

    identity = {**{f"src/{k}": v for k, v in src.items()}, **{f"include/{k}": v for k, v in include.items()},
                **root, **export.library}
    context["firmware_id"] = _firmware_id(identity)
    include[_APP_CONFIG] = env.get_template("app/kws_app_config.h.j2").render(**context)

    project = Project(path=out, board=board.name, env=board.name, runtime=export.runtime,
                      firmware_id=context["firmware_id"], model_sha256=export.model_sha256,
                      labels=tuple(export.labels), emulated=board.emulated, frontend=export.frontend)
    files = {**{f"src/{k}": v for k, v in src.items()}, **{f"include/{k}": v for k, v in include.items()},
             **root, **export.library, PROJECT_FILE: json.dumps(project.to_dict(), indent=2) + "\n"}
    OwnedFolder(out, force=force).write(files, replacing=("src", "include", MODEL_LIB.as_posix()))
    return project
