"""Label counts from the codes of dictionary-encoded batches, without ``pyarrow.compute``.

Parquet row groups bring a dictionary each, and the writers differ: pyarrow repeats one
dictionary, polars and DuckDB write each row group's labels in their own order (5,000
labels per 116k-row group on a long tail). Each batch is counted with ``np.bincount`` on
its codes; the dictionaries are mapped onto the labels seen so far by Arrow's dictionary
unifier, many at a time (C++ hashing, no Python per label), and only the final labels
become Python text.
Importing ``pyarrow.compute`` would cost a small run more than the count itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.counts import LabelCounts
from rebalance.manifest import MISSING

_PENDING = 1 << 19  # dictionary entries held before they are mapped onto the labels seen


class _Labels:
    """Every label seen so far, as one Arrow dictionary, and its count.

    A batch's dictionary and its counts wait in ``pending``; Arrow's unifier maps many of
    them at once onto the labels seen (one call for 85 polars row groups takes 15 ms;
    one call per row group, 60 ms)."""

    def __init__(self) -> None:
        self.values: pa.Array | None = None
        self.tally = np.zeros(0, dtype=np.int64)
        self.pending: list[tuple[pa.Array, npt.NDArray[np.int64]]] = []
        self.held = 0

    def add(self, dictionary: pa.Array, counts: npt.NDArray[np.int64]) -> None:
        """Count ``counts[i]`` rows of ``dictionary[i]``."""
        self.pending.append((dictionary, counts))
        self.held += len(dictionary)
        if self.held > _PENDING:
            self.fold()

    def fold(self) -> None:
        """Map the pending dictionaries onto the labels seen (new ones appended)."""
        if not self.pending:
            return
        chunks = [] if self.values is None else [_coded(np.zeros(0, np.int32), self.values)]
        chunks += [_coded(np.arange(len(d), dtype=np.int32), d) for d, _ in self.pending]
        # the unifier keeps the first dictionary's order and appends the new values
        unified = pa.chunked_array(chunks).unify_dictionaries()
        self.values = unified.chunk(0).dictionary
        if len(self.tally) < len(self.values):
            grown = np.zeros(len(self.values), dtype=np.int64)
            grown[: len(self.tally)] = self.tally
            self.tally = grown
        skip = len(chunks) - len(self.pending)
        for chunk, (_, counts) in zip(unified.chunks[skip:], self.pending, strict=True):
            # np.add.at: a value may repeat in a dictionary
            np.add.at(self.tally, arrays.integers(chunk.indices), counts)
        self.pending = []
        self.held = 0

    def counts(self) -> dict[str, int]:
        """``{label: rows}`` of every label counted at least once."""
        self.fold()
        if self.values is None:
            return {}
        labels = self.values.to_pylist()
        counts: dict[str, int] = {}
        for i in np.flatnonzero(self.tally):  # the first dictionary may hold a value twice
            counts[labels[i]] = counts.get(labels[i], 0) + int(self.tally[i])
        return counts


def _coded(codes: npt.NDArray[np.int32], dictionary: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(arrays.to_arrow(codes), dictionary)


def _blank_entries(dictionary: pa.Array) -> npt.NDArray[np.bool_]:
    """Which dictionary entries are missing labels: null, or empty text."""
    kind = dictionary.type
    blank: npt.NDArray[np.bool_] = ~arrays.valid(dictionary)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        width = np.dtype(np.int64 if pa.types.is_large_string(kind) else np.int32)
        offsets = np.frombuffer(
            dictionary.buffers()[1],
            dtype=width,
            count=len(dictionary) + 1,
            offset=dictionary.offset * width.itemsize,
        )
        empty: npt.NDArray[np.bool_] = np.diff(offsets) == 0
    else:  # string_view and other text layouts: a small dictionary, read as Python values
        empty = np.array([not v for v in dictionary.to_pylist()], dtype=bool)
    return blank | empty


_MAX_SPLITS = 256  # split dictionaries larger than this are not codes worth a table


class _Tally:
    """Counts of the current label dictionary × split dictionary, folded into the labels
    seen per split whenever either dictionary changes."""

    def __init__(self) -> None:
        self.labels: pa.Array | None = None
        self.splits: pa.Array | None = None
        self.blank = np.ones(1, dtype=bool)  # label code -> missing label; the last is null
        self.keys: list[str | None] = [None]  # split code -> its key; the last is null
        self.total = np.zeros((1, 1), dtype=np.int64)
        self.per_split: dict[str | None, _Labels] = {}
        self.missing_by: dict[str | None, int] = {}

    def switch(self, labels: pa.Array, splits: pa.Array | None) -> None:
        """Count from now on against these dictionaries."""
        self.keep()
        if labels is not self.labels:
            self.labels = labels
            self.blank = np.append(_blank_entries(labels), True)
        if splits is not None and splits is not self.splits:
            self.splits = splits
            self.keys = [v if v else MISSING for v in splits.to_pylist()] + [MISSING]
        self.total = np.zeros((len(self.keys), len(self.blank)), dtype=np.int64)

    def keep(self) -> None:
        """Fold the counts so far into each split's labels."""
        if self.labels is None:
            return
        for row, key in zip(self.total, self.keys, strict=True):
            rows = int(row.sum())
            if rows:
                labels = self.per_split.setdefault(key, _Labels())
                labels.add(self.labels, np.where(self.blank[:-1], 0, row[:-1]))
                lost = int(row[self.blank].sum())
                if lost:
                    self.missing_by[key] = self.missing_by.get(key, 0) + lost

    def result(self, split_col: str | None, first_missing: int | None) -> LabelCounts:
        self.keep()
        by_split = {key: labels.counts() for key, labels in self.per_split.items()}
        if split_col is None:
            counts = by_split.get(None, {})
            missing = self.missing_by.get(None, 0)
            return LabelCounts(counts, missing, first_missing_row=first_missing)
        overall: dict[str, int] = {}
        for per in by_split.values():
            for label, n in per.items():
                overall[label] = overall.get(label, 0) + n
        return LabelCounts(
            overall,
            sum(self.missing_by.values()),
            by_split={str(k): v for k, v in by_split.items()},
            missing_by_split={str(k): v for k, v in self.missing_by.items()},
            first_missing_row=first_missing,
        )


def _codes_of(column: pa.Array, *, limit: int) -> bool:
    """Whether a column can be counted from its codes: dictionary-encoded text with at most
    ``limit`` values. Other values (a pandas category of numbers) are cast to text, and
    bytes checked as UTF-8 where the row can be named, by the general counter."""
    if not isinstance(column, pa.DictionaryArray):
        return False
    kind = column.type.value_type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    return (text or _is_string_view(kind)) and len(column.dictionary) <= limit


def _is_string_view(kind: pa.DataType) -> bool:
    return bool(getattr(pa.types, "is_string_view", lambda _: False)(kind))


def count_by_codes(
    batches: Iterator[pa.RecordBatch], label_col: str, split_col: str | None = None
) -> tuple[LabelCounts, pa.RecordBatch | None, int]:
    """Label counts (and split × label counts) of dictionary-encoded batches, read while
    they allow it.

    Stops at the first batch that is not dictionary-encoded, holds bytes, has another
    value type than the first, or whose dictionary is large for its rows (ID-like labels:
    Arrow's own count is then cheaper), and returns it with the number of rows counted,
    for the general counter to go on from there.
    """
    tally = _Tally()
    kinds: tuple[pa.DataType, ...] | None = None
    first_missing: int | None = None
    seen = 0
    # codes widened into a reused buffer: a fresh array per batch costs more in new memory
    # pages than the count (np.bincount works on platform integers)
    wide = np.empty(0, dtype=np.intp)
    for batch in batches:
        labels = batch.column(label_col)
        splits = batch.column(split_col) if split_col is not None else None
        if not _codes_of(labels, limit=max(len(labels) // 4, 4096)) or (
            splits is not None and not _codes_of(splits, limit=_MAX_SPLITS)
        ):
            return tally.result(split_col, first_missing), batch, seen
        if splits is not None and (len(splits.dictionary) + 1) * (len(labels.dictionary) + 1) > max(
            4 * len(labels), 1 << 20
        ):  # a table of counts larger than the batch
            return tally.result(split_col, first_missing), batch, seen
        here = (labels.type, splits.type if splits is not None else None)
        if kinds not in (None, here):
            return tally.result(split_col, first_missing), batch, seen
        kinds = here
        new_labels = tally.labels is None or not tally.labels.equals(labels.dictionary)
        new_splits = splits is not None and (
            tally.splits is None or not tally.splits.equals(splits.dictionary)
        )
        if new_labels or new_splits:
            tally.switch(
                labels.dictionary if new_labels else tally.labels,
                splits.dictionary if new_splits else None,  # type: ignore[union-attr]
            )
        n = len(labels)
        if len(wide) < n:
            wide = np.empty(n, dtype=np.intp)
        codes = wide[:n]
        width = len(tally.blank)
        np.copyto(codes, arrays.integers(labels.indices, null=width - 1), casting="safe")
        if splits is not None:
            codes += (
                arrays.integers(splits.indices, null=len(tally.keys) - 1).astype(np.intp) * width
            )
        found = np.bincount(codes, minlength=tally.total.size).reshape(tally.total.shape)
        tally.total += found
        if first_missing is None and found[:, tally.blank].any():
            missing_rows = tally.blank[arrays.integers(labels.indices, null=width - 1)]
            first_missing = seen + int(np.argmax(missing_rows)) + 1
        seen += batch.num_rows
    return tally.result(split_col, first_missing), None, seen
