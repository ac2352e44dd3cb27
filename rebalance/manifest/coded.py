"""Text columns: those read dictionary-encoded for speed (marked, so that writers store them
as the text they were read as), and the JSON text of nested values."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    pass


# Field metadata on a column that read_manifest dictionary-encoded for speed: the
# writer stores it as the plain text it was read as.
CODED = b"rebalance.coded"


def _is_text(type_: pa.DataType) -> bool:
    return bool(pa.types.is_string(type_) or pa.types.is_large_string(type_))


# Field metadata on a column read as a view type (string_view, binary_view: polars and
# DuckDB write them): it is held as plain string/binary, which every Arrow kernel takes,
# and the writer stores it as the view type it was read as.
VIEW = b"rebalance.view"
_VIEWS = {
    "string_view": (pa.string(), pa.string_view()),
    "binary_view": (pa.binary(), pa.binary_view()),
}


def _unviewed(table: pa.Table) -> pa.Table:
    """View-typed columns as their plain types, marked (the writer restores them)."""
    if not any(str(f.type) in _VIEWS for f in table.schema):
        return table
    fields, columns = [], []
    for f, column in zip(table.schema, table.columns, strict=True):
        if str(f.type) in _VIEWS:
            plain = _VIEWS[str(f.type)][0]
            column = column.cast(plain)
            f = pa.field(
                f.name,
                plain,
                f.nullable,
                metadata={**(f.metadata or {}), VIEW: str(f.type).encode()},
            )
        fields.append(f)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def _unviewed_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Record batches with their view-typed columns as plain types (see :func:`_unviewed`)."""
    for batch in batches:
        if any(str(f.type) in _VIEWS for f in batch.schema):
            yield _unviewed(pa.Table.from_batches([batch])).combine_chunks().to_batches()[0]
        else:
            yield batch


def _mark_coded(table: pa.Table, names: Sequence[str] | Mapping[str, pa.DataType]) -> pa.Table:
    """The table with the ``names`` columns marked as read dictionary-encoded; ``names`` may
    map each to the text type it is stored as (``large_string`` is written back as such)."""
    table = _unviewed(table)
    if not names:
        return table
    stored = names if isinstance(names, Mapping) else {}

    def mark(name: str) -> bytes:
        return b"large" if pa.types.is_large_string(stored.get(name, pa.string())) else b"1"

    fields = [
        f.with_metadata({**(f.metadata or {}), CODED: mark(f.name)}) if f.name in names else f
        for f in table.schema
    ]
    return pa.Table.from_arrays(
        table.columns, schema=pa.schema(fields, metadata=table.schema.metadata)
    )


def _is_coded(field: pa.Field) -> bool:
    return bool(field.metadata and CODED in field.metadata)


def _stored_schema(schema: pa.Schema) -> pa.Schema:
    """The schema a manifest is written with: coded columns as their plain text type, view
    columns as the view type they were read as."""
    fields = []
    for f in schema:
        if _is_coded(f):
            meta = {k: v for k, v in (f.metadata or {}).items() if k != CODED}
            large = (f.metadata or {}).get(CODED) == b"large"
            kind = pa.large_string() if large else f.type.value_type
            f = pa.field(f.name, kind, f.nullable, metadata=meta or None)
        view = (f.metadata or {}).get(VIEW)
        if view is not None and view.decode() in _VIEWS:
            meta = {k: v for k, v in (f.metadata or {}).items() if k != VIEW}
            f = pa.field(f.name, _VIEWS[view.decode()][1], f.nullable, metadata=meta or None)
        fields.append(f)
    return pa.schema(fields, metadata=schema.metadata)


def _compact_parquet_ok(table: pa.Table, stored: pa.Schema) -> bool:
    """Whether coded columns can go to Parquet as they are (its dictionary encoding).

    That file cannot carry an Arrow schema (it would say "dictionary"), so this is only
    for tables whose types a reader gets back from the Parquet types alone, with no
    schema metadata to lose: checked by writing and reading back an empty copy.
    """
    if stored.metadata:
        return False
    probe = io.BytesIO()
    pq.write_table(table.slice(0, 0), probe, store_schema=False)
    probe.seek(0)
    return bool(pq.read_schema(probe).equals(stored, check_metadata=True))


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
