"""Reading manifests: CSV/TSV as text, Parquet with its types, JSON lines; whole or streamed.

The formats live beside this module (:mod:`~rebalance.manifest.text`,
:mod:`~rebalance.manifest.parquet`, :mod:`~rebalance.manifest.jsonl`); this one chooses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

import rebalance.manifest.parquet as parquet  # its tunables are read at run time (tests set them)
import rebalance.manifest.text as text
from rebalance.errors import RebalanceError
from rebalance.manifest.coded import _mark_coded, _unviewed_batches
from rebalance.manifest.columns import column_error
from rebalance.manifest.jsonl import _read_jsonl
from rebalance.manifest.parquet import (
    _PARALLEL_GROUP_ROWS,
    _coded_parquet,
    _parquet_file,
    _row_groups_in_parallel,
)
from rebalance.manifest.source import (
    Source,
    _partition_columns,
    dataset_schema,
    dataset_tables,
    open_dataset,
    resolve_source,
)
from rebalance.manifest.text import (
    _arrow_error,
    _csv_options,
    _done_with,
    _native_stream,
    _peek_text,
    _text_columns,
    _text_stream,
)


def _layout_table(source: Source) -> pa.Table:
    from rebalance.manifest.ondisk import read_layout

    return read_layout(source).table


def read_columns(source: Source) -> list[str]:
    """Column names of a manifest, reading as little of it as possible."""
    if source.layout:
        return list(_layout_table(source).column_names)
    if source.dataset:
        return list(dataset_schema(source)[0].names)
    if source.format == "parquet":
        return list(_parquet_file(source).schema_arrow.names)
    head, stream = _peek_text(source)
    if not source.is_stdio:
        stream.close()
    return _text_columns(head, source)


def read_types(source: Source) -> dict[str, pa.DataType]:
    """Column types a manifest declares without reading its rows: Parquet's schema; empty
    for text formats, whose values are text until read."""
    if source.layout:
        schema = _layout_table(source).schema
    elif source.dataset:
        schema = dataset_schema(source)[0]
    elif source.format == "parquet":
        schema = _parquet_file(source).schema_arrow
    else:
        return {}
    return {field.name: field.type for field in schema}


def iter_batches(
    source: Source, columns: Sequence[str], *, dictionary: Sequence[str] = ()
) -> Iterator[pa.RecordBatch]:
    """Stream the given columns of a manifest in record batches of bounded size.

    Only those columns are decoded (projection on Parquet, ``include_columns`` on
    CSV), so memory stays flat however large the file. Parquet's text columns, and the
    ``dictionary`` columns of a CSV/TSV, come dictionary-encoded (for counting). A large
    CSV/TSV without quotes is parsed on a thread per core.
    """
    if source.layout:
        table = _layout_table(source)
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise column_error(source.name, missing[0], table.column_names)
        yield from table.select(list(columns)).to_batches()
        return
    if source.dataset:
        try:
            # text columns decoded as dictionaries, as for a single file
            for table in dataset_tables(
                source, columns, columns, parquet._COLUMN_BATCH, counting=True
            ):
                yield from table.to_batches()
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc
        return
    if source.format == "parquet":
        # text columns decoded as dictionaries: counting then touches each distinct value once
        pf, coded = _coded_parquet(source, columns, memory_map=False)
        try:
            meta = pf.metadata
            groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
            if len(groups) > 1 and max(groups) <= _PARALLEL_GROUP_ROWS:
                batches = _row_groups_in_parallel(source, columns, list(coded), len(groups))
            else:
                batches = pf.iter_batches(batch_size=parquet._COLUMN_BATCH, columns=list(columns))
            yield from _unviewed_batches(batches)
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc
        return
    if source.format == "jsonl":
        yield from _jsonl_batches(source, columns)
        return
    head, stream = _text_stream(source)
    header = _text_columns(head, source)
    coded_text = [c for c in dictionary if c in header]
    ranges = text.parallel_ranges(source)
    if ranges is not None and len(ranges) > 1:
        _done_with(source, stream)
        try:
            yield from text.parallel_batches(source, header, columns, ranges, coded_text)
        except pa.ArrowException as exc:
            raise _arrow_error(source, exc) from exc
        return
    read, parse, convert = _csv_options(source, header, columns, coded_text)
    import pyarrow.csv as pacsv

    try:
        reader = pacsv.open_csv(
            stream, read_options=read, parse_options=parse, convert_options=convert
        )
        yield from reader
    except pa.ArrowException as exc:
        raise _arrow_error(source, exc) from exc
    finally:
        _done_with(source, stream)


def iter_tables(source: Source, dictionary: Sequence[str] = ()) -> Iterator[pa.Table]:
    """Every column of a Parquet file or dataset, in tables of bounded size (row order);
    the ``dictionary`` text columns (and partition columns) dictionary-encoded, written back
    as plain text by :func:`write_manifest`."""
    if source.layout:
        yield _layout_table(source)
        return
    if source.dataset:
        try:
            yield from dataset_tables(source, None, dictionary, parquet._PARQUET_BATCH)
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc
        return
    # not memory-mapped: the pages of a whole mapped file would stay in this process
    pf, coded = _coded_parquet(source, dictionary, memory_map=False)
    try:
        for batch in pf.iter_batches(batch_size=parquet._PARQUET_BATCH):
            yield _mark_coded(pa.Table.from_batches([batch]), coded)
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc


def _jsonl_batches(source: Source, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """Stream JSON lines in blocks when Arrow can (UTF-8 files); else read them whole."""
    import pyarrow.json as pajson

    utf8 = source.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    if source.is_stdio or not utf8:
        yield from read_manifest(source).select(list(columns)).to_batches()
        return
    done = 0
    try:
        stream = _native_stream(source)
        reader = pajson.open_json(
            stream, read_options=pajson.ReadOptions(block_size=text._STREAM_BLOCK)
        )
        for batch in reader:
            missing = [c for c in columns if c not in batch.schema.names]
            if missing:
                raise column_error(source.name, missing[0], batch.schema.names)
            yield batch.select(list(columns))
            done += batch.num_rows
    except pa.ArrowInvalid:
        # a column changed type after the first block: the slow path reads mixed columns as
        # text; go on from the first row not yet yielded
        yield from read_manifest(source).select(list(columns)).slice(done).to_batches()


def as_table(data: Any, *, name: str = "data") -> pa.Table:
    """A ``pyarrow.Table`` from a table, a ``pandas.DataFrame`` or a dict of columns.

    Raises a :class:`RebalanceError` naming ``name`` for anything else.
    """
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, dict):
        try:
            return pa.table(data)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise RebalanceError(f"{name}: cannot make a table of this dict ({exc})") from None
    raise RebalanceError(
        f"{name} must be a file path, a pyarrow.Table, a pandas.DataFrame or a dict of columns, "
        f"got {type(data).__name__}"
    )


def is_table(data: Any) -> bool:
    """Whether ``data`` is in-memory table data rather than a path."""
    return not isinstance(data, str | os.PathLike | Source)


def read_manifest(
    source: str | os.PathLike[str] | Source,
    *,
    columns: Sequence[str] | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
    dictionary: Sequence[str] = (),
) -> pa.Table:
    """Read a whole manifest into a ``pyarrow.Table``.

    Parameters
    ----------
    source:
        A path, ``"-"`` for standard input, or a resolved :class:`Source`.
    columns:
        Read only these columns.
    input_format, encoding:
        As for :func:`resolve_source`.
    dictionary:
        Text columns of few distinct values (label, split) to hold dictionary-encoded:
        less memory and faster to select from. Their values are unchanged, and
        :func:`write_manifest` writes them back as the plain text they were. (CSV and
        Parquet; JSON lines columns are read as they are.)

    Returns
    -------
    pyarrow.Table
        CSV/TSV columns are all text (exactly as written); Parquet keeps its stored
        types; JSON lines get JSON's types. Call ``.to_pandas()`` for a DataFrame.

    Raises
    ------
    RebalanceError
        Missing, empty, header-only, corrupt or undecodable input.
    """
    if not isinstance(source, Source):
        source = resolve_source(source, input_format=input_format, encoding=encoding)
    if source.layout:
        table = _layout_table(source)
        if columns is not None:
            missing = [c for c in columns if c not in table.column_names]
            if missing:
                raise column_error(source.name, missing[0], table.column_names)
            table = table.select(list(columns))
    elif source.dataset:
        dataset = open_dataset(source, dictionary=dictionary)
        if columns is not None:
            missing = [c for c in columns if c not in dataset.schema.names]
            if missing:
                raise column_error(source.name, missing[0], dataset.schema.names)
        try:
            table = dataset.to_table(columns=list(columns) if columns is not None else None)
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc
        # partition values come dictionary-encoded: written back as the plain text they are
        coded_now = [*_partition_columns(dataset), *dictionary]
        table = _mark_coded(
            table,
            [
                c
                for c in dict.fromkeys(coded_now)
                if c in table.column_names and pa.types.is_dictionary(table.schema.field(c).type)
            ],
        )
    elif source.format == "parquet":
        pf, stored = _coded_parquet(source, dictionary)
        try:
            table = pf.read(columns=list(columns) if columns is not None else None)
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc
        table = _mark_coded(table, stored)
    elif source.format == "jsonl":
        table = _read_jsonl(source, columns)
    else:
        head, stream = _text_stream(source)
        header = _text_columns(head, source)
        if columns is not None:
            missing = [c for c in columns if c not in header]
            if missing:
                raise column_error(source.name, missing[0], header)
        coded = [c for c in dictionary if c in header]
        # whole-file reads take large blocks: fewer chunks make every later take cheaper
        read, parse, convert = _csv_options(source, header, columns, coded, text._READ_BLOCK)
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(
                stream, read_options=read, parse_options=parse, convert_options=convert
            )
        except pa.ArrowException as exc:
            raise _arrow_error(source, exc) from exc
        finally:
            _done_with(source, stream)
        table = _mark_coded(table, coded)
    if table.num_rows == 0:
        raise RebalanceError(f"{source.name}: no data rows (header only)")
    return table


def load_table(
    source: Any,
    *,
    input_format: str | None = None,
    encoding: str = "utf-8",
    name: str = "data",
) -> tuple[pa.Table, str]:
    """A whole manifest and the name messages use for it: ``source`` is a path, ``"-"``, a
    :class:`Source` or an in-memory table (``pyarrow.Table``, DataFrame, dict of columns),
    which is then called ``name``."""
    if is_table(source):
        return as_table(source, name=name), name
    if not isinstance(source, Source):
        source = resolve_source(source, input_format=input_format, encoding=encoding)
    return read_manifest(source), source.name
