"""Label counts: the result of counting a manifest, shared by the engines and the commands."""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def counts_sum(parts: Sequence[LabelCounts], offsets: Sequence[int]) -> LabelCounts:
    """The counts of rows counted in several runs (``offsets``: each run's first row),
    labels and splits in order of first appearance."""
    counts: dict[str, int] = {}
    missing = 0
    by_split: dict[str, dict[str, int]] | None = None
    missing_by: dict[str, int] | None = None
    first: int | None = None
    for part, offset in zip(parts, offsets, strict=True):
        for k, v in part.counts.items():
            counts[k] = counts.get(k, 0) + v
        missing += part.missing
        if part.by_split is not None:
            by_split = by_split if by_split is not None else {}
            for s, table in part.by_split.items():
                into = by_split.setdefault(s, {})
                for k, v in table.items():
                    into[k] = into.get(k, 0) + v
        if part.missing_by_split is not None:
            missing_by = missing_by if missing_by is not None else {}
            for s, v in part.missing_by_split.items():
                missing_by[s] = missing_by.get(s, 0) + v
        if first is None and part.first_missing_row is not None:
            first = part.first_missing_row + offset
    return LabelCounts(
        counts=counts,
        missing=missing,
        by_split=by_split,
        missing_by_split=missing_by,
        first_missing_row=first,
    )


@dataclass(frozen=True)
class TrainingSource:
    """The manifest a model was trained on, its label column and the split it learned
    from: ``--train-manifest``, ``--train-label-col``, ``--train-split-col`` and
    ``--train-split`` (default ``train`` when the manifest has a split column)."""

    manifest: str | os.PathLike[str]
    label_col: str | None = None
    split: str | None = None
    split_col: str | None = None

    @classmethod
    def of(
        cls,
        manifest: str | os.PathLike[str] | TrainingSource | None,
        *,
        label_col: str | None = None,
        split: str | None = None,
        split_col: str | None = None,
    ) -> TrainingSource | None:
        """From the four flags (``None`` without a manifest; a split without one is refused)."""
        if manifest is None:
            if split is not None or split_col is not None:
                from rebalance.errors import RebalanceError

                raise RebalanceError("--train-split and --train-split-col need --train-manifest")
            return None
        if isinstance(manifest, TrainingSource):
            return manifest
        return cls(manifest, label_col, split, split_col)

    @property
    def name(self) -> str:
        return os.fspath(self.manifest)
