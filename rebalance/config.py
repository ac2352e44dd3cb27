"""Presets: TOML files whose tables set a command's option defaults.

``rebalance --config configs/longtail.toml resample ...`` loads the ``[resample]``
table; keys are option names with ``_`` or ``-`` (``max_ratio`` or ``max-ratio``).
Flags given on the command line win over the file.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from rebalance.errors import RebalanceError


def load_preset(path: str) -> dict[str, dict[str, Any]]:
    """Read a preset: ``{command: {option: value}}`` with option names in Python form."""
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise RebalanceError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RebalanceError(f"{path}: not valid TOML ({exc})") from exc
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    preset: dict[str, dict[str, Any]] = {}
    for command, table in doc.items():
        if not isinstance(table, dict):
            raise RebalanceError(
                f"{path}: {command!r} must be a table like [resample], not a bare value"
            )
        preset[command] = {str(k).replace("-", "_"): v for k, v in table.items()}
    return preset


def check_preset(
    path: str, preset: Mapping[str, Mapping[str, Any]], options: Mapping[str, Sequence[str]]
) -> None:
    """Reject unknown commands and option names, with a "did you mean"."""
    for command, table in preset.items():
        if command not in options:
            raise RebalanceError(
                f"{path}: unknown section [{command}]{_hint(command, list(options))}"
            )
        for key in table:
            if key not in options[command]:
                raise RebalanceError(
                    f"{path}: [{command}] has unknown option {key!r}{_hint(key, options[command])}"
                )


def _hint(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
