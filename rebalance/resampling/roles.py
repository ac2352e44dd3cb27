"""The roles of a manifest's columns (label, split, group, id), the rows resampled, and the label codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    detect_column,
    label_and_split,
    labels_as_text,
)
from rebalance.samplers import random as rnd


class RoleOptions(TypedDict):
    """The column-role keyword arguments of :func:`resample`."""

    label_col: str
    split_col: str | None
    group_col: str | None
    id_col: str | None


@dataclass(frozen=True)
class Columns:
    """The roles of a manifest's columns."""

    label: str
    split: str | None
    group: str | None
    id: str | None

    def options(self) -> RoleOptions:
        """As :func:`resample`'s keyword arguments."""
        return {
            "label_col": self.label,
            "split_col": self.split,
            "group_col": self.group,
            "id_col": self.id,
        }

    def roles(self) -> list[str]:
        """The columns that have a role, in the order label, split, group, id."""
        return [c for c in (self.label, self.split, self.group, self.id) if c is not None]


def resolve_columns(
    names: Sequence[str],
    *,
    label_col: str | None,
    split_col: str | None,
    detect_split: bool,
    group_col: str | None,
    id_col: str | None,
    where: str,
) -> Columns:
    label, split = label_and_split(
        names, label_col, split_col, detect_split=detect_split, where=where
    )
    group = detect_column(names, group_col, (), where=where, flag="--group-col", required=False)
    ident = detect_column(names, id_col, (), where=where, flag="--id-col", required=False)
    roles = [c for c in (label, split, group, ident) if c is not None]
    if len(roles) != len(set(roles)):
        raise RebalanceError(
            f"{where}: one column cannot be two of label/split/group/id ({', '.join(roles)})"
        )
    return Columns(label, split, group, ident)


def selected_rows(
    table: pa.Table,
    columns: Columns,
    *,
    only_splits: Sequence[str] | None,
    all_splits: bool,
    where: str,
) -> npt.NDArray[np.bool_] | None:
    """Which rows are resampled: those of ``only_splits``; ``None`` for every row."""
    if columns.split is None:
        if only_splits:
            raise RebalanceError(f"{where}: --only-split needs a split column (--split-col)")
        return None
    if all_splits and not only_splits:
        return None
    column = table.column(columns.split)
    present = {str(s) for s in labels_as_text(pc.unique(column)).to_pylist() if s is not None}
    if not only_splits:
        raise _choose_splits(where, columns.split, sorted(present))
    unknown = [s for s in only_splits if s not in present]
    if unknown:
        raise RebalanceError(
            f"{where}: no split {unknown[0]!r} in column {columns.split!r} "
            f"(splits: {', '.join(sorted(present))})"
        )
    wanted = pa.array(list(only_splits), pa.string())
    if pa.types.is_dictionary(column.type):
        column = column.unify_dictionaries()
        chunks = [c for c in column.chunks if len(c)]
        if not chunks:
            return np.zeros(0, dtype=bool)
        hit = np.append(
            arrays.booleans(pc.is_in(labels_as_text(chunks[0].dictionary), value_set=wanted)), False
        )
        return np.concatenate([hit[arrays.integers(c.indices)] for c in chunks])
    return arrays.booleans(pc.is_in(labels_as_text(column), value_set=wanted))


def _choose_splits(where: str, split_col: str | None, names: Sequence[str]) -> RebalanceError:
    return RebalanceError(
        f"{where}: column {split_col!r} holds splits ({', '.join(names)}); resampling validation or "
        "test rows leaks into evaluation: choose --only-split train, or --all-splits to resample every row"
    )


def _label_codes(column: pa.ChunkedArray) -> tuple[list[str], npt.NDArray[Any]]:
    """The labels in sorted order, and each row's label code (``-1``: no label).

    A dictionary-encoded column (as :func:`~rebalance.manifest.read_manifest` reads
    label columns) is coded from its indices, chunk by chunk, without decoding the
    text of every row.
    """
    if not isinstance(column, pa.ChunkedArray):
        column = pa.chunked_array([column])
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(labels_as_text(column))
    chunks = [c for c in column.chunks if len(c)]
    dictionaries = [labels_as_text(c.dictionary) for c in chunks]
    values = pc.unique(pa.chunked_array(dictionaries, type=pa.string()))
    values = pc.drop_null(values)
    values = values.filter(arrays.to_arrow(arrays.integers(pc.utf8_length(values)) > 0))
    values = values.take(pc.sort_indices(values))  # byte order of UTF-8 = code point order
    labels = [str(v) for v in values.to_pylist()]
    codes = np.empty(len(column), dtype=np.int32)
    at = 0
    for chunk, dictionary in zip(chunks, dictionaries, strict=True):
        # this chunk's dictionary index -> sorted code; the extra last entry serves null (-1)
        remap = np.append(arrays.integers(pc.index_in(dictionary, value_set=values)), -1)
        np.take(remap, arrays.integers(chunk.indices), out=codes[at : at + len(chunk)])
        at += len(chunk)
    return labels, codes


def _ids(table: pa.Table, id_col: str | None) -> rnd.U64 | None:
    if id_col is None:
        return None
    values = labels_as_text(table.column(id_col))
    if values.null_count:
        raise RebalanceError(f"--id-col {id_col!r} has empty values: every row needs an id")
    return rnd.text_hashes(values)
