"""The Dask engine: counts and map-reduce jobs over the pieces of a Parquet manifest, run by
a Dask cluster (``pip install 'rebalance[dask]'``).

A piece is a run of row groups of one Parquet file (a file alone, or one file of a folder or
``s3://`` prefix, with its hive partition values as columns). Each piece is counted (or
reduced) on a worker, and the small results are merged here, in piece order, so the answer
is the in-process engine's whatever the number of pieces (tests compare them at 1, 3 and 7).

The scheduler is ``scheduler`` (``--scheduler``), else ``DASK_SCHEDULER_ADDRESS``, else a
``LocalCluster`` sized to the machine, started for the run (its dashboard address is said).
Workers must run the same rebalance version as the client (checked once).

``inspect`` and ``weights`` count and reduce on the cluster. ``resample --method random``
gathers the label (split, group, id) columns here, chooses the rows exactly as in process
(the keys depend on the seed and the input row only), then has each piece read its chosen
rows on the cluster; they are written here, in the in-process order: the same bytes as
without Dask. Plans that keep every row gather the whole input here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.counts import LabelCounts
from rebalance.cpus import usable_cpus
from rebalance.engine.base import Reduce
from rebalance.engine.pieces import (
    Piece,
    count_piece,
    merge_counts,
    pieces,
    read_piece,
)
from rebalance.errors import RebalanceError
from rebalance.manifest import Source, read_columns

R = TypeVar("R")


def _map_piece(
    piece: Piece,
    fn: Callable[[pa.Table, int], R],
    columns: Sequence[str] | None,
    coded: Sequence[str],
) -> R:
    return fn(read_piece(piece, columns, coded), piece.offset)


def _write_piece(
    piece: Piece,
    index: int,
    fn: Callable[[pa.Table, int], tuple[pa.Table, R]],
    folder: str,
    coded: Sequence[str],
) -> R:
    """A piece's rows written as part ``index`` of the staging ``folder``, on a worker."""
    from rebalance.manifest import part_name, resolve_destination, write_manifest

    rows, result = fn(read_piece(piece, None, coded), piece.offset)
    write_manifest(rows, resolve_destination(f"{folder.rstrip('/')}/{part_name(index)}"))
    return result


def _take_piece(piece: Piece, rows: npt.NDArray[np.int64], columns: Sequence[str]) -> pa.Table:
    """The rows of a piece at ``rows`` (local, ascending)."""
    return read_piece(piece, columns).take(pa.array(rows, pa.int64()))


def _reduce_piece(piece: Piece, columns: Sequence[str], job: Reduce[Any]) -> Any:
    return job.combine([job.part(b) for b in read_piece(piece, columns).to_batches()])


class DaskEngine:
    """Counts and reductions on a Dask cluster (see the module docstring)."""

    name = "dask"
    in_process = False

    def __init__(
        self, scheduler: str | None = None, *, parts: int | None = None, client: Any = None
    ) -> None:
        self.scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.parts = parts
        self._client = client
        self._cluster: Any = None  # a LocalCluster this engine started: closed with it
        self.messages: list[str] = []

    def client(self) -> Any:
        """The Dask client: connected, or a LocalCluster started (once)."""
        if self._client is not None:
            return self._client
        import importlib

        try:
            distributed = importlib.import_module("distributed")
        except ImportError:
            raise RebalanceError(
                "--engine dask needs the dask extra: pip install 'rebalance[dask]'"
            ) from None
        if self.scheduler:
            try:
                self._client = distributed.Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise RebalanceError(
                    f"--scheduler {self.scheduler}: cannot connect ({exc})"
                ) from exc
        else:
            cluster = distributed.LocalCluster(
                n_workers=usable_cpus(), threads_per_worker=1, processes=False,
                dashboard_address=":0",
            )  # fmt: skip
            self._cluster = cluster
            self._client = distributed.Client(cluster)
            self.messages.append(
                f"started a local Dask cluster; dashboard at {cluster.dashboard_link}"
            )
        self._check_versions(self._client)
        return self._client

    @staticmethod
    def _check_versions(client: Any) -> None:
        from rebalance import __version__

        def version() -> str:
            import rebalance

            return str(rebalance.__version__)

        found = client.run(version)
        wrong = {w: v for w, v in found.items() if v != __version__}
        if wrong:
            worker, theirs = next(iter(wrong.items()))
            raise RebalanceError(
                f"Dask worker {worker} runs rebalance {theirs}, this client {__version__}: "
                "install the same version on every worker"
            )

    def columns(self, source: Source) -> list[str]:
        return read_columns(source)

    def _gather(self, futures: list[Any], what: str) -> list[Any]:
        """The tasks' results in submission order; a progress bar over pieces on a TTY."""
        import importlib

        from rebalance.render import progress

        distributed = importlib.import_module("distributed")
        with progress(what, total=len(futures)) as bar:
            for _ in distributed.as_completed(futures):
                bar.advance(1)
        return list(self.client().gather(futures))

    def counts(self, source: Source, label_col: str, split_col: str | None) -> LabelCounts:
        work = pieces(source, self.parts)
        client = self.client()
        futures = client.map(
            count_piece, work, label_col=label_col, split_col=split_col, pure=False
        )
        return merge_counts(self._gather(futures, "counting pieces"), [p.offset for p in work])

    def reduce(self, source: Source, columns: Sequence[str], job: Reduce[R]) -> R:
        work = pieces(source, self.parts)
        client = self.client()
        futures = client.map(_reduce_piece, work, columns=list(columns), job=job, pure=False)
        result: R = job.combine(self._gather(futures, "reducing pieces"))
        return result

    def read(
        self, source: Source, columns: Sequence[str] | None = None, *, coded: Sequence[str] = ()
    ) -> pa.Table:
        """Those columns of every row, read piece by piece on the cluster, here in row order."""
        wanted = list(columns) if columns is not None else read_columns(source)
        work = pieces(source, self.parts)
        client = self.client()
        futures = client.map(read_piece, work, columns=wanted, pure=False)
        return pa.concat_tables(self._gather(futures, "reading pieces"))

    def take_write(
        self,
        source: Source,
        positions: npt.NDArray[np.int64],
        output: Source,
        *,
        coded: Sequence[str] = (),
        number: Callable[[Iterable[pa.Table]], Iterable[pa.Table]] | None = None,
    ) -> None:
        """Each piece reads the chosen rows in its range on the cluster; they are put in
        ``positions`` order here and written atomically."""
        from rebalance.manifest import write_manifest

        work = pieces(source, self.parts)
        starts = np.array([p.offset for p in work] + [np.iinfo(np.int64).max], dtype=np.int64)
        wanted = np.unique(positions)
        bounds = np.searchsorted(wanted, starts)
        asks = [wanted[bounds[i] : bounds[i + 1]] - work[i].offset for i in range(len(work))]
        client = self.client()
        futures = client.map(_take_piece, work, asks, columns=read_columns(source), pure=False)
        rows = pa.concat_tables(self._gather(futures, "reading chosen rows"))
        order = np.searchsorted(wanted, positions)
        parts: Iterable[pa.Table] = [rows.take(pa.array(order))]
        if number is not None:
            parts = number(parts)
        write_manifest(parts, output, input_path=None if source.is_stdio else source.path)

    def write(self, parts: Iterable[pa.Table], output: Source, *, input_path: Any = None) -> None:
        from rebalance.manifest import write_manifest

        write_manifest(parts, output, input_path=input_path)

    def map_pieces(
        self,
        source: Source,
        columns: Sequence[str] | None,
        fn: Callable[[pa.Table, int], R],
        *,
        coded: Sequence[str] = (),
    ) -> Iterator[R]:
        """``fn`` on each piece (a file or run of row groups), on the cluster; results in
        row order."""
        work = pieces(source, self.parts)
        client = self.client()
        futures = client.map(
            _map_piece, work, fn=fn, columns=columns, coded=list(coded), pure=False
        )
        return iter(self._gather(futures, "working on pieces"))

    def write_parts(
        self,
        source: Source,
        fn: Callable[[pa.Table, int], tuple[pa.Table, R]],
        output: Source,
        *,
        coded: Sequence[str] = (),
    ) -> list[R]:
        """Each piece writes its rows as its own part file on the cluster (into a staging
        folder that is published once every piece is written). The folder must be reachable
        from every worker: ``s3://``, or a shared mount with a remote cluster."""
        from rebalance.output import write_folder

        work = pieces(source, self.parts)
        client = self.client()
        results: list[R] = []

        def fill(staging: str) -> None:
            futures = client.map(
                _write_piece, work, range(len(work)), fn=fn, folder=staging,
                coded=list(coded), pure=False,
            )  # fmt: skip
            results.extend(self._gather(futures, "writing pieces"))

        write_folder(output.path, fill)
        return results

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # a client made from a cluster object does not close that cluster: its scheduler,
        # workers and event loop would live on in this process
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
