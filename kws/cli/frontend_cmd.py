"""`kws features`: run the bit-exact frontend on a wav file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from kws.atomic import write_bytes_atomic
from kws.audio.frontend import compute_features
from kws.audio.frontend_params import FrontendParams
from kws.audio.io import load_wav
from kws.cli import app


@app.command("features")
def features(
    wav: Path = typer.Argument(..., help="16 kHz mono 16-bit wav file."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the int8 features here (.npy)."),
    resample: bool = typer.Option(False, "--resample", help="Resample other rates to 16 kHz."),
    mono: bool = typer.Option(False, "--mono", help="Average stereo channels to mono."),
    convert: bool = typer.Option(False, "--convert", help="Scale float/32-bit samples to 16-bit."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Compute the int8 feature frames the firmware would compute for WAV.

    Examples:
    ```
    kws features yes.wav
    kws features yes.wav --out yes.npy --json
    ```
    """
    params = FrontendParams()
    samples = load_wav(wav, resample=resample, to_mono=mono, convert_float=convert)
    feats = compute_features(samples, params)
    if out is not None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, feats)
        write_bytes_atomic(out, buffer.getvalue())
    summary = {
        "file": str(wav),
        "frames": int(feats.shape[0]),
        "channels": int(feats.shape[1]),
        "min": int(feats.min()) if feats.size else None,
        "max": int(feats.max()) if feats.size else None,
        "mean": round(float(feats.mean()), 2) if feats.size else None,
        "out": str(out) if out else None,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(f"{wav}: {summary['frames']} frames x {summary['channels']} channels, "
                   f"int8 range [{summary['min']}, {summary['max']}]" + (f" -> {out}" if out else ""))
