"""Plain output that needs no rich: JSON documents on stdout, message lines on stderr.

Machine-readable paths (``--json``, ``--plan-json``, messages around them) use only
this module, so they never import rich; :mod:`rebalance.render` re-exports it.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rebalance.text import printable


def message(text: str) -> None:
    """A line for the person at the terminal (stderr), never mixed into data."""
    sys.stderr.write(printable(text) + "\n")
    sys.stderr.flush()


def warn(text: str) -> None:
    message(f"rebalance: warning: {text}")


def dump_json(doc: Any) -> str:
    """The one JSON style: indented, UTF-8, key order as built, no NaN."""
    try:
        # most documents hold no NaN or infinity: then no walk over them is needed
        return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        return json.dumps(_finite(doc), indent=2, ensure_ascii=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
