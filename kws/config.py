"""The ``kws.toml`` project file: what to recognize, from which data, how big.

Every command reads it (``--config``, default ``./kws.toml``; a missing
default file means all defaults) and command-line flags override it.  The
whole file, with every key and its default::

    keywords = ["yes", "no"]          # words to detect (Speech Commands or custom)

    [data]
    manifest = "data/manifest.csv"    # written by `kws data ...`
    background_noise = ""             # folder of long noise wavs ("" = look for
                                      # _background_noise_ beside imported data)

    [model]
    architecture = "ds_cnn"           # ds_cnn | tiny_conv
    size_budget = 20480               # bytes of the int8 .tflite, metadata included
    seed = 1

    [train]
    preset = "full"                   # full | quick (tests, smoke runs)
    target_fa_per_hour = 2.0          # threshold tuning target for streaming
    negatives = true                  # add TTS non-keyword speech when the training
                                      # split has too little (kws/data/negatives.py)

    [board]
    name = "qemu-stm32f405"           # a profile in boards/

    [paths]
    build = "build"                   # model.tflite, checkpoints, firmware
    reports = "reports"               # JSON + Markdown + PNG

Relative paths are relative to the folder holding ``kws.toml``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kws.errors import KwsError, UsageError

DEFAULT_CONFIG = Path("kws.toml")
ARCHITECTURES = ("ds_cnn", "tiny_conv")
PRESETS = ("full", "quick")


@dataclass(frozen=True)
class DataConfig:
    manifest: Path = Path("data/manifest.csv")
    background_noise: Path | None = None


@dataclass(frozen=True)
class ModelConfig:
    architecture: str = "ds_cnn"
    size_budget: int = 20480
    seed: int = 1


@dataclass(frozen=True)
class TrainConfig:
    preset: str = "full"
    target_fa_per_hour: float = 2.0
    negatives: bool = True


@dataclass(frozen=True)
class BoardConfig:
    name: str = "qemu-stm32f405"


@dataclass(frozen=True)
class PathsConfig:
    build: Path = Path("build")
    reports: Path = Path("reports")

    @property
    def model(self) -> Path:
        """Where `kws train` writes the model and the later stages look for it."""
        return self.build / "model.tflite"

    def firmware(self, board: str) -> Path:
        """The firmware project `kws export` writes for ``board``."""
        return self.build / "firmware" / board


@dataclass(frozen=True)
class Config:
    """A parsed kws.toml; ``source`` is the file it came from (None: defaults)."""

    keywords: tuple[str, ...] = ("yes", "no")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    board: BoardConfig = field(default_factory=BoardConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    source: Path | None = None

    @property
    def labels(self) -> list[str]:
        """Model output order: silence, unknown, then the keywords as manifest
        labels ('hey robot' -> 'hey_robot', as `kws data synth` names them)."""
        from kws.labels import label_for, model_labels

        return model_labels([label_for(word) for word in self.keywords])

    def override(self, changes: dict[str, Any], names: dict[str, str] | None = None) -> "Config":
        """A copy with dotted keys replaced, skipping None values:
        ``override({"model.seed": 3}, names={"model.seed": "--seed"})``;
        ``names`` are how errors call each setting (a flag or a file)."""
        names = names or {}
        config = self
        for key, value in changes.items():
            if value is None:
                continue
            where = names.get(key, key)
            section, _, name = key.rpartition(".")
            try:
                if section:
                    table = getattr(config, section)
                    table = dataclasses.replace(table, **{name: _coerce(table, name, value)})
                    config = dataclasses.replace(config, **{section: table})
                else:
                    config = dataclasses.replace(config, **{name: _coerce(config, name, value)})
            except (TypeError, ValueError) as err:
                raise UsageError(f"{where}: bad value {value!r} ({err})") from None
            config = _checked(config, where)
        return config


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "board": BoardConfig,
             "paths": PathsConfig}


def _coerce(table: Any, name: str, value: Any) -> Any:
    if name == "keywords":
        words = [value] if isinstance(value, str) else list(value)
        return tuple(" ".join(w.lower().split()) for part in words for w in str(part).split(",") if w.strip())
    kind = {f.name: str(f.type) for f in dataclasses.fields(table)}[name]
    if kind.startswith("Path"):
        return Path(value) if value not in ("", None) else None
    converters = {"int": int, "float": float, "str": str, "bool": _bool}
    return converters[kind](value) if kind in converters else value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("use true or false")


def _checked(config: Config, where: str) -> Config:
    """Validate values; ``where`` names the file/option for the message."""
    if not config.keywords:
        raise UsageError(f"{where}: give at least one keyword, e.g. keywords = [\"yes\", \"no\"]")
    bad = [w for w in config.keywords if w.startswith("_")]
    if bad:
        raise UsageError(f"{where}: keyword {bad[0]!r} is reserved; _silence_ and _unknown_ are added for you")
    if len(set(config.keywords)) != len(config.keywords):
        raise UsageError(f"{where}: keywords are listed twice; list each word once")
    if config.model.architecture not in ARCHITECTURES:
        raise UsageError(f"{where}: architecture {config.model.architecture!r}; use one of {', '.join(ARCHITECTURES)}")
    if not 2048 <= config.model.size_budget <= 4 * 1024 * 1024:
        raise UsageError(f"{where}: size_budget {config.model.size_budget} bytes; use 2048..4194304")
    if config.train.preset not in PRESETS:
        raise UsageError(f"{where}: preset {config.train.preset!r}; use one of {', '.join(PRESETS)}")
    if config.train.target_fa_per_hour <= 0:
        raise UsageError(f"{where}: target_fa_per_hour must be positive, e.g. 2.0")
    return config


def load_config(path: str | Path | None = None) -> Config:
    """Read ``path`` (default ./kws.toml; a missing default file gives defaults).

    A missing --config file and any fault in the file's content are KwsErrors
    (exit 1): the file is input, not a command-line usage mistake."""
    explicit = path is not None
    path = Path(path) if explicit else DEFAULT_CONFIG
    if not path.is_file():
        if explicit:
            raise KwsError(f"{path}: no such config file; create it (see `kws train --help`) or drop --config")
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise KwsError(f"{path}: not valid TOML ({err}); fix the syntax") from None
    base = path.resolve().parent
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "keywords":
            if not isinstance(value, list):
                raise KwsError(f"{path}: keywords must be a list, e.g. keywords = [\"yes\", \"no\"]")
            values[key] = value
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise KwsError(f"{path}: [{key}] must be a table")
            known = {f.name for f in dataclasses.fields(_SECTIONS[key])}
            for name, item in value.items():
                if name not in known:
                    raise KwsError(f"{path}: unknown key {name!r} in [{key}]; known: {', '.join(sorted(known))}")
                values[f"{key}.{name}"] = item
        else:
            raise KwsError(f"{path}: unknown key {key!r}; known: keywords, {', '.join(_SECTIONS)}")
    try:
        config = Config(source=path).override(values, names={k: f"{path}: {k}" for k in values})
    except UsageError as err:
        raise KwsError(str(err)) from None
    if "board.name" in values:
        _check_board(config.board.name, path)
    return _resolve_paths(config, base)


def _check_board(name: str, path: Path) -> None:
    from kws.boards import list_boards

    known = sorted(b.name for b in list_boards())
    if name not in known:
        raise KwsError(f"{path}: [board] name {name!r} is unknown; known boards: {', '.join(known)} "
                       "(see `kws boards`)")


def _resolve_paths(config: Config, base: Path) -> Config:
    def fix(p: Path | None) -> Path | None:
        return p if p is None or p.is_absolute() else base / p

    return dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, manifest=fix(config.data.manifest),
                                 background_noise=fix(config.data.background_noise)),
        paths=dataclasses.replace(config.paths, build=fix(config.paths.build), reports=fix(config.paths.reports)),
    )
