"""Reading and writing labeled manifests: CSV, TSV, Parquet and JSON lines.

One module that every command uses. A manifest is held as a ``pyarrow.Table``:

* text formats (CSV, TSV) are read with **every column as text**, so that a value
  is written back exactly as it was read (``"01"`` stays ``"01"``, ``1.10`` stays
  ``1.10``); numbers are parsed only where a method needs them;
* Parquet keeps its stored types; JSON lines get the types JSON gives them.

``-`` means standard input or output. The format follows the file extension
(``.csv``, ``.tsv``, ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``, each text format
optionally ``.gz``) unless a format is given. Writes are atomic: a temporary file in
the target folder is renamed over the target once complete.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from rebalance import arrays
from rebalance.arrays import pc
from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.output import atomic_write, is_folder_output, same_file

if TYPE_CHECKING:
    import pyarrow.csv as pacsv

Format = Literal["csv", "tsv", "parquet", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "tsv", "parquet", "jsonl")
LABEL_CANDIDATES: tuple[str, ...] = ("label", "class", "target", "y", "category")
SPLIT_CANDIDATES: tuple[str, ...] = ("split",)
MISSING = "<missing>"
# column names and value endings that say "file paths"
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

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_STREAM_BLOCK = 1 << 20  # bytes per CSV block: small blocks keep streaming memory flat
_READ_BLOCK = 16 << 20  # bytes per CSV block when reading a whole file
_PARQUET_BATCH = 256 * 1024  # rows per Parquet batch when streaming whole rows
_COLUMN_BATCH = 1 << 20  # rows per Parquet batch when streaming a few role columns
_PARALLEL_GROUP_ROWS = 4 << 20  # row groups up to this size are decoded in parallel
_DICTIONARY_SAMPLE = 20_000  # rows looked at to choose Parquet dictionary columns
_Batches = TypeVar("_Batches", pa.Table, pa.RecordBatch)


@dataclass(frozen=True)
class Source:
    """Where a manifest lives and how it is encoded.

    ``path`` is ``"-"`` for standard input/output. ``name`` is what messages call it.
    """

    path: str
    format: Format
    compression: str | None = None
    encoding: str = "utf-8"
    dataset: bool = False  # a folder of Parquet files (hive-partitioned or flat)
    filesystem: Any = field(default=None, compare=False)  # pyarrow.fs, for s3:// and other URLs
    fs_path: str = ""  # the path within ``filesystem``
    # a dataset's files, listed once when resolved: every pass of a run reads the same files
    files: tuple[str, ...] = field(default=(), compare=False)

    @property
    def name(self) -> str:
        return "stdin" if self.path == "-" else self.path

    @property
    def is_stdio(self) -> bool:
        return self.path == "-"


def _format_from_name(path: str) -> tuple[Format | None, str | None]:
    lower = path.lower()
    compression = None
    if lower.endswith(".gz"):
        compression = "gzip"
        lower = lower[:-3]
    return _EXTENSIONS.get(Path(lower).suffix), compression


def _check_format(fmt: str, *, flag: str) -> Format:
    if fmt not in FORMATS:
        raise RebalanceError(
            f"{flag} {fmt!r} is not a known format (use one of: {', '.join(FORMATS)})"
        )
    return fmt


def resolve_source(
    path: str | os.PathLike[str],
    *,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> Source:
    """Work out the format of a manifest to read.

    Parameters
    ----------
    path:
        A file path, or ``"-"`` for standard input.
    input_format:
        ``csv``, ``tsv``, ``parquet`` or ``jsonl``; overrides the extension.
    encoding:
        Text encoding of CSV/TSV/JSONL input.

    Raises
    ------
    RebalanceError
        When the file does not exist or its format cannot be told.
    """
    path = os.fspath(path)
    from rebalance.storage import is_url

    if is_url(path):
        return _remote_source(path, input_format, encoding)
    if path != "-" and os.path.isdir(path):
        if input_format not in (None, "parquet"):
            raise RebalanceError(
                f"{path}: a folder is read as a Parquet dataset, not --input-format {input_format}"
            )
        files = tuple(dataset_files(path))
        if not files:
            raise RebalanceError(f"{path}: a folder with no Parquet files (*.parquet)")
        return Source(path=path, format="parquet", encoding=encoding, dataset=True, files=files)
    fmt, compression = _resolve_format(path, input_format, flag="--input-format")
    if path != "-" and not os.path.exists(path):
        raise RebalanceError(f"{path}: no such file")
    return Source(path=path, format=fmt, compression=compression, encoding=encoding)


def _remote_source(url: str, input_format: str | None, encoding: str) -> Source:
    from rebalance.storage import filesystem, kind

    fs, fs_path = filesystem(url)
    what = kind(url, fs, fs_path)
    if what == "missing":
        raise RebalanceError(f"{url}: no such object or prefix")
    if what == "folder":
        if input_format not in (None, "parquet"):
            raise RebalanceError(
                f"{url}: a prefix is read as a Parquet dataset, not --input-format {input_format}"
            )
        source = Source(
            url, "parquet", encoding=encoding, dataset=True, filesystem=fs, fs_path=fs_path
        )
        files = tuple(dataset_files(source))
        if not files:
            raise RebalanceError(f"{url}: a prefix with no Parquet files (*.parquet)")
        return replace(source, files=files)
    fmt, compression = _resolve_format(url, input_format, flag="--input-format")
    return Source(url, fmt, compression, encoding, filesystem=fs, fs_path=fs_path)


def dataset_files(folder: str | Source) -> list[str]:
    """The Parquet files of a dataset folder, in path order (which is the row order); files
    and folders whose names start with ``.`` or ``_`` (``_SUCCESS``, ``.crc``) are skipped.
    A resolved :class:`Source` gives the files it was resolved with."""
    if isinstance(folder, Source):
        if folder.files:
            return list(folder.files)
        if folder.filesystem is not None:
            from rebalance.storage import list_files

            base = folder.fs_path.rstrip("/") + "/"
            return [
                f
                for f in list_files(folder.path, folder.filesystem, folder.fs_path)
                if not any(part.startswith((".", "_")) for part in f[len(base) :].split("/"))
                and f.lower().endswith((".parquet", ".parq"))
            ]
        folder = folder.path
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if not name.startswith((".", "_")) and name.lower().endswith((".parquet", ".parq")):
                found.append(os.path.join(root, name))
    return sorted(found, key=lambda f: os.path.relpath(f, folder).split(os.sep))


def open_dataset(source: Source, dictionary: Sequence[str] = ()) -> Any:
    """The folder as one ``pyarrow.dataset.Dataset``: its files in path order, hive partition
    folders (``split=train/``) as text columns (dictionary-encoded, values verbatim), and the
    plain-string columns of ``dictionary`` read dictionary-encoded (faster to count)."""
    import pyarrow.dataset as ds

    fmt: Any = "parquet"
    if dictionary:
        schema = open_dataset(source).schema
        coded = [c for c in dictionary if c in schema.names and _is_text(schema.field(c).type)]
        if coded:
            fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=coded))
    try:
        return ds.dataset(
            dataset_files(source),
            format=fmt,
            partitioning=ds.HivePartitioning.discover(infer_dictionary=True),
            partition_base_dir=source.fs_path if source.filesystem is not None else source.path,
            filesystem=source.filesystem,
        )
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc


def dataset_tables(
    source: Source, columns: Sequence[str] | None, dictionary: Sequence[str], batch_size: int
) -> Iterator[pa.Table]:
    """A dataset's files one after the other (row order), in tables of at most
    ``batch_size`` rows: the ``columns`` (all for ``None``), partition columns as constant
    text, ``dictionary`` text columns dictionary-encoded (both marked to be written back as
    plain text). File by file, so memory holds one batch: Arrow's dataset scanner reads
    ahead as fast as it can, and on a slower consumer holds hundreds of MB."""
    dataset = open_dataset(source)
    schema = dataset.schema
    partitions = _partition_columns(dataset)
    wanted = list(columns) if columns is not None else list(schema.names)
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise column_error(source.name, missing[0], schema.names)
    base = source.fs_path if source.filesystem is not None else source.path
    coded = [c for c in dictionary if c in wanted and c not in partitions]
    for path in dataset.files:
        values = dict(hive_values(path, base))
        handle: Any = source.filesystem.open_input_file(path) if source.filesystem else path
        pf = pq.ParquetFile(
            handle,
            read_dictionary=[c for c in coded if pa.types.is_string(schema.field(c).type)] or None,
            pre_buffer=source.filesystem is not None,  # see _parquet_file
        )
        here = set(pf.schema_arrow.names)
        physical = [c for c in wanted if c not in partitions and c in here]
        marked = [c for c in coded if c in here and pa.types.is_string(schema.field(c).type)]
        for batch in pf.iter_batches(batch_size=batch_size, columns=physical):
            n = batch.num_rows
            arrays_out = []
            for name in wanted:
                if name in partitions:
                    arrays_out.append(partition_column(values.get(name), n))
                elif name in here:
                    arrays_out.append(batch.column(name))
                else:  # a column this file does not have: null, as Arrow's datasets do
                    arrays_out.append(pa.nulls(n, schema.field(name).type))
            table = pa.Table.from_arrays(arrays_out, names=wanted)
            yield _mark_coded(table, [*marked, *(c for c in wanted if c in partitions)])


def partition_column(value: str | None, n: int) -> pa.Array:
    """A hive partition column of ``n`` rows: its folder's value, as a one-entry dictionary
    (null where a file has no such folder); marked coded, it is written back as text."""
    if value is None:
        return pa.nulls(n, pa.dictionary(pa.int32(), pa.string()))
    codes = arrays.to_arrow(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(codes, arrays.text([value]))


def hive_values(path: str, base: str) -> tuple[tuple[str, str], ...]:
    """The ``key=value`` folders between a dataset's base folder and one of its files."""
    rel = os.path.relpath(path, base) if "://" not in base else path[len(base.rstrip("/")) + 1 :]
    pairs = []
    for part in rel.replace(os.sep, "/").split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep:
            pairs.append((key, value))
    return tuple(pairs)


def _partition_columns(dataset: Any) -> list[str]:
    """The hive partition columns: those named by a ``key=value`` folder of some file (a
    dataset with no such folders reports its whole schema as the partitioning's)."""
    partitioning = getattr(dataset, "partitioning", None)
    schema = getattr(partitioning, "schema", None)
    if schema is None:
        return []
    folders = {
        part.split("=", 1)[0] for f in dataset.files for part in f.split("/")[:-1] if "=" in part
    }
    return [name for name in schema.names if name in folders]


def resolve_destination(
    path: str | os.PathLike[str], *, output_format: str | None = None, default: Format = "csv"
) -> Source:
    """Work out the format of a manifest to write (``"-"`` is standard output).

    A path ending in ``/`` is a folder of Parquet files.
    """
    path = os.fspath(path)
    if is_folder_output(path):
        if output_format not in (None, "parquet"):
            raise RebalanceError(
                f"{path}: a folder is written as Parquet files, not --output-format {output_format}"
            )
        return Source(path=path, format="parquet", dataset=True)
    fmt, compression = _resolve_format(path, output_format, flag="--output-format", default=default)
    return Source(path=path, format=fmt, compression=compression)


def part_name(index: int) -> str:
    """The file name of a folder output's ``index``-th part (names sort in row order)."""
    return f"part-{index:05d}.parquet"


def _resolve_format(
    path: str, override: str | None, *, flag: str, default: Format = "csv"
) -> tuple[Format, str | None]:
    """The format (override, else extension; ``-`` gets ``default``) and compression of a path."""
    fmt_by_name, compression = _format_from_name(path) if path != "-" else (None, None)
    if override is not None:
        fmt: Format = _check_format(override, flag=flag)
    elif path == "-":
        fmt = default
    elif fmt_by_name is None:
        suffix = "".join(Path(path).suffixes) or "(none)"
        raise RebalanceError(
            f"{path}: unknown file extension {suffix} (use {flag} with one of: {', '.join(FORMATS)})"
        )
    else:
        fmt = fmt_by_name
    return fmt, None if fmt == "parquet" else compression


# ---------------------------------------------------------------- opening bytes


class _Prefixed(io.RawIOBase):
    """A read-only stream that replays bytes already read, then the rest of ``tail``."""

    def __init__(self, head: bytes, tail: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(b)
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._tail.read(len(view))
        view[: len(data)] = data
        return len(data)


def _stdin_bytes() -> IO[bytes]:
    stream = sys.stdin
    if stream is None:
        raise RebalanceError("stdin: no standard input (pass a file instead of -)")
    if stream.isatty():
        raise RebalanceError("stdin: standard input is a terminal (pipe data in or pass a file)")
    return cast(IO[bytes], getattr(stream, "buffer", stream))


def _open_binary(source: Source) -> IO[bytes]:
    """Open the raw bytes of a source, decompressed; sniffs gzip on stdin."""
    import gzip

    if source.is_stdio:
        raw = _stdin_bytes()
        head = raw.read(2)
        stream: IO[bytes] = io.BufferedReader(_Prefixed(head, raw), _STREAM_BLOCK)
        if head == b"\x1f\x8b":
            return cast(IO[bytes], gzip.GzipFile(fileobj=stream))
        return stream
    try:
        if source.filesystem is not None:
            remote = source.filesystem.open_input_stream(source.fs_path)
            if source.compression == "gzip":
                return cast(IO[bytes], gzip.GzipFile(fileobj=remote))
            return cast(IO[bytes], remote)
        if source.compression == "gzip":
            return cast(IO[bytes], gzip.open(source.path, "rb"))
        return open(source.path, "rb")
    except (OSError, pa.ArrowException) as exc:
        raise RebalanceError(f"{source.name}: cannot open ({exc.strerror or exc})") from exc


def _decode_error(source: Source) -> RebalanceError:
    hint = "latin-1" if source.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else "utf-8"
    return RebalanceError(
        f"{source.name}: cannot decode the text as {source.encoding} "
        f"(pass the right --encoding, e.g. --encoding {hint})"
    )


# ---------------------------------------------------------------- text formats


def _delimiter(fmt: Format) -> str:
    return "\t" if fmt == "tsv" else ","


def _header_from_bytes(data: bytes, source: Source) -> list[str]:
    """Parse the header record from the first bytes of a CSV/TSV file."""
    try:
        text = data.decode(source.encoding)
    except UnicodeDecodeError:
        # the prefix may cut a multi-byte character: drop up to 3 bytes and retry
        for cut in (1, 2, 3):
            try:
                text = data[:-cut].decode(source.encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise _decode_error(source) from None
    except LookupError as exc:
        raise RebalanceError(
            f"--encoding {source.encoding!r} is not a known text encoding"
        ) from exc
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(source.format))
    for row in reader:
        if row and any(cell.strip() for cell in row):
            return row
    return []


_STDIN_PEEKED: dict[int, tuple[bytes, IO[bytes]]] = {}


def _peek_text(source: Source) -> tuple[bytes, IO[bytes]]:
    """Read enough of a text source to hold its header; return it and the replayable stream.

    Standard input can be read once only: the first peek is kept, so reading the
    header and then the rows works on ``-`` too.
    """
    if source.is_stdio and id(sys.stdin) in _STDIN_PEEKED:
        return _STDIN_PEEKED[id(sys.stdin)]
    fh = _open_binary(source)
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = fh.read(64 * 1024)
        except (OSError, EOFError) as exc:
            raise RebalanceError(f"{source.name}: cannot read ({exc})") from exc
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        joined = b"".join(chunks)
        stripped = joined.lstrip(b"\r\n")
        if b"\n" in stripped or size > 16 * 1024 * 1024:
            break
    head = b"".join(chunks)
    peeked = head, cast(IO[bytes], io.BufferedReader(_Prefixed(head, fh), _STREAM_BLOCK))
    if source.is_stdio:
        _STDIN_PEEKED[id(sys.stdin)] = peeked
    return peeked


def _text_stream(source: Source) -> tuple[bytes, Any]:
    """The first bytes of a CSV/TSV source and a stream of all of it for Arrow.

    Files are reopened as Arrow's own (native, gzip-aware) streams, so parsing never
    goes through Python; standard input is replayed from what was peeked.
    """
    head, stream = _peek_text(source)
    if source.is_stdio:
        return head, stream
    stream.close()
    try:
        return head, _native_stream(source)
    except (OSError, pa.ArrowException) as exc:
        raise RebalanceError(f"{source.name}: cannot open ({exc})") from exc


def _native_stream(source: Source) -> Any:
    """Arrow's own input stream of a file or object, decompressed."""
    if source.filesystem is not None:
        raw = source.filesystem.open_input_stream(source.fs_path)
        return pa.CompressedInputStream(raw, source.compression) if source.compression else raw
    return pa.input_stream(source.path, compression=source.compression)


def _done_with(source: Source, stream: Any) -> None:
    if source.is_stdio:
        _STDIN_PEEKED.pop(id(sys.stdin), None)
    stream.close()


def _read_all(source: Source) -> bytes:
    _, stream = _peek_text(source)
    try:
        return stream.read()
    except (OSError, EOFError) as exc:
        raise RebalanceError(f"{source.name}: cannot read ({exc})") from exc
    finally:
        _done_with(source, stream)


def _text_columns(head: bytes, source: Source) -> list[str]:
    if not head.strip():
        raise RebalanceError(
            f"{source.name}: "
            + ("no data on standard input" if source.is_stdio else "file is empty")
        )
    if source.format == "jsonl":
        first = head.lstrip().split(b"\n", 1)[0]
        try:
            record = json.loads(first.decode(source.encoding))
        except UnicodeDecodeError:
            raise _decode_error(source) from None
        except json.JSONDecodeError as exc:
            raise RebalanceError(f"{source.name}: line 1 is not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise RebalanceError(f"{source.name}: line 1 is not a JSON object")
        return list(record)
    header = _header_from_bytes(head, source)
    if not header:
        raise RebalanceError(f"{source.name}: file is empty")
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise RebalanceError(
            f"{source.name}: duplicate column name(s) {', '.join(map(repr, duplicates))}"
        )
    return header


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


def _csv_options(
    source: Source,
    columns: list[str],
    include: Sequence[str] | None,
    dictionary: Sequence[str] = (),
    block_size: int = _STREAM_BLOCK,
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(block_size=block_size, encoding=source.encoding)
    parse = pacsv.ParseOptions(delimiter=_delimiter(source.format), newlines_in_values=True)
    coded = pa.dictionary(pa.int32(), pa.string())
    convert = pacsv.ConvertOptions(
        column_types={c: coded if c in dictionary else pa.string() for c in columns},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=list(include) if include is not None else None,
    )
    return read, parse, convert


def _arrow_error(source: Source, exc: Exception) -> RebalanceError:
    text = str(exc)
    if "UTF8" in text or "utf-8" in text.lower() or "decode" in text.lower():
        return _decode_error(source)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return RebalanceError(f"{source.name}: cannot parse as {source.format.upper()} ({first})")


# ---------------------------------------------------------------- public reading


def read_columns(source: Source) -> list[str]:
    """Column names of a manifest, reading as little of it as possible."""
    if source.dataset:
        return list(open_dataset(source).schema.names)
    if source.format == "parquet":
        return list(_parquet_file(source).schema_arrow.names)
    head, stream = _peek_text(source)
    if not source.is_stdio:
        stream.close()
    return _text_columns(head, source)


_PARQUET_STDIN_CACHE: dict[int, bytes] = {}


def _parquet_file(
    source: Source, read_dictionary: Sequence[str] | None = None, *, memory_map: bool = True
) -> pq.ParquetFile:
    try:
        if source.is_stdio:
            # pyarrow needs to seek in Parquet: hold stdin in memory, once per process
            key = id(sys.stdin)
            if key not in _PARQUET_STDIN_CACHE:
                _PARQUET_STDIN_CACHE[key] = _stdin_bytes().read()
            data = _PARQUET_STDIN_CACHE[key]
            if not data:
                raise RebalanceError("stdin: no data on standard input")
            return pq.ParquetFile(
                io.BytesIO(data), read_dictionary=read_dictionary, pre_buffer=False
            )
        if source.filesystem is not None:
            handle = source.filesystem.open_input_file(source.fs_path)
            return pq.ParquetFile(handle, read_dictionary=read_dictionary)
        if os.path.getsize(source.path) == 0:
            raise RebalanceError(f"{source.name}: file is empty")
        # memory-mapped: about half the read time of buffered reads (the input is never written)
        # no pre-buffering: its read cache keeps every row group read until the file closes,
        # so streaming a 100M-row file would end up holding it (remote files keep it: there
        # it saves round trips, and a file of a folder is closed after its rows)
        return pq.ParquetFile(
            source.path, read_dictionary=read_dictionary, memory_map=memory_map, pre_buffer=False
        )
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc


def _coded_parquet(
    source: Source, wanted: Sequence[str], *, memory_map: bool = True
) -> tuple[pq.ParquetFile, list[str]]:
    """The Parquet file opened to read the wanted plain-string columns dictionary-encoded.

    Plain ``string`` only: a dictionary of ``large_string`` would come back as ``string``.
    Returns the file and the columns it codes.
    """
    schema = _parquet_file(source).schema_arrow
    coded = [c for c in wanted if c in schema.names and pa.types.is_string(schema.field(c).type)]
    return _parquet_file(source, read_dictionary=coded or None, memory_map=memory_map), coded


def iter_batches(source: Source, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """Stream the given columns of a manifest in record batches of bounded size.

    Only those columns are decoded (projection on Parquet, ``include_columns`` on
    CSV), so memory stays flat however large the file.
    """
    if source.dataset:
        try:
            # text columns decoded as dictionaries, as for a single file
            for table in dataset_tables(source, columns, columns, _COLUMN_BATCH):
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
                yield from _row_groups_in_parallel(source, columns, coded, len(groups))
            else:
                yield from pf.iter_batches(batch_size=_COLUMN_BATCH, columns=list(columns))
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc
        return
    if source.format == "jsonl":
        yield from _jsonl_batches(source, columns)
        return
    head, stream = _text_stream(source)
    header = _text_columns(head, source)
    read, parse, convert = _csv_options(source, header, columns)
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
    if source.dataset:
        try:
            yield from dataset_tables(source, None, dictionary, _PARQUET_BATCH)
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet dataset ({exc})") from exc
        return
    # not memory-mapped: the pages of a whole mapped file would stay in this process
    pf, coded = _coded_parquet(source, dictionary, memory_map=False)
    try:
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH):
            yield _mark_coded(pa.Table.from_batches([batch]), coded)
    except (pa.ArrowException, OSError) as exc:
        raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc


def _row_groups_in_parallel(
    source: Source, columns: Sequence[str], coded: Sequence[str], count: int
) -> Iterator[pa.RecordBatch]:
    """The columns of every row group, in order, decoded on a thread per core (a reader each):
    one reader decodes a dictionary column at about half the speed two cores can. At most
    one row group per thread, and one more, is held at a time."""
    import threading
    from collections import deque

    local = threading.local()

    def read(i: int) -> pa.Table:
        if not hasattr(local, "pf"):
            local.pf = _parquet_file(source, read_dictionary=coded or None, memory_map=False)
        return local.pf.read_row_group(i, columns=list(columns), use_threads=False)

    threads = max(1, min(usable_cpus(), count))
    with ThreadPoolExecutor(threads, thread_name_prefix="rebalance-read") as pool:
        pending = deque(pool.submit(read, i) for i in range(min(threads + 1, count)))
        following = len(pending)
        while pending:
            table = pending.popleft().result()
            if following < count:
                pending.append(pool.submit(read, following))
                following += 1
            yield from table.to_batches(max_chunksize=_COLUMN_BATCH)


def take_parquet_rows(
    source: Source, positions: npt.NDArray[np.int64], *, dictionary: Sequence[str] = ()
) -> Iterator[pa.Table]:
    """The rows of a Parquet manifest file at ``positions`` (input row indices), in that order.

    Streams: the file is read once, batch by batch (the next batch read in a thread
    meanwhile). The leading increasing run of positions (the rows a resample keeps)
    goes out as each batch is read; the other positions (copies, in any order) are
    gathered on the way and go out last. Memory holds a batch and the gathered rows,
    never the whole input. ``dictionary`` is as for :func:`read_manifest`.
    """
    pf, coded = _coded_parquet(source, dictionary)
    drops = np.flatnonzero(positions[1:] <= positions[:-1])
    head = int(drops[0]) + 1 if len(drops) else len(positions)
    run, rest = positions[:head], positions[head:]
    needed, slot = arrays.distinct(rest, pf.metadata.num_rows)
    gathered = []
    start = 0
    sent = False
    for table in _read_ahead(pf, source):
        table = _mark_coded(table, coded)
        stop = start + table.num_rows
        lo, hi = np.searchsorted(run, [start, stop])
        if hi - lo == table.num_rows:  # every row of the batch, in order
            yield table
            sent = True
        elif hi > lo:
            yield arrays.take(table, run[lo:hi] - start)
            sent = True
        lo, hi = np.searchsorted(needed, [start, stop])
        if hi > lo:
            gathered.append(arrays.take(table, needed[lo:hi] - start))
        start = stop
    if len(rest):
        pool = pa.concat_tables(gathered).combine_chunks()
        yield pool.take(arrays.to_arrow(slot))
    elif not sent:
        yield _mark_coded(pf.schema_arrow.empty_table(), coded)


def _read_ahead(pf: pq.ParquetFile, source: Source) -> Iterator[pa.Table]:
    """A Parquet file's batches in order, the next one read in a thread while this one is used."""
    batches = pf.iter_batches(batch_size=_PARQUET_BATCH, use_threads=True)

    def checked() -> Iterator[pa.RecordBatch]:
        try:
            yield from batches
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc

    for batch in ahead(checked()):
        yield pa.Table.from_batches([batch])


_T = TypeVar("_T")


def ahead(items: Iterator[_T]) -> Iterator[_T]:
    """``items`` in order, the next one made in a thread while the caller uses this one.

    Reading (Arrow's parsers and decoders) and counting both release the GIL, so the
    two overlap on two cores. Errors raised while making an item reach the caller.
    """
    done = object()

    def make_next() -> Any:
        return next(items, done)

    with ThreadPoolExecutor(1, thread_name_prefix="rebalance-read") as pool:
        coming = pool.submit(make_next)
        while (item := coming.result()) is not done:
            coming = pool.submit(make_next)
            yield item


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
        reader = pajson.open_json(stream, read_options=pajson.ReadOptions(block_size=_STREAM_BLOCK))
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
    if source.dataset:
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
        pf, coded = _coded_parquet(source, dictionary)
        try:
            table = pf.read(columns=list(columns) if columns is not None else None)
        except (pa.ArrowException, OSError) as exc:
            raise RebalanceError(f"{source.name}: not a readable Parquet file ({exc})") from exc
        table = _mark_coded(table, coded)
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
        read, parse, convert = _csv_options(source, header, columns, coded, _READ_BLOCK)
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


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


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


def labels_as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Label values as text, nulls kept: stored text as is, other types cast to string."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_string(column.type):
        return column
    return column.cast(pa.string())


def missing_mask(labels: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """True where a label (already text) is null or empty."""
    empty = pc.equal(pc.utf8_length(labels), arrays.scalar(0))
    return pc.fill_null(empty, arrays.scalar(True))


# ---------------------------------------------------------------- writing


def write_manifest(
    table: pa.Table | Iterable[pa.Table],
    dest: str | os.PathLike[str] | Source,
    *,
    output_format: str | None = None,
    input_path: str | os.PathLike[str] | None = None,
) -> None:
    """Write a table as a manifest, atomically.

    The table is written to a temporary file in the target folder, which is then
    renamed over the target, so a crash never leaves a partial file. ``"-"`` writes
    to standard output (CSV unless ``output_format`` says otherwise). ``table`` may
    also be an iterable of tables of one schema, written one after the other as they
    come (an error raised by the iterable abandons the file).

    Raises
    ------
    RebalanceError
        When the target is the input file, or cannot be written.
    """
    if not isinstance(dest, Source):
        dest = resolve_destination(dest, output_format=output_format)
    if input_path is not None and same_file(os.fspath(input_path), dest.path):
        raise RebalanceError(f"{dest.path}: refusing to overwrite the input (choose another -o)")
    parts = [table] if isinstance(table, pa.Table) else table
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
    """Write one JSON object per line; non-JSON values (dates) as ISO text."""
    for batch in table.to_batches(max_chunksize=64 * 1024):
        lines = [
            json.dumps(row, ensure_ascii=False, default=str, allow_nan=False) + "\n"
            for row in _json_safe_rows(batch)
        ]
        fh.write("".join(lines).encode("utf-8"))


def _json_safe_rows(batch: pa.RecordBatch) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = batch.to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and value != value:
                row[key] = None
    return rows
