"""Reading manifests: CSV/TSV as text, Parquet with its types, JSON lines; whole or streamed."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from rebalance import arrays
from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.manifest.coded import _json_text, _mark_coded
from rebalance.manifest.columns import column_error
from rebalance.manifest.source import (
    Source,
    _delimiter,
    _partition_columns,
    dataset_tables,
    open_dataset,
    resolve_source,
)

if TYPE_CHECKING:
    import pyarrow.csv as pacsv

_STREAM_BLOCK = 1 << 20  # bytes per CSV block: small blocks keep streaming memory flat
_READ_BLOCK = 16 << 20  # bytes per CSV block when reading a whole file
_PARQUET_BATCH = 256 * 1024  # rows per Parquet batch when streaming whole rows
_COLUMN_BATCH = 1 << 20  # rows per Parquet batch when streaming a few role columns
_PARALLEL_GROUP_ROWS = 4 << 20  # row groups up to this size are decoded in parallel

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


def read_types(source: Source) -> dict[str, pa.DataType]:
    """Column types a manifest declares without reading its rows: Parquet's schema; empty
    for text formats, whose values are text until read."""
    if source.dataset:
        schema = open_dataset(source).schema
    elif source.format == "parquet":
        schema = _parquet_file(source).schema_arrow
    else:
        return {}
    return {field.name: field.type for field in schema}


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
