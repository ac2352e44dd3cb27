"""imbalanced-learn methods on a manifest table: features, refusals, and the synthetic rows they make."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest import (
    PATH_NAMES,
    PATH_SUFFIX,
    labels_as_text,
)
from rebalance.plan import Plan
from rebalance.resampling.request import ResampleRequest
from rebalance.resampling.roles import Columns
from rebalance.resampling.state import Chosen, Rows
from rebalance.samplers import random as rnd
from rebalance.samplers.registry import SYNTHETIC_KINDS
from rebalance.samplers.tabular import (
    Features,
    choose_features,
    feature_matrix,
    is_numeric,
    neighbours_needed,
    run_method,
)


def _feature_names(table: pa.Table, patterns: Sequence[str]) -> list[str]:
    import fnmatch

    names: list[str] = []
    for pattern in patterns:
        for part in (p.strip() for p in pattern.split(",") if p.strip()):
            hits = [c for c in table.column_names if fnmatch.fnmatchcase(c, part)] or [part]
            names.extend(h for h in hits if h not in names)
    return names


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


def tabular_rows(
    rows: Rows,
    keys: rnd.RowKeys,
    plan: Plan,
    request: ResampleRequest,
    messages: list[str],
    where: str,
    image_matrix: npt.NDArray[np.float32] | None = None,
) -> Chosen:
    """An imbalanced-learn method's rows: those kept, random copies for classes too small
    for it, and its synthetic rows (on ``image_matrix`` when the features are images')."""
    method, kind = request.method.method, request.method.kind
    table, columns, codes, dictionary = rows.table, rows.columns, rows.codes, rows.dictionary
    active = np.flatnonzero(codes >= 0)
    sub = table.take(arrays.to_arrow(active))
    names: list[str] = []
    categorical: list[str] = []
    if image_matrix is None:
        names, categorical = choose_features(
            sub, request.method.features, columns.roles(), where=where
        )
    fallback = _too_small(plan, request, messages, where)
    targets = _method_targets(plan, kind, fallback)
    if categorical:
        messages.append(_categorical_note(method, kind, names, categorical))
    kept_sub = np.arange(len(active), dtype=np.int64)
    synth_features: Any = None
    synth_labels: list[str] = []
    if targets or kind == "clean":
        if image_matrix is not None:
            dims = image_matrix.shape[1]
            feats = Features([f"image_{i}" for i in range(dims)], [], image_matrix[active])
        else:
            feats = feature_matrix(sub, names, categorical, where=where)
        sub_labels = [dictionary[c] for c in codes[active]]
        spec = request.method
        result = run_method(
            method, feats, sub_labels, targets, seed=request.seed, params=spec.params,
            n_jobs=spec.n_jobs, where=where,
        )  # fmt: skip
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
    synthetic = _in_their_split(synthetic, table, columns, active)
    code_of = {label: i for i, label in enumerate(dictionary)}
    rank = np.asarray([code_of[label] for label in synth_labels], dtype=np.int64)
    return Chosen(kept, added, synthetic, rank, names)


def _too_small(
    plan: Plan, request: ResampleRequest, messages: list[str], where: str
) -> dict[str, int]:
    """The classes too small for a neighbour method: an error with ``strict``, else their
    targets, to be reached by random copies (said)."""
    method, kind = request.method.method, request.method.kind
    need = neighbours_needed(method, request.method.params)
    if kind not in ("over", "combine") or not need:
        return {}
    small = sorted(
        (label for label, n in plan.counts.items() if n < need and plan.targets[label] > n),
        key=lambda label: (plan.counts[label], label),
    )
    if not small:
        return {}
    listed = ", ".join(f"{label!r} ({plan.counts[label]})" for label in small[:10])
    if request.method.strict:
        raise RebalanceError(
            f"{where}: class(es) too small for {method}, which needs {need} rows (k_neighbors + 1): {listed} "
            "(lower --k-neighbors, use --method random, or drop --strict to oversample them at random)"
        )
    messages.append(
        f"class(es) too small for {method} (needs {need} rows): {listed}; oversampled at random instead"
    )
    return {label: plan.targets[label] for label in small}


def _method_targets(plan: Plan, kind: str, fallback: Mapping[str, int]) -> dict[str, int]:
    """The classes the method moves, and to how many rows (imbalanced-learn's dict)."""
    if kind in ("over", "combine"):
        return {k: t for k, t in plan.targets.items() if t > plan.counts[k] and k not in fallback}
    if kind in ("select", "generate"):
        return {k: t for k, t in plan.targets.items() if t < plan.counts[k]}
    return {}


def _categorical_note(method: str, kind: str, names: list[str], categorical: list[str]) -> str:
    note = f"categorical feature column(s) {', '.join(map(repr, categorical))}"
    if method == "smote":
        note += ": smote runs as SMOTEN" if len(categorical) == len(names) else ""
        note += ": smote runs as SMOTENC" if len(categorical) < len(names) else ""
    if kind in ("select", "clean"):
        note += "; one-hot encoded to measure distance"
    return note


def _in_their_split(
    synthetic: pa.Table, table: pa.Table, columns: Columns, active: npt.NDArray[np.int64]
) -> pa.Table:
    """The resampled rows are all of one split: the new rows belong to it too."""
    if columns.split is None or not synthetic.num_rows or not len(active):
        return synthetic
    splits = pc.unique(labels_as_text(table.column(columns.split).take(pa.array(active))))
    if len(splits) != 1:
        return synthetic
    position = synthetic.schema.get_field_index(columns.split)
    value = table.column(columns.split).take(pa.array([int(active[0])] * synthetic.num_rows))
    return synthetic.set_column(position, columns.split, value.combine_chunks())


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
            arrays.append(cast_like(column, field_.type))
        else:
            arrays.append(pa.nulls(m, field_.type))
    return pa.Table.from_arrays(arrays, schema=table.schema)


def cast_like(values: Any, target: pa.DataType) -> pa.Array:
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
