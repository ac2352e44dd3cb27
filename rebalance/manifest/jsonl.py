"""JSON lines: Arrow's reader, and a Python fallback for what it cannot read."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest.coded import _json_text
from rebalance.manifest.columns import column_error
from rebalance.manifest.source import (
    Source,
)
from rebalance.manifest.text import _decode_error, _read_all


def _read_jsonl(source: Source, columns: Sequence[str] | None) -> pa.Table:
    import pyarrow.json as pajson

    data = _read_all(source)
    if not data.strip():
        raise RebalanceError(
            f"{source.name}: "
            + ("no data on standard input" if source.is_stdio else "file is empty")
        )
    if source.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:
            data = data.decode(source.encoding).encode("utf-8")
        except UnicodeDecodeError:
            raise _decode_error(source) from None
    try:
        table = pajson.read_json(io.BytesIO(data))
    except pa.ArrowException:
        table = _read_jsonl_python(data, source)
    if columns is not None:
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise column_error(source.name, missing[0], table.column_names)
        table = table.select(list(columns))
    return table


def _read_jsonl_python(data: bytes, source: Source) -> pa.Table:
    """Slow path for JSON lines whose columns mix types: mixed columns become text."""
    records: list[dict[str, object]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except UnicodeDecodeError:
            raise _decode_error(source) from None
        except json.JSONDecodeError as exc:
            raise RebalanceError(
                f"{source.name}: line {number} is not valid JSON ({exc.msg})"
            ) from exc
        if not isinstance(record, dict):
            raise RebalanceError(f"{source.name}: line {number} is not a JSON object")
        records.append(record)
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    arrays = []
    for name in names:
        values = [r.get(name) for r in records]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowException, TypeError, ValueError):
            arrays.append(pa.array([_json_text(v) for v in values], type=pa.string()))
    return pa.table(arrays, names=list(names))
