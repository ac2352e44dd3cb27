"""The stored ``--help`` texts that :mod:`rebalance.entry` prints without importing typer.

``python -m rebalance.cli.help_text`` renders the help of the root and of every command
through typer, exactly as ``rebalance ... --help`` runs it, and writes them to
``cli/help.json`` with the list of files that shaped them and their hash. Run it after
changing an option or a help text; ``tests/test_startup.py`` fails until then.
"""

from __future__ import annotations

import json
import os
import sys

import typer

from rebalance import entry

COLUMNS = 80  # click caps help at 80 columns: a wider terminal gets the same text


def help_args() -> list[list[str]]:
    """Every argument list whose help is stored: the root's and each command's."""
    from rebalance.cli import app

    return [["--help"]] + [[str(c.name), "--help"] for c in app.registered_commands]


def render(args: list[str]) -> str:
    """What ``rebalance ARGS`` prints on a terminal ``COLUMNS`` wide: typer's own output,
    from a process that runs the command as the console script does."""
    import subprocess

    code = "from rebalance.cli import main; main()"
    env = {**os.environ, "COLUMNS": str(COLUMNS)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"rebalance {' '.join(args)} exited {done.returncode}")
    return done.stdout.decode("utf-8")


def shaping_sources() -> list[str]:
    """The files the help is made from: every rebalance module imported so far (the
    command modules and what they read at import), relative to the package, and typer."""
    package = os.path.dirname(os.path.abspath(entry.__file__))
    sources = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if (name == "rebalance" or name.startswith("rebalance.")) and path and name != __name__:
            sources.add(os.path.relpath(os.path.abspath(path), package).replace(os.sep, "/"))
    return sorted(sources) + ["typer"]


def store() -> dict[str, object]:
    """The content of ``cli/help.json``: the texts, their width, sources and hash."""
    texts = {(args[0] if len(args) == 2 else ""): render(args) for args in help_args()}
    sources = shaping_sources()
    return {
        "columns": COLUMNS,
        "typer": typer.__version__,
        "sources": sources,
        "fingerprint": entry.fingerprint(sources),
        "texts": texts,
    }


def content() -> str:
    """The text of ``cli/help.json`` as it would be written now."""
    return json.dumps(store(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def write() -> None:
    """Render every help text and write ``cli/help.json``."""
    text = content()
    with open(entry.HELP_FILE, "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":  # pragma: no cover
    write()
    print(f"wrote {entry.HELP_FILE}", file=sys.stderr)
