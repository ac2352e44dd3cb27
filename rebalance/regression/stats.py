"""How imbalanced a regression target is: a binned histogram, skew and the rare ranges.

A bin is *rare* when it holds fewer than a fifth of an even share of the rows
(rows / bins / 5); adjacent rare bins merge into one rare range. Skewness is the
Fisher–Pearson coefficient g1 = m3 / m2^(3/2) (``scipy.stats.skew``), with m_k the k-th
central moment.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.regression.target import Bins, histogram, make_bins, read_target

RARE_SHARE_OF_EVEN = 0.2


def skewness(y: npt.NDArray[np.float64]) -> float:
    """Fisher–Pearson skewness g1 (0 for a constant target)."""
    centred = y - y.mean()
    m2 = float(np.mean(centred**2))
    m3 = float(np.mean(centred**3))
    return m3 / m2**1.5 if m2 > 0 else 0.0


def rare_ranges(bins: Bins, counts: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    """Runs of adjacent rare bins: ``{low, high, rows, share}`` each."""
    rows = int(counts.sum())
    limit = RARE_SHARE_OF_EVEN * rows / bins.count
    out: list[dict[str, Any]] = []
    run: list[int] = []
    for i in [*range(bins.count), -1]:
        if i >= 0 and counts[i] < limit:
            run.append(i)
            continue
        if run:
            n = int(counts[run].sum())
            out.append(
                {
                    "low": float(bins.edges[run[0]]),
                    "high": float(bins.edges[run[-1] + 1]),
                    "rows": n,
                    "share": n / rows if rows else 0.0,
                }
            )
            run = []
    return out


@dataclass(frozen=True)
class TargetDistribution:
    """The distribution of a regression target (the whole manifest or one split)."""

    rows: int
    minimum: float
    maximum: float
    mean: float
    median: float
    std: float
    skew: float
    counts: list[int]
    rare: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "min": self.minimum,
            "max": self.maximum,
            "mean": self.mean,
            "median": self.median,
            "std": self.std,
            "skew": self.skew,
            "bin_rows": list(self.counts),
            "rare_ranges": [dict(r) for r in self.rare],
        }


def describe_target(y: npt.NDArray[np.float64], bins: Bins) -> TargetDistribution:
    """Summary, histogram on ``bins`` and rare ranges of target values."""
    counts = histogram(y, bins)
    return TargetDistribution(
        rows=len(y),
        minimum=float(y.min()),
        maximum=float(y.max()),
        mean=float(y.mean()),
        median=float(np.median(y)),
        std=float(y.std(ddof=1)) if len(y) > 1 else 0.0,
        skew=skewness(y),
        counts=[int(c) for c in counts],
        rare=rare_ranges(bins, counts),
    )


@dataclass(frozen=True)
class RegressionReport:
    """What ``rebalance inspect --regression`` reports."""

    source: str
    target_col: str
    bins: Bins
    overall: TargetDistribution
    split_col: str | None
    splits: dict[str, TargetDistribution] | None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "source": self.source,
            "regression": True,
            "target_col": self.target_col,
            "binning": self.bins.binning,
            "bin_edges": [float(e) for e in self.bins.edges],
        }
        doc.update(self.overall.to_dict())
        if self.splits is not None:
            doc["split_col"] = self.split_col
            doc["splits"] = {k: v.to_dict() for k, v in self.splits.items()}
        return doc


def inspect_target(
    y: npt.NDArray[np.float64],
    *,
    bins: int = 20,
    binning: str = "width",
    splits: Sequence[str] | None = None,
    split_col: str | None = None,
    source: str = "data",
    target_col: str = "target",
) -> RegressionReport:
    """The regression report of target values (``splits``: one split name per row; every
    split is binned on the whole target's bins, so their histograms line up)."""
    edges = make_bins(y, bins, binning)
    by_split = None
    if splits is not None:
        names = np.asarray(["" if s is None else str(s) for s in splits], dtype=object)
        by_split = {
            name: describe_target(y[names == name], edges) for name in sorted(set(names.tolist()))
        }
    return RegressionReport(
        source=source,
        target_col=target_col,
        bins=edges,
        overall=describe_target(y, edges),
        split_col=split_col,
        splits=by_split,
    )


def inspect_regression(
    source: str | os.PathLike[str] | Any,
    *,
    label_col: str | None = None,
    bins: int = 20,
    binning: str = "width",
    split_col: str | None = None,
    detect_split: bool = True,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> RegressionReport:
    """Histogram (``bins`` equal-width or quantile bins), summary, skew and rare ranges of a
    numeric target column of a manifest (a path, ``"-"`` or a table), overall and per split."""
    from rebalance.manifest import label_and_split, labels_as_text, load_table

    table, where = load_table(source, input_format=input_format, encoding=encoding)
    target, split = label_and_split(
        table.column_names, label_col, split_col, detect_split=detect_split, where=where
    )
    y = read_target(table, target, where=where)
    names = labels_as_text(table.column(split)).to_pylist() if split is not None else None
    return inspect_target(
        y,
        bins=bins,
        binning=binning,
        splits=names,
        split_col=split,
        source=where,
        target_col=target,
    )
