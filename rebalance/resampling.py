"""Resampling a manifest: plan first, then carry it out with a method.

Output rows are input rows (all columns, original types) or synthetic rows marked
as such. Order: the input rows kept, in input order; then the added rows, class by
class in sorted label order, copies before
synthetic rows, copies by copy round and then input order. ``shuffle`` instead
orders every output row by a seeded hash of its output position.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance._version import __version__
from rebalance.counts import LabelCounts
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    PATH_NAMES,
    PATH_SUFFIX,
    Source,
    as_table,
    detect_column,
    label_and_split,
    labels_as_text,
    resolve_source,
)
from rebalance.plan import Plan, Target, cleaning_plan, parse_target, plan_targets
from rebalance.provenance import COLUMNS as PROVENANCE_COLUMNS
from rebalance.provenance import (
    ORIGIN_ROW,
    rechain,
    take_lineage,
    with_provenance,
)
from rebalance.provenance import SOURCE_ROW as SOURCE_ROW  # re-exported for the resamplers
from rebalance.provenance import SYNTHETIC as SYNTHETIC
from rebalance.samplers import random as rnd
from rebalance.samplers.tabular import (
    SIMILARITY_METHODS,
    SYNTHETIC_KINDS,
    Features,
    choose_features,
    feature_matrix,
    is_numeric,
    method_kind,
    neighbours_needed,
    run_method,
)
from rebalance.validation import check_seed

if TYPE_CHECKING:
    from rebalance.engine import Engine
    from rebalance.relocate import Relocation


def growth_limit(rows_in: int) -> int:
    """The largest output a run may plan without ``allow_large``: 10× the input, at least 1M rows."""
    return max(10 * rows_in, 1_000_000)


def check_size(
    plan: Plan, rows_in: int, *, allow_large: bool, bytes_per_row: float | None = None
) -> None:
    """Refuse a plan whose output would explode, saying its planned size."""
    after = plan.rows_after + (rows_in - plan.rows_before)
    if allow_large or after <= growth_limit(rows_in):
        return
    size = ""
    if bytes_per_row:
        size = f", about {_human_bytes(after * bytes_per_row)}"
    raise RebalanceError(
        f"the plan writes {after:,} rows ({after / max(rows_in, 1):,.0f}× the {rows_in:,} input rows{size}); "
        "pass --allow-large to confirm, or choose a gentler --target (sqrt, median, ratio:10) or --max-per-class"
    )


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"


@dataclass
class ResampleResult:
    """A resampled manifest and the record of how it was made."""

    table: pa.Table
    plan: Plan
    produced: dict[str, int]
    method: str
    params: dict[str, Any]
    seed: int
    label_col: str
    split_col: str | None = None
    only_splits: list[str] | None = None
    group_col: str | None = None
    features: list[str] = field(default_factory=list)
    synthetic_rows: int = 0
    passthrough_rows: int = 0
    messages: list[str] = field(default_factory=list)  # warnings for the person running it
    notes: list[str] = field(default_factory=list)  # what was done (files written, rows dropped)

    def to_dict(self) -> dict[str, Any]:
        """The plan sidecar: enough to say exactly how the manifest was made."""
        classes = {}
        for label, before in sorted(self.plan.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            classes[label] = {
                "before": before,
                "planned": self.plan.targets[label],
                "after": self.produced.get(label, 0),
            }
            if self.plan.cleaning:
                classes[label]["removed_at_most"] = self.plan.may_remove.get(label, 0)
        return {
            "tool": "rebalance",
            "version": __version__,
            "seed": self.seed,
            "method": self.method,
            "params": self.params,
            "target": self.plan.target,
            "mode": self.plan.mode,
            "clamps": self.plan.clamps,
            "label_col": self.label_col,
            "split_col": self.split_col,
            "only_splits": self.only_splits,
            "group_col": self.group_col,
            "features": self.features,
            "rows_before": self.plan.rows_before + self.passthrough_rows,
            "rows_after": self.table.num_rows,
            "rows_passed_through": self.passthrough_rows,
            "rows_synthetic": self.synthetic_rows,
            "classes": classes,
        }


def default_target(method: str) -> str:
    """``max`` for random and oversampling methods, ``min`` for undersampling ones."""
    kind = method_kind(method)
    return "min" if kind in ("select", "generate") else "max"


def _method_mode(method: str, mode: str | None, target: Target) -> str | None:
    kind = method_kind(method)
    natural = {
        "over": "over",
        "combine": "over",
        "augment": "over",
        "select": "under",
        "generate": "under",
    }.get(kind)
    if natural is None:
        return mode
    if mode is not None and mode != natural:
        raise RebalanceError(
            f"--method {method} only {'adds' if natural == 'over' else 'removes'} rows: --mode {mode} "
            f"is not possible (use --mode {natural}, or --method random)"
        )
    return natural


class RoleOptions(TypedDict):
    """The column-role keyword arguments of :func:`resample`."""

    label_col: str
    split_col: str | None
    group_col: str | None
    id_col: str | None


@dataclass(frozen=True)
class Columns:
    """The roles of a manifest's columns."""

    label: str
    split: str | None
    group: str | None
    id: str | None

    def options(self) -> RoleOptions:
        """As :func:`resample`'s keyword arguments."""
        return {
            "label_col": self.label,
            "split_col": self.split,
            "group_col": self.group,
            "id_col": self.id,
        }

    def roles(self) -> list[str]:
        """The columns that have a role, in the order label, split, group, id."""
        return [c for c in (self.label, self.split, self.group, self.id) if c is not None]


def resolve_columns(
    names: Sequence[str],
    *,
    label_col: str | None,
    split_col: str | None,
    detect_split: bool,
    group_col: str | None,
    id_col: str | None,
    where: str,
) -> Columns:
    label, split = label_and_split(
        names, label_col, split_col, detect_split=detect_split, where=where
    )
    group = detect_column(names, group_col, (), where=where, flag="--group-col", required=False)
    ident = detect_column(names, id_col, (), where=where, flag="--id-col", required=False)
    roles = [c for c in (label, split, group, ident) if c is not None]
    if len(roles) != len(set(roles)):
        raise RebalanceError(
            f"{where}: one column cannot be two of label/split/group/id ({', '.join(roles)})"
        )
    return Columns(label, split, group, ident)


def selected_rows(
    table: pa.Table,
    columns: Columns,
    *,
    only_splits: Sequence[str] | None,
    all_splits: bool,
    where: str,
) -> npt.NDArray[np.bool_] | None:
    """Which rows are resampled: those of ``only_splits``; ``None`` for every row."""
    if columns.split is None:
        if only_splits:
            raise RebalanceError(f"{where}: --only-split needs a split column (--split-col)")
        return None
    if all_splits and not only_splits:
        return None
    column = table.column(columns.split)
    present = {str(s) for s in labels_as_text(pc.unique(column)).to_pylist() if s is not None}
    if not only_splits:
        raise _choose_splits(where, columns.split, sorted(present))
    unknown = [s for s in only_splits if s not in present]
    if unknown:
        raise RebalanceError(
            f"{where}: no split {unknown[0]!r} in column {columns.split!r} "
            f"(splits: {', '.join(sorted(present))})"
        )
    wanted = pa.array(list(only_splits), pa.string())
    if pa.types.is_dictionary(column.type):
        column = column.unify_dictionaries()
        chunks = [c for c in column.chunks if len(c)]
        if not chunks:
            return np.zeros(0, dtype=bool)
        hit = np.append(
            arrays.booleans(pc.is_in(labels_as_text(chunks[0].dictionary), value_set=wanted)), False
        )
        return np.concatenate([hit[arrays.integers(c.indices)] for c in chunks])
    return arrays.booleans(pc.is_in(labels_as_text(column), value_set=wanted))


def _choose_splits(where: str, split_col: str | None, names: Sequence[str]) -> RebalanceError:
    return RebalanceError(
        f"{where}: column {split_col!r} holds splits ({', '.join(names)}); resampling validation or "
        "test rows leaks into evaluation: choose --only-split train, or --all-splits to resample every row"
    )


def resample(
    data: Any,
    *,
    target: str | int | None = None,
    method: str = "random",
    mode: str | None = None,
    min_per_class: int | None = None,
    max_per_class: int | None = None,
    per_class: Mapping[str, int] | None = None,
    seed: int = 0,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    only_splits: Sequence[str] | None = None,
    all_splits: bool = False,
    group_col: str | None = None,
    id_col: str | None = None,
    features: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
    provenance: bool = False,
    shuffle: bool = False,
    strict: bool = False,
    missing: str = "keep",
    allow_large: bool = False,
    bytes_per_row: float | None = None,
    where: str = "manifest",
    early_rows: Callable[[pa.Table], None] | None = None,
    rows_from: Callable[[], pa.Table] | None = None,
    image_features: str | None = None,
    path_col: str | None = None,
    root: str | None = None,
    workers: int | None = None,
    threshold: float | None = None,
    cache_dir: str | None = None,
    image_progress: Callable[[int], None] | None = None,
    image_dir: str | None = None,
    augment: str | None = None,
    mask_col: str | None = None,
    write_file: Callable[[str, bytes], None] | None = None,
    skip_bad: bool = False,
    weights: str | None = None,
    replacement: bool = False,
) -> ResampleResult:
    """Rebalance a manifest table.

    Parameters
    ----------
    data:
        A ``pyarrow.Table`` or ``pandas.DataFrame`` (the result's ``table`` is a
        ``pyarrow.Table``; ``.to_pandas()`` converts it).
    target, mode, min_per_class, max_per_class, per_class:
        The plan (:func:`rebalance.plan.plan_targets`). ``target`` defaults to ``max``
        (``min`` for undersampling methods).
    method:
        ``random`` or an imbalanced-learn method (:data:`rebalance.samplers.tabular.METHODS`).
    seed:
        Same input and seed give the same rows in the same order.
    split_col, only_splits, all_splits:
        Resample only the rows of ``only_splits``; the others pass through untouched.
        With a split column, one of the two must be given.
    group_col:
        Undersampling keeps or drops whole groups (of each class).
    id_col:
        Row key for the random method instead of the row position.
    features, params, n_jobs:
        Feature columns (names or globs), extra parameters and parallelism of an
        imbalanced-learn method.
    provenance:
        Add ``rebalance_source_row`` and ``rebalance_synthetic`` columns.
    strict:
        A class too small for a neighbour method is an error instead of falling back
        to random oversampling.
    missing:
        Rows without a label: ``keep`` (pass through), ``drop`` or ``error``.
    allow_large:
        Allow a plan above :func:`growth_limit`.
    image_features, path_col, root, workers, cache_dir:
        Features of the images of the path column (``"builtin"``; relative paths start at
        ``root``, default the working folder) for ``cluster``, ``dedup`` and the
        neighbour methods, computed by ``workers`` processes and cached in ``cache_dir``
        (:func:`rebalance.images.features.image_features`; ``image_progress`` is called
        with the images done). ``features`` naming one list
        column (or numeric columns) gives the user's own embeddings instead.
    threshold:
        ``dedup``: rows of a class closer than this to an earlier kept row go.
    image_dir, augment, mask_col, write_file:
        ``augment``: new images (and masks) are written into ``image_dir`` (created if
        absent; an existing file is never overwritten) with the ``augment`` transforms
        (:func:`rebalance.images.augment.parse_augment`); ``write_file(path, bytes)``
        writes each (default: an atomic write).
    weights:
        ``image_features="cnn"``: a MobileNetV3-Small state_dict file (default:
        torchvision's ImageNet weights, downloaded once).
    skip_bad:
        Methods that read images leave out the rows whose image is missing, unreadable
        or corrupt (and say how many) instead of stopping at the first.
    replacement:
        ``random``: classes above their target draw it with replacement, as
        imbalanced-learn's ``RandomUnderSampler(replacement=True)`` does (the same rows
        for the same seed); a row drawn again is written as a copy.
    early_rows:
        Called with the output's leading rows as soon as they are settled, before the
        added rows are chosen: when random resampling keeps every input row (no class
        shrinks, no shuffle), those are the input rows themselves. A writer can start
        on them meanwhile (:func:`resample_file` does); the result still holds every row.
    rows_from:
        Random resampling only: called once the rows are chosen, it returns the table
        to take the output rows from: the same rows as ``data`` with more columns
        (``data`` then needs only the label, split, group and id columns, and the
        other columns can be read meanwhile).

    Raises
    ------
    RebalanceError
        Bad input, an impossible plan, a class too small with ``strict``, a too large plan.
    """
    check_seed(seed)
    table, lineage = take_lineage(as_table(data), where)
    if lineage is not None:
        # a rebalance output resampled again: its provenance is kept current (chained)
        provenance = True
        early_rows = None
    kind = method_kind(method)
    params = dict(params or {})
    columns = resolve_columns(
        table.column_names,
        label_col=label_col,
        split_col=split_col,
        detect_split=detect_split,
        group_col=group_col,
        id_col=id_col,
        where=where,
    )
    messages: list[str] = []
    notes: list[str] = []
    dictionary, codes = _label_codes(table.column(columns.label))
    blank = codes < 0
    positions: npt.NDArray[np.int64] | None = None  # input position of each row, where not 0..n-1
    if blank.any():
        if missing == "error":
            raise RebalanceError(
                f"{where}: {int(blank.sum())} row(s) have no label in column {columns.label!r} "
                f"(first at data row {int(np.argmax(blank)) + 1}; use --drop-missing to leave them out)"
            )
        if missing == "drop":
            # rows keep their input position: for their row key and their provenance
            positions = np.flatnonzero(~blank)
            table = table.filter(arrays.to_arrow(~blank))
            dictionary, codes = _label_codes(table.column(columns.label))
        else:
            messages.append(f"{int(blank.sum()):,} row(s) without a label pass through unchanged")
    if method == "augment" and image_dir is None:
        raise RebalanceError("--method augment needs --image-dir DIR, where the new images go")
    reads_images = (
        method == "augment"
        or image_features is not None
        or (method in SIMILARITY_METHODS and not features)
    )
    if replacement and (method != "random" or columns.group is not None):
        raise RebalanceError(
            "--replacement draws undersampled classes with replacement: it applies to "
            "--method random without --group-col"
        )
    if skip_bad and not reads_images:
        raise RebalanceError("--skip-bad applies to the methods that read images")
    selected = selected_rows(
        table, columns, only_splits=only_splits, all_splits=all_splits, where=where
    )
    if reads_images:
        # every image method scans the rows it reads first: one report of every bad file
        scanned = codes >= 0 if selected is None else (codes >= 0) & selected
        bad = _bad_images(table, scanned, path_col, root, workers, where, skip_bad=skip_bad)
        if bad.any():
            positions = (np.arange(table.num_rows) if positions is None else positions)[~bad]
            table = table.filter(arrays.to_arrow(~bad))
            selected = None if selected is None else selected[~bad]
            dictionary, codes = _label_codes(table.column(columns.label))
            messages.append(
                f"--skip-bad left out {int(bad.sum()):,} row(s) whose image is missing, unreadable or "
                "corrupt (inspect --check-files lists them)"
            )
    if selected is not None:
        codes = np.where(selected, codes, -1)
    counts_arr = rnd.bincount(codes, len(dictionary))
    counts = {dictionary[i]: int(c) for i, c in enumerate(counts_arr) if c > 0}
    if not counts:
        raise RebalanceError(f"{where}: no labelled rows to resample")
    # what can never work is said first, before the plan's size or anything slow
    similar = method in SIMILARITY_METHODS
    if image_features is not None and kind in SYNTHETIC_KINDS:
        raise RebalanceError(
            f"{method} makes synthetic feature rows, and a synthetic row has no image: "
            "--image-features works with cluster, dedup and the methods that only remove rows"
        )
    spec: Any = None
    if method == "augment":
        if image_dir is None:
            raise RebalanceError("--method augment needs --image-dir DIR, where the new images go")
        from rebalance.images.augment import parse_augment

        spec = parse_augment(augment)
        if columns.id is not None:
            raise RebalanceError(
                "--method augment makes new rows: they have no --id-col value to copy"
            )
    elif image_dir is not None or augment is not None:
        raise RebalanceError("--image-dir and --augment apply to --method augment")
    if mask_col is not None and method != "augment":
        raise RebalanceError(
            "resample --mask-col applies to --method augment (the masks are transformed too)"
        )
    if method == "dedup" and threshold is None:
        raise RebalanceError(
            "--method dedup needs --threshold D (the distance under which rows are near-duplicates)"
        )
    if threshold is not None and method != "dedup":
        raise RebalanceError("--threshold applies to --method dedup")
    image_matrix = None
    if method == "augment":
        pass  # augment reads its images while it writes the new ones
    elif kind != "random" and (image_features is not None or (similar and not features)):
        from rebalance.images.features import path_column_features

        image_matrix = path_column_features(
            table,
            image_features or "builtin",
            path_col=path_col,
            root=root,
            workers=workers,
            cache_dir=cache_dir,
            step=image_progress,
            where=where,
            weights=weights,
        )
    elif similar:
        from rebalance.images.features import column_features

        assert features is not None
        image_matrix = column_features(table, _feature_names(table, features), where=where)
    elif kind != "random":
        _check_features(table, columns, method, kind, features, where, messages)
    plan = _plan(
        counts, target, method, mode, min_per_class, max_per_class, per_class,
        params.get("sampling_strategy"),
    )  # fmt: skip
    if kind == "clean" and target is not None:
        messages.append(
            f"{method} removes noisy and borderline rows of every class but the minority; --target is ignored"
        )
    passthrough = int((codes < 0).sum())
    check_size(
        plan, plan.rows_before + passthrough, allow_large=allow_large, bytes_per_row=bytes_per_row
    )
    if columns.group is not None and selected is not None:
        # with every row resampled, no group can sit in another split as well
        _warn_group_leakage(table, columns, selected, messages)
    ids = _ids(table, columns.id)
    if ids is None and positions is not None:
        ids = positions.astype(np.uint64)  # the key of a position is the key of that input row
    keys = rnd.RowKeys(seed, ids)
    class_targets = [plan.targets.get(label, 0) for label in dictionary]
    keeps_every_row = all(plan.targets[label] >= n for label, n in plan.counts.items())
    if early_rows is not None and kind == "random" and keeps_every_row and not shuffle:
        n = table.num_rows
        early_rows(
            with_provenance(
                table, np.arange(n) if positions is None else positions, np.zeros(n, dtype=bool)
            )
            if provenance
            else table
        )
    feature_names: list[str] = []
    synthetic: pa.Table | None = None
    synthetic_rank: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
    kept: npt.NDArray[np.int64] | None
    if kind == "random" and replacement:
        kept, added = _with_replacement(codes, keys, class_targets, seed)
    elif kind == "random":
        kept, added = _random(
            table, columns, codes, keys, class_targets, seed, messages, dictionary
        )
    elif method == "augment":
        kept, added = _random(
            table, columns, codes, keys, class_targets, seed, messages, dictionary
        )
        augmented = _augment(
            table, columns, codes, dictionary, kept, added, positions,
            spec=spec, seed=seed, image_dir=image_dir or "", path_col=path_col, mask_col=mask_col,
            root=root, workers=workers, allow_large=allow_large, provenance=provenance,
            progress=image_progress, write_file=write_file, messages=notes, where=where,
        )  # fmt: skip
    elif similar:
        assert image_matrix is not None
        kept = _similar_rows(method, image_matrix, codes, dictionary, plan, seed, threshold, notes)
        added = np.empty(0, dtype=np.int64)
    else:
        kept, added, synthetic, synthetic_rank, feature_names = _tabular(
            table,
            columns,
            codes,
            keys,
            dictionary,
            plan,
            method=method,
            kind=kind,
            seed=seed,
            features=features,
            params=params,
            n_jobs=n_jobs,
            strict=strict,
            messages=messages,
            where=where,
            image_matrix=image_matrix,
        )
    if method == "augment":
        out = augmented
    else:
        if rows_from is not None:
            if kind != "random" or shuffle or positions is not None:
                raise ValueError("rows_from is for random resampling of every row, unshuffled")
            rows = rows_from()
            if rows.num_rows != table.num_rows:
                raise ValueError("rows_from returned another number of rows")
            table = rows
        out = _assemble(
            table,
            codes,
            len(dictionary),
            kept,
            added,
            synthetic,
            synthetic_rank,
            provenance,
            positions,
        )
    if lineage is not None:
        out = rechain(out, lineage)
        notes.append(
            f"the input carries provenance: {SOURCE_ROW} now points at its rows, "
            f"{SYNTHETIC} stays true for its synthetic rows, {ORIGIN_ROW} at the first manifest's"
        )
    if shuffle:
        order = np.argsort(rnd.row_keys(out.num_rows, seed, stream=1), kind="stable")
        out = out.take(arrays.to_arrow(order))
    k = len(dictionary)
    counts_out = rnd.bincount(codes if kept is None or len(kept) == len(codes) else codes[kept], k)
    if len(added):
        counts_out = counts_out + rnd.bincount(codes[added], k)
    produced = {dictionary[i]: int(c) for i, c in enumerate(counts_out)}
    if synthetic is not None and synthetic.num_rows:
        for label in labels_as_text(synthetic.column(columns.label)).to_pylist():
            produced[str(label)] = produced.get(str(label), 0) + 1
    produced = {label: produced.get(label, 0) for label in plan.counts}
    off = [label for label in plan.counts if produced[label] != plan.targets[label]]
    if off and kind != "clean":
        shown = ", ".join(
            f"{label!r} {produced[label]:,} (planned {plan.targets[label]:,})" for label in off[:10]
        )
        messages.append(f"{method} did not reach the exact plan for {len(off)} class(es): {shown}")
    run_params = dict(params)
    if kind == "random":
        run_params["id_col"] = columns.id
    return ResampleResult(
        table=out,
        plan=plan,
        produced=produced,
        method=method,
        params=run_params,
        seed=seed,
        label_col=columns.label,
        split_col=columns.split,
        only_splits=list(only_splits) if only_splits else None,
        group_col=columns.group,
        features=feature_names,
        synthetic_rows=0 if synthetic is None else synthetic.num_rows,
        passthrough_rows=passthrough,
        messages=messages,
        notes=notes,
    )


def resample_file(
    source: str | os.PathLike[str] | Source,
    output: str | os.PathLike[str] | Source,
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
    (``options`` are its keyword arguments) and writes ``output`` atomically; the
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
    memory (:mod:`rebalance.resample_pieces`); ``sort_output=True`` (Parquet input,
    random method) writes the rows in (label, row key, copy) order, which with ``id_col``
    gives the same file for any partitioning of the input.

    Returns the run's :class:`ResampleResult`. Its ``table`` holds the output's label,
    split, group and id columns (and the provenance columns when asked for): the
    rows themselves are in the written file.
    """
    from rebalance.engine import using
    from rebalance.manifest import resolve_destination
    from rebalance.output import same_file

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
    coded = [c for c in (columns.label, columns.split, columns.group) if c is not None]
    method = options.get("method", "random")
    roles = columns.roles()
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
        from rebalance.resample_pieces import resample_in_pieces

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
    table = runner.read(source, coded=coded)
    if step:
        step()
    if options.get("root") is None and not source.is_stdio:
        options["root"] = os.path.dirname(os.path.abspath(source.path))  # images beside it
    if not source.is_stdio:
        options.setdefault("bytes_per_row", bytes_per_row(source.path, table.num_rows))
    writer = _Writer(runner, output, None if source.is_stdio else source.path, relocation)
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
        c for c in result.table.column_names if c in (*roles, SOURCE_ROW, SYNTHETIC, ORIGIN_ROW)
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
    base = base_folder(None if source.is_stdio else source.path, root)
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
    writer = _Writer(runner, output, source.path, relocation)
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


class _Writer:
    """Writes the output manifest: at once, or in a thread from its first rows on.

    Writing the input rows (most of an oversampled output) then overlaps choosing the
    copies; Arrow's writer and numpy release the GIL, so both cores work.
    """

    def __init__(
        self,
        engine: Engine,
        output: Source,
        input_path: str | None,
        relocation: Relocation | None = None,
    ) -> None:
        self.engine = engine
        self.output = output
        self.input_path = input_path
        self.relocation = relocation  # rewrites the relative paths of every part written
        self.parts: queue.Queue[pa.Table | BaseException | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self, head: Iterable[pa.Table]) -> None:
        """Begin writing these parts in a thread; more follow with :meth:`add`."""
        # the thread runs in a copy of this context, so a staged() block covers its write
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._write, head), name="rebalance-writer", daemon=True
        )
        self.thread.start()

    def _stream(self, head: Iterable[pa.Table]) -> Iterator[pa.Table]:
        yield from self._relocated(head)
        while (part := self.parts.get()) is not None:
            if isinstance(part, BaseException):
                raise part
            yield from self._relocated([part])

    def _relocated(self, parts: Iterable[pa.Table]) -> Iterable[pa.Table]:
        return self.relocation.parts(parts) if self.relocation else parts

    def _write(self, head: Iterable[pa.Table]) -> None:
        try:
            self.engine.write(self._stream(head), self.output, input_path=self.input_path)
        except BaseException as exc:  # handed to the caller's thread in close()
            self.error = exc

    def add(self, part: pa.Table) -> None:
        self.parts.put(part)

    def close(self) -> None:
        """No more parts: wait for the write to end, and raise what it raised."""
        assert self.thread is not None
        self.parts.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def write(self, parts: pa.Table | Iterable[pa.Table]) -> None:
        """Write the whole output here and now (nothing was started)."""
        self.engine.write(
            self._relocated([parts] if isinstance(parts, pa.Table) else parts),
            self.output,
            input_path=self.input_path,
        )

    def abandon(self, exc: BaseException) -> None:
        """Stop a started write: its temporary file is removed, the target left as it was."""
        if self.thread is not None and self.thread.is_alive():
            self.parts.put(exc)
            self.thread.join()


def plan_from_counts(
    counts: LabelCounts,
    *,
    target: str | int | None = None,
    method: str = "random",
    mode: str | None = None,
    min_per_class: int | None = None,
    max_per_class: int | None = None,
    per_class: Mapping[str, int] | None = None,
    only_splits: Sequence[str] | None = None,
    all_splits: bool = False,
    split_col: str | None = None,
    where: str = "manifest",
    cleaning: Any = None,
) -> Plan:
    """The plan a resample would follow, from streamed counts (for ``--dry-run``);
    ``cleaning`` is a cleaning method's ``sampling_strategy``."""
    if counts.by_split is not None:
        if only_splits:
            unknown = [s for s in only_splits if s not in counts.by_split]
            if unknown:
                raise RebalanceError(
                    f"{where}: no split {unknown[0]!r} in column {split_col!r} "
                    f"(splits: {', '.join(sorted(counts.by_split))})"
                )
            merged: dict[str, int] = {}
            for s in only_splits:
                for label, n in counts.by_split[s].items():
                    merged[label] = merged.get(label, 0) + n
            table = merged
        elif all_splits:
            table = counts.counts
        else:
            raise _choose_splits(where, split_col, sorted(counts.by_split))
    else:
        if only_splits:
            raise RebalanceError(f"{where}: --only-split needs a split column (--split-col)")
        table = counts.counts
    return _plan(table, target, method, mode, min_per_class, max_per_class, per_class, cleaning)


def _plan(
    counts: Mapping[str, int],
    target: str | int | None,
    method: str,
    mode: str | None,
    min_per_class: int | None,
    max_per_class: int | None,
    per_class: Mapping[str, int] | None,
    cleaning: Any = None,
) -> Plan:
    """The plan for a method: its default target, and the only direction it can move."""
    if method_kind(method) == "clean":
        if per_class or min_per_class is not None or max_per_class is not None:
            raise RebalanceError(
                f"--method {method} removes the noisy rows it finds and follows no per-class "
                "targets: --plan, --min-per-class and --max-per-class do not apply"
            )
        if mode not in (None, "under"):
            raise RebalanceError(
                f"--method {method} only removes rows: --mode {mode} is not possible"
            )
        return cleaning_plan(counts, method, "auto" if cleaning is None else cleaning)
    parsed = parse_target(target if target is not None else default_target(method))
    return plan_targets(
        counts,
        parsed,
        mode=_method_mode(method, mode, parsed),
        min_per_class=min_per_class,
        max_per_class=max_per_class,
        per_class=per_class,
    )


def plan_manifest(
    source: str | os.PathLike[str] | Source,
    *,
    label_col: str | None = None,
    split_col: str | None = None,
    detect_split: bool = True,
    missing: str = "keep",
    only_splits: Sequence[str] | None = None,
    all_splits: bool = False,
    **plan_options: Any,
) -> tuple[Plan, int]:
    """The plan a resample of a manifest file would follow, from its streamed label counts.

    Reads only the label (and split) columns: this is ``--dry-run``. Returns the plan
    and the number of input rows. ``plan_options`` are those of :func:`plan_from_counts`.
    """
    from rebalance.stats import apply_missing_policy, count_labels

    if not isinstance(source, Source):
        source = resolve_source(source)
    counts, label, split = count_labels(
        source, label_col=label_col, split_col=split_col, detect_split=detect_split
    )
    counts = apply_missing_policy(counts, missing, where=source.name, label_col=label)
    plan = plan_from_counts(
        counts,
        only_splits=only_splits,
        all_splits=all_splits,
        split_col=split,
        where=source.name,
        **plan_options,
    )
    return plan, counts.rows


# ---------------------------------------------------------------- helpers


def _label_codes(column: pa.ChunkedArray) -> tuple[list[str], npt.NDArray[Any]]:
    """The labels in sorted order, and each row's label code (``-1``: no label).

    A dictionary-encoded column (as :func:`~rebalance.manifest.read_manifest` reads
    label columns) is coded from its indices, chunk by chunk, without decoding the
    text of every row.
    """
    if not isinstance(column, pa.ChunkedArray):
        column = pa.chunked_array([column])
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(labels_as_text(column))
    chunks = [c for c in column.chunks if len(c)]
    dictionaries = [labels_as_text(c.dictionary) for c in chunks]
    values = pc.unique(pa.chunked_array(dictionaries, type=pa.string()))
    values = pc.drop_null(values)
    values = values.filter(arrays.to_arrow(arrays.integers(pc.utf8_length(values)) > 0))
    values = values.take(pc.sort_indices(values))  # byte order of UTF-8 = code point order
    labels = [str(v) for v in values.to_pylist()]
    codes = np.empty(len(column), dtype=np.int32)
    at = 0
    for chunk, dictionary in zip(chunks, dictionaries, strict=True):
        # this chunk's dictionary index -> sorted code; the extra last entry serves null (-1)
        remap = np.append(arrays.integers(pc.index_in(dictionary, value_set=values)), -1)
        np.take(remap, arrays.integers(chunk.indices), out=codes[at : at + len(chunk)])
        at += len(chunk)
    return labels, codes


def _ids(table: pa.Table, id_col: str | None) -> rnd.U64 | None:
    if id_col is None:
        return None
    values = labels_as_text(table.column(id_col))
    if values.null_count:
        raise RebalanceError(f"--id-col {id_col!r} has empty values: every row needs an id")
    return rnd.text_hashes(values)


def _feature_names(table: pa.Table, patterns: Sequence[str]) -> list[str]:
    import fnmatch

    names: list[str] = []
    for pattern in patterns:
        for part in (p.strip() for p in pattern.split(",") if p.strip()):
            hits = [c for c in table.column_names if fnmatch.fnmatchcase(c, part)] or [part]
            names.extend(h for h in hits if h not in names)
    return names


def _bad_images(
    table: pa.Table,
    scanned: npt.NDArray[np.bool_],
    path_col: str | None,
    root: str | None,
    workers: int | None,
    where: str,
    *,
    skip_bad: bool,
) -> npt.NDArray[np.bool_]:
    """Per row: its image is missing, unreadable or corrupt (``inspect --check-files``'s test).

    Only the ``scanned`` rows (those a method reads) are opened. Without ``skip_bad`` any
    bad one is an error that counts them by kind and names the first five; with it, the
    bad rows are returned to be left out, unless no scanned row is left.
    """
    from rebalance.images.files import SHOWN, base_folder, check_files, path_column

    name = path_column(table.column_names, path_col, where=where)
    rows = np.flatnonzero(scanned)
    shown = labels_as_text(table.column(name)).take(pa.array(rows)).to_pylist()
    report = check_files(shown, base=base_folder(None, root), workers=workers)
    bad_paths = set(report.missing) | set(report.unreadable) | set(report.corrupt)
    bad_here = np.fromiter((not p or p in bad_paths for p in shown), dtype=bool, count=len(shown))
    bad = np.zeros(table.num_rows, dtype=bool)
    bad[rows[bad_here]] = True
    n_bad = int(bad_here.sum())
    if not n_bad:
        return bad
    if skip_bad and n_bad < len(rows):
        return bad
    kinds = [
        f"{n:,} {kind}"
        for kind, n in (
            ("missing", len(report.missing)),
            ("unreadable", len(report.unreadable)),
            ("corrupt", len(report.corrupt)),
            ("without a path", report.empty),
        )
        if n
    ]
    listed = [*report.missing, *report.unreadable, *report.corrupt]
    first = ", ".join(f"{p} ({report.reasons[p]})" for p in listed[:SHOWN]) or "empty paths"
    more = ", …" if len(listed) > SHOWN else ""
    if skip_bad:
        raise RebalanceError(
            f"{where}: all {len(rows):,} row(s) to resample were skipped as bad images "
            f"({', '.join(kinds)}: {first}{more}); fix the files or the paths (--root), "
            "inspect --check-files lists them all"
        )
    raise RebalanceError(
        f"{where}: {n_bad:,} of {len(rows):,} image file(s) in column {name!r} are bad "
        f"({', '.join(kinds)}): {first}{more}; fix them, or pass --skip-bad "
        "to leave those rows out (inspect --check-files lists them all)"
    )


PARENT = "rebalance_parent"
AUGMENT = "rebalance_augment"


def _augment(
    table: pa.Table,
    columns: Columns,
    codes: npt.NDArray[np.int64],
    dictionary: list[str],
    kept: npt.NDArray[np.int64] | None,
    added: npt.NDArray[np.int64],
    positions: npt.NDArray[np.int64] | None,
    *,
    spec: Any,
    seed: int,
    image_dir: str,
    path_col: str | None,
    mask_col: str | None,
    root: str | None,
    workers: int | None,
    allow_large: bool,
    provenance: bool,
    progress: Callable[[int], None] | None,
    write_file: Callable[[str, bytes], None] | None,
    messages: list[str],
    where: str,
) -> pa.Table:
    """The output of ``augment``: the kept rows, then one new row per new image, whose files
    are written here. A new row is its parent row with the new path (and mask), its parent's
    path in ``rebalance_parent`` and the transform as JSON in ``rebalance_augment``."""
    import time

    from rebalance.images.augment import (
        Task,
        draw,
        file_name,
        params_json,
        plan_files,
        write_images,
    )
    from rebalance.images.files import base_folder, path_column, resolve
    from rebalance.output import atomic_write

    name = path_column(table.column_names, path_col, where=where)
    # an augmented manifest augmented again: its rows keep their parent and transform
    earlier = {
        c: labels_as_text(table.column(c)) for c in (PARENT, AUGMENT) if c in table.column_names
    }
    table = table.drop_columns(list(earlier))
    if mask_col is not None and mask_col not in table.column_names:
        from rebalance.manifest import column_error

        raise column_error(where, mask_col, table.column_names)
    base = base_folder(None, root)
    shown = labels_as_text(table.column(name)).take(pa.array(added)).to_pylist()
    masks = (
        labels_as_text(table.column(mask_col)).take(pa.array(added)).to_pylist()
        if mask_col
        else None
    )
    folder = os.path.abspath(image_dir)
    n_kept = table.num_rows if kept is None else len(kept)
    tasks, new_paths, new_masks, parents, params_text = [], [], [], [], []
    copy_number: dict[int, int] = {}
    for j, (row, parent) in enumerate(zip(added.tolist(), shown, strict=True)):
        if not parent:
            raise RebalanceError(
                f"{where}: data row {row + 1} has no image path in column {name!r}"
            )
        copy_number[row] = copy_number.get(row, 0) + 1
        label = dictionary[int(codes[row])]
        ext = os.path.splitext(parent)[1] or ".png"
        target = os.path.join(folder, file_name(label, parent, copy_number[row], ext))
        params = draw(spec, seed, n_kept + j)
        mask_source = mask_target = None
        if masks is not None:
            mask_parent = masks[j]
            if not mask_parent:
                raise RebalanceError(
                    f"{where}: data row {row + 1} has no mask in column {mask_col!r}"
                )
            mask_ext = os.path.splitext(mask_parent)[1] or ".png"
            mask_source = resolve([mask_parent], base)[0]
            mask_target = target[: -len(ext)] + "__mask" + mask_ext
            new_masks.append(os.path.relpath(mask_target, base))
        tasks.append(
            Task(resolve([parent], base)[0] or "", target, params, mask_source, mask_target)
        )
        new_paths.append(os.path.relpath(target, base))
        parents.append(parent)
        params_text.append(params_json(params))
    estimate = plan_files(tasks, allow_large=allow_large)
    if tasks:
        os.makedirs(folder, exist_ok=True)
        started = time.perf_counter()

        def write(path: str, data: bytes) -> None:
            def put(fh: Any) -> None:
                fh.write(data)

            atomic_write(path, put)

        write_images(tasks, workers=workers, write=write_file or write, step=progress)
        seconds = time.perf_counter() - started
        messages.append(
            f"augment wrote {len(tasks) * (2 if masks is not None else 1):,} file(s) into {image_dir} "
            f"(about {estimate / 1024**2:,.1f} MB) in {seconds:.1f} s, {len(tasks) / max(seconds, 1e-9):,.0f} images/s"
        )
    head = table if kept is None else arrays.take(table, kept)
    copies = arrays.take(table, added)
    copies = _set_text(copies, name, new_paths)
    if masks is not None and mask_col is not None:
        copies = _set_text(copies, mask_col, new_masks)
    out = pa.concat_tables([head, copies])
    n_out = out.num_rows
    head_rows = np.arange(head.num_rows) if kept is None else kept
    for column, new in ((PARENT, parents), (AUGMENT, params_text)):
        before = earlier.get(column)
        kept_values = (
            [None] * head.num_rows
            if before is None
            else before.take(pa.array(head_rows, pa.int64())).to_pylist()
        )
        out = out.append_column(column, pa.array(kept_values + new, type=pa.string()))
    if provenance:
        sources = np.concatenate([head_rows, added]).astype(np.int64)
        if positions is not None:
            sources = positions[sources]
        flags = np.concatenate([np.zeros(head.num_rows, bool), np.ones(len(added), bool)])
        out = with_provenance(out, sources, flags)
    assert out.num_rows == n_out
    return out


def _set_text(table: pa.Table, name: str, values: list[str]) -> pa.Table:
    """The table with column ``name`` replaced by ``values`` (as the column's text type)."""
    i = table.column_names.index(name)
    field = table.schema.field(i)
    kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    array = pa.array(values, type=kind if pa.types.is_large_string(kind) else pa.string())
    if pa.types.is_dictionary(field.type):
        array = array.dictionary_encode().cast(field.type)
    return table.set_column(i, field, array)


def _similar_rows(
    method: str,
    matrix: npt.NDArray[np.float32],
    codes: npt.NDArray[np.int64],
    dictionary: list[str],
    plan: Plan,
    seed: int,
    threshold: float | None,
    messages: list[str],
) -> npt.NDArray[np.int64]:
    """Rows kept by ``cluster`` (k-means per class to its target) or ``dedup``."""
    from rebalance.images.select import cluster_keep, dedup_keep

    code_of = {label: i for i, label in enumerate(dictionary)}
    if method == "cluster":
        targets = {code_of[label]: t for label, t in plan.targets.items() if t < plan.counts[label]}
        kept = cluster_keep(matrix, codes, targets, seed=seed)
    else:
        assert threshold is not None
        kept = dedup_keep(matrix, codes, threshold)
        gone = rnd.bincount(codes, len(dictionary)) - rnd.bincount(codes[kept], len(dictionary))
        removed = {dictionary[i]: int(n) for i, n in enumerate(gone) if n > 0}
        shown = ", ".join(
            f"{label!r} {n:,}" for label, n in sorted(removed.items(), key=lambda kv: -kv[1])[:10]
        )
        messages.append(
            f"dedup removed {sum(removed.values()):,} near-duplicate row(s)"
            + (f": {shown}" if removed else "")
        )
    unlabelled = np.flatnonzero(codes < 0)
    return np.union1d(kept[codes[kept] >= 0], unlabelled).astype(np.int64)


def _check_features(
    table: pa.Table,
    columns: Columns,
    method: str,
    kind: str,
    features: Sequence[str] | None,
    where: str,
    messages: list[str],
) -> None:
    """Refuse a method that cannot run on this table: no usable features, or synthetic
    rows for a manifest of files (with explicit ``features`` it runs, and ``messages``
    says the synthetic rows have no file). Suggests only what exists."""
    exclude = [c for c in (columns.label, columns.split, columns.group, columns.id) if c]
    path_col = _path_column(table, columns) if kind in SYNTHETIC_KINDS else None
    if path_col is not None and features:
        messages.append(
            f"{method} makes synthetic rows from --features: they have no file, so their "
            f"{path_col!r} is empty (for new images use --method augment)"
        )
    if kind in SYNTHETIC_KINDS and not features:
        if path_col is not None:
            numeric = [
                c
                for c in table.column_names
                if c not in exclude and c != path_col and is_numeric(table.column(c))
            ]
            anyway = (
                f", or name tabular --features ({', '.join(numeric[:5])}) to synthesize feature "
                "rows anyway"
                if numeric
                else ""
            )
            raise RebalanceError(
                f"{where}: column {path_col!r} holds file paths, and {method} makes synthetic rows "
                f"that have no file; use --method augment (new images) or random for a manifest "
                f"of files{anyway}"
            )
    choose_features(table, features, exclude, where=where)


def _path_column(table: pa.Table, columns: Columns) -> str | None:
    """A column that holds file paths (by name, or by most values ending in a file suffix)."""
    roles = {columns.label, columns.split, columns.group, columns.id}
    for name in table.column_names:
        if name in roles:
            continue
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        sample = column.slice(0, 1000)
        hits = (
            pc.sum(
                pc.cast(pc.match_substring_regex(sample, PATH_SUFFIX, ignore_case=True), pa.int64())
            ).as_py()
            or 0
        )
        if (name.lower() in PATH_NAMES or hits >= 0.8 * len(sample)) and hits >= 0.5 * len(sample):
            return str(name)
    return None


def _warn_group_leakage(
    table: pa.Table, columns: Columns, selected: npt.NDArray[np.bool_], messages: list[str]
) -> None:
    assert columns.group is not None
    groups = labels_as_text(table.column(columns.group))
    inside = set(pc.filter(groups, pa.array(selected)).to_pylist())
    outside = set(pc.filter(groups, pa.array(~selected)).to_pylist())
    shared = sorted(str(g) for g in (inside & outside) if g is not None)
    if shared:
        shown = ", ".join(map(repr, shared[:5])) + (
            f", … {len(shared) - 5} more" if len(shared) > 5 else ""
        )
        messages.append(
            f"leakage: {len(shared):,} group(s) of {columns.group!r} are in the resampled split and in another split: {shown}"
        )


def _random(
    table: pa.Table,
    columns: Columns,
    codes: npt.NDArray[np.int64],
    keys: rnd.RowKeys,
    targets: list[int],
    seed: int,
    messages: list[str],
    dictionary: list[str],
) -> tuple[npt.NDArray[np.int64] | None, npt.NDArray[np.int64]]:
    if columns.group is None:
        selection = rnd.select(codes, keys, targets)
        return selection.kept, selection.added
    # undersampled classes keep or drop whole groups; oversampled ones copy rows as usual
    sizes = np.bincount(codes[codes >= 0], minlength=len(targets))
    under = [i for i, t in enumerate(targets) if t < sizes[i]]
    encoded = pc.dictionary_encode(labels_as_text(table.column(columns.group)))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    group_codes = np.asarray(
        pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    group_keys = rnd.splitmix64(
        rnd.text_hashes(pc.fill_null(encoded.dictionary, "")) ^ rnd.seed_mix(seed, stream=2)
    )
    under_targets = [targets[i] if i in under else int(sizes[i]) for i in range(len(targets))]
    keep, achieved = rnd.select_groups(codes, group_codes, group_keys, under_targets)
    short = [
        f"{dictionary[i]!r} {achieved[i]:,} of {targets[i]:,}"
        for i in under
        if achieved[i] != targets[i]
    ]
    if short:
        messages.append(
            f"whole groups of {columns.group!r} kept, so {len(short)} class(es) end below their target: "
            + ", ".join(short[:10])
        )
    selection = rnd.select(np.where(np.isin(codes, under), -1, codes), keys, targets)
    if selection.kept is None:
        return np.flatnonzero(keep).astype(np.int64), selection.added
    return selection.kept[keep[selection.kept]], selection.added


def _with_replacement(
    codes: npt.NDArray[np.int64], keys: rnd.RowKeys, targets: list[int], seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Random resampling where classes above their target are drawn with replacement.

    Those classes draw exactly as imbalanced-learn's ``RandomUnderSampler(replacement=True,
    random_state=seed)``: one ``RandomState(seed)``, ``choice`` per class in class order.
    A row's first draw is kept (input order), its later draws are copies; the other
    classes are resampled as usual.
    """
    k = len(targets)
    sizes = rnd.bincount(codes, k)
    under = [c for c in range(k) if targets[c] < sizes[c]]
    others = rnd.select(np.where(np.isin(codes, under), -1, codes), keys, targets)
    kept = np.arange(len(codes)) if others.kept is None else others.kept
    kept = kept[~np.isin(codes[kept], under)]
    draws = np.random.RandomState(seed)
    added_by_class: dict[int, npt.NDArray[np.int64]] = {}
    drawn_kept = [kept]
    for c in under:
        rows = np.flatnonzero(codes == c)
        drawn = rows[draws.choice(int(sizes[c]), size=targets[c], replace=True)]
        unique, times = np.unique(drawn, return_counts=True)
        drawn_kept.append(unique)
        rounds = [unique[times >= r] for r in range(2, int(times.max(initial=1)) + 1)]
        added_by_class[c] = np.concatenate([np.empty(0, np.int64), *rounds])
    added_classes = codes[others.added]
    added = [
        added_by_class[c] if c in added_by_class else others.added[added_classes == c]
        for c in range(k)
    ]
    return (
        np.sort(np.concatenate(drawn_kept)).astype(np.int64),
        np.concatenate([np.empty(0, np.int64), *added]).astype(np.int64),
    )


def _tabular(
    table: pa.Table,
    columns: Columns,
    codes: npt.NDArray[np.int64],
    keys: rnd.RowKeys,
    dictionary: list[str],
    plan: Plan,
    *,
    method: str,
    kind: str,
    seed: int,
    features: Sequence[str] | None,
    params: Mapping[str, Any],
    n_jobs: int | None,
    strict: bool,
    messages: list[str],
    where: str,
    image_matrix: npt.NDArray[np.float32] | None = None,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], pa.Table, npt.NDArray[np.int64], list[str]
]:
    active = np.flatnonzero(codes >= 0)
    sub = table.take(arrays.to_arrow(active))
    exclude = [
        c for c in (columns.label, columns.split, columns.group, columns.id) if c is not None
    ]
    names: list[str] = []
    categorical: list[str] = []
    if image_matrix is None:
        names, categorical = choose_features(sub, features, exclude, where=where)
    sub_labels = [dictionary[c] for c in codes[active]]
    need = neighbours_needed(method, params)
    fallback: dict[str, int] = {}
    if kind in ("over", "combine") and need:
        small = sorted(
            (label for label, n in plan.counts.items() if n < need and plan.targets[label] > n),
            key=lambda label: (plan.counts[label], label),
        )
        if small:
            listed = ", ".join(f"{label!r} ({plan.counts[label]})" for label in small[:10])
            if strict:
                raise RebalanceError(
                    f"{where}: class(es) too small for {method}, which needs {need} rows (k_neighbors + 1): {listed} "
                    "(lower --k-neighbors, use --method random, or drop --strict to oversample them at random)"
                )
            messages.append(
                f"class(es) too small for {method} (needs {need} rows): {listed}; oversampled at random instead"
            )
            fallback = {label: plan.targets[label] for label in small}
    if kind in ("over", "combine"):
        targets = {
            k: t for k, t in plan.targets.items() if t > plan.counts[k] and k not in fallback
        }
    elif kind in ("select", "generate"):
        targets = {k: t for k, t in plan.targets.items() if t < plan.counts[k]}
    else:
        targets = {}
    if categorical:
        messages.append(
            f"categorical feature column(s) {', '.join(map(repr, categorical))}"
            + (
                ": smote runs as SMOTEN"
                if method == "smote" and len(categorical) == len(names)
                else ""
            )
            + (
                ": smote runs as SMOTENC"
                if method == "smote" and len(categorical) < len(names)
                else ""
            )
            + ("; one-hot encoded to measure distance" if kind in ("select", "clean") else "")
        )
    kept_sub = np.arange(len(active), dtype=np.int64)
    synth_features: Any = None
    synth_labels: list[str] = []
    if targets or kind == "clean":
        if image_matrix is not None:
            dims = image_matrix.shape[1]
            feats = Features([f"image_{i}" for i in range(dims)], [], image_matrix[active])
        else:
            feats = feature_matrix(sub, names, categorical, where=where)
        result = run_method(
            method, feats, sub_labels, targets, seed=seed, params=params, n_jobs=n_jobs, where=where
        )
        kept_sub = result.kept
        synth_features, synth_labels = result.synthetic_features, result.synthetic_labels
    kept = np.sort(np.concatenate([np.flatnonzero(codes < 0), active[kept_sub]])).astype(np.int64)
    added = np.empty(0, dtype=np.int64)
    if fallback:
        fb_codes = np.where(
            np.isin(codes, [dictionary.index(label) for label in fallback]), codes, -1
        )
        fb_targets = [fallback.get(label, 0) for label in dictionary]
        added = rnd.select(fb_codes, keys, fb_targets).added
    synthetic = _synthetic_table(
        table, columns.label, names, synth_features, synth_labels, codes, dictionary
    )
    if columns.split is not None and synthetic.num_rows and len(active):
        # the resampled rows are all of one split: the new rows belong to it too
        splits = pc.unique(labels_as_text(table.column(columns.split).take(pa.array(active))))
        if len(splits) == 1:
            position = synthetic.schema.get_field_index(columns.split)
            value = table.column(columns.split).take(
                pa.array([int(active[0])] * synthetic.num_rows)
            )
            synthetic = synthetic.set_column(position, columns.split, value.combine_chunks())
    code_of = {label: i for i, label in enumerate(dictionary)}
    rank = np.asarray([code_of[label] for label in synth_labels], dtype=np.int64)
    return kept, added, synthetic, rank, names


def _synthetic_table(
    table: pa.Table,
    label_col: str,
    feature_names: Sequence[str],
    values: Any,
    labels: Sequence[str],
    codes: npt.NDArray[np.int64],
    dictionary: list[str],
) -> pa.Table:
    """New rows: the features made by the method, the label as stored, null elsewhere."""
    m = len(labels)
    arrays = []
    present, first_rows = np.unique(codes, return_index=True)
    exemplar = {dictionary[c]: int(i) for c, i in zip(present, first_rows, strict=True) if c >= 0}
    for field_ in table.schema:
        name = field_.name
        if m == 0:
            arrays.append(pa.nulls(0, field_.type))
        elif name == label_col:
            arrays.append(
                table.column(name)
                .take(pa.array([exemplar[label] for label in labels]))
                .combine_chunks()
            )
        elif name in feature_names:
            j = list(feature_names).index(name)
            column = (
                values.iloc[:, j].to_numpy()
                if hasattr(values, "iloc")
                else np.asarray(values)[:, j]
            )
            arrays.append(_cast_like(column, field_.type))
        else:
            arrays.append(pa.nulls(m, field_.type))
    return pa.Table.from_arrays(arrays, schema=table.schema)


def _cast_like(values: Any, target: pa.DataType) -> pa.Array:
    if values.dtype == object:
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    else:
        array = pa.array(np.asarray(values, dtype=np.float64))
    if pa.types.is_integer(target):
        return pc.cast(pc.round(array), target)
    if pa.types.is_boolean(target):
        return pc.cast(pc.round(array), pa.int8()).cast(target)
    if pa.types.is_dictionary(target):
        return array.cast(pa.string()).dictionary_encode().cast(target)
    return array.cast(target)


def _assemble(
    table: pa.Table,
    codes: npt.NDArray[np.int64],
    k: int,
    kept: npt.NDArray[np.int64] | None,
    added: npt.NDArray[np.int64],
    synthetic: pa.Table | None,
    synthetic_rank: npt.NDArray[np.int64],
    provenance: bool,
    positions: npt.NDArray[np.int64] | None = None,
) -> pa.Table:
    n = table.num_rows
    # an oversample-only plan keeps every row: no need to copy the table
    if kept is None:
        kept_rows = n
        parts = [table]
    else:
        kept_rows = len(kept)
        parts = [arrays.take(table, kept)]
    sources: list[npt.NDArray[np.int64]] = [
        kept if kept is not None else np.arange(n if provenance else 0, dtype=np.int64)
    ]
    flags = [np.zeros(kept_rows, dtype=bool)]
    n_syn = 0 if synthetic is None else synthetic.num_rows
    if n_syn:
        # interleave copies and synthetic rows class by class (copies come first in a class)
        copy_rank = codes[added] if len(added) else np.empty(0, dtype=np.int64)
        ranks = np.concatenate([copy_rank, synthetic_rank[:n_syn]])
        order = np.argsort(ranks, kind="stable")
        assert synthetic is not None
        extra = pa.concat_tables([arrays.take(table, added), synthetic]).take(
            arrays.to_arrow(order)
        )
        parts.append(extra)
        sources.append(np.concatenate([added, np.full(n_syn, -1, dtype=np.int64)])[order])
        flags.append(
            np.concatenate([np.zeros(len(added), dtype=bool), np.ones(n_syn, dtype=bool)])[order]
        )
    elif len(added):
        parts.append(arrays.take(table, added))  # already in class / copy / position order
        sources.append(added)
        flags.append(np.zeros(len(added), dtype=bool))
    out = pa.concat_tables(parts)
    if provenance:
        source_all = np.concatenate(sources)
        if positions is not None:
            source_all = np.where(source_all < 0, -1, positions[np.maximum(source_all, 0)])
        out = with_provenance(out, source_all, np.concatenate(flags))
    return out


def bytes_per_row(path: str, rows: int) -> float | None:
    """Average input bytes per row, for saying how large a planned output would be."""
    try:
        return os.path.getsize(path) / max(rows, 1)
    except OSError:
        return None
