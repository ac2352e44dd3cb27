"""Writing manifests atomically: CSV/TSV exactly as read, JSON lines, Parquet with its types."""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rebalance import arrays
from rebalance.arrays import pc
from rebalance.errors import RebalanceError
from rebalance.manifest.coded import (
    _VIEWS,
    _compact_parquet_ok,
    _is_text,
    _json_text,
    _stored_schema,
)
from rebalance.manifest.source import Format, Source, _delimiter, part_name, resolve_destination
from rebalance.output import atomic_write, same_file

if TYPE_CHECKING:
    pass

_DICTIONARY_SAMPLE = 20_000  # rows looked at to choose Parquet dictionary columns
_Batches = TypeVar("_Batches", pa.Table, pa.RecordBatch)

# ---------------------------------------------------------------- writing


def write_manifest(
    table: pa.Table | Iterable[pa.Table],
    dest: str | os.PathLike[str] | Source,
    *,
    output_format: str | None = None,
    input_path: str | os.PathLike[str] | None = None,
    source: Source | None = None,
) -> None:
    """Write a table as a manifest, atomically.

    The table is written to a temporary file in the target folder, which is then
    renamed over the target, so a crash never leaves a partial file. ``"-"`` writes
    to standard output (CSV unless ``output_format`` says otherwise). ``table`` may
    also be an iterable of tables of one schema, written one after the other as they
    come (an error raised by the iterable abandons the file).

    ``.json`` writes COCO (from rows read from the COCO ``source``) and ``.txt`` an image
    list (see :mod:`rebalance.manifest.ondisk.write`).

    Raises
    ------
    RebalanceError
        When the target is the input file, or cannot be written.
    """
    if not isinstance(dest, Source):
        dest = resolve_destination(dest, output_format=output_format)
    if input_path is None and source is not None and not source.is_stdio:
        input_path = source.path
    if input_path is not None and same_file(os.fspath(input_path), dest.path):
        raise RebalanceError(f"{dest.path}: refusing to overwrite the input (choose another -o)")
    parts = [table] if isinstance(table, pa.Table) else table
    if dest.format in ("coco", "list"):
        _write_layout(parts, dest, source)
        return
    if dest.dataset:
        from rebalance.output import write_folder

        def fill(staging: str) -> None:
            part = resolve_destination(f"{staging.rstrip('/')}/{part_name(0)}")
            write_manifest(parts, part)

        write_folder(dest.path, fill)
        return
    if dest.is_stdio:
        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        if out is None:
            raise RebalanceError("stdout: cannot write binary data to this output")
        _write_to(parts, dest, out)
        out.flush()
        return
    atomic_write(dest.path, lambda fh: _write_to(parts, dest, fh))


def _write_layout(parts: Iterable[pa.Table], dest: Source, source: Source | None) -> None:
    """COCO JSON or an image list (their paths written for the output's folder)."""
    from rebalance.manifest.ondisk.write import write_coco, write_image_list

    out_dir = os.getcwd() if dest.is_stdio else os.path.dirname(os.path.abspath(dest.path))

    def fill(fh: IO[bytes]) -> None:
        if dest.format == "coco":
            write_coco(parts, fh, source, out_dir)
        else:
            write_image_list(parts, fh, out_dir)

    if dest.is_stdio:
        fill(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    atomic_write(dest.path, fill)


def _write_to(parts: Iterable[pa.Table], dest: Source, fh: IO[bytes]) -> None:
    import gzip

    stream = iter(parts)
    first = next(stream, None)
    if first is None:
        raise ValueError("write_manifest needs at least one table")
    tables = itertools.chain([first], (t for t in stream if t.num_rows))
    if dest.format == "parquet":
        _write_parquet(first, tables, fh)
        return
    if dest.compression == "gzip":
        # mtime=0 keeps the bytes identical from run to run
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
            _write_text(tables, dest.format, cast(IO[bytes], gz))
        return
    _write_text(tables, dest.format, fh)


def _write_parquet(first: pa.Table, tables: Iterable[pa.Table], fh: IO[bytes]) -> None:
    stored = _stored_schema(first.schema)
    plain = stored.equals(first.schema, check_metadata=True)
    compact = not plain and _compact_parquet_ok(first, stored)
    decode = not plain and not compact
    sample = first.slice(0, _DICTIONARY_SAMPLE)
    repeated = _dictionary_columns(sample.cast(stored) if decode else sample)
    # min/max statistics of mostly-unique text (paths, ids) cost time and prune nothing;
    # on dictionary arrays Arrow recomputes them batch by batch, at several times the
    # cost of writing the column
    schema = stored if decode else first.schema
    skip = {
        f.name
        for f in schema
        if (_is_text(f.type) and f.name not in repeated) or pa.types.is_dictionary(f.type)
    }
    stats = [name for name in schema.names if name not in skip]
    with pq.ParquetWriter(
        fh, schema, use_dictionary=repeated, write_statistics=stats, store_schema=not compact
    ) as writer:
        for table in tables:
            writer.write_table(table.cast(stored) if decode else table)


def _dictionary_columns(table: pa.Table, sample: int = _DICTIONARY_SAMPLE) -> list[str]:
    """Columns worth Parquet dictionary encoding: those with repeated values in a sample.

    Mostly-unique columns (file paths, ids, float features) gain nothing from a
    dictionary, and trying one first costs time on every page.
    """
    chosen = []
    head = table.slice(0, sample)
    for name in table.column_names:
        column = head.column(name)
        if pa.types.is_dictionary(column.type) or pa.types.is_boolean(column.type):
            chosen.append(name)
            continue
        if pa.types.is_nested(column.type):  # lists (embeddings), structs: no distinct count
            continue
        if str(column.type) in _VIEWS:  # no distinct-count kernel for views
            column = column.cast(_VIEWS[str(column.type)][0])
        if len(column) and pc.count_distinct(column).as_py() <= 0.5 * len(column):
            chosen.append(name)
    return chosen


def _write_text(tables: Iterable[pa.Table], fmt: Format, fh: IO[bytes]) -> None:
    for i, table in enumerate(tables):
        if fmt == "jsonl":
            write_jsonl(table, fh)
        else:
            write_delimited(table, fh, delimiter=_delimiter(fmt), header=i == 0)


def _quote_needed(text: str, delimiter: str) -> bool:
    return any(ch in text for ch in (delimiter, '"', "\n", "\r"))


def _quote(text: str, delimiter: str) -> str:
    if _quote_needed(text, delimiter):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_delimited(
    table: pa.Table, fh: IO[bytes], *, delimiter: str = ",", header: bool = True
) -> None:
    """Write CSV/TSV with minimal quoting (as Python's ``csv`` module does, and a carriage
    return quoted too, which csv.writer leaves bare with "\\n" line ends), fast.

    Rows are built with Arrow string kernels and their bytes written straight from
    the Arrow buffer, batch by batch. ``header=False`` writes the rows only.
    """
    import pyarrow.csv as pacsv

    if header:
        names = delimiter.join(_quote(name, delimiter) for name in table.column_names)
        fh.write((names + "\n").encode("utf-8"))
    single = table.num_columns == 1
    pattern = "[" + ("\\t" if delimiter == "\t" else delimiter) + '"\\r\\n]'
    specials = [ch.encode() for ch in (delimiter, '"', "\r", "\n")]
    plain = pacsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style="none")
    if not single and all(_needs_no_quotes(b, specials) for b in table.to_batches()):
        # text with nothing to quote: Arrow's own writer, about twice as fast, in one call
        # (one long stretch without the GIL, when another thread is choosing copies)
        pacsv.write_csv(_decoded(table), fh, plain)
        return
    for batch in table.to_batches(max_chunksize=256 * 1024):
        if batch.num_rows == 0:
            continue
        if not single and _needs_no_quotes(batch, specials):
            pacsv.write_csv(_decoded(batch), fh, plain)
            continue
        cells = []
        for column in batch.columns:
            text = pc.fill_null(_as_text(column), arrays.scalar(""))
            needs = None
            if _may_need_quotes(text, specials):
                needs = pc.match_substring_regex(text, pattern)
            if single:
                empty = arrays.to_arrow(arrays.integers(pc.utf8_length(text)) == 0)
                needs = empty if needs is None else pc.or_(needs, empty)
            if needs is not None and arrays.booleans(needs).any():
                quote = arrays.scalar('"')
                quoted = pc.binary_join_element_wise(
                    quote, pc.replace_substring(text, '"', '""'), quote, arrays.scalar("")
                )
                text = pc.if_else(needs, quoted, text)
            cells.append(text)
        rows = (
            pc.binary_join_element_wise(*cells, arrays.scalar(delimiter))
            if len(cells) > 1
            else cells[0]
        )
        lines = pc.binary_join_element_wise(rows, arrays.scalar("\n"), arrays.scalar(""))
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        lines = lines.cast(pa.string())
        # the row strings lie back to back in the data buffer: write that slice as is
        _, offsets_buf, data_buf = lines.buffers()
        offsets = memoryview(offsets_buf).cast("i")
        start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
        fh.write(memoryview(data_buf)[start:end])


def _decoded(data: _Batches) -> _Batches:
    """Dictionary columns as their values (Arrow's CSV writer is slow on dictionaries)."""
    if isinstance(data, pa.Table):
        columns: list[Any] = [
            pa.chunked_array([_values(c) for c in column.chunks], column.type.value_type)
            if pa.types.is_dictionary(column.type)
            else column
            for column in data.columns
        ]
        return pa.Table.from_arrays(columns, names=data.column_names)
    values = [_values(c) if pa.types.is_dictionary(c.type) else c for c in data.columns]
    return pa.RecordBatch.from_arrays(values, names=data.schema.names)


def _values(coded: pa.DictionaryArray) -> pa.Array:
    return coded.dictionary.take(coded.indices)


def _needs_no_quotes(batch: pa.RecordBatch, specials: Sequence[bytes]) -> bool:
    """Whether every column is text (or coded text) with no byte that needs quoting."""
    for column in batch.columns:
        values = column.dictionary if pa.types.is_dictionary(column.type) else column
        if not pa.types.is_string(values.type) or _may_need_quotes(values, specials):
            return False
    return True


def _may_need_quotes(text: pa.Array, specials: Sequence[bytes]) -> bool:
    """Whether any byte of the column's text is a delimiter, quote or line break.

    Scans the array's own span of the raw value buffer, so a clean column skips the
    regex pass. ``specials`` are the one-byte strings that need quotes (memchr-fast ``in``).
    """
    buffers = text.buffers()
    if len(buffers) < 3 or buffers[2] is None or len(text) == 0:
        return False
    offsets = np.frombuffer(buffers[1], dtype=np.int32)
    start, end = int(offsets[text.offset]), int(offsets[text.offset + len(text)])
    raw = np.frombuffer(buffers[2], dtype=np.uint8)[start:end].tobytes()
    return any(byte in raw for byte in specials)


def _as_text(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, arrays.scalar("True"), arrays.scalar("False"))
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        raise RebalanceError(
            "cannot write a binary column to a text format (write Parquet instead)"
        )
    if pa.types.is_nested(column.type):
        return pa.array([_json_text(v) for v in column.to_pylist()], type=pa.string())
    return column.cast(pa.string())


def write_jsonl(table: pa.Table, fh: IO[bytes]) -> None:
    """Write one JSON object per line; non-JSON values (dates) as ISO text, NaN as null.
    An infinity has no JSON form: it is refused, naming its column and row."""
    first_row = 0
    for batch in table.to_batches(max_chunksize=64 * 1024):
        lines = [
            json.dumps(row, ensure_ascii=False, default=str, allow_nan=False) + "\n"
            for row in _json_safe_rows(batch, first_row)
        ]
        fh.write("".join(lines).encode("utf-8"))
        first_row += batch.num_rows


def _json_safe_rows(batch: pa.RecordBatch, first_row: int = 0) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = batch.to_pylist()
    for i, row in enumerate(rows):
        for key, value in row.items():
            if not isinstance(value, float) or math.isfinite(value):
                continue
            if value != value:
                row[key] = None
                continue
            raise RebalanceError(
                f"column {key!r} holds {value} in output row {first_row + i + 1}: JSON lines "
                "have no infinity (write CSV or Parquet, or replace it first)"
            )
    return rows
