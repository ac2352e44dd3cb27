"""Pieces of a Parquet manifest: runs of row groups of one file, each with the input index of
its first row and its hive partition values. What the Dask engine sends to its workers; their
counts are merged in row order, so every layout of pieces gives the same answer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from rebalance.counts import LabelCounts, counts_sum
from rebalance.errors import RebalanceError
from rebalance.manifest import Source


@dataclass(frozen=True)
class Piece:
    """Row groups of one Parquet file: what one task reads."""

    url: str  # the file as the user named it (local path or URL)
    row_groups: tuple[int, ...]
    offset: int  # input row index of its first row
    partitions: tuple[tuple[str, str], ...] = ()  # hive partition columns and values
    storage: tuple[tuple[str, str], ...] = ()  # --storage-option, for workers


def _storage() -> tuple[tuple[str, str], ...]:
    from rebalance.storage import OPTIONS

    env = {k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3") if k in os.environ}
    return tuple(sorted({**{f"env:{k}": v for k, v in env.items()}, **OPTIONS}.items()))


def pieces(source: Source, parts: int | None = None) -> list[Piece]:
    """The pieces of a Parquet file or dataset, in row order; ``parts`` splits each file's
    row groups into that many runs at most (default: one piece per file)."""
    import pyarrow.parquet as pq

    from rebalance.manifest import dataset_files, hive_values

    if source.format != "parquet" or source.is_stdio:
        raise RebalanceError(
            f"{source.name}: --engine dask reads Parquet files, folders and s3:// prefixes "
            "(convert CSV/JSON lines to Parquet first)"
        )
    remote = source.filesystem is not None
    # paths on the source's filesystem; workers get them back as URLs
    where = source.fs_path if remote else source.path
    scheme = source.path.split("://")[0] + "://" if remote else ""
    files = dataset_files(source) if source.dataset else [where]
    base = where if source.dataset else ""
    out: list[Piece] = []
    offset = 0
    storage = _storage()
    for path in files:
        handle = source.filesystem.open_input_file(path) if remote else path
        meta = pq.ParquetFile(handle).metadata
        groups = list(range(meta.num_row_groups))
        runs = np.array_split(
            np.array(groups, dtype=int), max(1, min(parts or 1, len(groups) or 1))
        )
        partitions = hive_values(path, base) if base else ()
        for run in runs:
            rows = sum(meta.row_group(int(g)).num_rows for g in run)
            out.append(
                Piece(scheme + path, tuple(int(g) for g in run), offset, partitions, storage)
            )
            offset += rows
    return out


def read_piece(piece: Piece, columns: Sequence[str] | None, coded: Sequence[str] = ()) -> pa.Table:
    """The columns of a piece (all for ``None``; partition columns as text), on whichever
    worker runs it; the ``coded`` text columns dictionary-encoded (written back as text)."""
    import pyarrow.parquet as pq

    from rebalance import storage
    from rebalance.manifest import _mark_coded, partition_column

    if "://" in piece.url:
        options = {k: v for k, v in piece.storage if not k.startswith("env:")}
        for key, value in piece.storage:
            if key.startswith("env:"):
                os.environ.setdefault(key[4:], value)
        if storage.OPTIONS != options:  # a worker of another process: the client's options
            storage.OPTIONS.clear()
            storage.OPTIONS.update(options)
        fs, path = storage.filesystem(piece.url)
        handle: Any = fs.open_input_file(path)
    else:
        handle = piece.url
    values = dict(piece.partitions)
    schema = pq.read_schema(handle) if coded or columns is None else None
    if columns is None:
        assert schema is not None
        columns = [*schema.names, *(c for c in values if c not in schema.names)]
    physical = [c for c in columns if c not in values]
    dictionary = [
        c
        for c in coded
        if schema is not None and c in physical and pa.types.is_string(schema.field(c).type)
    ]
    if dictionary and not isinstance(handle, str):
        handle.seek(0)
    pf = pq.ParquetFile(handle, read_dictionary=dictionary or None)
    table = pf.read_row_groups(list(piece.row_groups), columns=physical)
    partitions = [name for name in columns if name in values]
    for name in partitions:
        table = table.append_column(name, partition_column(values[name], table.num_rows))
    return _mark_coded(table.select(list(columns)), [*dictionary, *partitions])


def count_piece(piece: Piece, label_col: str, split_col: str | None) -> LabelCounts:
    """Label (and split × label) counts of one piece."""
    from rebalance.stats import count_batches

    wanted = [label_col] if split_col is None else [label_col, split_col]
    # read dictionary-encoded: counting then touches each distinct value once
    return count_batches(read_piece(piece, wanted, wanted).to_batches(), label_col, split_col)


def merge_counts(parts: Sequence[LabelCounts], offsets: Sequence[int]) -> LabelCounts:
    """One count of several pieces' counts (``offsets``: each piece's first input row),
    classes ordered by count."""
    merged = counts_sum(parts, offsets)
    ordered = dict(sorted(merged.counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return replace(merged, counts=ordered)
