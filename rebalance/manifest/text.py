"""CSV and TSV (and the bytes of any text input): standard input, gzip, the header, encodings, Arrow's CSV options."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, cast

import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest.source import (
    Source,
    _delimiter,
)

if TYPE_CHECKING:
    import pyarrow.csv as pacsv


_STREAM_BLOCK = 1 << 20  # bytes per CSV block: small blocks keep streaming memory flat


_READ_BLOCK = 16 << 20  # bytes per CSV block when reading a whole file


_STDIN_PEEKED: dict[int, tuple[bytes, IO[bytes]]] = {}


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


_RANGE_BYTES = 16 << 20  # a thread's share of a large CSV at a time: about 300k manifest rows
_PARALLEL_ENCODINGS = ("utf-8", "utf8", "utf-8-sig", "utf_8", "ascii")


def parallel_ranges(source: Source) -> list[tuple[int, int]] | None:
    """Byte ranges (at line starts) to parse a large local CSV/TSV on several threads, or
    ``None`` when it must be read as one stream: stdin, an object store, a compressed
    file, a non-UTF-8 encoding, a small file, one core, or any quote character (a quoted
    value may hold a line end, so only a file without quotes splits safely at newlines).
    The file is read once for this, a range at a time (memory stays at one range)."""
    import os

    from rebalance.cpus import usable_cpus

    if source.is_stdio or source.filesystem is not None or source.compression:
        return None
    if source.encoding.lower() not in _PARALLEL_ENCODINGS or usable_cpus() < 2:
        return None
    try:
        size = os.path.getsize(source.path)
        if size < 4 * _RANGE_BYTES:
            return None
        starts, at = [0], 0
        with open(source.path, "rb") as fh:
            while chunk := fh.read(_RANGE_BYTES):
                if b'"' in chunk:
                    return None
                last = chunk.rfind(b"\n")
                if last >= 0 and starts[-1] < at + last + 1 < size:
                    starts.append(at + last + 1)
                at += len(chunk)
    except OSError:
        return None
    return list(zip(starts, [*starts[1:], size], strict=True))


def parallel_batches(
    source: Source,
    header: list[str],
    columns: Sequence[str],
    ranges: list[tuple[int, int]],
    dictionary: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    """The ``columns`` of every range of a CSV/TSV, in file order, parsed on a thread per
    core (Arrow's streaming reader parses on one): at most one range per thread, and one
    more, is held at a time. The first range reads the header; the others are given it."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.csv as pacsv

    from rebalance.cpus import usable_cpus

    def parse(k: int) -> list[pa.RecordBatch]:
        start, stop = ranges[k]
        with pa.OSFile(source.path) as fh:
            fh.seek(start)
            data = fh.read_buffer(stop - start)
        read, parse_options, convert = _csv_options(
            source, header, columns, dictionary, block_size=stop - start + 1
        )
        if k:
            read.column_names = header
        reader = pacsv.open_csv(
            pa.BufferReader(data), read_options=read, parse_options=parse_options,
            convert_options=convert,
        )  # fmt: skip
        return list(reader)

    threads = max(1, min(usable_cpus(), len(ranges)))
    with ThreadPoolExecutor(threads, thread_name_prefix="rebalance-csv") as pool:
        pending = deque(pool.submit(parse, k) for k in range(min(threads + 1, len(ranges))))
        following = len(pending)
        while pending:
            batches = pending.popleft().result()
            if following < len(ranges):
                pending.append(pool.submit(parse, following))
                following += 1
            yield from batches
