"""Reading the label sets of a multi-label manifest.

Three ways a manifest holds several labels per row:

* a delimited text column (``red|dress|summer``) with ``sep``;
* a list column (Parquet ``list<string>``, JSON lines arrays);
* one 0/1 column per label (``label_cols``: names or glob patterns).

Labels are kept verbatim (no trimming, no case folding). A row with no label (an empty or
missing cell, an empty list, all-zero indicator columns) is an empty label set: counted,
not an error, unless ``strict``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest import LABEL_CANDIDATES, column_error, detect_column

# the labels every candidate column name holds: "labels", "tags" first
MULTI_LABEL_CANDIDATES = ("labels", "tags", *LABEL_CANDIDATES)


@dataclass(frozen=True)
class LabelSets:
    """The label sets of a manifest's rows.

    ``names`` is the label vocabulary in output order (sorted text for a delimited or list
    column, column order for ``label_cols``); ``indicator[i, j]`` says whether row ``i``
    has label ``names[j]``.
    """

    names: list[str]
    indicator: npt.NDArray[np.bool_]
    columns: list[str]  # the column(s) the labels came from
    sep: str | None = None

    @property
    def rows(self) -> int:
        return int(self.indicator.shape[0])

    @property
    def empty_rows(self) -> int:
        """Rows with no label at all."""
        return int((~self.indicator.any(axis=1)).sum())


def expand_label_cols(patterns: Sequence[str], columns: Sequence[str], *, where: str) -> list[str]:
    """Columns named by ``patterns`` (names or globs such as ``tag_*``), in table order."""
    chosen: set[str] = set()
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            hits = fnmatch.filter(columns, pattern)
            if not hits:
                raise RebalanceError(f"{where}: no column matches --label-cols {pattern!r}")
            chosen.update(hits)
        elif pattern not in columns:
            raise column_error(where, pattern, columns)
        else:
            chosen.add(pattern)
    return [c for c in columns if c in chosen]


def read_label_sets(
    table: pa.Table,
    *,
    label_col: str | None = None,
    sep: str | None = None,
    label_cols: Sequence[str] | None = None,
    strict: bool = False,
    where: str = "data",
    require_several: bool = True,
) -> LabelSets:
    """The label sets of ``table``: from ``label_cols`` (0/1 columns), else from the label
    column (given or detected), split on ``sep`` when it is text or read as a list.

    Raises :class:`RebalanceError` naming the column or value for a column that is not
    multi-label (text without ``sep``, or no value with ``sep`` in it — unless not
    ``require_several``: predictions may hold one label a row), an indicator column with a
    value other than 0/1, and (with ``strict``) a row without labels.
    """
    columns = list(table.column_names)
    if label_cols:
        if label_col is not None or sep is not None:
            raise RebalanceError("--label-cols names 0/1 columns: leave out --label-col and --sep")
        chosen = expand_label_cols(label_cols, columns, where=where)
        sets = LabelSets(
            names=chosen,
            indicator=np.column_stack(
                [_indicator_column(table.column(c), c, where) for c in chosen]
            ),
            columns=chosen,
        )
    else:
        name = detect_column(
            columns, label_col, MULTI_LABEL_CANDIDATES, where=where, flag="--label-col"
        )
        assert name is not None
        sets = _from_column(table.column(name), name, sep, where, require_several)
    if strict and sets.empty_rows:
        first = int(np.flatnonzero(~sets.indicator.any(axis=1))[0]) + 1
        raise RebalanceError(
            f"{where}: {sets.empty_rows:,} row(s) have no label (first at data row {first}); "
            "without --strict they count as empty label sets"
        )
    return sets


def _indicator_column(column: pa.ChunkedArray, name: str, where: str) -> npt.NDArray[np.bool_]:
    """A 0/1 (or true/false) column as booleans; a missing cell is 0."""
    if pa.types.is_boolean(column.type):
        return np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = np.asarray(column.fill_null(0).to_numpy(zero_copy_only=False), dtype=float)
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            raise RebalanceError(
                f"{where}: --label-cols column {name!r} has {float(values[bad][0])!r} at data row "
                f"{int(np.flatnonzero(bad)[0]) + 1}; indicator columns hold 0 or 1"
            )
        ones: npt.NDArray[np.bool_] = values == 1.0
        return ones
    text = column.cast(pa.string()).to_pylist()
    truth = {"1": True, "0": False, "true": True, "false": False, "": False}
    out = np.zeros(len(text), dtype=bool)
    for i, value in enumerate(text):
        if value is None:
            continue
        key = value.strip().lower()
        if key not in truth:
            raise RebalanceError(
                f"{where}: --label-cols column {name!r} has {value!r} at data row {i + 1}; "
                "indicator columns hold 0 or 1"
            )
        out[i] = truth[key]
    return out


def _from_column(
    column: pa.ChunkedArray, name: str, sep: str | None, where: str, require_several: bool
) -> LabelSets:
    type_ = column.type
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _from_lists(column, name, where)
    if pa.types.is_dictionary(type_):
        column = column.cast(type_.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise RebalanceError(
            f"{where}: label column {name!r} holds {type_}, not label sets: give a text column "
            "with --sep, a list column, or 0/1 columns with --label-cols"
        )
    if sep is None and _json_lists(column):
        rows = [_json_cell(v, name, where, i) for i, v in enumerate(column.to_pylist())]
        return _sets(rows, [name], None)
    if sep is None:
        raise RebalanceError(
            f"{where}: label column {name!r} is text: give the separator of its labels with "
            "--sep (e.g. --sep '|'), or use a list column or --label-cols"
        )
    if sep == "":
        raise RebalanceError("--sep is empty: give the text between labels, e.g. --sep '|'")
    values = column.to_pylist()
    if require_several and not any(v is not None and sep in v for v in values):
        raise RebalanceError(
            f"{where}: no value of label column {name!r} contains {sep!r}: it is not multi-label "
            "(leave out --multi-label, or give the right --sep)"
        )
    rows = [[] if v is None else [t for t in v.split(sep) if t != ""] for v in values]
    return _sets(rows, [name], sep)


def _from_lists(column: pa.ChunkedArray, name: str, where: str) -> LabelSets:
    """Label sets of a list column, from its flat values and offsets (no row loop)."""
    from rebalance import arrays

    lists = column.combine_chunks()
    values = lists.flatten().to_pylist()  # null lists contribute nothing
    if any(v is None for v in values):  # the row loop names the first row with one
        for i, v in enumerate(column.to_pylist()):
            _list_cell(v, name, where, i)
    text = [v if isinstance(v, str) else str(v) for v in values]
    names = sorted(set(text))
    position = {label: j for j, label in enumerate(names)}
    wide = pa.types.is_large_list(lists.type)
    offsets = np.frombuffer(lists.buffers()[1], dtype=np.int64 if wide else np.int32)
    lengths = np.diff(offsets[lists.offset : lists.offset + len(lists) + 1]).astype(np.int64)
    lengths[~arrays.valid(lists)] = 0
    rows = np.repeat(np.arange(len(lists)), lengths)
    cols = np.fromiter((position[t] for t in text), dtype=np.int64, count=len(text))
    indicator = np.zeros((len(lists), len(names)), dtype=bool)
    indicator[rows, cols] = True
    return LabelSets(names=names, indicator=indicator, columns=[name], sep=None)


def _json_lists(column: pa.ChunkedArray) -> bool:
    """Whether every value of a text column is written as a JSON list (``["a", "b"]``): how
    a list column goes into CSV, so that a written label set reads back as the same set."""
    import pyarrow.compute as pc

    text = column.drop_null()
    if len(text) == 0:
        return False
    return bool(pc.all(pc.match_substring_regex(text, r"^\s*\[.*\]\s*$")).as_py())


def _json_cell(value: Any, name: str, where: str, row: int) -> list[str]:
    import json

    if value is None:
        return []
    try:
        items = json.loads(value)
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise RebalanceError(
            f"{where}: label column {name!r} has {value[:60]!r} at data row {row + 1}, not a "
            'JSON list of labels (["a", "b"])'
        )
    return list(items)


def _list_cell(value: Any, name: str, where: str, row: int) -> list[str]:
    if value is None:
        return []
    out = []
    for item in value:
        if item is None:
            raise RebalanceError(
                f"{where}: label column {name!r} has a missing label in its list at data row "
                f"{row + 1}"
            )
        out.append(item if isinstance(item, str) else str(item))
    return out


def _sets(rows: list[list[str]], columns: list[str], sep: str | None) -> LabelSets:
    names = sorted({label for labels in rows for label in labels})
    position = {label: j for j, label in enumerate(names)}
    indicator = np.zeros((len(rows), len(names)), dtype=bool)
    for i, labels in enumerate(rows):
        for label in labels:
            indicator[i, position[label]] = True
    return LabelSets(names=names, indicator=indicator, columns=columns, sep=sep)
