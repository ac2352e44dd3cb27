"""The ``rebalance`` command line: parse flags, call one library function, render.

Module-level imports are the standard library and typer only, so that
``rebalance --help`` starts fast; each command imports what it needs. The rooms:
:mod:`.app` (the typer app, its error handling and root options), :mod:`.options`
(options and helpers the commands share) and one module per command.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

# the command modules register their commands on the app when imported
from rebalance.cli import adjust, advise, evaluate, inspect, resample, sample, weights  # noqa: F401
from rebalance.cli.app import _Group, app
from rebalance.cli.options import METHOD_NAMES

__all__ = ["METHOD_NAMES", "app", "app_for", "main"]


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Console-script entry point."""
    import signal

    # `rebalance ... | head` ends quietly, as shell tools do (exit 141), not with exit 1
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # SIGTERM (timeout, CI cancellation, docker stop) unwinds like Ctrl-C, so temporary
    # files are removed and no output is left half written
    signal.signal(signal.SIGTERM, _terminated)
    app_for(sys.argv[1:])(prog_name="rebalance")


# root options that take a value (the next word, unless given as --opt=value)
_ROOT_VALUES = ("--config", "--storage-option")


def app_for(args: list[str]) -> typer.Typer:
    """The app that runs these arguments: ``app`` itself, or ``app`` with the one command
    they name.

    typer turns every command's options into click parameters before it parses anything
    (40 ms for the six commands, most of a small run's time after the imports); a run of
    one command needs only that command's. The full app serves everything else: help and
    version, completion, an unknown or missing command, and ``--config`` (a preset is
    checked against every command's options).
    """
    name = None
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _ROOT_VALUES:
            skip = True
        elif arg.startswith("--storage-option="):
            continue
        elif arg.startswith("-"):
            return app  # --help, --version, --config=..., completion
        else:
            name = arg
            break
    commands = [c for c in app.registered_commands if c.name == name]
    if name is None or not commands or "--config" in args:
        return app
    one = typer.Typer(
        cls=_Group,
        name="rebalance",
        help=app.info.help,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    one.registered_callback = app.registered_callback
    one.registered_commands = commands
    return one


if __name__ == "__main__":  # pragma: no cover
    main()
