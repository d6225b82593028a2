"""Options every command shares: ``--config`` (the kws.toml every command reads)
and ``--manifest`` (which overrides kws.toml's ``[data] manifest``)."""

from __future__ import annotations

from pathlib import Path

import typer

from kws.config import Config, load_config

CONFIG = typer.Option(None, "--config", "-c", help="The kws.toml to read (default: ./kws.toml if present).")
MANIFEST = typer.Option(None, "--manifest", "-m",
                        help="Dataset manifest (default from kws.toml [data] manifest: data/manifest.csv).")


def comma_list(text: str | None) -> list[str]:
    """The items of a comma-separated option, stripped, empty ones dropped."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def project_config(config_path: Path | None, manifest: Path | None = None) -> Config:
    """kws.toml (``--config``) with ``--manifest`` applied over its ``[data] manifest``."""
    return load_config(config_path).override({"data.manifest": manifest}, names={"data.manifest": "--manifest"})
