"""The console script: ``--help`` from text typer wrote earlier, everything else through typer.

``import typer`` alone takes longer than the 0.1 s a ``--help`` may take, so the help of
the root and of each command is rendered once by typer itself
(``python -m rebalance.cli.help_text`` writes ``cli/help.json``) and printed from that
file. It is printed only when it is certainly what typer would print now:

- the arguments are exactly ``--help`` / ``-h``, alone or after a command's name;
- the terminal is at least as wide as the stored text's (click caps its width there);
- the files that shaped the text (every rebalance module imported to build the help,
  and typer's own version) hash to the value stored beside it.

Anything else, a changed option included, goes to typer: the help is slower, never stale.
This module imports only the standard library.
"""

from __future__ import annotations

import os
import sys

HELP_FILE = os.path.join(os.path.dirname(__file__), "cli", "help.json")
HELP_FLAGS = ("--help", "-h")


def main() -> None:
    """Console-script entry point."""
    text = stored_help(sys.argv[1:])
    if text is not None:
        import signal

        if hasattr(signal, "SIGPIPE"):  # `rebalance --help | head` ends quietly
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        try:
            sys.stdout.write(text)  # encoded whole before any byte is written
            sys.stdout.flush()
            return
        except UnicodeEncodeError:
            pass  # a terminal that cannot show "≤" or "×": click writes what it can
    from rebalance.cli import main as run

    run()


def stored_help(args: list[str]) -> str | None:
    """The stored help for these arguments, or None where typer must render it."""
    if not args or args[-1] not in HELP_FLAGS or len(args) > 2:
        return None
    command = args[0] if len(args) == 2 else ""
    if command.startswith("-") or (len(args) == 2 and not command):  # `rebalance "" --help`
        return None
    try:
        import json

        with open(HELP_FILE, encoding="utf-8") as handle:
            store = json.load(handle)
        text = store["texts"].get(command)
        if text is None or terminal_columns() < store["columns"]:
            return None
        if fingerprint(store["sources"]) != store["fingerprint"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(text)


def terminal_columns() -> int:
    """The width click's help formatter would see: ``shutil.get_terminal_size`` without
    importing shutil (``COLUMNS`` first, then the terminal, else 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns if columns > 0 else 80


def fingerprint(sources: list[str]) -> int:
    """CRC-32 over the files that shaped the help: paths inside the package, and
    ``typer/__init__.py`` (its version) found on ``sys.path`` without importing it."""
    import zlib

    package = os.path.dirname(__file__)
    crc = 0
    for source in sources:
        path = _typer_init() if source == "typer" else os.path.join(package, source)
        if path is None:
            return -1
        with open(path, "rb") as handle:
            crc = zlib.crc32(handle.read(), crc)
    return crc


def _typer_init() -> str | None:
    for folder in sys.path:
        path = os.path.join(folder or ".", "typer", "__init__.py")
        if os.path.isfile(path):
            return path
    return None
