"""Random resampling piece by piece: each class's exact key cut-off without a global sort.

:func:`rebalance.samplers.random.select` keeps, per class, the ``extra`` rows with the
smallest (key, input position), where ``extra`` is what is left of the class's target
after whole copies of the class. An engine that sees a manifest in pieces (files, row
groups, batches: each with the input index of its first row) finds the same rows from
small per-piece results, in three passes over the label (split, id) columns:

1. :func:`histogram` — per class that needs a cut, how many of the piece's rows fall in
   each of 128 buckets of the high key bits (the buckets sized so that the cut should fall
   in the lower half; one more bucket holds every key above);
2. :func:`boundary_rows` — summed, the histograms name the one bucket that holds each
   class's cut (:meth:`Cuts.from_histogram`); each piece returns the key and position of
   its rows in that bucket only, a few per class;
3. :meth:`Cuts.settle` — the exact cut-off of each class is the ``need``-th smallest (key,
   position) among those; then :func:`choose` tells each piece, on its own, which of its
   rows stay and which are copied.

Memory is the histograms (classes × 129 counts) and one piece at a time, however many
rows the manifest has. The rows are those of the in-process selection: tests compare
them at several piece layouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.samplers import random as rnd

BUCKETS = 128  # buckets below a class's key limit; bucket BUCKETS holds the keys above it

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


@dataclass(frozen=True)
class Coder:
    """How a piece's rows become class codes and row keys (sent to every worker).

    ``labels`` are every label of the manifest in sorted order (a row's class code is its
    index); ``splits`` the split values resampled (``None``: every row). Rows of other
    splits, and rows without a label, pass through (code ``-1``); with ``drop_missing``
    rows without a label are left out of the output instead.
    """

    label_col: str
    labels: tuple[str, ...]
    split_col: str | None = None
    splits: tuple[str, ...] | None = None
    id_col: str | None = None
    seed: int = 0
    drop_missing: bool = False

    def columns(self) -> list[str]:
        """The columns the codes and keys are made from."""
        wanted = [self.label_col]
        if self.splits is not None and self.split_col is not None:
            wanted.append(self.split_col)
        if self.id_col is not None:
            wanted.append(self.id_col)
        return wanted

    def codes(self, table: pa.Table) -> tuple[I32, npt.NDArray[np.bool_]]:
        """Each row's class code (``-1``: passes through) and whether it has no label."""
        from rebalance.manifest import missing_mask

        known = pa.array(self.labels, pa.string())
        # index of each distinct value among the labels (-1: none), per row
        codes = _lookup(table.column(self.label_col), lambda d: pc.index_in(d, value_set=known))
        blank = _lookup(table.column(self.label_col), missing_mask, null=1).astype(bool)
        codes[blank] = -1
        if self.splits is not None and self.split_col is not None:
            wanted = pa.array(list(self.splits), pa.string())
            inside = _lookup(
                table.column(self.split_col), lambda d: pc.is_in(d, value_set=wanted), null=0
            )
            codes[inside != 1] = -1
        return codes, blank

    def keys(
        self, table: pa.Table, first_row: int, dropped: npt.NDArray[np.bool_] | None = None
    ) -> rnd.U64:
        """The row keys of a piece whose first row is input row ``first_row``."""
        n = table.num_rows
        if self.id_col is None:
            return rnd.RowKeys(self.seed).block(first_row, n)
        from rebalance.manifest import labels_as_text

        ids = _combined(labels_as_text(table.column(self.id_col)))
        null = arrays.booleans(pc.is_null(ids))
        if dropped is not None:
            null &= ~dropped
        if null.any():
            raise RebalanceError(
                f"--id-col {self.id_col!r} has empty values: every row needs an id"
            )
        hashes = rnd.text_hashes(pc.fill_null(ids, ""))
        return rnd.RowKeys(self.seed, hashes).at(np.arange(n, dtype=np.int64))


def _lookup(column: Any, fn: Any, null: int = -1) -> I32:
    """``fn`` applied to each distinct text value of a column, spread to its rows (as int32;
    ``null`` for null rows): dictionary chunks are looked up through their indices."""
    from rebalance.manifest import labels_as_text

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = np.empty(sum(len(c) for c in chunks), dtype=np.int32)
    at = 0
    for chunk in chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(labels_as_text(chunk))
        values = fn(labels_as_text(chunk.dictionary))
        table = np.append(arrays.integers(pc.fill_null(values.cast(pa.int32()), -1)), null)
        np.take(
            table, arrays.integers(pc.fill_null(chunk.indices, -1)), out=out[at : at + len(chunk)]
        )
        at += len(chunk)
    return out


def _combined(values: Any) -> Any:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


@dataclass(frozen=True)
class Cuts:
    """What each piece needs to choose its rows: per class code, the target split into
    ``whole`` copies of the class and ``extra`` rows more, and where the extra rows end.

    A row of a class with ``extra > 0`` is one of its extra rows when its bucket is below
    ``boundary``, or in it with (key, position) at most (``key``, ``position``).
    """

    sizes: I64  # rows resampled per class, over the whole manifest
    whole: I64
    extra: I64
    shift: npt.NDArray[np.uint64]  # a key's bucket is key >> shift (at most BUCKETS)
    boundary: I64  # -1 where no cut is needed
    below: I64  # extra rows in the buckets under the boundary
    key: npt.NDArray[np.uint64]
    position: I64

    @classmethod
    def plan(cls, sizes: I64, targets: I64) -> Cuts:
        """The first step: whole copies, extra rows and bucket widths (no boundary yet)."""
        sizes = np.asarray(sizes, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        safe = np.maximum(sizes, 1)
        whole, extra = targets // safe, targets % safe
        # the same margin as the in-process candidate threshold: the cut falls below the
        # limit but for rare classes of crowded keys (then it is in the top bucket)
        share = np.minimum(1.0, (extra * 1.05 + 8.0 * np.sqrt(extra) + 16.0) / safe)
        shift = np.full(len(sizes), 57, dtype=np.uint64)
        for code in np.flatnonzero((extra > 0) & (share < 0.5)):
            limit = int(share[code] * 2.0**64)
            shift[code] = max(0, limit.bit_length() - 7)
        k = len(sizes)
        return cls(
            sizes, whole, extra, shift, np.full(k, -1, dtype=np.int64),
            np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.uint64), np.zeros(k, dtype=np.int64),
        )  # fmt: skip

    @property
    def partial(self) -> npt.NDArray[np.bool_]:
        """Classes cut somewhere inside (``extra > 0``)."""
        return np.asarray(self.extra > 0)

    def from_histogram(self, counts: I64) -> Cuts:
        """The boundary bucket of each class, from the summed histograms (classes × 129)."""
        running = np.cumsum(counts, axis=1)
        boundary = np.full(len(self.sizes), -1, dtype=np.int64)
        below = np.zeros(len(self.sizes), dtype=np.int64)
        for code in np.flatnonzero(self.partial):
            b = int(np.searchsorted(running[code], self.extra[code]))
            boundary[code] = b
            below[code] = running[code, b - 1] if b > 0 else 0
        return Cuts(
            self.sizes, self.whole, self.extra, self.shift, boundary, below, self.key, self.position
        )

    def settle(self, codes: I32, keys: rnd.U64, positions: I64) -> Cuts:
        """The exact cut-off of each class from the rows of its boundary bucket."""
        order = np.lexsort((positions, keys, codes))
        codes, keys, positions = codes[order], keys[order], positions[order]
        start = np.searchsorted(codes, np.arange(len(self.sizes)))
        key = np.zeros(len(self.sizes), dtype=np.uint64)
        position = np.zeros(len(self.sizes), dtype=np.int64)
        for code in np.flatnonzero(self.partial):
            at = start[code] + self.extra[code] - self.below[code] - 1
            key[code] = keys[at]
            position[code] = positions[at]
        return Cuts(
            self.sizes, self.whole, self.extra, self.shift, self.boundary, self.below, key, position
        )


def _buckets(codes: I32, keys: rnd.U64, cuts: Cuts) -> I64:
    """Each row's bucket (rows of classes without a cut: anything; check ``partial``)."""
    safe = np.maximum(codes, 0)
    buckets: I64 = np.minimum(keys >> cuts.shift[safe], np.uint64(BUCKETS)).astype(np.int64)
    return buckets


def histogram(codes: I32, keys: rnd.U64, cuts: Cuts) -> I64:
    """Pass 1 on one piece: rows per (class, bucket), as a classes × 129 array."""
    k = len(cuts.sizes)
    rows = np.flatnonzero(np.append(cuts.partial, False)[codes])
    flat = codes[rows].astype(np.int64) * (BUCKETS + 1) + _buckets(codes[rows], keys[rows], cuts)
    return np.bincount(flat, minlength=k * (BUCKETS + 1)).reshape(k, BUCKETS + 1)


def boundary_rows(
    codes: I32, keys: rnd.U64, first_row: int, cuts: Cuts
) -> tuple[I32, rnd.U64, I64]:
    """Pass 2 on one piece: class, key and input position of its rows in a boundary bucket."""
    rows = np.flatnonzero(np.append(cuts.partial, False)[codes])
    rc = codes[rows]
    hit = _buckets(rc, keys[rows], cuts) == cuts.boundary[rc]
    rows = rows[hit]
    return codes[rows], keys[rows], rows.astype(np.int64) + first_row


@dataclass(frozen=True)
class Chosen:
    """One piece's part of the output: rows kept (ascending; ``None``: all) and copies
    (by class, copy number, position) with their class and copy number."""

    kept: I64 | None
    added: I64
    added_class: I64
    added_copy: I64


def choose(
    codes: I32,
    keys: rnd.U64,
    first_row: int,
    cuts: Cuts,
    blank: npt.NDArray[np.bool_] | None = None,
    drop_missing: bool = False,
) -> Chosen:
    """Pass 3 on one piece: which of its rows stay, and which are copied how often."""
    k = len(cuts.sizes)
    rows = np.flatnonzero(np.append(cuts.partial, False)[codes])
    rc = codes[rows]
    bucket = _buckets(rc, keys[rows], cuts)
    edge = cuts.boundary[rc]
    rk = keys[rows]
    at = rows.astype(np.int64) + first_row
    under = (rk < cuts.key[rc]) | ((rk == cuts.key[rc]) & (at <= cuts.position[rc]))
    picks = rows[(bucket < edge) | ((bucket == edge) & under)].astype(np.int64)
    sizes = rnd.bincount(codes, k)
    cut = (cuts.whole == 0) & (sizes > 0)
    kept: I64 | None = None
    dropping = drop_missing and blank is not None and bool(blank.any())
    if cut.any() or dropping:
        keep = np.append(~cut, True)[codes]
        keep[picks] = True
        if dropping:
            assert blank is not None
            keep &= ~blank
        kept = np.flatnonzero(keep).astype(np.int64)
    grow = (sizes > 0) & (cuts.whole >= 1) & ((cuts.whole >= 2) | (cuts.extra > 0))
    if not grow.any():
        empty = np.empty(0, dtype=np.int64)
        return Chosen(kept, empty, empty, empty)
    added, added_copy = rnd._copies(codes, sizes, cuts.whole, cuts.extra, grow, picks)
    return Chosen(kept, added, codes[added].astype(np.int64), added_copy)


def copy_order(classes: I64, copies: I64) -> I64:
    """The order of several pieces' copies (concatenated in piece order) in the output:
    by class, then copy number, then input position, as in process."""
    return np.lexsort((copies, classes)).astype(np.int64)
