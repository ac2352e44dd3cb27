"""Random resampling of a Parquet manifest in pieces, on any engine, in bounded memory.

What :func:`rebalance.resampling.resample_file` does for ``--method random`` when the
manifest is a dataset (a folder or ``s3://`` prefix of Parquet files), the output is a
folder, or the engine is distributed: the label counts, then the three small passes of
:mod:`rebalance.samplers.cutoff` (no row's label is held here, only histograms and a few
boundary keys), then each piece chooses its own rows. The rows are the in-process
selection's, for every layout of the pieces.

* A file output gets the in-process order: the rows kept, in input order, then the copies
  by class, copy number and input position; it is written here.
* A folder output (``-o out/``, ``-o s3://bucket/prefix/``) is written in a staging folder
  that is published whole: in process as one part file in the file's order; on a cluster
  piece by piece on the workers (``part-NNNNN.parquet``, one per piece: its kept rows, then
  its copies).
* With ``sort_output`` the rows are gathered and written in (label, row key, copy) order,
  which, with ``--id-col``, is the same file whatever the input's layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.provenance import SOURCE_ROW, SYNTHETIC
from rebalance.resampling.planning import plan_from_counts
from rebalance.resampling.result import ResampleResult, check_size
from rebalance.samplers import cutoff
from rebalance.samplers.random import bincount

if TYPE_CHECKING:
    from rebalance.engine import Engine
    from rebalance.manifest import Source
    from rebalance.relocate import Relocation
    from rebalance.resampling.roles import Columns


@dataclass(frozen=True)
class _Job:
    """What a piece needs for pass 3 (picklable: it travels to Dask workers)."""

    coder: cutoff.Coder
    cuts: cutoff.Cuts
    roles: tuple[str, ...]
    provenance: bool
    sort_output: bool


def _codes_keys(
    coder: cutoff.Coder, table: pa.Table, first_row: int
) -> tuple[cutoff.I32, npt.NDArray[np.bool_], Any]:
    """A piece's class codes, rows without a label, and row keys."""
    codes, blank = coder.codes(table)
    keys = coder.keys(table, first_row, blank if coder.drop_missing else None)
    return codes, blank, keys


@dataclass(frozen=True)
class _Histogram:
    coder: cutoff.Coder
    cuts: cutoff.Cuts

    def __call__(self, table: pa.Table, first_row: int) -> npt.NDArray[np.int64]:
        codes, _, keys = _codes_keys(self.coder, table, first_row)
        return cutoff.histogram(codes, keys, self.cuts)


@dataclass(frozen=True)
class _Boundary:
    coder: cutoff.Coder
    cuts: cutoff.Cuts

    def __call__(self, table: pa.Table, first_row: int) -> tuple[Any, Any, Any]:
        codes, _, keys = _codes_keys(self.coder, table, first_row)
        return cutoff.boundary_rows(codes, keys, first_row, self.cuts)


@dataclass
class PiecePart:
    """One piece's output rows: kept then copies (``rows``), and what the client needs."""

    rows: pa.Table | None  # None once written to a part file by the piece itself
    kept: int
    copy_class: npt.NDArray[np.int64]
    copy_number: npt.NDArray[np.int64]
    produced: npt.NDArray[np.int64]  # output rows per class code
    sort_codes: npt.NDArray[np.int32] | None = None  # class code of each row (--sort-output)
    sort_keys: npt.NDArray[np.uint64] | None = None  # row key of each row (--sort-output)
    roles: pa.Table | None = None  # the role columns of rows


@dataclass(frozen=True)
class _Choose:
    job: _Job

    def __call__(self, table: pa.Table, first_row: int) -> PiecePart:
        from rebalance.provenance import with_provenance

        job = self.job
        codes, blank, keys = _codes_keys(job.coder, table, first_row)
        chosen = cutoff.choose(codes, keys, first_row, job.cuts, blank, job.coder.drop_missing)
        n = table.num_rows
        kept = np.arange(n, dtype=np.int64) if chosen.kept is None else chosen.kept
        order = np.concatenate([kept, chosen.added])
        rows = table if chosen.kept is None and not len(chosen.added) else arrays.take(table, order)
        if job.provenance:
            rows = with_provenance(rows, order + first_row, np.zeros(len(order), dtype=bool))
        k = len(job.cuts.sizes)
        produced = bincount(codes[kept], k) + np.bincount(chosen.added_class, minlength=k)
        sort_codes = sort_keys = None
        if job.sort_output:
            # class, then row key, then copy number: the same order for any piece layout
            sort_codes, sort_keys = codes[order], keys[order]
        return PiecePart(
            rows=rows,
            kept=len(kept),
            copy_class=chosen.added_class,
            copy_number=chosen.added_copy,
            produced=produced,
            sort_codes=sort_codes,
            sort_keys=sort_keys,
            roles=rows.select(list(job.roles)),
        )


@dataclass(frozen=True)
class _Relocated:
    """Pass 3's rows with their relative paths rewritten for the output's folder."""

    split: _Split
    relocation: Relocation | None

    def __call__(self, table: pa.Table, first_row: int) -> tuple[pa.Table, PiecePart]:
        rows, part = self.split(table, first_row)
        return (self.relocation(rows) if self.relocation else rows), part


@dataclass(frozen=True)
class _Split:
    """Pass 3 for an engine that writes each piece's rows itself: (rows, the rest)."""

    choose: _Choose

    def __call__(self, table: pa.Table, first_row: int) -> tuple[pa.Table, PiecePart]:
        part = self.choose(table, first_row)
        assert part.rows is not None
        rows, part.rows = part.rows, None
        return rows, part


def resample_in_pieces(
    runner: Engine,
    source: Source,
    output: Source,
    names: Sequence[str],
    columns: Columns,
    *,
    step: Callable[[], None] | None,
    options: dict[str, Any],
) -> ResampleResult:
    """Random resampling of ``source`` (columns ``names``) into ``output`` by the piece passes
    (see the module)."""
    from rebalance.stats import apply_missing_policy

    seed = int(options.pop("seed", 0))
    relocation = options.pop("relocation", None)
    provenance = bool(options.pop("provenance", False))
    sort_output = bool(options.pop("sort_output", False))
    missing = options.pop("missing", "keep")
    allow_large = bool(options.pop("allow_large", False))
    only_splits = options.pop("only_splits", None)
    all_splits = bool(options.pop("all_splits", False))
    plan_keys = ("target", "mode", "min_per_class", "max_per_class", "per_class")
    plan_options = {k: options.pop(k) for k in plan_keys if k in options}
    options.pop("method", None)
    options.pop("bytes_per_row", None)
    unused = {k: v for k, v in options.items() if v not in (None, False, (), [], {})}
    if unused:
        raise ValueError(f"resample_in_pieces cannot do {sorted(unused)}")
    raw = runner.counts(source, columns.label, columns.split)
    counts = apply_missing_policy(raw, missing, where=source.name, label_col=columns.label)
    plan = plan_from_counts(
        counts,
        only_splits=only_splits,
        all_splits=all_splits,
        split_col=columns.split,
        where=source.name,
        **plan_options,
    )
    rows_in = sum(raw.counts.values()) + raw.missing
    resampled = sum(plan.counts.values())
    passthrough = rows_in - resampled - (raw.missing if missing == "drop" else 0)
    check_size(plan, plan.rows_before + passthrough, allow_large=allow_large)
    labels = tuple(sorted(raw.counts))
    coder = cutoff.Coder(
        label_col=columns.label,
        labels=labels,
        split_col=columns.split,
        splits=tuple(only_splits) if (columns.split and only_splits) else None,
        id_col=columns.id,
        seed=seed,
        drop_missing=missing == "drop",
    )
    sizes = np.array([plan.counts.get(label, 0) for label in labels], dtype=np.int64)
    targets = np.array([plan.targets.get(label, 0) for label in labels], dtype=np.int64)
    cuts = cutoff.Cuts.plan(sizes, targets)
    if cuts.partial.any():
        wanted = coder.columns()
        summed = np.zeros((len(labels), cutoff.BUCKETS + 1), dtype=np.int64)
        for counts_of_piece in runner.map_pieces(
            source, wanted, _Histogram(coder, cuts), coded=wanted
        ):
            summed += counts_of_piece
        cuts = cuts.from_histogram(summed)
        found = list(runner.map_pieces(source, wanted, _Boundary(coder, cuts), coded=wanted))
        cuts = cuts.settle(
            np.concatenate([f[0] for f in found]),
            np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found]),
        )
    if step:
        step()
        step()
    roles = tuple(columns.roles()) + ((SOURCE_ROW, SYNTHETIC) if provenance else ())
    job = _Job(coder, cuts, roles, provenance, sort_output)
    coded = [c for c in (columns.label, columns.split, columns.group) if c is not None]
    if output.dataset and not sort_output and not runner.in_process:
        parts = runner.write_parts(
            source, _Relocated(_Split(_Choose(job)), relocation), output, coded=coded
        )
    else:
        parts = _write_gathered(
            runner, source, output, _Choose(job), coded, sort_output, relocation
        )
    if step:
        step()
    k = len(labels)
    produced_arr = np.zeros(k, dtype=np.int64)
    for part in parts:
        produced_arr += part.produced
    role_tables = [p.roles for p in parts if p.roles is not None]
    table = pa.concat_tables(role_tables) if role_tables else pa.table({})
    code_of = {label: i for i, label in enumerate(labels)}
    produced = {label: int(produced_arr[code_of[label]]) for label in plan.counts}
    messages = []
    blank_kept = raw.missing if missing == "keep" else 0
    if blank_kept:
        messages.append(f"{blank_kept:,} row(s) without a label pass through unchanged")
    return ResampleResult(
        table=table,
        plan=plan,
        produced=produced,
        method="random",
        params={"id_col": columns.id},
        seed=seed,
        label_col=columns.label,
        split_col=columns.split,
        only_splits=list(only_splits) if only_splits else None,
        group_col=columns.group,
        passthrough_rows=passthrough,
        messages=messages,
    )


def _write_gathered(
    runner: Engine,
    source: Source,
    output: Source,
    choose: _Choose,
    coded: Sequence[str],
    sort_output: bool,
    relocation: Relocation | None,
) -> list[PiecePart]:
    """Pass 3 with the rows written here, as one file (or one part of a folder)."""
    parts: list[PiecePart] = []
    copies: list[pa.Table] = []

    def kept_rows() -> Iterator[pa.Table]:
        for part in runner.map_pieces(source, None, choose, coded=coded):
            parts.append(part)
            assert part.rows is not None
            if sort_output:
                continue
            yield part.rows.slice(0, part.kept)
            if part.rows.num_rows > part.kept:
                copies.append(part.rows.slice(part.kept))
            part.rows = None
        if sort_output:
            yield from _sorted(parts)
            return
        if copies:
            classes = np.concatenate([p.copy_class for p in parts])
            numbers = np.concatenate([p.copy_number for p in parts])
            order = cutoff.copy_order(classes, numbers)
            yield arrays.take(pa.concat_tables(copies), order)

    rows = _nonempty(kept_rows())
    runner.write(
        relocation.parts(rows) if relocation else rows, output, input_path=_input_path(source)
    )
    return parts


def _sorted(parts: list[PiecePart]) -> Iterator[pa.Table]:
    """Every piece's rows in (class, row key, copy number, position) order."""
    codes, keys, numbers = [], [], []
    for part in parts:
        assert part.sort_codes is not None and part.sort_keys is not None
        codes.append(part.sort_codes)
        keys.append(part.sort_keys)
        numbers.append(np.concatenate([np.zeros(part.kept, np.int64), part.copy_number]))
    table = pa.concat_tables([p.rows for p in parts if p.rows is not None])
    order = np.lexsort((np.concatenate(numbers), np.concatenate(keys), np.concatenate(codes)))
    for part in parts:
        part.rows = None
    from rebalance.manifest import _stored_schema

    # plain text: Parquet dictionaries then follow the row order, not the input's layout
    out = arrays.take(table, order.astype(np.int64))
    yield out.cast(_stored_schema(out.schema))


def _nonempty(parts: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """The parts, with at least one (an empty one) so that the schema is written."""
    first = True
    for part in parts:
        if part.num_rows or first:
            yield part
            first = False


def _input_path(source: Source) -> str | None:
    return None if source.is_stdio else source.path
