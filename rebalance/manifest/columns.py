"""Finding the role columns of a manifest (label, split, paths) and reading labels as text."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from rebalance import arrays
from rebalance.arrays import pc
from rebalance.errors import RebalanceError

if TYPE_CHECKING:
    pass

LABEL_CANDIDATES: tuple[str, ...] = ("label", "class", "target", "y", "category")
SPLIT_CANDIDATES: tuple[str, ...] = ("split",)
MISSING = "<missing>"
PATH_NAMES = (
    "path",
    "file",
    "filepath",
    "file_path",
    "filename",
    "image",
    "image_path",
    "img",
    "mask",
)
PATH_SUFFIX = (
    r"\.(png|jpe?g|gif|bmp|tiff?|webp|wav|mp3|flac|ogg|mp4|avi|mov|npy|npz|dcm|nii(\.gz)?|txt)$"
)

# ---------------------------------------------------------------- columns


def column_error(
    where: str, name: str, columns: Sequence[str], *, flag: str = ""
) -> RebalanceError:
    """The error for a column that is not there, with the closest name as a hint."""
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in columns}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    hint = f" (did you mean {close[0]!r}?)" if close else f" (columns: {', '.join(columns)})"
    return RebalanceError(f"{where}: no column {name!r}{hint}")


def detect_column(
    columns: Sequence[str],
    given: str | None,
    candidates: Sequence[str],
    *,
    where: str,
    flag: str,
    required: bool = True,
) -> str | None:
    """Pick a column: the one given, else the single candidate present.

    Raises when the given column is absent (suggesting the closest name), when no
    candidate is present and ``required``, and when several candidates are present.
    """
    if given is not None:
        if given not in columns:
            raise column_error(where, given, columns)
        return given
    exact = [c for c in candidates if c in columns]
    found = exact or [c for c in columns if c.lower() in candidates]
    if len(found) > 1:
        raise RebalanceError(
            f"{where}: several columns could be the {flag[2:].replace('-col', '')} "
            f"({', '.join(map(repr, found))}); choose one with {flag}"
        )
    if found:
        return found[0]
    if required:
        raise RebalanceError(
            f"{where}: no label column found among {', '.join(candidates)} "
            f"(name it with {flag}; columns: {', '.join(columns)})"
        )
    return None


def label_and_split(
    columns: Sequence[str],
    label_col: str | None,
    split_col: str | None,
    *,
    detect_split: bool = True,
    where: str,
) -> tuple[str, str | None]:
    """The label column (given or detected, required) and the split column (given, detected or none)."""
    label = detect_column(columns, label_col, LABEL_CANDIDATES, where=where, flag="--label-col")
    assert label is not None
    split = detect_column(
        columns,
        split_col,
        SPLIT_CANDIDATES if detect_split else (),
        where=where,
        flag="--split-col",
        required=False,
    )
    if split == label:
        raise RebalanceError(f"{where}: the label and split columns are both {label!r}")
    return label, split


def is_list_type(kind: pa.DataType) -> bool:
    """A list column (of any list type): one cell holds several values."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
        or getattr(pa.types, "is_list_view", lambda _: False)(kind)
        or getattr(pa.types, "is_large_list_view", lambda _: False)(kind)
    )


def check_label_type(
    kind: pa.DataType | None, name: str, *, where: str, multi_label_hint: bool = True
) -> None:
    """Refuse a label column whose values are not labels: lists (multi-label data, unless
    read as such), structs, maps and unions, naming the column and its type."""
    if kind is None:
        return
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if is_list_type(kind):
        hint = "; give --multi-label" if multi_label_hint else ""
        raise RebalanceError(
            f"{where}: column {name!r} holds lists ({kind}): that is multi-label data{hint}"
        )
    if pa.types.is_nested(kind) or pa.types.is_union(kind):
        raise RebalanceError(
            f"{where}: column {name!r} holds {kind} values, which are not labels "
            "(choose another --label-col)"
        )


def labels_as_text(
    column: pa.Array | pa.ChunkedArray,
    *,
    name: str | None = None,
    where: str | None = None,
    first_row: int = 0,
) -> pa.Array | pa.ChunkedArray:
    """Label values as text, nulls kept: stored text as is, other types cast to string.

    Bytes are decoded as UTF-8 (bytes that are not UTF-8 are refused, naming the first
    such row, counted from ``first_row``); lists, structs, maps and unions are refused
    (:func:`check_label_type`). ``name`` and ``where`` name the column and file in errors.
    """
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_string(column.type):
        return column
    shown = f"column {name!r}" if name is not None else "a label column"
    prefix = f"{where}: " if where is not None else ""
    check_label_type(column.type, name or "?", where=where or "manifest")  # lists, structs...
    if is_bytes_type(column.type):
        return _bytes_as_text(column, f"{prefix}{shown}", first_row)
    return column.cast(pa.string())


def is_bytes_type(kind: pa.DataType) -> bool:
    """Binary values: labels only where they are UTF-8 text."""
    return bool(pa.types.is_binary(kind) or pa.types.is_large_binary(kind))


def _bytes_as_text(
    column: pa.Array | pa.ChunkedArray, shown: str, first_row: int
) -> pa.Array | pa.ChunkedArray:
    try:
        return column.cast(pa.string())
    except pa.ArrowInvalid:
        pass
    for row, value in enumerate(column.to_pylist()):
        try:
            value is None or value.decode("utf-8")
        except UnicodeDecodeError:
            raise RebalanceError(
                f"{shown} holds bytes that are not UTF-8 text (first at data row "
                f"{first_row + row + 1}: {value[:20]!r}); labels are text"
            ) from None
    raise RebalanceError(f"{shown} holds bytes that are not UTF-8 text")


def missing_mask(labels: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """True where a label (already text) is null or empty."""
    empty = pc.equal(pc.utf8_length(labels), arrays.scalar(0))
    return pc.fill_null(empty, arrays.scalar(True))
