"""Random under/over-sampling by hashed row keys: reproducible without a global shuffle.

Each row gets a 64-bit key ``splitmix64(splitmix64(seed) ^ rowkey)``, where
``rowkey`` is the row's position in the input, or a hash of its ``--id-col`` value.
For a class with ``n`` rows and target ``t``:

* ``t <= n`` keeps the ``t`` rows with the smallest keys (undersampling without
  replacement);
* ``t = q·n + r`` keeps every row, adds ``q − 1`` more whole copies of each, and one
  more copy of the ``r`` rows with the smallest keys (oversampling as evenly as
  possible).

The choice depends only on (seed, row key, class, target), so an engine that sees
the rows in partitions can make the same choice: per class, the smallest keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


_BLOCK = 1 << 16


def splitmix64(x: U64) -> U64:
    """The splitmix64 finalizer, element-wise (wrapping uint64 arithmetic).

    Works in cache-sized blocks: on large arrays the temporaries of a whole-array
    expression cost more in fresh memory pages than the arithmetic itself.
    """
    out = np.empty(len(x), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, len(x), _BLOCK):
            z = x[start : start + _BLOCK] + _GOLDEN
            z ^= z >> np.uint64(30)
            z *= _M1
            z ^= z >> np.uint64(27)
            z *= _M2
            z ^= z >> np.uint64(31)
            out[start : start + _BLOCK] = z
    return out


def seed_mix(seed: int, stream: int = 0) -> np.uint64:
    """A 64-bit value derived from the seed; ``stream`` separates independent uses."""
    value = np.array([(seed * 1_000_003 + stream) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
    return np.uint64(splitmix64(value)[0])


def text_hashes(values: pa.Array | pa.ChunkedArray) -> U64:
    """Stable 64-bit hashes of text values (pandas' SipHash with a fixed key)."""
    from pandas.util import hash_array

    texts = np.asarray(values.to_pylist(), dtype=object)
    return np.asarray(
        hash_array(texts, hash_key="rebalance-v1-key", categorize=True), dtype=np.uint64
    )


def row_keys(n: int, seed: int, ids: U64 | None = None, stream: int = 0) -> U64:
    """The 64-bit key of each row: from its position, or from hashed ids."""
    return RowKeys(seed, ids, stream).at(np.arange(n, dtype=np.int64))


@dataclass(frozen=True)
class RowKeys:
    """Row keys computed on demand, for the rows that need them only."""

    seed: int
    ids: U64 | None = None
    stream: int = 0

    def at(self, positions: npt.NDArray[np.int64]) -> U64:
        base = positions.astype(np.uint64) if self.ids is None else self.ids[positions]
        base ^= seed_mix(self.seed, self.stream)
        return splitmix64(base)


@dataclass(frozen=True)
class Selection:
    """Which input rows go out: ``kept`` originals (input order; ``None``: every row) and ``added`` copies."""

    kept: I64 | None
    added: I64
    added_copy: I64  # 1 for the first extra copy of a row, 2 for the next, ...


def select(codes: npt.NDArray[np.int64], keys: U64 | RowKeys, targets: Sequence[int]) -> Selection:
    """Carry out per-class targets on rows given by class code (``-1``: pass through).

    Parameters
    ----------
    codes:
        Class code of each row, ``0..k-1``, numbered in order of first appearance
        (as Arrow's ``dictionary_encode`` numbers them); ``-1`` for rows that are not
        resampled (another split, a missing label): they are kept as they are.
    keys:
        Row keys (:func:`row_keys`), or a :class:`RowKeys` that computes only those needed.
    targets:
        Target rows for each class code.

    Returns
    -------
    Selection
        Kept rows in input order; added copies ordered by class code, then copy
        number, then input position.
    """
    n = len(codes)
    k = len(targets)
    target = np.asarray(targets, dtype=np.int64)
    blocks = range(0, n, _BLOCK)
    # Elementwise work runs block by block: on large inputs, fresh whole-array
    # temporaries cost more in page faults than the arithmetic itself.
    sizes = bincount(codes, k)
    safe = np.maximum(sizes, 1)
    whole, extra = target // safe, target % safe
    partial = extra > 0
    # only classes with a partial round (extra > 0) need ranks by key, and only of the rows
    # that can be among their `extra` smallest keys: keys are uniform, so rows under a
    # per-class key threshold sized for `extra` plus a wide margin are the candidates.
    # Whenever a class has at least `extra` candidates, its `extra` smallest keys are all
    # among them, so the choice is exact; a class with too few falls back to all its rows.
    share = np.minimum(1.0, (extra * 1.05 + 8.0 * np.sqrt(extra) + 16.0) / safe)
    limit = (np.minimum(share, 0.5) * 2.0**64).astype(np.uint64)
    limit[share > 0.5] = np.iinfo(np.uint64).max
    copies = np.empty(n, dtype=np.int32)
    whole32 = whole.astype(np.int32)
    cand_rows, cand_codes, cand_keys = [], [], []
    found = np.zeros(k, dtype=np.int64)
    for start in blocks:
        block = codes[start : start + _BLOCK]
        active = block >= 0
        c = np.where(active, block, 0)
        copies[start : start + _BLOCK] = np.where(active, whole32[c], 1)
        rows = np.flatnonzero(active & partial[c])
        if len(rows):
            rc = block[rows]
            rk = keys.at(rows + start) if isinstance(keys, RowKeys) else keys[rows + start]
            hit = rk <= limit[rc]
            cand_rows.append(rows[hit] + start)
            cand_codes.append(rc[hit])
            cand_keys.append(rk[hit])
            found += np.bincount(rc[hit], minlength=k)
    short = partial & (found < extra)
    if short.any():
        # too few candidates under the threshold: take every row of those classes instead
        for start in blocks:
            block = codes[start : start + _BLOCK]
            rows = np.flatnonzero((block >= 0) & short[np.where(block >= 0, block, 0)])
            if len(rows):
                rc = block[rows]
                rk = keys.at(rows + start) if isinstance(keys, RowKeys) else keys[rows + start]
                miss = rk > limit[rc]  # the ones under the threshold are already candidates
                cand_rows.append(rows[miss] + start)
                cand_codes.append(rc[miss])
                cand_keys.append(rk[miss])
    if cand_rows:
        ranked = np.concatenate(cand_rows)
        sub_codes = np.concatenate(cand_codes)
        order = sort_by_class_then_key(sub_codes, np.concatenate(cand_keys), k)
        sorted_codes = sub_codes[order]
        sub_sizes = np.bincount(sub_codes, minlength=k).astype(np.int64)
        starts = np.zeros(k, dtype=np.int64)
        starts[1:] = np.cumsum(sub_sizes)[:-1]
        rank = np.empty(len(ranked), dtype=np.int64)
        rank[order] = np.arange(len(ranked), dtype=np.int64) - starts[sorted_codes]
        copies[ranked] += (rank < extra[sub_codes]).astype(np.int32)
    kept_parts, pos_parts, copy_parts = [], [], []
    kept_count = 0
    for start in blocks:
        chunk = copies[start : start + _BLOCK]
        kept_local = np.flatnonzero(chunk >= 1)
        kept_count += len(kept_local)
        kept_parts.append(kept_local + start)
        extra_rows = np.flatnonzero(chunk > 1)
        if len(extra_rows):
            more = chunk[extra_rows].astype(np.int64) - 1
            offsets = np.cumsum(more) - more
            pos_parts.append(np.repeat(extra_rows + start, more))
            copy_parts.append(
                np.arange(int(more.sum()), dtype=np.int64) - np.repeat(offsets, more) + 1
            )
    kept: I64 | None = None  # every row stays: no index array at all
    if kept_count != n:
        kept = np.concatenate(kept_parts) if kept_parts else np.empty(0, dtype=np.int64)
    if not pos_parts:
        empty = np.empty(0, dtype=np.int64)
        return Selection(kept=kept, added=empty, added_copy=empty)
    positions = np.concatenate(pos_parts)
    copy_no = np.concatenate(copy_parts)
    # positions are ascending: two stable sorts (by copy number, then by class code) give
    # class / copy / position order; on 16-bit keys numpy sorts them by radix
    by_copy = np.argsort(_narrow(copy_no), kind="stable")
    arrangement = by_copy[np.argsort(_narrow(codes[positions[by_copy]]), kind="stable")]
    return Selection(kept=kept, added=positions[arrangement], added_copy=copy_no[arrangement])


def bincount(codes: npt.NDArray[Any], k: int) -> npt.NDArray[np.int64]:
    """Rows per class code (codes < 0 ignored), block by block.

    ``np.bincount`` wants 64-bit input: on a whole int32 column that is a fresh copy.
    """
    counts = np.zeros(k, dtype=np.int64)
    for start in range(0, len(codes), _BLOCK):
        block = codes[start : start + _BLOCK]
        counts += np.bincount(block[block >= 0], minlength=k)
    return counts


def _narrow(values: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """The smallest integer type that holds the values: numpy sorts 16-bit ones by radix."""
    top = int(values.max()) if len(values) else 0
    for dtype in (np.int16, np.int32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values


def sort_by_class_then_key(codes: npt.NDArray[np.int64], keys: U64, k: int) -> npt.NDArray[np.intp]:
    """Row order by class code (pass-through rows, code -1, first), then by key."""
    by_key = np.argsort(keys)
    return by_key[
        np.argsort(_narrow(codes[by_key] + 1) if k < 32_000 else codes[by_key], kind="stable")
    ]


def select_groups(
    codes: npt.NDArray[np.int64],
    group_codes: npt.NDArray[np.int64],
    group_keys: U64,
    targets: Sequence[int],
) -> tuple[npt.NDArray[np.bool_], dict[int, int]]:
    """Undersampling that keeps or drops whole groups of a class.

    Per class, groups are taken in key order while they fit under the target
    (first fit), so the result never exceeds it. Returns a keep mask over the rows
    and the rows kept per class code.
    """
    keep = np.ones(len(codes), dtype=bool)
    achieved: dict[int, int] = {}
    for code, target in enumerate(targets):
        rows = np.flatnonzero(codes == code)
        if len(rows) <= target:
            achieved[code] = len(rows)
            continue
        groups, sizes = np.unique(group_codes[rows], return_counts=True)
        order = np.argsort(group_keys[groups], kind="stable")
        chosen = []
        room = target
        for g, size in zip(groups[order], sizes[order], strict=True):
            if size <= room:
                chosen.append(g)
                room -= int(size)
            if room == 0:
                break
        kept_rows = np.isin(group_codes[rows], np.asarray(chosen, dtype=group_codes.dtype))
        keep[rows[~kept_rows]] = False
        achieved[code] = int(kept_rows.sum())
    return keep, achieved
