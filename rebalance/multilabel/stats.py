"""Imbalance measures of multi-label data (Charte et al., 2015).

With n_l the rows that have label l (over the labels present at all):

* IRLbl(l) = max_k n_k / n_l — 1 for the most frequent label;
* MeanIR = the mean of IRLbl; MaxIR = its largest value;
* CVIR = the standard deviation of IRLbl (n − 1 in the denominator) / MeanIR;
* SCUMBLE = the mean over rows of 1 − GM_i / AM_i, GM_i and AM_i the geometric and
  arithmetic means of the IRLbl of row i's labels (0 for rows with fewer than two labels):
  how much rare and frequent labels appear together (0: never; towards 1: always);
* cardinality = the mean number of labels per row; density = cardinality / labels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.errors import RebalanceError
from rebalance.multilabel.labels import LabelSets, read_label_sets
from rebalance.multilabel.objects import ObjectCounts, object_counts


def irlbl(counts: Sequence[int]) -> list[float | None]:
    """IRLbl of each label (``None`` for a label no row has)."""
    largest = max(counts, default=0)
    return [largest / c if c > 0 else None for c in counts]


def scumble_rows(indicator: npt.NDArray[np.bool_], ir: Sequence[float | None]) -> Any:
    """SCUMBLE of each row: 1 − geometric / arithmetic mean of its labels' IRLbl."""
    values = np.array([v if v is not None else np.nan for v in ir], dtype=float)
    out = np.zeros(indicator.shape[0])
    labels_per_row = indicator.sum(axis=1)
    many = labels_per_row >= 2
    if not many.any() or not len(values):
        return out
    block = indicator[many]
    logs = np.where(block, np.log(np.where(np.isnan(values), 1.0, values)), 0.0)
    k = labels_per_row[many]
    geometric = np.exp(logs.sum(axis=1) / k)
    arithmetic = np.where(block, np.nan_to_num(values), 0.0).sum(axis=1) / k
    out[many] = np.maximum(1.0 - geometric / arithmetic, 0.0)  # equal IRLbl: 0, not -1e-17
    return out


@dataclass(frozen=True)
class MultiLabelDistribution:
    """The label distribution of multi-label rows (the whole manifest or one split)."""

    rows: int
    counts: dict[str, int]  # rows per label, in label order
    irlbl: dict[str, float | None]
    mean_ir: float | None
    max_ir: float | None
    cvir: float | None
    scumble: float
    cardinality: float
    density: float
    empty_rows: int
    distinct_sets: int
    top_sets: list[tuple[list[str], int]]
    top_pairs: list[tuple[str, str, int]]
    min_count: int
    small_labels: list[str] = field(default_factory=list)
    absent_labels: list[str] = field(default_factory=list)

    @property
    def labels(self) -> int:
        return len(self.counts)

    def to_dict(self) -> dict[str, Any]:
        positives = sum(self.counts.values())
        return {
            "rows": self.rows,
            "labels": self.labels,
            "counts": dict(self.counts),
            "share": {k: (v / self.rows if self.rows else 0.0) for k, v in self.counts.items()},
            "share_of_assignments": {
                k: (v / positives if positives else 0.0) for k, v in self.counts.items()
            },
            "irlbl": dict(self.irlbl),
            "mean_ir": self.mean_ir,
            "max_ir": self.max_ir,
            "cvir": self.cvir,
            "scumble": self.scumble,
            "cardinality": self.cardinality,
            "density": self.density,
            "empty_rows": self.empty_rows,
            "distinct_label_sets": self.distinct_sets,
            "top_label_sets": [{"labels": s, "rows": n} for s, n in self.top_sets],
            "top_pairs": [{"labels": [a, b], "rows": n} for a, b, n in self.top_pairs],
            "small_labels": list(self.small_labels),
            "absent_labels": list(self.absent_labels),
        }


def _set_counts(indicator: npt.NDArray[np.bool_]) -> dict[tuple[int, ...], int]:
    """How many rows hold each distinct label set (a set as its sorted label positions)."""
    if indicator.shape[0] == 0:
        return {}
    if indicator.shape[1] == 0:
        return {(): int(indicator.shape[0])}
    packed = np.packbits(indicator, axis=1)
    _, first, counts = np.unique(packed, axis=0, return_index=True, return_counts=True)
    return {
        tuple(np.flatnonzero(indicator[i]).tolist()): int(n)
        for i, n in zip(first.tolist(), counts.tolist(), strict=True)
    }


def describe_sets(
    names: Sequence[str],
    indicator: npt.NDArray[np.bool_],
    *,
    min_count: int = 10,
    top: int = 10,
) -> MultiLabelDistribution:
    """Every multi-label measure of an indicator matrix (rows × labels)."""
    rows = int(indicator.shape[0])
    counts = [int(c) for c in indicator.sum(axis=0)]
    ir = irlbl(counts)
    present = [v for v in ir if v is not None]
    mean_ir = float(np.mean(present)) if present else None
    max_ir = float(max(present)) if present else None
    cvir = None
    if mean_ir and len(present) > 1:
        cvir = float(np.std(present, ddof=1) / mean_ir)
    per_row = indicator.sum(axis=1)
    # fsum is exactly rounded, so the mean does not depend on row order
    scumble = math.fsum(scumble_rows(indicator, ir).tolist()) / rows if rows else 0.0
    cardinality = float(per_row.mean()) if rows else 0.0
    sets = _set_counts(indicator)
    top_sets = [
        ([names[j] for j in key], n)
        for key, n in sorted(sets.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    ]
    # float64 goes through BLAS (numpy's integer matmul is a plain loop, seconds on 100k
    # rows); its sums are exact integers below 2**53
    ones = indicator.astype(np.float64)
    co = np.rint(ones.T @ ones).astype(np.int64)
    pairs = [
        (names[a], names[b], int(co[a, b]))
        for a in range(len(names))
        for b in range(a + 1, len(names))
        if co[a, b] > 0
    ]
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return MultiLabelDistribution(
        rows=rows,
        counts=dict(zip(names, counts, strict=True)),
        irlbl=dict(zip(names, ir, strict=True)),
        mean_ir=mean_ir,
        max_ir=max_ir,
        cvir=cvir,
        scumble=scumble,
        cardinality=cardinality,
        density=cardinality / len(names) if names else 0.0,
        empty_rows=int((per_row == 0).sum()),
        distinct_sets=len(sets),
        top_sets=top_sets,
        top_pairs=pairs[:top],
        min_count=min_count,
        small_labels=[n for n, c in zip(names, counts, strict=True) if 0 < c < min_count],
        absent_labels=[n for n, c in zip(names, counts, strict=True) if c == 0],
    )


@dataclass(frozen=True)
class MultiLabelReport:
    """What ``rebalance inspect --multi-label`` reports."""

    source: str
    label_columns: list[str]
    sep: str | None
    split_col: str | None
    overall: MultiLabelDistribution
    splits: dict[str, MultiLabelDistribution] | None
    # detection data (COCO, YOLO, VOC): objects per label and the LVIS frequency groups
    objects: ObjectCounts | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "source": self.source,
            "multi_label": True,
            "label_columns": list(self.label_columns),
            "sep": self.sep,
        }
        doc.update(self.overall.to_dict())
        doc["min_count"] = self.overall.min_count
        if self.splits is not None:
            doc["split_col"] = self.split_col
            doc["splits"] = {k: v.to_dict() for k, v in self.splits.items()}
        if self.objects is not None:
            doc.update(self.objects.to_dict())
        return doc


def inspect_sets(
    sets: LabelSets,
    *,
    splits: Sequence[str] | None = None,
    split_col: str | None = None,
    source: str = "data",
    min_count: int = 10,
    top: int = 10,
) -> MultiLabelReport:
    """The multi-label report of label sets already read (``splits``: one name per row)."""
    overall = describe_sets(sets.names, sets.indicator, min_count=min_count, top=top)
    by_split = None
    if splits is not None:
        values = np.asarray(["" if s is None else str(s) for s in splits], dtype=object)
        by_split = {
            name: describe_sets(
                sets.names, sets.indicator[values == name], min_count=min_count, top=top
            )
            for name in sorted(set(values.tolist()))
        }
    return MultiLabelReport(
        source=source,
        label_columns=list(sets.columns),
        sep=sets.sep,
        split_col=split_col,
        overall=overall,
        splits=by_split,
    )


def inspect_multilabel(
    source: str | os.PathLike[str] | Any,
    *,
    label_col: str | None = None,
    sep: str | None = None,
    label_cols: Sequence[str] | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    min_count: int = 10,
    top: int = 10,
    strict: bool = False,
    drop_empty: bool = False,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> MultiLabelReport:
    """Label counts, IRLbl, MeanIR, MaxIR, CVIR, SCUMBLE, cardinality, density, label sets
    and co-occurring pairs of a multi-label manifest (a path, ``"-"`` or a table), overall
    and per split.

    The labels come from ``label_cols`` (0/1 columns, names or globs), or from the label
    column: text split on ``sep``, or a list column. See
    :func:`rebalance.multilabel.labels.read_label_sets`. Rows without a label count as
    empty label sets; ``drop_empty`` leaves them out, ``strict`` makes them an error.
    """
    from rebalance.manifest import load_table

    table, where = load_table(source, input_format=input_format, encoding=encoding)
    sets = read_label_sets(
        table, label_col=label_col, sep=sep, label_cols=label_cols, strict=strict, where=where
    )
    split = _split_column(table.column_names, split_col, detect_split, sets, where)
    splits = None
    if split is not None:
        from rebalance.manifest import labels_as_text

        splits = labels_as_text(table.column(split)).to_pylist()
    objects = object_counts(table, sets.columns[0], where) if len(sets.columns) == 1 else None
    if drop_empty:
        keep = np.asarray(sets.indicator.any(axis=1), dtype=bool)
        sets = replace(sets, indicator=sets.indicator[keep])
        if splits is not None:
            splits = [s for s, k in zip(splits, keep.tolist(), strict=True) if k]
    report = inspect_sets(
        sets, splits=splits, split_col=split, source=where, min_count=min_count, top=top
    )
    return report if objects is None else replace(report, objects=objects)


def _split_column(
    columns: Sequence[str], given: str | None, detect: bool, sets: LabelSets, where: str
) -> str | None:
    from rebalance.manifest import SPLIT_CANDIDATES, detect_column

    split = detect_column(
        columns,
        given,
        SPLIT_CANDIDATES if detect else (),
        where=where,
        flag="--split-col",
        required=False,
    )
    if split is not None and split in sets.columns:
        raise RebalanceError(f"{where}: {split!r} is both a label and the split column")
    return split


def gate_failures(
    report: MultiLabelReport,
    *,
    max_meanir: float | None = None,
    max_ratio: float | None = None,
    fail_on_small: bool = False,
) -> list[str]:
    """The gates a multi-label report fails, one sentence each."""
    overall = report.overall
    failures = []
    if max_meanir is not None and overall.mean_ir is not None and overall.mean_ir > max_meanir:
        failures.append(f"MeanIR {overall.mean_ir:.2f} > {max_meanir:g}")
    if max_ratio is not None and overall.max_ir is not None and overall.max_ir > max_ratio:
        failures.append(f"MaxIR {overall.max_ir:.2f} > {max_ratio:g}")
    if fail_on_small and overall.small_labels:
        shown = ", ".join(map(repr, overall.small_labels[:10]))
        failures.append(
            f"{len(overall.small_labels)} label(s) on fewer than {overall.min_count} rows: {shown}"
        )
    return failures
