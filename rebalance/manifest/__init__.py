"""Reading and writing labeled manifests: CSV, TSV, Parquet and JSON lines.

Every command reads and writes through this package. A manifest is held as a
``pyarrow.Table``:

* text formats (CSV, TSV) are read with **every column as text**, so that a value
  is written back exactly as it was read (``"01"`` stays ``"01"``, ``1.10`` stays
  ``1.10``); numbers are parsed only where a method needs them;
* Parquet keeps its stored types; JSON lines get the types JSON gives them.

``-`` means standard input or output. The format follows the file extension
(``.csv``, ``.tsv``, ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``, each text format
optionally ``.gz``) unless a format is given. Writes are atomic: a temporary file in
the target folder is renamed over the target once complete.

The rooms: :mod:`.source` (where a manifest is and what format), :mod:`.read`,
:mod:`.write`, :mod:`.columns` (finding the label/split/path columns) and :mod:`.coded`
(text columns held dictionary-encoded while they travel between the two).
"""

from rebalance.manifest.coded import CODED, _mark_coded, _stored_schema
from rebalance.manifest.columns import (
    LABEL_CANDIDATES,
    MISSING,
    PATH_NAMES,
    PATH_SUFFIX,
    SPLIT_CANDIDATES,
    check_label_type,
    column_error,
    detect_column,
    is_bytes_type,
    is_list_type,
    label_and_split,
    labels_as_text,
    missing_mask,
)
from rebalance.manifest.parquet import ahead, take_parquet_rows
from rebalance.manifest.read import (
    as_table,
    is_table,
    iter_batches,
    iter_tables,
    load_table,
    read_columns,
    read_manifest,
    read_types,
)
from rebalance.manifest.source import (
    FORMATS,
    Format,
    Source,
    dataset_files,
    dataset_tables,
    hive_values,
    open_dataset,
    part_name,
    partition_column,
    resolve_destination,
    resolve_source,
)
from rebalance.manifest.write import write_delimited, write_jsonl, write_manifest

__all__ = [
    "CODED",
    "FORMATS",
    "LABEL_CANDIDATES",
    "MISSING",
    "PATH_NAMES",
    "PATH_SUFFIX",
    "SPLIT_CANDIDATES",
    "Format",
    "Source",
    "_mark_coded",
    "_stored_schema",
    "ahead",
    "as_table",
    "column_error",
    "dataset_files",
    "dataset_tables",
    "detect_column",
    "hive_values",
    "is_table",
    "iter_batches",
    "iter_tables",
    "check_label_type",
    "is_bytes_type",
    "is_list_type",
    "label_and_split",
    "labels_as_text",
    "load_table",
    "missing_mask",
    "open_dataset",
    "part_name",
    "partition_column",
    "read_columns",
    "read_types",
    "read_manifest",
    "resolve_destination",
    "resolve_source",
    "take_parquet_rows",
    "write_delimited",
    "write_jsonl",
    "write_manifest",
]
