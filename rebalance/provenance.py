"""Provenance columns, and how they chain when a rebalance output is resampled again.

A resample with ``--provenance`` adds ``rebalance_source_row`` (the row of *its* input
each output row came from; empty for a row made from features alone) and
``rebalance_synthetic`` (the row is not a file row of the input as it was written).

When the input already carries these columns (it is a rebalance output), the output
keeps them current, with or without ``--provenance``:

* ``rebalance_source_row`` points at the immediate input's rows;
* ``rebalance_synthetic`` is true for a row made in this step, and stays true for a row
  that was synthetic in the input;
* ``rebalance_origin_row`` keeps the earlier lineage: the row of the *first* manifest of
  the chain (the input's own origin row, or its source row when it was the first step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance.errors import RebalanceError

SOURCE_ROW = "rebalance_source_row"
SYNTHETIC = "rebalance_synthetic"
ORIGIN_ROW = "rebalance_origin_row"
COLUMNS = (SOURCE_ROW, SYNTHETIC, ORIGIN_ROW)
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f", ""}


@dataclass(frozen=True)
class Lineage:
    """The provenance an input carried, per input row (``-1``: none)."""

    synthetic: npt.NDArray[np.bool_]
    origin: npt.NDArray[np.int64]


def _row_numbers(column: pa.ChunkedArray, name: str, where: str) -> npt.NDArray[np.int64]:
    if pa.types.is_integer(column.type):
        values = column
    else:
        text = pc.cast(column, pa.string())
        blank = pc.or_(pc.is_null(text), pc.equal(pc.utf8_trim_whitespace(text), ""))
        try:
            values = pc.cast(pc.if_else(blank, None, text), pa.int64())
        except pa.ArrowInvalid:
            raise RebalanceError(
                f"{where}: column {name!r} holds a value that is not a row number"
            ) from None
    out = np.asarray(pc.fill_null(pc.cast(values, pa.int64()), -1).to_numpy(zero_copy_only=False))
    return out.astype(np.int64, copy=False)


def _flags(column: pa.ChunkedArray, where: str) -> npt.NDArray[np.bool_]:
    if pa.types.is_boolean(column.type):
        return arrays.booleans(pc.fill_null(column, False))
    texts = pc.cast(column, pa.string()).to_pylist()
    out = np.zeros(len(texts), dtype=bool)
    for i, value in enumerate(texts):
        key = (value or "").strip().lower()
        if key in _TRUE:
            out[i] = True
        elif key not in _FALSE:
            raise RebalanceError(
                f"{where}: column {SYNTHETIC!r} holds {value!r} at data row {i + 1}, "
                "not true or false"
            )
    return out


def refuse_provenance_columns(names: list[str] | tuple[str, ...], where: str) -> None:
    """For the resamplers that do not chain provenance: columns that would clash."""
    for name in (SOURCE_ROW, SYNTHETIC):
        if name in names:
            raise RebalanceError(
                f"{where}: column {name!r} already exists: drop it, or run without --provenance"
            )


def take_lineage(table: pa.Table, where: str) -> tuple[pa.Table, Lineage | None]:
    """The table without its provenance columns, and the lineage they held (``None``
    when the table has none)."""
    present = [c for c in COLUMNS if c in table.column_names]
    if not present:
        return table, None
    n = table.num_rows
    source = (
        _row_numbers(table.column(SOURCE_ROW), SOURCE_ROW, where)
        if SOURCE_ROW in present
        else np.full(n, -1, dtype=np.int64)
    )
    origin = (
        _row_numbers(table.column(ORIGIN_ROW), ORIGIN_ROW, where)
        if ORIGIN_ROW in present
        else source
    )
    synthetic = (
        _flags(table.column(SYNTHETIC), where) if SYNTHETIC in present else np.zeros(n, bool)
    )
    return table.drop_columns(present), Lineage(synthetic=synthetic, origin=origin)


def with_provenance(
    table: pa.Table,
    sources: npt.NDArray[np.int64],
    synthetic: npt.NDArray[np.bool_],
    lineage: Lineage | None = None,
) -> pa.Table:
    """The table with its rows' input row (``-1``: none) and synthetic flag; with the
    input's ``lineage``, the flags chain and ``rebalance_origin_row`` is added."""
    sources = np.asarray(sources, dtype=np.int64)
    origin = None
    if lineage is not None:
        known = sources >= 0
        at = np.where(known, sources, 0)
        synthetic = synthetic | (known & lineage.synthetic[at])
        origin = np.where(known, lineage.origin[at], -1)
    table = table.append_column(SOURCE_ROW, arrays.to_arrow(sources, null=sources < 0))
    table = table.append_column(SYNTHETIC, arrays.to_arrow(np.asarray(synthetic, dtype=bool)))
    if origin is not None:
        table = table.append_column(ORIGIN_ROW, arrays.to_arrow(origin, null=origin < 0))
    return table


def rechain(table: pa.Table, lineage: Lineage) -> pa.Table:
    """A resample's output (with fresh provenance columns) chained to its input's lineage."""
    sources = _row_numbers(table.column(SOURCE_ROW), SOURCE_ROW, "output")
    flags = arrays.booleans(table.column(SYNTHETIC))
    return with_provenance(table.drop_columns([SOURCE_ROW, SYNTHETIC]), sources, flags, lineage)
