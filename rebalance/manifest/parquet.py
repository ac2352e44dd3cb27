"""Parquet files: opened once (standard input held in memory), coded label columns, row groups in parallel, rows taken by position."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from rebalance import arrays
from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.manifest.coded import _is_text, _mark_coded
from rebalance.manifest.source import (
    Source,
)
from rebalance.manifest.text import _stdin_bytes

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


_PARQUET_BATCH = 256 * 1024  # rows per Parquet batch when streaming whole rows


_COLUMN_BATCH = 1 << 20  # rows per Parquet batch when streaming a few role columns


_PARALLEL_GROUP_ROWS = 4 << 20  # row groups up to this size are decoded in parallel


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
) -> tuple[pq.ParquetFile, dict[str, pa.DataType]]:
    """The Parquet file opened to read the wanted text columns dictionary-encoded.

    Returns the file and the columns it codes, each with its stored type: a dictionary of
    ``large_string`` (polars writes it) comes back with ``string`` values, so
    :func:`_mark_coded` with this mapping has the writer store it as ``large_string``
    again.
    """
    schema = _parquet_file(source).schema_arrow
    coded = {
        c: schema.field(c).type
        for c in wanted
        if c in schema.names and _is_text(schema.field(c).type)
    }
    return _parquet_file(source, read_dictionary=list(coded) or None, memory_map=memory_map), coded


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
