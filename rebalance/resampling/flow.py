"""One resample of a table, start to end: the rows, the plan, the choice, the output.

Output rows are input rows (all columns, original types) or synthetic rows marked
as such. Order: the input rows kept, in input order; then the added rows, class by
class in sorted label order, copies before synthetic rows, copies by copy round and
then input order. ``shuffle`` instead orders every output row by a seeded hash of its
output position.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest import as_table, check_label_type, is_bytes_type, labels_as_text
from rebalance.plan import Plan
from rebalance.provenance import (
    ORIGIN_ROW,
    SOURCE_ROW,
    SYNTHETIC,
    rechain,
    take_lineage,
    with_provenance,
)
from rebalance.resampling.images import _bad_images, _similar_rows, augment_rows, image_choice
from rebalance.resampling.planning import _plan
from rebalance.resampling.request import HOOKS, ResampleRequest, RunHooks
from rebalance.resampling.result import ResampleResult, check_size
from rebalance.resampling.roles import _ids, _label_codes, resolve_columns, selected_rows
from rebalance.resampling.rows import _assemble, _random, _warn_group_leakage, _with_replacement
from rebalance.resampling.state import Chosen, Rows
from rebalance.resampling.tabular import _check_features, _feature_names, tabular_rows
from rebalance.samplers import random as rnd
from rebalance.samplers.registry import SIMILARITY_METHODS


def resample(
    data: Any,
    request: ResampleRequest | None = None,
    *,
    hooks: RunHooks | None = None,
    **options: Any,
) -> ResampleResult:
    """Rebalance a manifest table.

    Give a :class:`~rebalance.resampling.request.ResampleRequest` (and
    :class:`~rebalance.resampling.request.RunHooks`), or the same options as keywords:
    ``resample(table, target="sqrt", method="smote", features=["v*"])``.

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
    if request is None:
        request = ResampleRequest.of(**{k: v for k, v in options.items() if k not in HOOKS})
        if hooks is None:
            hooks = RunHooks(**{k: v for k, v in options.items() if k in HOOKS})
    elif options:
        raise TypeError(f"resample() takes a request or options, not both ({sorted(options)})")
    hooks = hooks or RunHooks()
    table, lineage = take_lineage(as_table(data), hooks.where)
    if lineage is not None:
        # a rebalance output resampled again: its provenance is kept current (chained)
        request = dataclasses.replace(request, provenance=True)
        hooks = dataclasses.replace(hooks, early_rows=None)
    return _Run(request, hooks, table).result(lineage)


class _Run:
    """One resample: each step reads the request and adds to the messages and notes."""

    def __init__(self, request: ResampleRequest, hooks: RunHooks, table: pa.Table) -> None:
        self.request = request
        self.hooks = hooks
        self.where = hooks.where
        self.method = request.method.method
        self.kind = request.method.kind
        self.messages: list[str] = []  # warnings for the person running it
        self.notes: list[str] = []  # what was done
        roles = request.roles
        columns = resolve_columns(
            table.column_names, label_col=roles.label_col, split_col=roles.split_col,
            detect_split=roles.detect_split, group_col=roles.group_col, id_col=roles.id_col,
            where=self.where,
        )  # fmt: skip
        label_type = table.schema.field(columns.label).type
        check_label_type(label_type, columns.label, where=self.where)
        if is_bytes_type(getattr(label_type, "value_type", label_type)):  # named, by row
            labels_as_text(table.column(columns.label), name=columns.label, where=self.where)
        dictionary, codes = _label_codes(table.column(columns.label))
        self.rows = Rows(table, columns, dictionary, codes)

    def result(self, lineage: Any) -> ResampleResult:
        """Run the steps: rows, plan, choice, output, and the record of what came out."""
        request, rows = self.request, self.rows
        self._unlabelled()
        rows.selected = selected_rows(
            rows.table, rows.columns, only_splits=request.roles.only_splits,
            all_splits=request.roles.all_splits, where=self.where,
        )  # fmt: skip
        if request.reads_images:
            self._bad_images()
        if rows.selected is not None:
            rows.codes = np.where(rows.selected, rows.codes, -1)
        plan, passthrough = self._plan()
        chosen = self._choose(plan)
        out = self._output(chosen, lineage)
        produced = self._produced(chosen, plan)
        run_params = dict(request.method.params)
        if self.kind == "random":
            run_params["id_col"] = rows.columns.id
        only_splits = request.roles.only_splits
        return ResampleResult(
            table=out,
            plan=plan,
            produced=produced,
            method=self.method,
            params=run_params,
            seed=request.seed,
            label_col=rows.columns.label,
            split_col=rows.columns.split,
            only_splits=list(only_splits) if only_splits else None,
            group_col=rows.columns.group,
            features=chosen.feature_names,
            synthetic_rows=0 if chosen.synthetic is None else chosen.synthetic.num_rows,
            passthrough_rows=passthrough,
            messages=self.messages,
            notes=self.notes,
            image_choice=chosen.images,
        )

    def _unlabelled(self) -> None:
        """Rows without a label: an error, left out, or passed through (said)."""
        rows, missing = self.rows, self.request.roles.missing
        blank = rows.codes < 0
        if not blank.any():
            return
        if missing == "error":
            raise RebalanceError(
                f"{self.where}: {int(blank.sum())} row(s) have no label in column "
                f"{rows.columns.label!r} (first at data row {int(np.argmax(blank)) + 1}; "
                "use --drop-missing to leave them out)"
            )
        if missing == "drop":
            rows.leave_out(blank)  # they keep their input position: row key, provenance
        else:
            self.messages.append(
                f"{int(blank.sum()):,} row(s) without a label pass through unchanged"
            )

    def _bad_images(self) -> None:
        """Every image method scans the rows it reads first: one report of every bad file."""
        rows, images = self.rows, self.request.images
        scanned = rows.codes >= 0 if rows.selected is None else (rows.codes >= 0) & rows.selected
        bad = _bad_images(
            rows.table, scanned, images.path_col, images.root, images.workers, self.where,
            skip_bad=images.skip_bad,
        )  # fmt: skip
        if bad.any():
            rows.leave_out(bad)
            self.messages.append(
                f"--skip-bad left out {int(bad.sum()):,} row(s) whose image is missing, "
                "unreadable, corrupt or too large (inspect --check-files lists them)"
            )

    def _plan(self) -> tuple[Plan, int]:
        """The plan (after the features are settled) and the rows that pass through; the
        size pre-flight refuses an exploding plan before any row is chosen."""
        rows, spec = self.rows, self.request.plan
        counts_arr = rnd.bincount(rows.codes, len(rows.dictionary))
        counts = {rows.dictionary[i]: int(c) for i, c in enumerate(counts_arr) if c > 0}
        if not counts:
            raise RebalanceError(f"{self.where}: no labelled rows to resample")
        self.image_matrix = self._features()
        plan = _plan(
            counts, spec.target, self.method, spec.mode, spec.min_per_class,
            spec.max_per_class, spec.per_class, self.request.method.params.get("sampling_strategy"),
        )  # fmt: skip
        if self.kind == "clean" and spec.target is not None:
            self.messages.append(
                f"{self.method} removes noisy and borderline rows of every class but the "
                "minority; --target is ignored"
            )
        passthrough = int((rows.codes < 0).sum())
        check_size(
            plan, plan.rows_before + passthrough, allow_large=spec.allow_large,
            bytes_per_row=self.hooks.bytes_per_row,
        )  # fmt: skip
        if rows.columns.group is not None and rows.selected is not None:
            # with every row resampled, no group can sit in another split as well
            _warn_group_leakage(rows.table, rows.columns, rows.selected, self.messages)
        return plan, passthrough

    def _features(self) -> npt.NDArray[np.float32] | None:
        """The feature matrix of the image and similarity methods (``None`` for the
        others, which read their feature columns themselves and are checked here)."""
        rows, method, images = self.rows, self.request.method, self.request.images
        similar = self.method in SIMILARITY_METHODS
        if self.method == "augment" or self.kind == "random":
            return None  # augment reads its images while it writes the new ones
        if images.image_features is not None or (similar and not method.features):
            from rebalance.images.features import path_column_features

            return path_column_features(
                rows.table, images.image_features or "builtin", path_col=images.path_col,
                root=images.root, workers=images.workers, cache_dir=images.cache_dir,
                step=self.hooks.image_progress, where=self.where, weights=images.weights,
            )  # fmt: skip
        if similar:
            from rebalance.images.features import column_features

            assert method.features is not None
            names = _feature_names(rows.table, method.features)
            return column_features(rows.table, names, where=self.where)
        _check_features(
            rows.table, rows.columns, self.method, self.kind, method.features, self.where,
            self.messages,
        )  # fmt: skip
        return None

    def _choose(self, plan: Plan) -> Chosen:
        """The method's rows: kept, copied, made (or augment's new images)."""
        rows, request = self.rows, self.request
        ids = _ids(rows.table, rows.columns.id)
        if ids is None and rows.positions is not None:
            ids = rows.positions.astype(np.uint64)  # a position's key is that input row's key
        keys = rnd.RowKeys(request.seed, ids)
        targets = [plan.targets.get(label, 0) for label in rows.dictionary]
        self._early_rows(plan)
        if self.kind == "random" and request.method.replacement:
            return Chosen(*_with_replacement(rows.codes, keys, targets, request.seed))
        if self.kind == "random" or self.method == "augment":
            kept, added = _random(
                rows.table, rows.columns, rows.codes, keys, targets, request.seed,
                self.messages, rows.dictionary,
            )  # fmt: skip
            chosen = Chosen(kept, added)
            if self.method == "augment":
                chosen.augmented, made = augment_rows(
                    rows, kept, added, request, self.hooks, self.notes
                )
                if self.hooks.keep_choice:
                    chosen.images = image_choice(rows, request, self.where, new=made)
            return chosen
        if self.method in SIMILARITY_METHODS:
            assert self.image_matrix is not None
            kept, pairs = _similar_rows(
                self.method, self.image_matrix, rows.codes, rows.dictionary, plan,
                request.seed, request.method.threshold, self.notes,
            )  # fmt: skip
            chosen = Chosen(kept, np.empty(0, dtype=np.int64))
            if self.hooks.keep_choice:
                duplicate_of, distance = pairs if pairs is not None else (None, None)
                chosen.images = image_choice(
                    rows, request, self.where, kept=kept, duplicate_of=duplicate_of,
                    distance=distance,
                )  # fmt: skip
            return chosen
        return tabular_rows(rows, keys, plan, request, self.messages, self.where, self.image_matrix)

    def _early_rows(self, plan: Plan) -> None:
        """Hand the caller the leading output rows when random resampling keeps them all."""
        early_rows, rows = self.hooks.early_rows, self.rows
        keeps_every_row = all(plan.targets[label] >= n for label, n in plan.counts.items())
        if early_rows is None or self.kind != "random" or not keeps_every_row:
            return
        if self.request.shuffle:
            return
        n = rows.table.num_rows
        if not self.request.provenance:
            early_rows(rows.table)
            return
        positions = np.arange(n) if rows.positions is None else rows.positions
        early_rows(with_provenance(rows.table, positions, np.zeros(n, dtype=bool)))

    def _output(self, chosen: Chosen, lineage: Any) -> pa.Table:
        """The output table: assembled from the input rows (or augment's), chained, shuffled."""
        rows, request = self.rows, self.request
        if chosen.augmented is not None:
            out = chosen.augmented
        else:
            table = rows.table
            if self.hooks.rows_from is not None:
                if self.kind != "random" or request.shuffle or rows.positions is not None:
                    raise ValueError("rows_from is for random resampling of every row, unshuffled")
                table = self.hooks.rows_from()
                if table.num_rows != rows.table.num_rows:
                    raise ValueError("rows_from returned another number of rows")
            out = _assemble(
                table, rows.codes, len(rows.dictionary), chosen.kept, chosen.added,
                chosen.synthetic, chosen.synthetic_rank, request.provenance, rows.positions,
            )  # fmt: skip
        if lineage is not None:
            out = rechain(out, lineage)
            self.notes.append(
                f"the input carries provenance: {SOURCE_ROW} now points at its rows, "
                f"{SYNTHETIC} stays true for its synthetic rows, {ORIGIN_ROW} at the first manifest's"
            )
        if request.shuffle:
            order = np.argsort(rnd.row_keys(out.num_rows, request.seed, stream=1), kind="stable")
            out = out.take(arrays.to_arrow(order))
        return out

    def _produced(self, chosen: Chosen, plan: Plan) -> dict[str, int]:
        """Rows per class in the output; a class off its plan is said."""
        rows = self.rows
        codes, k, kept, added = rows.codes, len(rows.dictionary), chosen.kept, chosen.added
        counts_out = rnd.bincount(
            codes if kept is None or len(kept) == len(codes) else codes[kept], k
        )
        if len(added):
            counts_out = counts_out + rnd.bincount(codes[added], k)
        produced = {rows.dictionary[i]: int(c) for i, c in enumerate(counts_out)}
        synthetic = chosen.synthetic
        if synthetic is not None and synthetic.num_rows:
            for label in labels_as_text(synthetic.column(rows.columns.label)).to_pylist():
                produced[str(label)] = produced.get(str(label), 0) + 1
        produced = {label: produced.get(label, 0) for label in plan.counts}
        off = [label for label in plan.counts if produced[label] != plan.targets[label]]
        if off and self.kind != "clean":
            shown = ", ".join(
                f"{label!r} {produced[label]:,} (planned {plan.targets[label]:,})"
                for label in off[:10]
            )
            self.messages.append(
                f"{self.method} did not reach the exact plan for {len(off)} class(es): {shown}"
            )
        return produced
