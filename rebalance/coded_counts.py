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
from rebalance.manifest import is_bytes_type

_PENDING = 1 << 21  # dictionary entries held before they are mapped onto the labels seen


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


def count_by_codes(
    batches: Iterator[pa.RecordBatch], label_col: str
) -> tuple[LabelCounts, pa.RecordBatch | None, int]:
    """Label counts (no split) of dictionary-encoded batches, read while they allow it.

    Stops at the first batch that is not dictionary-encoded, holds bytes, has another
    value type than the first, or whose dictionary is large for its rows (ID-like labels:
    Arrow's own count is then cheaper), and returns it with the number of rows counted,
    for the general counter to go on from there.
    """
    labels_seen = _Labels()
    kind: pa.DataType | None = None
    first_missing: int | None = None
    missing = 0
    seen = 0
    dictionary: pa.Array | None = None
    blank = np.ones(1, dtype=bool)  # dictionary code -> missing label; the last is null
    total = np.zeros(1, dtype=np.int64)
    # codes widened into a reused buffer: a fresh array per batch costs more in new memory
    # pages than the count (np.bincount works on platform integers)
    wide = np.empty(0, dtype=np.intp)

    def keep_total() -> None:
        if dictionary is not None:
            labels_seen.add(dictionary, np.where(blank[:-1], 0, total[:-1]))

    def finish() -> LabelCounts:
        keep_total()
        return LabelCounts(labels_seen.counts(), missing, first_missing_row=first_missing)

    for batch in batches:
        labels = batch.column(label_col)
        if not isinstance(labels, pa.DictionaryArray) or is_bytes_type(labels.type.value_type):
            # bytes are checked as UTF-8 where the row can be named: by the general counter
            return finish(), batch, seen
        if dictionary is None or not dictionary.equals(labels.dictionary):
            size = len(labels.dictionary)
            if kind not in (None, labels.type.value_type) or size > max(len(labels) // 4, 4096):
                return finish(), batch, seen
            kind = labels.type.value_type
            keep_total()
            dictionary = labels.dictionary
            blank = np.append(_blank_entries(dictionary), True)
            total = np.zeros(size + 1, dtype=np.int64)
        n = len(labels)
        if len(wide) < n:
            wide = np.empty(n, dtype=np.intp)
        codes = wide[:n]
        np.copyto(codes, arrays.integers(labels.indices, null=len(blank) - 1), casting="safe")
        found = np.bincount(codes, minlength=len(blank))
        total += found
        lost = int(found[blank].sum())
        if lost and first_missing is None:
            first_missing = seen + int(np.argmax(blank[codes])) + 1
        missing += lost
        seen += batch.num_rows
    return finish(), None, seen
