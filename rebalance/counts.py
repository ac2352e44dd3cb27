"""Label counts: the result of counting a manifest, shared by the engines and the commands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelCounts:
    """Counts of each label, overall and per split.

    ``counts`` holds labels as text (``"01"`` stays ``"01"``); rows with no label are
    not in it but in ``missing``. ``by_split`` is ``None`` without a split column.
    """

    counts: dict[str, int]
    missing: int = 0
    by_split: dict[str, dict[str, int]] | None = None
    missing_by_split: dict[str, int] | None = None
    first_missing_row: int | None = None

    @property
    def rows(self) -> int:
        return sum(self.counts.values()) + self.missing
