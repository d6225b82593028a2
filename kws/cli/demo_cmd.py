"""`kws demo`: the whole flow on the emulated board, no download, no board."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.panel import Panel

from kws.cli import app


def _summary(result) -> str:
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    lines = [
        f"model      {result.model} ({result.model_bytes:,} B int8), labels {', '.join(result.labels)}",
        f"host       held-out TTS voices: {pct(result.host_test_accuracy)} (int8, TFLM interpreter)",
        f"device     {result.hearing()}",
        f"on-device  {pct(result.device_accuracy)} vs host {pct(result.host_accuracy)} on {result.eval_clips} held-out clips; "
        f"bit-exact scores on {result.bit_exact_clips}/{result.eval_clips}",
        f"firmware   {result.firmware_flash_bytes:,} B flash, {result.firmware_ram_bytes:,} B RAM (emulated STM32F405)",
        "time       " + ", ".join(f"{stage.split(':')[0]} {sec:.0f}s" for stage, sec in result.seconds.items()),
        "reports    " + ", ".join(str(p) for p in result.reports if str(p).endswith(".md"))
        + " (+ JSON and PNG plots beside them)",
        "next       kws flash --board <your board>  (see README: the real-user flow)",
    ]
    return "\n".join(lines)


@app.command("demo")
def demo(
    folder: Path = typer.Option(Path("kws-demo"), "--dir", help="Where the demo project goes (data/, build/, reports/)."),
    quick: bool = typer.Option(False, "--quick", help="A few clips and epochs: checks the flow in a minute or two."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same data and model."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """The whole flow with no download and no board: synthesize a yes/no
    dataset with offline TTS, train the default model, export it for the
    emulated STM32F405, build, boot it in QEMU, stream held-out clips to it
    and compare what the device heard with the host.

    Examples:
    ```
    kws demo
    kws demo --quick --dir /tmp/kws-demo
    ```
    """
    from kws.demo import run_demo

    console = Console(stderr=as_json)
    start = time.perf_counter()
    result = run_demo(folder, quick=quick, seed=seed, say=console.print)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), default=str))
        return
    console.print(Panel(_summary(result), title=f"kws demo: done in {time.perf_counter() - start:.0f} s", expand=False))
