"""The state one resample carries from step to step: the rows, and the method's choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.resampling.roles import Columns, _label_codes


@dataclass
class Rows:
    """The rows being resampled: the table, each row's label code (``-1``: none or not
    selected) and, once rows are left out, each row's input position."""

    table: pa.Table
    columns: Columns
    dictionary: list[str]
    codes: npt.NDArray[Any]
    positions: npt.NDArray[np.int64] | None = None  # input position of each row, if not 0..n-1
    selected: npt.NDArray[np.bool_] | None = None  # the rows of the splits resampled

    def leave_out(self, gone: npt.NDArray[np.bool_]) -> None:
        """Drop the ``gone`` rows; the others keep their input positions."""
        n = self.table.num_rows
        self.positions = (np.arange(n) if self.positions is None else self.positions)[~gone]
        self.table = self.table.filter(arrays.to_arrow(~gone))
        self.selected = None if self.selected is None else self.selected[~gone]
        self.dictionary, self.codes = _label_codes(self.table.column(self.columns.label))


@dataclass
class Chosen:
    """The method's choice: the rows kept (``None``: all), the rows copied, new rows."""

    kept: npt.NDArray[np.int64] | None
    added: npt.NDArray[np.int64]
    synthetic: pa.Table | None = None
    synthetic_rank: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    feature_names: list[str] = field(default_factory=list)
    augmented: pa.Table | None = None  # augment writes its own output table
    images: Any = None  # an image method's ImageChoice, when the caller keeps it
