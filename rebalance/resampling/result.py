"""What a resample returns, and the size pre-flight that refuses an exploding plan."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from rebalance._version import __version__
from rebalance.errors import RebalanceError
from rebalance.plan import Plan


def growth_limit(rows_in: int) -> int:
    """The largest output a run may plan without ``allow_large``: 10× the input, at least 1M rows."""
    return max(10 * rows_in, 1_000_000)


def check_size(
    plan: Plan, rows_in: int, *, allow_large: bool, bytes_per_row: float | None = None
) -> None:
    """Refuse a plan whose output would explode, saying its planned size."""
    after = plan.rows_after + (rows_in - plan.rows_before)
    if allow_large or after <= growth_limit(rows_in):
        return
    size = ""
    if bytes_per_row:
        size = f", about {_human_bytes(after * bytes_per_row)}"
    raise RebalanceError(
        f"the plan writes {after:,} rows ({after / max(rows_in, 1):,.0f}× the {rows_in:,} input rows{size}); "
        "pass --allow-large to confirm, or choose a gentler --target (sqrt, median, ratio:10) or --max-per-class"
    )


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"


@dataclass
class ResampleResult:
    """A resampled manifest and the record of how it was made."""

    table: pa.Table
    plan: Plan
    produced: dict[str, int]
    method: str
    params: dict[str, Any]
    seed: int
    label_col: str
    split_col: str | None = None
    only_splits: list[str] | None = None
    group_col: str | None = None
    features: list[str] = field(default_factory=list)
    synthetic_rows: int = 0
    passthrough_rows: int = 0
    messages: list[str] = field(default_factory=list)  # warnings for the person running it
    notes: list[str] = field(default_factory=list)  # what was done (files written, rows dropped)
    # what an image method did, file by file (RunHooks.keep_choice): a preview's material
    image_choice: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The plan sidecar: enough to say exactly how the manifest was made."""
        classes = {}
        for label, before in sorted(self.plan.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            classes[label] = {
                "before": before,
                "planned": self.plan.targets[label],
                "after": self.produced.get(label, 0),
            }
            if self.plan.cleaning:
                classes[label]["removed_at_most"] = self.plan.may_remove.get(label, 0)
        return {
            "tool": "rebalance",
            "version": __version__,
            "seed": self.seed,
            "method": self.method,
            "params": self.params,
            "target": self.plan.target,
            "mode": self.plan.mode,
            "clamps": self.plan.clamps,
            "label_col": self.label_col,
            "split_col": self.split_col,
            "only_splits": self.only_splits,
            "group_col": self.group_col,
            "features": self.features,
            "rows_before": self.plan.rows_before + self.passthrough_rows,
            "rows_after": self.table.num_rows,
            "rows_passed_through": self.passthrough_rows,
            "rows_synthetic": self.synthetic_rows,
            "classes": classes,
        }


def bytes_per_row(path: str, rows: int) -> float | None:
    """Average input bytes per row, for saying how large a planned output would be."""
    try:
        return os.path.getsize(path) / max(rows, 1)
    except OSError:
        return None
