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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.engine.base import Reduce
from rebalance.errors import RebalanceError
from rebalance.manifest import Source, read_columns
from rebalance.stats import LabelCounts

R = TypeVar("R")


@dataclass(frozen=True)
class Piece:
    """Row groups of one Parquet file: what one task reads."""

    url: str  # the file as the user named it (local path or URL)
    row_groups: tuple[int, ...]
    offset: int  # input row index of its first row
    partitions: tuple[tuple[str, str], ...] = ()  # hive partition columns and values
    storage: tuple[tuple[str, str], ...] = ()  # --storage-option, for workers


def _storage() -> tuple[tuple[str, str], ...]:
    from rebalance.storage import OPTIONS

    env = {k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3") if k in os.environ}
    return tuple(sorted({**{f"env:{k}": v for k, v in env.items()}, **OPTIONS}.items()))


def pieces(source: Source, parts: int | None = None) -> list[Piece]:
    """The pieces of a Parquet file or dataset, in row order; ``parts`` splits each file's
    row groups into that many runs at most (default: one piece per file)."""
    import pyarrow.parquet as pq

    from rebalance.manifest import dataset_files

    if source.format != "parquet" or source.is_stdio:
        raise RebalanceError(
            f"{source.name}: --engine dask reads Parquet files, folders and s3:// prefixes "
            "(convert CSV/JSON lines to Parquet first)"
        )
    remote = source.filesystem is not None
    # paths on the source's filesystem; workers get them back as URLs
    where = source.fs_path if remote else source.path
    scheme = source.path.split("://")[0] + "://" if remote else ""
    files = dataset_files(source) if source.dataset else [where]
    base = where if source.dataset else ""
    out: list[Piece] = []
    offset = 0
    storage = _storage()
    for path in files:
        handle = source.filesystem.open_input_file(path) if remote else path
        meta = pq.ParquetFile(handle).metadata
        groups = list(range(meta.num_row_groups))
        runs = np.array_split(
            np.array(groups, dtype=int), max(1, min(parts or 1, len(groups) or 1))
        )
        partitions = _hive_values(path, base) if base else ()
        for run in runs:
            rows = sum(meta.row_group(int(g)).num_rows for g in run)
            out.append(
                Piece(scheme + path, tuple(int(g) for g in run), offset, partitions, storage)
            )
            offset += rows
    return out


def _hive_values(path: str, base: str) -> tuple[tuple[str, str], ...]:
    rel = os.path.relpath(path, base) if "://" not in base else path[len(base.rstrip("/")) + 1 :]
    pairs = []
    for part in rel.replace(os.sep, "/").split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep:
            pairs.append((key, value))
    return tuple(pairs)


def read_piece(piece: Piece, columns: Sequence[str]) -> pa.Table:
    """The columns of a piece (partition columns as text), on whichever worker runs it."""
    import pyarrow.parquet as pq

    from rebalance import storage

    if "://" in piece.url:
        storage.OPTIONS.clear()
        for key, value in piece.storage:
            if key.startswith("env:"):
                os.environ.setdefault(key[4:], value)
            else:
                storage.OPTIONS[key] = value
        fs, path = storage.filesystem(piece.url)
        handle: Any = fs.open_input_file(path)
    else:
        handle = piece.url
    values = dict(piece.partitions)
    physical = [c for c in columns if c not in values]
    table = pq.ParquetFile(handle).read_row_groups(list(piece.row_groups), columns=physical)
    for name in columns:
        if name in values:
            table = table.append_column(
                name, pa.array([values[name]] * table.num_rows, pa.string())
            )
    return table.select(list(columns))


def _take_piece(piece: Piece, rows: npt.NDArray[np.int64], columns: Sequence[str]) -> pa.Table:
    """The rows of a piece at ``rows`` (local, ascending)."""
    return read_piece(piece, columns).take(pa.array(rows, pa.int64()))


def _count_piece(piece: Piece, label_col: str, split_col: str | None) -> LabelCounts:
    from rebalance.stats import count_batches

    wanted = [label_col] if split_col is None else [label_col, split_col]
    return count_batches(read_piece(piece, wanted).to_batches(), label_col, split_col)


def _reduce_piece(piece: Piece, columns: Sequence[str], job: Reduce[Any]) -> Any:
    return job.combine([job.part(b) for b in read_piece(piece, columns).to_batches()])


def merge_counts(parts: Sequence[LabelCounts], offsets: Sequence[int]) -> LabelCounts:
    """One count of several pieces' counts (``offsets``: each piece's first input row)."""
    counts: dict[str, int] = {}
    missing = 0
    by_split: dict[str, dict[str, int]] | None = None
    missing_by: dict[str, int] | None = None
    first: int | None = None
    for part, offset in zip(parts, offsets, strict=True):
        for k, v in part.counts.items():
            counts[k] = counts.get(k, 0) + v
        missing += part.missing
        if part.by_split is not None:
            by_split = by_split if by_split is not None else {}
            for s, table in part.by_split.items():
                into = by_split.setdefault(s, {})
                for k, v in table.items():
                    into[k] = into.get(k, 0) + v
        if part.missing_by_split is not None:
            missing_by = missing_by if missing_by is not None else {}
            for s, v in part.missing_by_split.items():
                missing_by[s] = missing_by.get(s, 0) + v
        if first is None and part.first_missing_row is not None:
            first = part.first_missing_row + offset
    ordered = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return LabelCounts(
        counts=ordered,
        missing=missing,
        by_split=by_split,
        missing_by_split=missing_by,
        first_missing_row=first,
    )


class DaskEngine:
    """Counts and reductions on a Dask cluster (see the module docstring)."""

    name = "dask"

    def __init__(
        self, scheduler: str | None = None, *, parts: int | None = None, client: Any = None
    ) -> None:
        self.scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self.parts = parts
        self._client = client
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
                n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=False,
                dashboard_address=":0",
            )  # fmt: skip
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
            _count_piece, work, label_col=label_col, split_col=split_col, pure=False
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

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
