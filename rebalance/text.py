"""Text shown to people: control characters made visible.

Labels and column names come from user files. Printed raw, an ESC or BEL in one of
them reaches the terminal as a command (clear the screen, set the title, move the
cursor). Every human-facing string passes through :func:`printable`; JSON, CSV and
written manifests keep labels verbatim.

Standard library only: the CLI's error path uses it before any heavy import.
"""

from __future__ import annotations

import re

# C0 controls but tab, DEL, C1 controls, and the Unicode line/paragraph separators and
# bidirectional overrides that reorder what a terminal shows
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters written as ``\\x1b``-style escapes."""
    return _CONTROL.sub(_escape, text)
