"""`kws train` and `kws eval`: train an int8 keyword model, or re-score one."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kws.cli import app
from kws.cli.options import CONFIG, MANIFEST
from kws.config import load_config

PRESET = typer.Option(None, "--preset", help="full (default) or quick (a small smoke run).")
REPORTS = typer.Option(None, "--reports", help="Folder for reports (default: reports/).")
AS_JSON = typer.Option(False, "--json", help="Print the metrics as JSON.")

_FLAGS = {"keywords": "--words", "model.size_budget": "--size-budget", "model.seed": "--seed",
          "model.architecture": "--architecture", "train.preset": "--preset", "data.manifest": "--manifest",
          "paths.reports": "--reports", "train.target_fa_per_hour": "--target-fa-per-hour", "board.name": "--board",
          "train.negatives": "--negatives"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _print_summary(metrics: dict, streaming: dict | None, as_json: bool, extra: dict,
                   verdict: dict | None = None) -> None:
    if as_json:
        typer.echo(json.dumps({**extra, "verdict": verdict, "accuracy_int8": metrics["int8"]["accuracy"],
                               "accuracy_float": metrics.get("float", {}).get("accuracy"),
                               "int8_check": metrics.get("int8_check"),
                               "streaming": {k: v for k, v in (streaming or {}).items() if k != "test_sweep"}},
                              default=str))
        return
    for key, value in extra.items():
        typer.echo(f"{key}: {value}")
    line = f"accuracy (int8, TFLM): {_pct(metrics['int8']['accuracy'])} on {metrics['test_count']} test clips"
    if "float" in metrics:
        line += f"; float {_pct(metrics['float']['accuracy'])}"
    typer.echo(line)
    if streaming:
        t = streaming["test"]
        typer.echo(f"streaming: threshold {streaming['smoothing']['threshold']}, detection rate "
                   f"{_pct(t['detection_rate'])}, {t['fa_per_hour']:.2f} false accepts/hour "
                   f"on {t['hours'] * 60:.0f} min")
    if verdict:
        typer.echo(verdict["line"])


@app.command("train")
def train(
    config_path: Path = CONFIG,
    words: str = typer.Option(None, "--words", "-w", help='Keywords, comma-separated, e.g. "yes,no".'),
    size_budget: int = typer.Option(None, "--size-budget", help="Max bytes of the .tflite (default 20480)."),
    seed: int = typer.Option(None, "--seed", help="Same data + seed = same model bytes."),
    architecture: str = typer.Option(None, "--architecture", help="ds_cnn (default) or tiny_conv."),
    preset: str = PRESET,
    manifest: Path = MANIFEST,
    target_fa: float = typer.Option(None, "--target-fa-per-hour", help="Threshold tuning target (default 2)."),
    board: str = typer.Option(None, "--board", "-b", help="Target board (default: kws.toml [board] name): the model must run within 50% of its clock."),
    out: Path = typer.Option(None, "--out", "-o", help="Where to write the model (default: build/model.tflite)."),
    negatives: bool = typer.Option(
        None, "--negatives/--no-negatives",
        help="Add TTS non-keyword speech (common words, near-misses of the keywords) when the training split "
             "has too little (default: on; kws.toml [train] negatives). Use --no-negatives with your own unknown data."),
    reports: Path = REPORTS,
    as_json: bool = AS_JSON,
) -> None:
    """Train a keyword model from the manifest and write an int8 .tflite plus reports.

    Examples:
    ```
    kws train --words yes,no
    kws train --words yes,no,up,down,left,right,on,off,stop,go --size-budget 20480 --seed 1
    kws train --preset quick
    kws train --words yes,no --board nano33ble
    ```
    """
    from kws.train import train_model

    config = load_config(config_path).override(
        {"keywords": words, "model.size_budget": size_budget, "model.seed": seed,
         "model.architecture": architecture, "train.preset": preset, "data.manifest": manifest,
         "paths.reports": reports, "train.target_fa_per_hour": target_fa, "board.name": board,
         "train.negatives": negatives}, names=_FLAGS)
    result = train_model(config, out=out)
    _print_summary(result.metrics, result.metrics.get("streaming"), as_json,
                   {"model": result.tflite, "bytes": result.size_bytes, "seconds": round(result.seconds, 1),
                    "report": result.reports["markdown"]}, result.verdict.to_dict())


@app.command("eval")
def eval_cmd(
    model: Path = typer.Option(Path("build/model.tflite"), "--model", help="The .tflite to score."),
    config_path: Path = CONFIG,
    manifest: Path = MANIFEST,
    preset: str = PRESET,
    reports: Path = REPORTS,
    as_json: bool = AS_JSON,
) -> None:
    """Score a trained model on the manifest's test clips and on streaming audio.

    Examples:
    ```
    kws eval
    kws eval --model build/model.tflite --json
    ```
    """
    from kws.train import evaluate_model

    config = load_config(config_path).override(
        {"train.preset": preset, "data.manifest": manifest, "paths.reports": reports}, names=_FLAGS)
    result = evaluate_model(config, model)
    _print_summary(result["metrics"], result["streaming"], as_json,
                   {"model": model, "report": result["reports"]["markdown"]})
