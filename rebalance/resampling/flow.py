"""One resample of a table, start to end: validate, plan, choose the rows (or make them), assemble.

Output rows are input rows (all columns, original types) or synthetic rows marked
as such. Order: the input rows kept, in input order; then the added rows, class by
class in sorted label order, copies before synthetic rows, copies by copy round and
then input order. ``shuffle`` instead orders every output row by a seeded hash of its
output position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    as_table,
    labels_as_text,
)
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
    method_kind,
)
from rebalance.validation import check_seed

if TYPE_CHECKING:
    pass
from rebalance.resampling.images import _augment, _bad_images, _similar_rows
from rebalance.resampling.planning import _plan
from rebalance.resampling.result import ResampleResult, check_size
from rebalance.resampling.roles import _ids, _label_codes, resolve_columns, selected_rows
from rebalance.resampling.rows import _assemble, _random, _warn_group_leakage, _with_replacement
from rebalance.resampling.tabular import _check_features, _feature_names, _tabular


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
