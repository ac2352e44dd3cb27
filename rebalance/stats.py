"""Class counts and how imbalanced they are.

Counting streams only the label (and split) columns of a manifest; the measures
are pure functions of a ``{label: count}`` mapping, so pixel counts from masks or
counts from another engine feed the same code.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.arrays import pc
from rebalance.coded_counts import count_by_codes
from rebalance.counts import LabelCounts as LabelCounts  # re-exported: rebalance.stats.LabelCounts
from rebalance.counts import TrainingSource, counts_sum
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    MISSING,
    PATH_NAMES,
    PATH_SUFFIX,
    Source,
    as_table,
    check_label_type,
    is_bytes_type,
    is_table,
    label_and_split,
    labels_as_text,
    missing_mask,
    read_types,
    resolve_source,
)

if TYPE_CHECKING:
    from rebalance.engine import Engine


def _merge_parts(parts: list[pa.Table], keys: list[str]) -> pa.Table:
    table = pa.concat_tables(parts)
    n = np.concatenate([arrays.integers(c) for c in table.column("n").chunks] or [np.empty(0)])
    return _sum_by([table.column(k) for k in keys], keys, n)


def _sum_by(
    columns: Sequence[pa.Array | pa.ChunkedArray], names: Sequence[str], n: npt.NDArray[Any]
) -> pa.Table:
    """Sums of ``n`` per distinct combination of the key columns (nulls included).

    numpy on dictionary codes: Arrow's ``group_by`` would load pyarrow.dataset, which
    imports pandas (0.3 s of start-up for a small manifest).
    """
    combined = np.zeros(len(n), dtype=np.int64)
    dictionaries = []
    size = 1
    for column in columns:
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        dictionaries.append(encoded.dictionary)
        # code 0 is null, value i is code i + 1
        base = len(encoded.dictionary) + 1
        combined = combined * base + arrays.integers(encoded.indices) + 1
        size *= base
    if size <= 4 * len(n) + 1_000_000:
        # few possible combinations: count them all, keep those present
        sums = np.bincount(combined, weights=n, minlength=size)
        groups = np.flatnonzero(np.bincount(combined, minlength=size))
        sums = sums[groups]
    else:
        groups, where = np.unique(combined, return_inverse=True)
        sums = np.bincount(where.reshape(-1), weights=n, minlength=len(groups))
    keys = []
    for dictionary in reversed(dictionaries):
        base = len(dictionary) + 1
        code = groups % base
        groups = groups // base
        if len(dictionary) == 0:  # every value null
            keys.append(pa.nulls(len(code), dictionary.type))
            continue
        values = dictionary.take(arrays.to_arrow(np.maximum(code - 1, 0)))
        keys.append(pc.if_else(arrays.to_arrow(code > 0), values, pa.nulls(len(code), values.type)))
    keys.reverse()
    counts = arrays.to_arrow(np.rint(sums).astype(np.int64))
    return pa.table([*keys, counts], names=[*names, "n"])


def _count_codes(labels: pa.DictionaryArray) -> pa.Table:
    """Counts of a dictionary-encoded batch from its codes: a ``bincount``, with nulls last.

    (numpy counts int32 codes several times slower than platform integers, hence the cast.)
    """
    size = len(labels.dictionary)
    codes = arrays.integers(labels.indices, null=size).astype(np.intp)
    n = np.bincount(codes, minlength=size + 1)
    present = np.flatnonzero(n)
    values = labels_as_text(labels.dictionary)
    if n[size]:
        values = pa.concat_arrays([values, pa.nulls(1, values.type)])
    return pa.table({"l": values.take(arrays.to_arrow(present)), "n": arrays.to_arrow(n[present])})


def _median(values: list[int]) -> float:
    """The median count (the mean of the middle two for an even number), as ``statistics``
    gives it, without its import (with fractions and decimal: 3 ms)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def count_batches(
    batches: Iterable[pa.RecordBatch], label_col: str, split_col: str | None = None
) -> LabelCounts:
    """Count labels (and split × label pairs) over a stream of record batches.

    Counted from dictionary codes with numpy while the batches allow it
    (:func:`rebalance.coded_counts.count_by_codes`); the rest by :func:`_count_general`.
    """
    stream = iter(batches)
    head, stop, seen = count_by_codes(stream, label_col, split_col)
    if stop is None:
        return head
    tail = _count_general(itertools.chain([stop], stream), label_col, split_col)
    return counts_sum([head, tail], [0, seen])


def _count_general(
    batches: Iterable[pa.RecordBatch], label_col: str, split_col: str | None = None
) -> LabelCounts:
    """Count labels (and split × label pairs) batch by batch with Arrow; the partial counts
    are merged by Arrow too, so Python touches each distinct (split, label) pair only once
    at the end."""
    keys = ["l"] if split_col is None else ["s", "l"]
    parts: list[pa.Table] = []
    pending = 0
    first_missing: int | None = None
    seen = 0
    for batch in batches:
        # count on the raw column (dictionary-encoded Parquet stays encoded); only the
        # distinct values of each batch are turned into text
        labels = batch.column(label_col)
        if is_bytes_type(labels.type):  # checked here, where the row number is known
            labels = labels_as_text(labels, name=label_col, first_row=seen)
        if split_col is None and isinstance(labels, pa.DictionaryArray):
            part = _count_codes(labels)
        elif split_col is None:
            vc = pc.value_counts(labels)
            part = pa.table({"l": labels_as_text(vc.field(0)), "n": vc.field(1)})
        else:
            ones = np.ones(batch.num_rows, dtype=np.int64)
            grouped = _sum_by([batch.column(split_col), labels], keys, ones)
            part = pa.table(
                {
                    "s": labels_as_text(grouped.column("s")),
                    "l": labels_as_text(grouped.column("l")),
                    "n": grouped.column("n"),
                }
            )
        blank = missing_mask(part.column("l"))
        if arrays.booleans(blank).any():
            part = part.set_column(
                1 if split_col is not None else 0,
                "l",
                pc.if_else(blank, pa.nulls(len(blank), pa.string()), part.column("l")),
            )
            if first_missing is None:
                mask = arrays.booleans(missing_mask(labels_as_text(labels)))
                first_missing = seen + int(np.argmax(mask)) + 1
        parts.append(part)
        pending += part.num_rows
        if pending > 1_000_000:
            parts = [_merge_parts(parts, keys)]
            pending = parts[0].num_rows
        seen += batch.num_rows
    if not parts:
        return LabelCounts(counts={})
    merged = _merge_parts(parts, keys)
    labels_col = merged.column("l").to_pylist()
    ns = merged.column("n").to_pylist()
    if split_col is None:
        counts = {label: n for label, n in zip(labels_col, ns, strict=True) if label is not None}
        missing = sum(n for label, n in zip(labels_col, ns, strict=True) if label is None)
        return LabelCounts(counts=counts, missing=missing, first_missing_row=first_missing)
    overall: dict[str, int] = {}
    missing = 0
    by_split: dict[str, dict[str, int]] = {}
    missing_by_split: dict[str, int] = {}
    for s, label, n in zip(merged.column("s").to_pylist(), labels_col, ns, strict=True):
        key = MISSING if s is None or s == "" else s
        per = by_split.setdefault(key, {})
        if label is None:
            missing += n
            missing_by_split[key] = missing_by_split.get(key, 0) + n
        else:
            per[label] = per.get(label, 0) + n
            overall[label] = overall.get(label, 0) + n
    return LabelCounts(
        counts=overall,
        missing=missing,
        by_split=by_split,
        missing_by_split=missing_by_split,
        first_missing_row=first_missing,
    )


def count_labels(
    source: str | os.PathLike[str] | Source,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    input_format: str | None = None,
    encoding: str = "utf-8",
    engine: str | Engine | None = None,
) -> tuple[LabelCounts, str, str | None]:
    """Count the labels of a manifest file, streaming only the needed columns.

    Returns the counts, the label column used and the split column used (or ``None``).
    ``engine`` does the reading (see :mod:`rebalance.engine`; in-process by default).
    """
    from rebalance.engine import using

    if not isinstance(source, Source):
        source = resolve_source(source, input_format=input_format, encoding=encoding)
    with using(engine) as runner:
        label, split = label_and_split(
            runner.columns(source), label_col, split_col, detect_split=detect_split,
            where=source.name,
        )  # fmt: skip
        check_label_type(read_types(source).get(label), label, where=source.name)
        counts = runner.counts(source, label, split)
    if counts.rows == 0:
        raise RebalanceError(f"{source.name}: no data rows (header only)")
    return counts, label, split


def pick_split(
    splits: Sequence[str], wanted: str | None, *, where: str, flag: str = "--from-split"
) -> str:
    """The split whose counts are used: the one named, else ``train``."""
    if wanted is not None:
        if wanted not in splits:
            raise RebalanceError(
                f"{where}: no split {wanted!r} (splits: {', '.join(sorted(splits))})"
            )
        return wanted
    if "train" in splits:
        return "train"
    raise RebalanceError(
        f"{where}: no 'train' split (splits: {', '.join(sorted(splits))}); choose one with {flag}"
    )


@dataclass(frozen=True)
class TrainingCounts:
    """Class counts of a training manifest: of its train split when it has a split column."""

    counts: dict[str, int]
    label_col: str
    split_col: str | None
    split: str | None  # the split counted (None: every row, no split column)
    rows: int


def training_counts(
    source: str | os.PathLike[str] | Source | TrainingSource,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    split: str | None = None,
    detect_split: bool = True,
) -> TrainingCounts:
    """The class counts a model was trained on: the ``split`` rows (default ``train``) when
    the manifest has a split column, else every row. Rows without a label are left out.
    A :class:`~rebalance.counts.TrainingSource` brings its own columns and split."""
    if isinstance(source, TrainingSource):
        training = source
        return training_counts(
            training.manifest, label_col=training.label_col, split_col=training.split_col,
            split=training.split, detect_split=detect_split,
        )  # fmt: skip
    counts, label, split_column = count_labels(
        source, label_col=label_col, split_col=split_col, detect_split=detect_split
    )
    where = source.name if isinstance(source, Source) else os.fspath(source)
    if counts.by_split is None:
        if split is not None:
            raise RebalanceError(
                f"{where}: --train-split {split!r} needs a split column (--train-split-col)"
            )
        return TrainingCounts(dict(counts.counts), label, None, None, sum(counts.counts.values()))
    chosen = pick_split(list(counts.by_split), split, where=where, flag="--train-split")
    table = dict(counts.by_split[chosen])
    return TrainingCounts(table, label, split_column, chosen, sum(table.values()))


def label_doubt(label_col: str, counts: Mapping[str, int]) -> str | None:
    """Why ``label_col`` is probably not a label column (file paths, ids), or ``None``.

    Said when the column is named like a path column (``path``, ``image``, ``mask``...),
    when most labels look like file paths, or when every row has its own label.
    """
    import re

    rows = sum(counts.values())
    hint = "; name the label column with --label-col"
    if label_col.lower() in PATH_NAMES:
        return f"column {label_col!r} is named like a file-path column, not a label{hint}"
    sample = list(counts)[:1000]
    suffix = re.compile(PATH_SUFFIX, re.IGNORECASE)
    pathlike = sum(1 for v in sample if suffix.search(v) or "/" in v or "\\" in v)
    if sample and pathlike >= 0.9 * len(sample):
        return f"the values of column {label_col!r} look like file paths, not labels{hint}"
    if rows >= 20 and len(counts) == rows:
        return (
            f"every one of the {rows:,} rows has its own value in column {label_col!r}: "
            f"it is probably an id or a path, not the label{hint}"
        )
    return None


# ---------------------------------------------------------------- measures


def sort_counts(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Labels by count, largest first; ties by label text."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def imbalance_ratio(counts: Mapping[str, int]) -> float:
    """Largest class count over smallest (1.0 for one class)."""
    values = [v for v in counts.values() if v > 0]
    if not values:
        raise RebalanceError("no labelled rows to measure")
    return max(values) / min(values)


def entropy(counts: Mapping[str, int], *, normalized: bool = True) -> float:
    """Shannon entropy of the class shares (natural log).

    Normalized by ``log(K)`` so 1.0 is perfectly balanced; with one class it is 1.0
    (nothing can be out of balance).
    """
    values = [v for v in counts.values() if v > 0]
    total = sum(values)
    h = -sum((v / total) * math.log(v / total) for v in values)
    if not normalized:
        return h
    k = len(values)
    return 1.0 if k <= 1 else h / math.log(k)


def effective_classes(counts: Mapping[str, int]) -> float:
    """exp(entropy): the number of equally sized classes with the same entropy."""
    return math.exp(entropy(counts, normalized=False))


def gini(counts: Mapping[str, int]) -> float:
    """Gini coefficient of the class counts: 0 is perfectly balanced, near 1 is one class."""
    values = sorted(counts.values())
    n = len(values)
    total = sum(values)
    if n <= 1 or total == 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(values))
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n


@dataclass(frozen=True)
class Distribution:
    """The class distribution of a manifest (or one split of it) and its imbalance."""

    rows: int
    counts: dict[str, int]
    missing_labels: int
    min_count: int
    imbalance_ratio: float | None = None
    majority: str | None = None
    minority: str | None = None
    median_count: float | None = None
    entropy: float | None = None
    effective_classes: float | None = None
    gini: float | None = None
    singletons: list[str] = field(default_factory=list)
    small_classes: list[str] = field(default_factory=list)

    @property
    def classes(self) -> int:
        return len(self.counts)

    def share(self, label: str) -> float:
        total = sum(self.counts.values())
        return self.counts.get(label, 0) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "classes": self.classes,
            "counts": dict(self.counts),
            "imbalance_ratio": self.imbalance_ratio,
            "majority": self.majority,
            "minority": self.minority,
            "median_count": self.median_count,
            "entropy": self.entropy,
            "effective_classes": self.effective_classes,
            "gini": self.gini,
            "singletons": list(self.singletons),
            "small_classes": list(self.small_classes),
            "missing_labels": self.missing_labels,
        }


def describe(counts: Mapping[str, int], *, missing: int = 0, min_count: int = 10) -> Distribution:
    """Every imbalance measure of a ``{label: count}`` mapping.

    Parameters
    ----------
    counts:
        Rows (or pixels) per class; zero counts are dropped.
    missing:
        Rows without a label, reported alongside.
    min_count:
        Classes with fewer rows are listed in ``small_classes``.
    """
    ordered = [(k, v) for k, v in sort_counts(counts) if v > 0]
    rows = sum(v for _, v in ordered) + missing
    if not ordered:
        return Distribution(rows=rows, counts={}, missing_labels=missing, min_count=min_count)
    table = dict(ordered)
    return Distribution(
        rows=rows,
        counts=table,
        missing_labels=missing,
        min_count=min_count,
        imbalance_ratio=imbalance_ratio(table),
        majority=ordered[0][0],
        minority=ordered[-1][0],
        median_count=_median([v for _, v in ordered]),
        entropy=entropy(table),
        effective_classes=effective_classes(table),
        gini=gini(table),
        singletons=[k for k, v in ordered if v == 1],
        small_classes=[k for k, v in ordered if v < min_count],
    )


@dataclass(frozen=True)
class Drift:
    """How the class distribution differs between splits."""

    absent: dict[str, list[str]]  # split -> labels present in another split but not in this one
    max_share_shift: float
    max_shift_label: str | None
    max_shift_splits: tuple[str, str] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "absent_from_split": {k: list(v) for k, v in self.absent.items()},
            "max_share_shift": self.max_share_shift,
            "max_share_shift_label": self.max_shift_label,
            "max_share_shift_splits": list(self.max_shift_splits)
            if self.max_shift_splits
            else None,
        }


def split_drift(splits: Mapping[str, Distribution]) -> Drift:
    """Classes missing from a split, and the largest share shift of any class between splits."""
    names = sorted(splits)
    every = sorted({label for d in splits.values() for label in d.counts})
    absent = {s: [c for c in every if c not in splits[s].counts] for s in names}
    totals = {s: sum(splits[s].counts.values()) or 1 for s in names}
    best = 0.0
    best_label: str | None = None
    best_pair: tuple[str, str] | None = None
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ca, cb = splits[a].counts, splits[b].counts
            for label in every:
                shift = abs(ca.get(label, 0) / totals[a] - cb.get(label, 0) / totals[b])
                if shift > best:
                    best, best_label, best_pair = shift, label, (a, b)
    return Drift(
        absent={s: v for s, v in absent.items() if v},
        max_share_shift=best,
        max_shift_label=best_label,
        max_shift_splits=best_pair,
    )


@dataclass(frozen=True)
class InspectReport:
    """What ``rebalance inspect`` reports: the distribution, per split, and the gates."""

    source: str
    label_col: str
    split_col: str | None
    overall: Distribution
    splits: dict[str, Distribution] | None
    drift: Drift | None
    first_missing_row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"source": self.source, "label_col": self.label_col}
        doc.update(self.overall.to_dict())
        doc["min_count"] = self.overall.min_count
        if self.splits is not None:
            doc["split_col"] = self.split_col
            doc["splits"] = {name: d.to_dict() for name, d in self.splits.items()}
            assert self.drift is not None
            doc["split_drift"] = self.drift.to_dict()
        return doc


def inspect_counts(
    counts: LabelCounts,
    *,
    source: str = "",
    label_col: str = "label",
    split_col: str | None = None,
    min_count: int = 10,
) -> InspectReport:
    """Build the inspect report from counts already made."""
    overall = describe(counts.counts, missing=counts.missing, min_count=min_count)
    splits = None
    drift = None
    if counts.by_split is not None:
        missing_by = counts.missing_by_split or {}
        splits = {
            name: describe(
                counts.by_split[name], missing=missing_by.get(name, 0), min_count=min_count
            )
            for name in sorted(counts.by_split)
        }
        drift = split_drift(splits)
    return InspectReport(
        source=source,
        label_col=label_col,
        split_col=split_col,
        overall=overall,
        splits=splits,
        drift=drift,
        first_missing_row=counts.first_missing_row,
    )


def inspect(
    source: str | os.PathLike[str] | Source | Any,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    min_count: int = 10,
    missing: str = "keep",
    input_format: str | None = None,
    encoding: str = "utf-8",
    engine: str | Engine | None = None,
) -> InspectReport:
    """Class distribution and imbalance measures of a manifest file.

    Parameters
    ----------
    source:
        Path of the manifest, ``"-"`` for standard input, or the table itself (a
        ``pyarrow.Table``, ``pandas.DataFrame`` or dict of columns).
    label_col, split_col:
        Column names; detected when not given (``label``/``class``/``target``/``y``/
        ``category``; ``split``).
    min_count:
        Classes with fewer rows are ``small_classes``.
    missing:
        ``keep`` (count rows without a label as ``missing_labels``), ``drop`` (leave
        them out) or ``error`` (raise).
    engine:
        What reads the file: ``"local"`` (default, in-process) or an
        :class:`~rebalance.engine.Engine`.

    Raises
    ------
    RebalanceError
        Bad input, or missing labels with ``missing="error"``.
    """
    counts, label, split, where = counted(
        source,
        label_col=label_col,
        split_col=split_col,
        detect_split=detect_split,
        missing=missing,
        input_format=input_format,
        encoding=encoding,
        engine=engine,
    )
    return inspect_counts(
        counts, source=where, label_col=label, split_col=split, min_count=min_count
    )


def counted(
    source: str | os.PathLike[str] | Source | Any,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    missing: str = "keep",
    input_format: str | None = None,
    encoding: str = "utf-8",
    engine: str | Engine | None = None,
) -> tuple[LabelCounts, str, str | None, str]:
    """Label counts of a manifest file or an in-memory table, the missing-label policy applied.

    Returns the counts, the label and split columns used, and the name to use in messages.
    """
    if is_table(source):
        table = as_table(source, name="source")
        where = "table"
        label, split = label_and_split(
            table.column_names, label_col, split_col, detect_split=detect_split, where=where
        )
        check_label_type(table.schema.field(label).type, label, where=where)
        counts = count_batches(table.to_batches(), label, split)
        if counts.rows == 0:
            raise RebalanceError("table: no rows")
    else:
        if not isinstance(source, Source):
            source = resolve_source(source, input_format=input_format, encoding=encoding)
        where = source.name
        counts, label, split = count_labels(
            source,
            label_col=label_col,
            split_col=split_col,
            detect_split=detect_split,
            engine=engine,
        )
    return apply_missing_policy(counts, missing, where=where, label_col=label), label, split, where


def apply_missing_policy(
    counts: LabelCounts, policy: str, *, where: str, label_col: str
) -> LabelCounts:
    """``keep``, ``drop`` or ``error`` on rows without a label."""
    if policy not in ("keep", "drop", "error"):
        raise RebalanceError(f"missing={policy!r} must be one of keep, drop, error")
    if counts.missing and policy == "error":
        raise RebalanceError(
            f"{where}: {counts.missing} row(s) have no label in column {label_col!r} "
            f"(first at data row {counts.first_missing_row}; use --drop-missing to leave them out)"
        )
    if policy == "drop":
        return LabelCounts(counts=counts.counts, by_split=counts.by_split)
    if not counts.counts:
        raise RebalanceError(f"{where}: no row has a label in column {label_col!r}")
    return counts


def gate_failures(
    report: InspectReport, *, max_ratio: float | None = None, fail_on_small: bool = False
) -> list[str]:
    """The CI gates that fail, each as a sentence naming the offending classes."""
    failures: list[str] = []
    d = report.overall
    if max_ratio is not None and d.imbalance_ratio is not None and d.imbalance_ratio > max_ratio:
        failures.append(
            f"imbalance ratio {d.imbalance_ratio:.4g} > {max_ratio:g} "
            f"(majority {d.majority!r}: {d.counts[d.majority or '']}, "
            f"minority {d.minority!r}: {d.counts[d.minority or '']})"
        )
    if fail_on_small and d.small_classes:
        failures.append(
            f"{len(d.small_classes)} class(es) under --min-count {d.min_count}: "
            + _label_list(d.small_classes, d.counts)
        )
    return failures


def _label_list(labels: Sequence[str], counts: Mapping[str, int], limit: int = 10) -> str:
    shown = ", ".join(f"{label!r} ({counts[label]})" for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f", … {more} more" if more > 0 else "")
