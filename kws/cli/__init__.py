"""The `kws` command: a thin layer that parses options and calls the library.

Each area registers its subcommands from its own module; this module owns the
application object, global flags and the error policy (one line, no traceback
unless --debug) and where log output goes (kws.logs: third-party chatter to the
project's log file, not the terminal).
"""

from __future__ import annotations

import logging
import sys

import typer

from kws import __version__, logs
from kws.errors import KwsError

app = typer.Typer(
    name="kws",
    help="Turn a few spoken keywords into microcontroller firmware that recognizes them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}
DEBUG_FLAG = "--debug"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kws {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    verbose: bool = typer.Option(False, "-v", "--verbose", help="More detail on stderr."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only errors and results."),
    debug: bool = typer.Option(False, DEBUG_FLAG, help="Show tracebacks for errors, and the log lines of "
                               "TensorFlow and other libraries (otherwise only in build/kws.log)."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """kws: data -> train -> export -> flash -> monitor, for tiny keyword spotters."""
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    logs.configure(level, debug, logs.log_path())
    _state["debug"] = debug


def _register_subcommands() -> None:
    """Import every ``kws/cli/*_cmd.py`` module; each adds its commands to ``app``."""
    import importlib
    import pkgutil

    import kws.cli as package

    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_cmd")):
        importlib.import_module(f"kws.cli.{module}")


def main() -> None:
    """Console entry point with the project's error policy: usage errors exit
    2 (typer/click), user errors print one line and exit 1 (or 2)."""
    if DEBUG_FLAG in sys.argv[1:]:
        logs.show_everything()
    else:
        logs.divert(logs.log_path())
    _register_subcommands()
    try:
        app()
    except KwsError as err:
        if _state["debug"]:
            raise
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        sys.exit(err.exit_code)
