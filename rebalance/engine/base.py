"""The :class:`Engine` protocol (see :mod:`rebalance.engine`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from rebalance.manifest import Source
    from rebalance.stats import LabelCounts

R = TypeVar("R")


class Reduce(Protocol[R]):
    """A map-reduce: ``part`` summarises one batch, ``combine`` merges summaries."""

    def part(self, batch: pa.RecordBatch) -> R: ...

    def combine(self, parts: Sequence[R]) -> R: ...


class Engine(Protocol):
    """What the commands ask of a manifest; see :mod:`rebalance.engine`."""

    name: str

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


__all__ = ["Engine", "Reduce"]
