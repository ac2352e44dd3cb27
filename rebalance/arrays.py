"""numpy <-> Arrow conversions that do not wake pyarrow's pandas shim.

``pa.array(numpy_array)``, ``Array.to_numpy()`` and Python scalars passed to
``pyarrow.compute`` all import pandas on first use, which costs a command about
0.2 s and 50 MB. The random resampling path stays on these buffer-level helpers,
so ``rebalance resample`` never imports pandas unless a method needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

_TYPES = {
    np.dtype(np.int8): pa.int8(),
    np.dtype(np.int16): pa.int16(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.uint8): pa.uint8(),
    np.dtype(np.uint16): pa.uint16(),
    np.dtype(np.uint32): pa.uint32(),
    np.dtype(np.uint64): pa.uint64(),
    np.dtype(np.float32): pa.float32(),
    np.dtype(np.float64): pa.float64(),
}


class _Compute:
    """``pyarrow.compute``, imported on first use: its import (0.02 s, every compute function
    wrapped) is most of what a plain count pays beyond pyarrow itself."""

    def __getattr__(self, name: str) -> Any:
        import pyarrow.compute

        return getattr(pyarrow.compute, name)


pc: Any = _Compute()


def _bits(mask: npt.NDArray[np.bool_]) -> pa.Buffer:
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def to_arrow(values: npt.NDArray[Any], *, null: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """A numeric or boolean numpy array as an Arrow array; ``null`` marks missing entries."""
    validity = None if null is None or not null.any() else _bits(~null)
    if values.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), len(values), [validity, _bits(values)])
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(_TYPES[data.dtype], len(data), [validity, pa.py_buffer(data)])


def valid(array: pa.Array) -> npt.NDArray[np.bool_]:
    """Which entries of an Arrow array are not null."""
    n = len(array)
    if array.null_count == 0:
        return np.ones(n, dtype=bool)
    bitmap = array.buffers()[0]
    assert bitmap is not None  # a null count above 0 means a validity bitmap
    bits = np.unpackbits(
        np.frombuffer(bitmap, dtype=np.uint8), bitorder="little", count=array.offset + n
    )
    return bits[array.offset :].astype(bool)


def integers(array: pa.Array, *, null: int = -1) -> npt.NDArray[Any]:
    """An integer Arrow array as numpy (a view when it has no nulls); nulls become ``null``."""
    width = array.type.bit_width
    if len(array) == 0:
        return np.empty(0, dtype=f"int{width}")
    values: npt.NDArray[Any] = np.frombuffer(
        array.buffers()[1], dtype=f"int{width}", count=len(array), offset=array.offset * width // 8
    )
    if array.null_count:
        values = values.copy()
        values[~valid(array)] = null
    return values


def floats(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.float64]:
    """A float64 Arrow array (or chunked array) without nulls as numpy (a copy).

    Arrow's ``to_numpy`` goes through pyarrow's pandas shim, which imports pandas (0.2 s)
    on a path that never needs it.
    """
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    parts = [
        np.frombuffer(c.buffers()[1], dtype=np.float64, count=len(c), offset=c.offset * 8)
        for c in chunks
        if len(c)
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)


def booleans(array: pa.Array | pa.ChunkedArray, *, null: bool = False) -> npt.NDArray[np.bool_]:
    """A boolean Arrow array (or chunked array) as numpy; nulls become ``null``."""
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    parts = [np.zeros(0, dtype=bool)]
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        bits = np.unpackbits(
            np.frombuffer(chunk.buffers()[1], dtype=np.uint8),
            bitorder="little",
            count=chunk.offset + n,
        )[chunk.offset :].astype(bool)
        if chunk.null_count:
            bits[~valid(chunk)] = null
        parts.append(bits)
    return np.concatenate(parts)


def text(values: Sequence[str | None]) -> pa.Array:
    """Python strings (``None``: null) as an Arrow string array."""
    data = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    validity = _bits(~missing) if missing.any() else None
    return pa.Array.from_buffers(
        pa.string(), len(data), [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    )


def scalar(value: str | bool | int) -> pa.Scalar:
    """A string, boolean or integer Arrow scalar, for ``pyarrow.compute`` arguments."""
    if isinstance(value, bool):
        return to_arrow(np.array([value]))[0]
    if isinstance(value, int):
        return to_arrow(np.array([value], dtype=np.int64))[0]
    return text([value])[0]


def take(table: pa.Table, indices: npt.NDArray[np.int64]) -> pa.Table:
    """Rows of a table by position.

    Ascending positions (kept rows) are taken batch by batch: Arrow's own ``take`` on a
    table of many chunks first joins each column into one array, a copy of the whole
    table. Other orders go to Arrow's ``take``.
    """
    batches = table.to_batches()
    ascending = len(indices) < 2 or bool(np.all(indices[1:] >= indices[:-1]))
    if len(batches) <= 1 or len(indices) == 0:
        return table.take(to_arrow(indices.astype(np.int64, copy=False)))
    if not ascending:
        # each distinct row once, in order (cheap, as above), then one take from those
        rows, slot = distinct(indices, table.num_rows)
        pool = take(table, rows).combine_chunks()
        return _gather(pool, slot)
    starts = np.zeros(len(batches) + 1, dtype=np.int64)
    np.cumsum([b.num_rows for b in batches], out=starts[1:])
    cuts = np.searchsorted(indices, starts)
    parts = [
        batch.take(to_arrow((indices[lo:hi] - start).astype(np.int64)))
        for batch, start, lo, hi in zip(batches, starts[:-1], cuts[:-1], cuts[1:], strict=True)
        if hi > lo
    ]
    return pa.Table.from_batches(parts, schema=table.schema)


_PARALLEL_TAKE = 1 << 20  # rows per piece when a large gather is split over two threads


def _gather(table: pa.Table, slot: npt.NDArray[np.int64]) -> pa.Table:
    """``table.take(slot)``; a large one in two halves at once (Arrow's take releases the
    GIL), giving a table of two chunks per column."""
    if len(slot) < 2 * _PARALLEL_TAKE:
        return table.take(to_arrow(slot))
    from concurrent.futures import ThreadPoolExecutor

    half = len(slot) // 2
    with ThreadPoolExecutor(2, thread_name_prefix="rebalance-take") as pool:
        parts = list(pool.map(lambda s: table.take(to_arrow(s)), (slot[:half], slot[half:])))
    return pa.concat_tables(parts)


def distinct(
    positions: npt.NDArray[np.int64], rows: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct positions (each below ``rows``), ascending, and where each one is among them."""
    if len(positions) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    if rows <= 4 * len(positions) + 10_000_000:
        # a slot per input row: one scatter and one gather, no sort
        slot = np.full(rows, -1, dtype=np.int64 if rows >= 2**31 else np.int32)
        slot[positions] = 0
        found = np.flatnonzero(slot == 0)
        slot[found] = np.arange(len(found))
        return found.astype(np.int64), slot[positions].astype(np.int64)
    order = np.argsort(positions)
    ordered = positions[order]
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    where = np.empty(len(positions), dtype=np.int64)
    where[order] = np.cumsum(first) - 1
    return ordered[first].astype(np.int64), where
