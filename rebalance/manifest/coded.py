"""Text columns: those read dictionary-encoded for speed (marked, so that writers store them
as the text they were read as), and the JSON text of nested values."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
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


def _mark_coded(table: pa.Table, names: Sequence[str]) -> pa.Table:
    if not names:
        return table
    fields = [
        f.with_metadata({**(f.metadata or {}), CODED: b"1"}) if f.name in names else f
        for f in table.schema
    ]
    return pa.Table.from_arrays(
        table.columns, schema=pa.schema(fields, metadata=table.schema.metadata)
    )


def _is_coded(field: pa.Field) -> bool:
    return bool(field.metadata and CODED in field.metadata)


def _stored_schema(schema: pa.Schema) -> pa.Schema:
    """The schema a manifest is written with: coded columns as their plain text type."""
    fields = []
    for f in schema:
        if _is_coded(f):
            meta = {k: v for k, v in (f.metadata or {}).items() if k != CODED}
            f = pa.field(f.name, f.type.value_type, f.nullable, metadata=meta or None)
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
