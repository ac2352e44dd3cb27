"""The in-process engine: pyarrow streams over one manifest file (or stdin)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.counts import LabelCounts
from rebalance.engine.base import Reduce
from rebalance.manifest import (
    Source,
    ahead,
    iter_batches,
    iter_tables,
    read_columns,
    read_manifest,
    take_parquet_rows,
    write_manifest,
)
from rebalance.stats import count_batches

R = TypeVar("R")


class LocalEngine:
    """Streams batches with pyarrow in this process; memory stays bounded by the batch
    size for counts and reductions, and by the columns asked for in ``read``."""

    name = "local"
    in_process = True

    def columns(self, source: Source) -> list[str]:
        return read_columns(source)

    def counts(self, source: Source, label_col: str, split_col: str | None) -> LabelCounts:
        wanted = [label_col] if split_col is None else [label_col, split_col]
        # the next batch is read while this one is counted: both release the GIL
        batches = iter_batches(source, wanted, dictionary=wanted)
        return count_batches(ahead(batches), label_col, split_col)

    def reduce(self, source: Source, columns: Sequence[str], job: Reduce[R]) -> R:
        return job.combine([job.part(batch) for batch in ahead(iter_batches(source, columns))])

    def read(
        self, source: Source, columns: Sequence[str] | None = None, *, coded: Sequence[str] = ()
    ) -> pa.Table:
        return read_manifest(source, columns=columns, dictionary=coded)

    def take_write(
        self,
        source: Source,
        positions: npt.NDArray[np.int64],
        output: Source,
        *,
        coded: Sequence[str] = (),
        number: Callable[[Iterable[pa.Table]], Iterable[pa.Table]] | None = None,
    ) -> None:
        if source.format != "parquet" or source.is_stdio or source.dataset:
            table = read_manifest(source, dictionary=coded)
            parts: Iterable[pa.Table] = [arrays.take(table, positions)]
        else:
            parts = take_parquet_rows(source, positions, dictionary=coded)
        self.write(number(parts) if number else parts, output, input_path=_path(source))

    def write(self, parts: Iterable[pa.Table], output: Source, *, input_path: Any = None) -> None:
        write_manifest(parts, output, input_path=input_path)

    def map_pieces(
        self,
        source: Source,
        columns: Sequence[str] | None,
        fn: Callable[[pa.Table, int], R],
        *,
        coded: Sequence[str] = (),
    ) -> Iterator[R]:
        """``fn(piece, first_row)`` over bounded batches of the manifest, in row order."""
        if columns is None:
            tables: Iterator[pa.Table] = iter_tables(source, coded)
        else:
            tables = (pa.Table.from_batches([b]) for b in iter_batches(source, columns))
        first_row = 0
        for table in ahead(tables):
            yield fn(table, first_row)
            first_row += table.num_rows

    def write_parts(
        self,
        source: Source,
        fn: Callable[[pa.Table, int], tuple[pa.Table, R]],
        output: Source,
        *,
        coded: Sequence[str] = (),
    ) -> list[R]:
        """Each batch's rows (``fn``'s first result) written, in order, as one part of the
        folder ``output``; returns ``fn``'s second results."""
        results: list[R] = []

        def rows() -> Iterator[pa.Table]:
            for table, result in self.map_pieces(source, None, fn, coded=coded):
                results.append(result)
                yield table

        write_manifest(rows(), output, input_path=_path(source))
        return results


def _path(source: Source) -> str | os.PathLike[str] | None:
    return None if source.is_stdio else source.path
