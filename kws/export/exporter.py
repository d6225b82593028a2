"""``export_model``: one .tflite in, the model's firmware sources out.

Writes ``<out>/lib/kws_model/`` (a PlatformIO library folder) with the same
interface for both runtimes (``kws_model.h``, ``kws_model_settings.h``) plus
the runtime's sources, and ``kws_export.json`` describing what was written.
Files of an earlier export that this one no longer generates (the other
runtime's) are removed; files the user changed or added are never touched
(``owned.py``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from kws.audio.frontend_params import FrontendParams
from kws.boards import Board, load_board
from kws.errors import KwsError
from kws.export.arena import measure_arena
from kws.export.board_fit import BoardFit, check_fit, check_runtime, estimate
from kws.export.c_codegen import KERNEL_SOURCES, CModel, lower_model, render_c_sources
from kws.export.compute import CORES, WARN_LOAD, Load, affordable_period_ms, check_load, estimate_load
from kws.export.op_support import UPSTREAM_TFLM, TflmDistribution, check_model, tflm_distribution
from kws.export.owned import OwnedFolder
from kws.export.render import environment, static_file
from kws.export.settings import feed_problem, inference_period_frames, render_settings, resolve_settings
from kws.export.tflite_model import Tensor, TfliteModel, read_model
from kws.export.tflm_codegen import render_tflm_sources
from kws.export.tflm_scratch import KERNEL_SETS, with_board_scratch

MODEL_LIB = Path("lib") / "kws_model"
MANIFEST = "kws_export.json"


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @classmethod
    def of(cls, tensor: Tensor) -> "TensorSpec":
        quant = tensor.quant
        return cls(tensor.shape, tensor.dtype, quant.scale if quant else 1.0, quant.zero_point if quant else 0)


@dataclass(frozen=True)
class ExportResult:
    """What ``export_model`` wrote, for the CLI and for project rendering."""

    out_dir: Path
    model_dir: Path
    files: tuple[Path, ...]
    runtime: str
    model_sha256: str
    model_bytes: int
    ops: tuple[str, ...]
    labels: tuple[str, ...]
    arena_bytes: int               # tflm: exported arena; c: size of the memory plan
    arena_need_bytes: int          # tflm: measured TFLM need; c: same as arena_bytes
    weight_bytes: int              # what the model puts in flash
    input: TensorSpec
    output: TensorSpec
    frontend: FrontendParams
    smoothing: dict[str, Any] | None
    fit: BoardFit | None
    warnings: tuple[str, ...]
    stream_frames: int = 0         # frames per inference of a streaming model, 0: whole window each time
    stream_note: str = ""          # how inference runs, and why it does not stream
    load: Load | None = None       # compute use of the board (with a board, when kws can lower the model)
    kernels_extra_bytes: int = 0   # tflm: of arena_need_bytes, what the board's kernels request (ESP-NN scratch)
    sources: dict[str, str | bytes] = field(default_factory=dict, repr=False)  # model_dir's files by name

    @property
    def library(self) -> dict[str, str | bytes]:
        """The model library's files by path relative to ``out_dir``."""
        return {f"{MODEL_LIB.as_posix()}/{name}": content for name, content in self.sources.items()}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["sources"]
        data.update(out_dir=str(self.out_dir), model_dir=str(self.model_dir),
                    files=[str(f) for f in self.files], frontend=self.frontend.to_dict(),
                    load=self.load.to_dict() if self.load else None)
        return data


def export_model(model: str | Path | bytes | TfliteModel, out_dir: str | Path, *, runtime: str = "tflm",
                 board: str | Board | None = None, labels: Sequence[str] | None = None,
                 frontend: FrontendParams | None = None, period_ms: int | None = None,
                 force: bool = False, write: bool = True) -> ExportResult:
    """Export ``model`` for ``runtime`` into ``out_dir/lib/kws_model``; with a
    board, refuse (one-line KwsError) when it cannot fit, when its TFLM lacks
    an op or when the firmware's frontend cannot feed the model (the project
    would not build), and warn above 80%.
    ``period_ms`` overrides the inference period of the model's smoothing;
    without it, a model that runs its whole window at every inference runs
    at the shortest period the board affords (within WARN_LOAD), said in the
    result's ``stream_note``. ``write`` False leaves writing to
    ``render_project`` (one check of the whole project before anything is
    written); ``force`` overwrites model files the user changed."""
    tflite = model if isinstance(model, TfliteModel) else read_model(model)
    profile = None if board is None else board if isinstance(board, Board) else load_board(board)
    if profile is not None:
        check_runtime(profile, runtime)
    if runtime != "c":
        check_model(tflite, runtime, board_tflm(profile))
    settings = resolve_settings(tflite, labels, frontend, period_ms)
    unfed = feed_problem(tflite, settings.frontend)
    if profile is not None and unfed:
        raise KwsError(f"{tflite.source}: {unfed}, so a {profile.name} project would not build; export a model whose "
                       f"input is the frontend's {settings.frontend.num_frames} x {settings.frontend.num_channels} "
                       "features (`kws train` makes them), or one whose kws metadata names the frontend it was "
                       "trained with")
    period = inference_period_frames(settings.smoothing, settings.frontend)
    # runtime c: the model it runs (lowering checks the model); tflm on a board: only to count its work
    counted = _lowered(tflite, settings.frontend, period, strict=runtime == "c") if runtime == "c" or profile else None
    slowed = ""
    if profile is not None and period_ms is None:
        load = board_load(profile, runtime, counted, period, settings.frontend.stride_ms)
        longer = affordable_period_ms(load, settings.frontend.stride_ms) if load and not load.streaming else None
        if load and load.fraction > WARN_LOAD and longer and longer > period * settings.frontend.stride_ms:
            settings = resolve_settings(tflite, labels, frontend, longer)
            period = inference_period_frames(settings.smoothing, settings.frontend)
            counted = _lowered(tflite, settings.frontend, period, strict=runtime == "c")
            slowed = (f" every {longer} ms: the shortest period {profile.name} affords within {WARN_LOAD:.0%} of "
                      f"its clock (the model's is {load.period_ms} ms; a streaming model would run at it)")
    cmodel = counted if runtime == "c" else None
    stream_frames, stream_note = 0, "TFLM runs the whole window " + (slowed.strip() or "at every inference")
    env = environment()
    kernels_extra = 0
    if cmodel is not None:
        arena = need = cmodel.ram_bytes
        weight_bytes = cmodel.weight_bytes
        arena_note = f"static memory plan of {len(cmodel.plan.buffers)} buffers (see kws_model.c)"
        if cmodel.stream:
            stream_frames = cmodel.stream.period
            stream_note = (f"streams: each inference computes only the time steps of its {period} new frames "
                           f"({cmodel.stream.state_bytes:,} B of state)")
            arena_note += f", {cmodel.stream.state_bytes} B of streaming state, {tflite.input.nbytes} B whole-window input"
        else:
            stream_note = f"whole window {slowed.strip() or 'at every inference'} ({cmodel.stream_note})"
        files = render_c_sources(env, cmodel)
        files.update({name: static_file("runtime_c", name) for name in KERNEL_SOURCES})
    else:
        measured = measure_arena(tflite.data)
        kernels = tflm_kernels(profile) if profile is not None else ""
        if kernels:
            measured, _ = with_board_scratch(measured, tflite, kernels)
        arena, need, kernels_extra = measured.exported, measured.need, measured.kernels_extra
        weight_bytes = len(tflite.data)
        arena_note = measured.describe()
        files = render_tflm_sources(env, tflite)
    fit, load, load_warnings = None, None, []
    if profile is not None:
        fit = estimate(profile, runtime, weight_bytes, arena, settings.frontend, tflite.input.nbytes)
        check_fit(profile, runtime, fit)
        load = board_load(profile, runtime, counted, period, settings.frontend.stride_ms)
        warning = check_load(load, settings.frontend.stride_ms, profile.runtimes) if load else None
        load_warnings = [warning] if warning else []
    files["kws_model.h"] = static_file("model", "kws_model.h")
    files["kws_model_settings.h"] = render_settings(env, tflite, settings, runtime, arena, arena_note,
                                                    stream_frames, stream_note)
    out_dir = Path(out_dir)
    model_dir = out_dir / MODEL_LIB
    result = ExportResult(
        out_dir=out_dir, model_dir=model_dir, files=tuple(model_dir / n for n in sorted([*files, MANIFEST])),
        runtime=runtime, model_sha256=tflite.sha256, model_bytes=len(tflite.data), ops=tuple(tflite.ops),
        labels=settings.labels, arena_bytes=arena, arena_need_bytes=need, weight_bytes=weight_bytes,
        input=TensorSpec.of(tflite.input), output=TensorSpec.of(tflite.output), frontend=settings.frontend,
        smoothing=settings.smoothing, fit=fit,
        warnings=settings.warnings + (fit.warnings if fit else ()) + tuple(load_warnings),
        stream_frames=stream_frames, stream_note=stream_note, load=load, kernels_extra_bytes=kernels_extra,
        sources=files,
    )
    files[MANIFEST] = json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n"
    if write:
        OwnedFolder(out_dir, force=force).write(result.library, replacing=(MODEL_LIB.as_posix(),))
    return result


def tflm_kernels(board: Board) -> str:
    """The optimized kernels the board's TFLM runs, when they request arena
    scratch kws accounts for (``[platformio.tflm] kernels``), else ""."""
    kernels = board.platformio.build("tflm").kernels
    if kernels and kernels not in KERNEL_SETS:
        raise KwsError(f"{board.path or board.name}: [platformio.tflm] kernels = {kernels!r} is unknown; "
                       f"use one of {', '.join(KERNEL_SETS)} or leave it out")
    return kernels


def board_tflm(board: Board | None) -> TflmDistribution:
    """The TFLM distribution ``board`` builds against (``[platformio.tflm]
    distribution``); upstream TFLM without a board or without the key."""
    if board is None:
        return UPSTREAM_TFLM
    name = board.platformio.build("tflm").distribution
    return tflm_distribution(name, str(board.path or board.name))


def _lowered(tflite: TfliteModel, frontend: FrontendParams, period: int, strict: bool) -> CModel | None:
    """The model lowered for runtime c; unless ``strict``, None when runtime c cannot lower it."""
    try:
        return lower_model(tflite, frontend.num_frames, period)
    except KwsError:
        if strict:
            raise
        return None


def board_load(board: Board, runtime: str, cmodel: CModel | None, period: int, stride_ms: int) -> Load | None:
    """Estimated compute load on ``board`` of the lowered model (lowered even
    for runtime tflm: it counts the work); None without one (ops runtime c
    does not lower) or without compute figures for the board's core."""
    if cmodel is None or board.core not in CORES:
        return None
    return estimate_load(board, runtime, cmodel, period, stride_ms)


def default_runtime(model: str | Path | bytes | TfliteModel, board: Board, period_ms: int | None = None) -> str:
    """The board's first runtime whose load stays within WARN_LOAD, else the
    one with the lowest load (runtimes kws cannot estimate count as over)."""
    tflite = model if isinstance(model, TfliteModel) else read_model(model)
    settings = resolve_settings(tflite, [f"class{i}" for i in range(tflite.output.size)], None, period_ms)
    period = inference_period_frames(settings.smoothing, settings.frontend)
    cmodel = _lowered(tflite, settings.frontend, period, strict=False)
    usable = []
    for runtime in board.runtimes:
        try:
            check_model(tflite, runtime, board_tflm(board))
        except KwsError:
            continue
        load = board_load(board, runtime, cmodel, period, settings.frontend.stride_ms)
        fraction = load.fraction if load else float("inf")
        if fraction <= WARN_LOAD:
            return runtime
        usable.append((fraction, runtime))
    return min(usable)[1] if usable else board.runtimes[0]
