"""Resampling a manifest file into a new one: in pieces, streamed Parquet, or whole in memory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    Source,
    check_label_type,
    read_types,
    resolve_source,
)
from rebalance.provenance import COLUMNS as PROVENANCE_COLUMNS
from rebalance.provenance import (
    ORIGIN_ROW,
    SOURCE_ROW,
    SYNTHETIC,
    with_provenance,
)
from rebalance.resampling.flow import resample
from rebalance.resampling.images import PARENT
from rebalance.resampling.request import ResampleRequest
from rebalance.resampling.result import ResampleResult, bytes_per_row
from rebalance.resampling.roles import Columns, resolve_columns
from rebalance.resampling.writer import Writer
from rebalance.validation import check_seed

if TYPE_CHECKING:
    from rebalance.engine import Engine
    from rebalance.relocate import Relocation


_FILE_ROLES = ("label_col", "split_col", "detect_split", "group_col", "id_col")


def resample_file(
    source: str | os.PathLike[str] | Source,
    output: str | os.PathLike[str] | Source,
    request: ResampleRequest | None = None,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    encoding: str = "utf-8",
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    group_col: str | None = None,
    id_col: str | None = None,
    step: Callable[[], None] | None = None,
    engine: str | Engine | None = None,
    **options: Any,
) -> ResampleResult:
    """Resample a manifest file into a new one: what ``rebalance resample`` does.

    Reads ``source`` (a path or ``"-"``), resamples it with :func:`resample`
    (as ``request`` asks, or ``options`` as its keyword arguments) and writes ``output`` atomically; the
    input is never overwritten. The label, split and group columns are held
    dictionary-encoded while working (they are written back as they were), which
    keeps memory and time low on large manifests. A random plan that drops rows
    streams a Parquet file: only its label, split, group and id columns are held
    whole. ``step`` is called after reading, resampling and writing (for a progress
    bar). ``engine`` reads and writes (see :mod:`rebalance.engine`; in-process by
    default).

    ``output`` ending in ``/`` (a local folder or an ``s3://`` prefix) is a
    folder of Parquet part files, published whole. Random resampling of a Parquet folder
    or prefix, into a folder, or on a distributed engine, runs piece by piece in bounded
    memory (:mod:`rebalance.resampling.pieces`); ``sort_output=True`` (Parquet input,
    random method) writes the rows in (label, row key, copy) order, which with ``id_col``
    gives the same file for any partitioning of the input.

    Returns the run's :class:`ResampleResult`. Its ``table`` holds the output's label,
    split, group and id columns (and the provenance columns when asked for): the
    rows themselves are in the written file.
    """
    from rebalance.engine import using
    from rebalance.manifest import resolve_destination
    from rebalance.output import same_file

    if request is not None:
        # the request's roles and options; what is left in options is for the file run
        given = request.options()
        label_col, split_col, detect_split = (given.pop(k) for k in _FILE_ROLES[:3])
        group_col, id_col = (given.pop(k) for k in _FILE_ROLES[3:])
        options = {**given, **options}
    check_seed(options.get("seed", 0))
    if not isinstance(source, Source):
        source = resolve_source(source, input_format=input_format, encoding=encoding)
    if not isinstance(output, Source):
        output = resolve_destination(
            output,
            output_format=output_format or (source.format if os.fspath(output) == "-" else None),
        )
    if not source.is_stdio and not output.is_stdio and same_file(source.path, output.path):
        raise RebalanceError(f"{output.path}: refusing to overwrite the input (choose another -o)")
    notes: list[str] = []  # said once, before the run's own notes (paths written as read)
    with using(engine) as runner:
        result = _resample_on(
            runner, source, output, label_col=label_col, split_col=split_col,
            detect_split=detect_split, group_col=group_col, id_col=id_col, step=step,
            options=options, notes=notes,
        )  # fmt: skip
    result.notes[:0] = notes
    return result


def _resample_on(
    runner: Engine,
    source: Source,
    output: Source,
    *,
    label_col: str | None,
    split_col: str | None,
    detect_split: bool,
    group_col: str | None,
    id_col: str | None,
    step: Callable[[], None] | None,
    options: dict[str, Any],
    notes: list[str],
) -> ResampleResult:
    """:func:`resample_file` once the source, destination and engine are settled: in
    pieces, streamed Parquet, or whole in memory."""
    names = runner.columns(source)
    columns = resolve_columns(
        names,
        label_col=label_col,
        split_col=split_col,
        detect_split=detect_split,
        group_col=group_col,
        id_col=id_col,
        where=source.name,
    )
    check_label_type(read_types(source).get(columns.label), columns.label, where=source.name)
    coded = [c for c in (columns.label, columns.split, columns.group) if c is not None]
    method = options.get("method", "random")
    relocation, note = _relocation(source, output, names, options)
    if note is not None:
        notes.append(note)
    # an input with provenance columns goes the whole-table way, where they are chained
    chained = bool(set(PROVENANCE_COLUMNS) & set(names))
    sort_output = bool(options.pop("sort_output", False))
    in_pieces = (
        method == "random"
        and source.format == "parquet"
        and not source.is_stdio
        and columns.group is None
        and not options.get("shuffle")
        and not options.get("replacement")
        and not chained
    )
    if sort_output and not in_pieces:
        raise RebalanceError(
            "--sort-output orders random resampling of Parquet input (no --group-col, no --shuffle)"
        )
    if in_pieces and (not runner.in_process or source.dataset or output.dataset or sort_output):
        # bounded memory on any engine: counts, key histograms, then each piece's own rows
        from rebalance.resampling.pieces import resample_in_pieces

        return resample_in_pieces(
            runner, source, output, names, columns, step=step,
            options={**options, "sort_output": sort_output, "relocation": relocation},
        )  # fmt: skip
    if not runner.in_process:
        if method != "random":
            raise RebalanceError(
                f"--engine {runner.name} resamples with --method random only ({method} needs "
                "every row in one process: leave out --engine)"
            )
        if not chained:
            # the cluster gathers the role columns, this process chooses the rows, and the
            # cluster reads the chosen ones: the same rows as in process
            try:
                return _resample_parquet_rows(
                    runner, source, output, names, columns, coded, detect_split, step,
                    dict(options), relocation,
                )  # fmt: skip
            except _KeepsEveryRow:
                pass
    elif (
        source.format == "parquet"
        and not source.is_stdio
        and not source.dataset
        and source.filesystem is None
        and method == "random"
        and not options.get("shuffle")
        and not chained
    ):
        # plans that only add rows stream the input to the output while choosing copies;
        # plans that drop rows read only the chosen ones
        job = _oversample_parquet if _only_adds_rows(options) else _resample_parquet_rows
        try:
            return job(
                runner, source, output, names, columns, coded, detect_split, step,
                dict(options), relocation,
            )  # fmt: skip
        except _KeepsEveryRow:
            pass
    return _whole_table(
        runner, source, output, columns, coded, detect_split, step, options, relocation
    )


def _whole_table(
    runner: Engine,
    source: Source,
    output: Source,
    columns: Columns,
    coded: Sequence[str],
    detect_split: bool,
    step: Callable[[], None] | None,
    options: dict[str, Any],
    relocation: Relocation | None,
) -> ResampleResult:
    """Resampling with the whole table in memory: any method; a random plan that keeps
    every row starts writing the input rows while the copies are chosen."""
    table = runner.read(source, coded=coded)
    if step:
        step()
    if options.get("root") is None and not source.is_stdio:
        from rebalance.images.files import base_folder

        options["root"] = base_folder(source, None)  # images beside it
    if not source.is_stdio:
        options.setdefault("bytes_per_row", bytes_per_row(source.path, table.num_rows))
    writer = Writer(runner, output, None if source.is_stdio else source.path, relocation)
    written: list[int] = []

    def write_early(head: pa.Table) -> None:
        written.append(head.num_rows)
        writer.start([head])

    try:
        result = resample(
            table,
            **columns.options(),
            detect_split=detect_split,
            where=source.name,
            early_rows=write_early,
            **options,
        )
        if step:
            step()
        if writer.started:
            # the rows after those written early (fewer than the input's with --drop-missing)
            writer.add(result.table.slice(written[0]))
            writer.close()
        else:
            writer.write(result.table)
    except BaseException as exc:
        writer.abandon(exc)
        raise
    if step:
        step()
    kept = [
        c
        for c in result.table.column_names
        if c in (*columns.roles(), SOURCE_ROW, SYNTHETIC, ORIGIN_ROW)
    ]
    result.table = result.table.select(kept)
    return result


def _relocation(
    source: Source, output: Source, names: Sequence[str], options: dict[str, Any]
) -> tuple[Relocation | None, str | None]:
    """How the output's relative paths are written (``options["paths"]``, popped), and a
    note for stderr when they are written as read."""
    from rebalance.images.files import base_folder
    from rebalance.relocate import plan_relocation

    mode = options.pop("paths", "relative")
    root = options.get("root")
    base = base_folder(None if source.is_stdio else source, root)
    if source.filesystem is not None and root is None:
        base = os.getcwd()  # an object store's manifest: its paths are not local to it
    # augment adds the parent column: its paths are relocated with the others
    added = [PARENT] if options.get("method") == "augment" and PARENT not in names else []
    relocation, note = plan_relocation(
        [*names, *added],
        base=base,
        output=output.path,
        folder_output=output.dataset,
        mode=mode,
        path_col=options.get("path_col"),
        mask_col=options.get("mask_col"),
    )
    return relocation, note


def _resample_parquet_rows(
    runner: Engine,
    source: Source,
    output: Source,
    names: Sequence[str],
    columns: Columns,
    coded: Sequence[str],
    detect_split: bool,
    step: Callable[[], None] | None,
    options: dict[str, Any],
    relocation: Relocation | None = None,
) -> ResampleResult:
    """Random resampling of a Parquet file, streaming.

    Only the label (split, group, id) columns are read whole; the output rows are then
    read and written batch by batch. Raises ``_KeepsEveryRow`` as soon as the plan turns
    out to keep every input row (an oversampling plan), before any row is chosen.
    """
    provenance = bool(options.pop("provenance", False))
    roles = columns.roles()
    table = runner.read(source, roles, coded=coded)
    options.setdefault("bytes_per_row", bytes_per_row(source.path, table.num_rows))

    def every_row(kept: pa.Table) -> None:
        # The plan keeps every row: then it is faster to hold the whole input and write it
        # in one long call while the copies are chosen (resample_file's other path)
        raise _KeepsEveryRow

    result = resample(
        table,
        **columns.options(),
        detect_split=detect_split,
        where=source.name,
        provenance=True,  # its source rows say which input rows to write
        early_rows=every_row,
        **options,
    )
    for _ in range(2 if step else 0):  # read and resampled
        assert step is not None
        step()
    sources = _positions(result.table)

    def finish(parts: Iterable[pa.Table]) -> Iterable[pa.Table]:
        if provenance:
            parts = _numbered(iter(parts), sources)
        return relocation.parts(parts) if relocation else parts

    runner.take_write(source, sources, output, coded=coded, number=finish)
    if not provenance:
        result.table = result.table.drop_columns([SOURCE_ROW, SYNTHETIC])
    if step:
        step()
    return result


def _oversample_parquet(
    runner: Engine,
    source: Source,
    output: Source,
    names: Sequence[str],
    columns: Columns,
    coded: Sequence[str],
    detect_split: bool,
    step: Callable[[], None] | None,
    options: dict[str, Any],
    relocation: Relocation | None = None,
) -> ResampleResult:
    """Random oversampling of a Parquet file: the copies are chosen while the input is read.

    This thread reads the label (split, group, id) columns and plans; once the plan has
    passed the size pre-flight and keeps every row, a thread reads the whole input while
    this one chooses the copies. As soon as both are there, a writer thread writes the
    input rows while the copies are gathered from them; the copies go last. Raises
    ``_KeepsEveryRow`` (nothing written) when the plan drops a row after all.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    if options.get("missing") == "drop":
        raise _KeepsEveryRow  # the rows resampled would not be the rows read
    provenance = bool(options.pop("provenance", False))
    roles = columns.roles()
    writer = Writer(runner, output, source.path, relocation)
    whole: Future[pa.Table] | None = None

    with ThreadPoolExecutor(1, thread_name_prefix="rebalance-read") as pool:

        def keeps_every_row(head: pa.Table) -> None:
            # the plan passed the pre-flight: only now is the whole input read
            nonlocal whole
            whole = pool.submit(runner.read, source, coded=coded)

        def input_rows() -> pa.Table:
            # called once the copies are chosen: the input rows start out meanwhile
            if whole is None:
                raise _KeepsEveryRow
            rows = whole.result()
            n = rows.num_rows
            if provenance:
                rows_out = with_provenance(rows, np.arange(n), np.zeros(n, dtype=bool))
            writer.start([rows_out if provenance else rows])
            return rows

        try:
            table = runner.read(source, roles, coded=coded)
            options.setdefault("bytes_per_row", bytes_per_row(source.path, table.num_rows))
            result = resample(
                table,
                **columns.options(),
                detect_split=detect_split,
                where=source.name,
                provenance=provenance,
                early_rows=keeps_every_row,
                rows_from=input_rows,
                **options,
            )
            for _ in range(2 if step else 0):  # read and resampled
                assert step is not None
                step()
            writer.add(result.table.slice(table.num_rows))
            writer.close()
        except BaseException as exc:
            writer.abandon(exc)
            raise
    kept = [*roles, *((SOURCE_ROW, SYNTHETIC) if provenance else ())]
    result.table = result.table.select(kept)
    if step:
        step()
    return result


def _only_adds_rows(options: Mapping[str, Any]) -> bool:
    """Whether the options alone say the plan keeps every row (before any counting)."""
    grows = options.get("mode") == "over" or options.get("target") in (None, "max")
    return grows and options.get("max_per_class") is None and not options.get("per_class")


class _KeepsEveryRow(Exception):
    """A streaming resample found that its plan keeps every input row."""


def _positions(table: pa.Table) -> npt.NDArray[np.int64]:
    """The input row index of each row of a resample's output (its provenance column)."""
    chunks = [arrays.integers(c) for c in table.column(SOURCE_ROW).chunks]
    return np.concatenate(chunks or [np.empty(0, np.int64)]).astype(np.int64, copy=False)


def _numbered(parts: Iterator[pa.Table], sources: npt.NDArray[np.int64]) -> Iterator[pa.Table]:
    """Parts of a random resample's output with their provenance columns."""
    at = 0
    for part in parts:
        m = part.num_rows
        yield with_provenance(part, sources[at : at + m], np.zeros(m, dtype=bool))
        at += m
