"""Random under/over-sampling by hashed row keys: reproducible without a global shuffle.

Each row gets a 64-bit key ``splitmix64(splitmix64(seed) ^ rowkey)``, where
``rowkey`` is the row's position in the input, or a hash of its ``--id-col`` value.
For a class with ``n`` rows and target ``t``:

* ``t <= n`` keeps the ``t`` rows with the smallest keys (undersampling without
  replacement);
* ``t = q·n + r`` keeps every row, adds ``q − 1`` more whole copies of each, and one
  more copy of the ``r`` rows with the smallest keys (oversampling as evenly as
  possible).

Rows with equal keys (repeated ``--id-col`` values) rank by input position. The
choice depends only on (seed, row key, class, target), so an engine that sees the
rows in partitions can make the same choice: per class, the smallest keys.
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

    def block(self, start: int, n: int) -> U64:
        """The keys of rows ``start .. start + n - 1``."""
        if self.ids is not None:
            return self.at(np.arange(start, start + n, dtype=np.int64))
        base = np.arange(start, start + n, dtype=np.uint64)
        base ^= seed_mix(self.seed, self.stream)
        return splitmix64(base)


@dataclass(frozen=True)
class Selection:
    """Which input rows go out: ``kept`` originals (input order; ``None``: every row) and ``added`` copies."""

    kept: I64 | None
    added: I64
    added_copy: I64  # 1 for the first extra copy of a row, 2 for the next, ...


def select(codes: npt.NDArray[Any], keys: U64 | RowKeys, targets: Sequence[int]) -> Selection:
    """Carry out per-class targets on rows given by class code (``-1``: pass through).

    Parameters
    ----------
    codes:
        Class code of each row, ``0..k-1`` (rebalance numbers classes in sorted label
        order); ``-1`` for rows that are not resampled (another split, a missing
        label): they are kept as they are.
    keys:
        Row keys (:func:`row_keys`), or a :class:`RowKeys` that computes only those needed.
    targets:
        Target rows for each class code.

    Returns
    -------
    Selection
        Kept rows in input order; added copies ordered by class code, then copy
        number, then input position. Equal keys rank by input position.
    """
    k = len(targets)
    target = np.asarray(targets, dtype=np.int64)
    sizes = bincount(codes, k)
    safe = np.maximum(sizes, 1)
    whole, extra = target // safe, target % safe
    picks = _smallest_keys(codes, keys, extra, sizes)
    kept: I64 | None = None  # every row stays: no index array at all
    cut = (whole == 0) & (sizes > 0)
    if cut.any():
        # a class code of -1 indexes the appended last flag: pass-through rows stay
        keep = np.append(~cut, True)[codes]
        keep[picks] = True
        kept = np.flatnonzero(keep)
    grow = (sizes > 0) & (whole >= 1) & ((whole >= 2) | (extra > 0))
    if not grow.any():
        empty = np.empty(0, dtype=np.int64)
        return Selection(kept=kept, added=empty, added_copy=empty)
    added, added_copy = _copies(codes, sizes, whole, extra, grow, picks)
    return Selection(kept=kept, added=added, added_copy=added_copy)


def _starts(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Exclusive running sum: where each group starts in a grouped array."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _smallest_keys(
    codes: npt.NDArray[Any],
    keys: U64 | RowKeys,
    extra: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
) -> I64:
    """Rows among the ``extra[c]`` smallest (key, position) of their class, ascending."""
    k = len(extra)
    partial = extra > 0
    if not partial.any():
        return np.empty(0, dtype=np.int64)
    # Only rows that can be among their class's `extra` smallest keys need ranking: keys
    # are uniform, so rows under a per-class key threshold sized for `extra` plus a wide
    # margin are the candidates. When a class has at least `extra` candidates, its
    # `extra` smallest keys are all among them, so the choice is exact; a class with too
    # few (keys crowded by an adversarial --id-col) takes every row instead.
    safe = np.maximum(sizes, 1)
    share = np.minimum(1.0, (extra * 1.05 + 8.0 * np.sqrt(extra) + 16.0) / safe)
    limit = (np.minimum(share, 0.5) * 2.0**64).astype(np.uint64)
    limit[share > 0.5] = np.iinfo(np.uint64).max
    rows, rc, rk = _candidates(codes, keys, np.append(partial, False), limit)
    short = partial & (np.bincount(rc, minlength=k) < extra)
    if short.any():
        # every row of those classes: the ones above the threshold join the candidates
        more = _candidates(codes, keys, np.append(short, False), limit, above=True)
        rows, rc, rk = (np.concatenate(pair) for pair in zip((rows, rc, rk), more, strict=True))
        by_row = np.argsort(rows, kind="stable")
        rows, rc, rk = rows[by_row], rc[by_row], rk[by_row]
    # Rank by one sort of plain integers (fast): the class code in the top bits, the key's
    # high bits below it. The class's extra-th smallest value is its threshold; rows
    # below it are in, and rows equal to it (keys that agree in their high bits, or equal
    # keys) are settled by the full key, then the position.
    bits = max(1, int(k - 1).bit_length())  # codes are int32, so bits <= 31
    combined = (rc.astype(np.uint64) << np.uint64(64 - bits)) | (rk >> np.uint64(bits))
    ordered = np.sort(combined)
    starts = _starts(np.bincount(rc, minlength=k).astype(np.int64))
    cls = np.flatnonzero(partial)
    threshold = np.zeros(k, dtype=np.uint64)
    threshold[cls] = ordered[starts[cls] + extra[cls] - 1]
    mine = threshold[rc]
    pick = combined < mine
    tie = combined == mine
    need = extra - np.bincount(rc[pick], minlength=k)
    tied = np.bincount(rc[tie], minlength=k)
    settled = tied == need
    if settled[partial].all():
        pick |= tie
    else:
        pick |= tie & settled[rc]
        at = np.flatnonzero(tie & ~settled[rc])
        at = at[np.lexsort((rows[at], rk[at], rc[at]))]
        tc = rc[at]
        rank = np.arange(len(at), dtype=np.int64) - _starts(np.bincount(tc, minlength=k))[tc]
        pick[at[rank < need[tc]]] = True
    chosen: I64 = rows[pick].astype(np.int64, copy=False)
    return chosen


def _candidates(
    codes: npt.NDArray[Any],
    keys: U64 | RowKeys,
    wanted: npt.NDArray[np.bool_],
    limit: U64,
    *,
    above: bool = False,
) -> tuple[I64, npt.NDArray[Any], U64]:
    """Rows of the wanted classes whose key is at most (or, ``above``, over) their class limit.

    Block by block: on a large input, whole-array temporaries (positions, keys, limits)
    cost more in fresh memory pages than the arithmetic itself.
    """
    found_rows, found_codes, found_keys = [], [], []
    bound = np.append(limit, np.uint64(0))  # code -1: the last entry (never wanted)
    for start in range(0, len(codes), _BLOCK):
        block = codes[start : start + _BLOCK]
        mask = wanted[block]
        if isinstance(keys, RowKeys) and keys.ids is None and mask.mean() > 0.5:
            # most rows are wanted: hash the whole block of positions, skip the gathers
            every = keys.block(start, len(block))
            over = every > bound[block]
            hit = mask & (over if above else ~over)
            rows = np.flatnonzero(hit)
            found_rows.append(rows + start)
            found_codes.append(block[rows])
            found_keys.append(every[rows])
            continue
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        rc = block[rows]
        rows += start
        rk = keys.at(rows) if isinstance(keys, RowKeys) else keys[rows]
        hit = (rk > limit[rc]) if above else (rk <= limit[rc])
        found_rows.append(rows[hit])
        found_codes.append(rc[hit])
        found_keys.append(rk[hit])
    if not found_rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint64)
    return np.concatenate(found_rows), np.concatenate(found_codes), np.concatenate(found_keys)


def _copies(
    codes: npt.NDArray[Any],
    sizes: npt.NDArray[np.int64],
    whole: npt.NDArray[np.int64],
    extra: npt.NDArray[np.int64],
    grow: npt.NDArray[np.bool_],
    picks: I64,
) -> tuple[I64, I64]:
    """Added copies, class by class: rounds 1..whole-1 hold every row, round ``whole`` the picks.

    The output is a run of blocks, each a slice of one source array: per class, its
    rows (grouped by class, input order) once per full round, then its picks.
    """
    rows = np.flatnonzero(np.append(grow, False)[codes])
    grouped = rows[np.argsort(_narrow(codes[rows]), kind="stable")]
    last = picks[grow[codes[picks]]]
    last = last[np.argsort(_narrow(codes[last]), kind="stable")]
    source = np.concatenate([grouped, last])
    k = len(sizes)
    group_start = _starts(np.where(grow, sizes, 0))
    last_count = np.bincount(codes[last], minlength=k)
    last_start = len(grouped) + _starts(last_count)
    rounds = np.where(grow, whole - 1, 0)  # full rounds per class
    blocks = rounds + (last_count > 0)
    cls = np.flatnonzero(blocks)
    per_class = blocks[cls]
    block_class = np.repeat(cls, per_class)
    block_round = np.arange(len(block_class), dtype=np.int64) - np.repeat(
        _starts(per_class), per_class
    )
    is_full = block_round < rounds[block_class]
    block_from = np.where(is_full, group_start[block_class], last_start[block_class])
    block_len = np.where(is_full, sizes[block_class], last_count[block_class])
    total = int(block_len.sum())
    # the slot's offset inside its block, plus where the block begins in `source`
    shift = np.repeat(block_from - _starts(block_len), block_len)
    added = source[np.arange(total, dtype=np.int64) + shift]
    copy_no = np.repeat(block_round + 1, block_len)
    return added, copy_no


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
