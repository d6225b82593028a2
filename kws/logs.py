"""Where log output goes: kws's own messages to the terminal, everything else to a log file.

TensorFlow, absl, oneDNN, LiteRT and TFLM write their log lines from C++
straight to file descriptor 2 (some to 1), whatever Python does and whatever
``TF_CPP_MIN_LOG_LEVEL`` says before ``absl::InitializeLog``.  ``divert``
therefore points descriptors 1 and 2 of the ``kws`` process (and of every
worker it starts) at the log file and keeps Python's ``sys.stdout`` /
``sys.stderr`` on the terminal.  ``configure`` sends Python warnings
(numpy's, matplotlib's, deprecations) and third-party loggers to the same
file; the terminal shows only the ``kws`` loggers.  With ``--debug`` nothing
is diverted and every line reaches the terminal as well.

The log file is ``<build>/kws.log`` of the project in the current folder
(``kws.toml`` there), else ``kws.log`` in the kws cache; each command appends
a header line, and a file over ``MAX_BYTES`` is moved to ``kws.log.1`` first.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

LOG_NAME = "kws.log"
MAX_BYTES = 4 * 1024 * 1024
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TAG = "_kws_handler"


def log_path() -> Path:
    """The log file of the project in the current folder (else of the kws cache)."""
    from kws.config import DEFAULT_CONFIG, load_config
    from kws.cache import cache_dir
    from kws.errors import KwsError

    if DEFAULT_CONFIG.is_file():
        try:
            return load_config().paths.build / LOG_NAME
        except KwsError:
            pass  # the command itself reports a broken kws.toml
    return cache_dir() / LOG_NAME


def _open_log(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size > MAX_BYTES:
        os.replace(path, path.with_name(path.name + ".1"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    header = f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()}: kws {' '.join(sys.argv[1:])}\n"
    os.write(fd, header.encode(errors="replace"))
    return fd


def divert(path: Path) -> None:
    """Point descriptors 1 and 2 at ``path``; ``sys.stdout``/``sys.stderr`` keep the terminal.

    Only for the ``kws`` console process (never inside a test runner): child
    processes inherit the diverted descriptors, so their C++ logs land in the file too.
    """
    try:
        log_fd = _open_log(path)
    except OSError:
        return  # a read-only project: leave the terminal as it is rather than fail the command
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        stream.flush()
        terminal = os.fdopen(os.dup(fd), "w", buffering=1, encoding=stream.encoding, errors=stream.errors)
        setattr(sys, name, terminal)
        os.dup2(log_fd, fd)
    os.close(log_fd)


def show_everything() -> None:
    """For --debug: let TensorFlow log at its most detailed (unless the user chose a level)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")


def _ours(record: logging.LogRecord) -> bool:
    return record.name == "kws" or record.name.startswith("kws.")


def configure(level: int, debug: bool, path: Path | None) -> None:
    """Terminal handler at ``level`` for kws's loggers (every logger with ``debug``),
    a file handler for everything at INFO or above, Python warnings through logging."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _TAG, False)]:
        root.removeHandler(handler)
        handler.close()
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(level)
    terminal.setFormatter(logging.Formatter("%(message)s"))
    if not debug:
        terminal.addFilter(_ours)
    handlers: list[logging.Handler] = [terminal]
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
            handlers[-1].setFormatter(logging.Formatter(FILE_FORMAT))
            handlers[-1].setLevel(min(level, logging.INFO))
        except OSError:
            pass
    for handler in handlers:
        setattr(handler, _TAG, True)
        root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))
    logging.captureWarnings(True)
