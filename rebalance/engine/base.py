"""The :class:`Engine` protocol (see :mod:`rebalance.engine`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from rebalance.counts import LabelCounts
    from rebalance.manifest import Source

R = TypeVar("R")


class Reduce(Protocol[R]):
    """A map-reduce: ``part`` summarises one batch, ``combine`` merges summaries."""

    def part(self, batch: pa.RecordBatch) -> R: ...

    def combine(self, parts: Sequence[R]) -> R: ...


class Engine(Protocol):
    """What the commands ask of a manifest; see :mod:`rebalance.engine`."""

    name: str
    in_process: bool  # whether every row passes through this process (else: a cluster's)

    def columns(self, source: Source) -> list[str]:
        """The manifest's column names, in order."""
        ...

    def counts(self, source: Source, label_col: str, split_col: str | None) -> LabelCounts:
        """Label counts (per split too when ``split_col`` is given), streamed."""
        ...

    def reduce(self, source: Source, columns: Sequence[str], job: Reduce[R]) -> R:
        """``job.combine`` of ``job.part`` over every batch of the given columns."""
        ...

    def read(
        self, source: Source, columns: Sequence[str] | None = None, *, coded: Sequence[str] = ()
    ) -> pa.Table:
        """Those columns (all by default) of every row; ``coded`` ones dictionary-encoded."""
        ...

    def take_write(
        self,
        source: Source,
        positions: npt.NDArray[np.int64],
        output: Source,
        *,
        coded: Sequence[str] = (),
        number: Callable[[Iterable[pa.Table]], Iterable[pa.Table]] | None = None,
    ) -> None:
        """Write the input rows at ``positions`` (in that order, repeats allowed) to
        ``output``, atomically; ``number`` may add columns to each written part."""
        ...

    def write(self, parts: Iterable[pa.Table], output: Source, *, input_path: Any = None) -> None:
        """Write tables (one schema) to ``output``, atomically; never over ``input_path``."""
        ...

    def map_pieces(
        self,
        source: Source,
        columns: Sequence[str] | None,
        fn: Callable[[pa.Table, int], R],
        *,
        coded: Sequence[str] = (),
    ) -> Iterator[R]:
        """``fn(piece, first_row)`` on each piece of the manifest (those columns; all for
        ``None``, ``coded`` ones dictionary-encoded), where ``first_row`` is the input row
        index of the piece's first row; results in row order. How large a piece is, and
        where ``fn`` runs, is the engine's business."""
        ...

    def write_parts(
        self,
        source: Source,
        fn: Callable[[pa.Table, int], tuple[pa.Table, R]],
        output: Source,
        *,
        coded: Sequence[str] = (),
    ) -> list[R]:
        """Map-and-write into the folder ``output``: ``fn(piece, first_row)`` gives the rows
        to write and a small result; the rows become part files (one per piece, or one in
        all), published all at once. Returns the small results in row order."""
        ...


__all__ = ["Engine", "Reduce"]
