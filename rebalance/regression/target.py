"""Reading a numeric regression target and binning it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError

BINNINGS = ("width", "quantile")
# a numeric label with more distinct values than this looks like a regression target
MANY_VALUES = 50


def read_target(table: pa.Table, column: str, *, where: str = "data") -> npt.NDArray[np.float64]:
    """The column as floats; a value that is not a number, or a missing one, is an error
    naming the value and its data row."""
    values = table.column(column)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        out = np.asarray(values.to_numpy(zero_copy_only=False), dtype=float)  # nulls: NaN
        missing = np.flatnonzero(np.isnan(out))
        if len(missing):
            raise RebalanceError(
                f"{where}: regression target {column!r} is missing at data row {missing[0] + 1} "
                f"({len(missing):,} row(s)); fill or drop them first"
            )
        if not np.isfinite(out).all():
            row = int(np.flatnonzero(~np.isfinite(out))[0])
            raise RebalanceError(
                f"{where}: regression target {column!r} is infinite at data row {row + 1}"
            )
        return out
    text = values.cast(pa.string()).to_pylist()
    out = np.empty(len(text))
    for i, value in enumerate(text):
        try:
            number = float(value) if value is not None and value.strip() != "" else None
        except ValueError:
            raise RebalanceError(
                f"{where}: regression target {column!r} has {value!r} at data row {i + 1}, "
                "not a number"
            ) from None
        if number is None:
            raise RebalanceError(
                f"{where}: regression target {column!r} is missing at data row {i + 1}; "
                "fill or drop such rows first"
            )
        if not np.isfinite(number):
            raise RebalanceError(
                f"{where}: regression target {column!r} is {value!r} at data row {i + 1}"
            )
        out[i] = number
    return out


def looks_like_regression(labels: Sequence[str]) -> bool:
    """Whether labels are numbers with many distinct values (then a hint suggests --regression)."""
    distinct = set(labels)
    if len(distinct) <= MANY_VALUES:
        return False
    try:
        numbers = {float(v) for v in distinct}
    except (TypeError, ValueError):
        return False
    return len(numbers) > MANY_VALUES


@dataclass(frozen=True)
class Bins:
    """Bin edges over the target (``edges[i] <= y < edges[i + 1]``, the last bin closed)."""

    edges: npt.NDArray[np.float64]
    binning: str

    @property
    def count(self) -> int:
        return len(self.edges) - 1

    def index(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
        """The bin of each value (values outside the edges go to the nearest end bin)."""
        inner = self.edges[1:-1]
        found: npt.NDArray[np.intp] = np.searchsorted(inner, y, side="right").astype(np.intp)
        return found


def make_bins(y: npt.NDArray[np.float64], bins: int, binning: str = "width") -> Bins:
    """``bins`` equal-width bins over [min, max], or quantile bins (equal rows, edges at the
    quantiles; repeated edges merged, so there may be fewer)."""
    if binning not in BINNINGS:
        raise RebalanceError(f"--binning {binning!r} is not one of: {', '.join(BINNINGS)}")
    if bins < 1:
        raise RebalanceError(f"--bins must be at least 1, got {bins}")
    if len(y) == 0:
        raise RebalanceError("no rows to bin")
    low, high = float(y.min()), float(y.max())
    if low == high:
        raise RebalanceError(
            f"the regression target has one value only ({low:g}): there is nothing to balance"
        )
    if binning == "width":
        edges = np.linspace(low, high, bins + 1)
    else:
        edges = np.unique(np.quantile(y, np.linspace(0.0, 1.0, bins + 1)))
    return Bins(edges=np.asarray(edges, dtype=float), binning=binning)


def histogram(y: npt.NDArray[np.float64], bins: Bins) -> npt.NDArray[np.int64]:
    """Rows per bin."""
    return np.bincount(bins.index(y), minlength=bins.count).astype(np.int64)
