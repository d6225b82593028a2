"""`kws export`: a .tflite model becomes a firmware project for a board."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import typer

from kws.cli import app
from kws.cli.options import CONFIG, comma_list
from kws.errors import KwsError, UsageError

log = logging.getLogger(__name__)


@app.command("export")
def export(
    model: Path = typer.Option(None, "--model", "-m", help="The int8 .tflite model (default: build/model.tflite from `kws train`)."),
    labels: str = typer.Option(None, "--labels", help="Comma-separated names, one per output (default: the model's metadata)."),
    runtime: str = typer.Option(None, "--runtime", help="tflm (TFLite Micro) or c (plain C kernels, no interpreter; streams models kws trains). Default: the board's first runtime whose estimated load stays within 50%."),
    board: str = typer.Option(None, "--board", "-b", help="Board profile (default: kws.toml [board] name; see `kws boards`)."),
    out: Path = typer.Option(None, "--out", "-o", help="Project folder (default `build/firmware/<board>/`); model sources go to `lib/kws_model/`."),
    period_ms: int = typer.Option(None, "--period-ms", help="Run the model every this many ms (default: the model's smoothing, 40 ms for models kws trains)."),
    verify: int = typer.Option(None, "--verify", help="Runtime c: compare with the TFLM interpreter on this many random inputs, and streams (host cc; default 200, 0 skips)."),
    config_path: Path = CONFIG,
    force: bool = typer.Option(False, "--force", help="Also overwrite files in --out that you changed or created (kws refuses and names them otherwise)."),
    as_json: bool = typer.Option(False, "--json", help="Print the export summary as JSON."),
) -> None:
    """Write the firmware project for BOARD around the model: an exact op
    resolver and measured arena (tflm) or plain C with a static memory plan
    (c), after checking that it fits the board: flash, RAM and compute (the
    load per second of audio; refused above 100% of the board's clock).

    Examples:
    ```
    kws export
    kws export --model micro_speech_quantized.tflite --labels _silence_,_unknown_,yes,no --board stm32
    kws export --runtime c --board qemu-stm32f405 --verify 200
    kws export --board nano33ble --runtime tflm --period-ms 200
    ```
    kws overwrites only the files it generated (listed with their sha256 in
    `kws_files.json`); a file you changed or added is refused by name unless
    `--force`, and nothing else in the folder is touched.
    """
    from kws.boards import load_board
    from kws.config import load_config
    from kws.export.exporter import default_runtime
    from kws.export.flow import export_project

    config = load_config(config_path)
    profile = load_board(board or config.board.name)
    model = model or config.paths.model
    runtime = runtime or default_runtime(model, profile, period_ms)
    if verify and runtime != "c":
        raise UsageError("--verify: only runtime c is compiled on the host; add --runtime c")
    verify = (200 if runtime == "c" else 0) if verify is None else verify
    result, project = export_project(model, profile, out or config.paths.firmware(profile.name), runtime=runtime,
                                     labels=comma_list(labels) or None, period_ms=period_ms, force=force)
    for warning in result.warnings:
        log.warning("warning: %s", warning)
    summary = {**result.to_dict(), "project": str(project.path), "firmware_id": project.firmware_id}
    if verify:
        from kws.export.verify import verify_export

        comparison = verify_export(Path(model).read_bytes(), result.model_dir, verify,
                                   input_size=int(np.prod(result.input.shape)), frames=result.frontend.num_frames,
                                   stream_frames=result.stream_frames)
        summary["verify"] = comparison.__dict__
        if comparison.differing:
            raise KwsError(f"{result.model_dir}: {comparison.differing} of {comparison.values} output values differ "
                           "from TFLM; please report this model (export with --runtime tflm meanwhile)")
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    typer.echo(f"{model} -> {project.path} (board {profile.name}, runtime {result.runtime}, firmware {project.firmware_id})")
    typer.echo(f"  ops: {', '.join(result.ops)}; labels: {', '.join(result.labels)}")
    if runtime == "tflm":
        typer.echo(f"  arena: {result.arena_bytes:,} B (TFLM needs {result.arena_need_bytes:,} B"
                   + (", with the scratch of the board's ESP-NN kernels)" if result.kernels_extra_bytes else ")"))
    else:
        typer.echo(f"  memory plan: {result.arena_bytes:,} B")
    if result.fit:
        typer.echo(f"  fit: {result.fit.summary()}")
    typer.echo(f"  inference: {result.stream_note}")
    if result.load:
        typer.echo(f"  compute: {result.load.summary()}")
    if verify:
        typer.echo(f"  verify: {comparison.differing} of {comparison.values} values differ from TFLM on "
                   f"{comparison.inputs} inputs (host cc; --verify 0 skips)")
    typer.echo(f"  next: kws flash --board {profile.name}")
