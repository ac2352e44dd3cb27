"""imbalanced-learn samplers on the feature columns of a manifest.

This module is the seam to imbalanced-learn: it builds the sampler, hands it a
feature matrix and the plan, and turns its output back into row positions
(selected input rows) and synthetic feature rows. imbalanced-learn's and
scikit-learn's ``ValueError``s are translated into :class:`RebalanceError` here.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rebalance.arrays import floats
from rebalance.errors import RebalanceError
from rebalance.samplers.registry import IMAGE_METHODS as IMAGE_METHODS
from rebalance.samplers.registry import METHODS as METHODS
from rebalance.samplers.registry import SIMILARITY_METHODS as SIMILARITY_METHODS
from rebalance.samplers.registry import SYNTHETIC_KINDS as SYNTHETIC_KINDS
from rebalance.samplers.registry import method_kind as method_kind


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs for a sampler; values read as JSON where they can be (numbers, true, null)."""
    import json

    params: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise RebalanceError(f"--param {item!r} must look like NAME=VALUE")
        key, value = item.split("=", 1)
        try:
            params[key.strip().replace("-", "_")] = json.loads(value)
        except ValueError:
            params[key.strip().replace("-", "_")] = value
    return params


def neighbours_needed(method: str, params: Mapping[str, Any]) -> int:
    """Rows a class needs for the method's nearest-neighbour step (k + 1), 0 if none."""
    entry = METHODS.get(method)
    if entry is None or entry.neighbours is None:
        return 0
    name, default = entry.neighbours
    k = params.get(name, default)
    return int(k) + 1 if isinstance(k, int) else 0


# ---------------------------------------------------------------- features


@dataclass(frozen=True)
class Features:
    """The feature matrix of the rows to resample, and which columns are categorical."""

    columns: list[str]
    categorical: list[str]
    matrix: Any  # numpy float64 array, or a pandas DataFrame when categorical columns exist


def _is_numeric_text(column: pa.ChunkedArray) -> bool:
    try:
        pc.cast(pc.if_else(pc.equal(column, ""), None, column), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def is_numeric(column: pa.ChunkedArray) -> bool:
    """Whether a column holds numbers (numeric types, or text that parses as numbers)."""
    t = column.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return True
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _is_numeric_text(column)
    return False


def choose_features(
    table: pa.Table, patterns: Sequence[str] | None, exclude: Sequence[str], *, where: str
) -> tuple[list[str], list[str]]:
    """Feature columns (numeric and categorical) from ``--features`` names/globs, or all numeric ones.

    Without ``patterns`` only numeric columns are used; named text columns become
    categorical features.
    """
    candidates = [c for c in table.column_names if c not in exclude]
    if patterns:
        chosen: list[str] = []
        for pattern in patterns:
            for part in (p.strip() for p in pattern.split(",")):
                if not part:
                    continue
                hits = [c for c in candidates if fnmatch.fnmatchcase(c, part)]
                if not hits:
                    from rebalance.manifest import column_error

                    if part in exclude:
                        raise RebalanceError(
                            f"{where}: --features {part!r} is the label, split, group or id column"
                        )
                    raise column_error(where, part, candidates)
                chosen.extend(h for h in hits if h not in chosen)
    else:
        chosen = [c for c in candidates if is_numeric(table.column(c))]
        if not chosen:
            raise RebalanceError(
                f"{where}: no numeric feature columns for an imbalanced-learn method "
                f"(name them with --features; columns: {', '.join(candidates)})"
            )
    numeric = [c for c in chosen if is_numeric(table.column(c))]
    categorical = [c for c in chosen if c not in numeric]
    return numeric + categorical, categorical


def feature_matrix(
    table: pa.Table, columns: Sequence[str], categorical: Sequence[str], *, where: str
) -> Features:
    """Numbers for the numeric columns (text parsed), text for the categorical ones.

    Raises when a feature has empty values: the neighbour methods cannot use them.
    """
    arrays: dict[str, Any] = {}
    for name in columns:
        column = table.column(name)
        if name in categorical:
            values = column.cast(pa.string()) if not pa.types.is_string(column.type) else column
            if values.null_count:
                raise RebalanceError(
                    f"{where}: feature column {name!r} has empty values (fill or drop them first)"
                )
            arrays[name] = np.asarray(values.to_pylist(), dtype=object)
            continue
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.if_else(pc.equal(column, ""), None, column)
        try:
            numbers = pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise RebalanceError(
                f"{where}: feature column {name!r} has values that are not numbers"
            ) from None
        if numbers.null_count or pc.any(pc.is_nan(numbers)).as_py():
            mask = pc.or_(pc.is_null(numbers), pc.fill_null(pc.is_nan(numbers), True))
            first = pc.index(mask, True).as_py()
            raise RebalanceError(
                f"{where}: feature column {name!r} has empty or NaN values (first at resampled row {first + 1}); "
                "fill or drop them first, or leave the column out of --features"
            )
        if pc.any(pc.is_inf(numbers)).as_py():
            first = pc.index(pc.is_inf(numbers), True).as_py()
            raise RebalanceError(
                f"{where}: feature column {name!r} has infinite values (first at resampled row {first + 1}); "
                "clip or drop them first, or leave the column out of --features"
            )
        arrays[name] = floats(numbers)
    if categorical:
        import pandas as pd

        return Features(
            list(columns), list(categorical), pd.DataFrame(arrays, columns=list(columns))
        )
    return Features(list(columns), [], np.column_stack([arrays[c] for c in columns]))


# ---------------------------------------------------------------- running


@dataclass
class TabularResult:
    """Output of an imbalanced-learn method, in terms of the rows it was given.

    ``kept`` are positions of input rows kept (ascending); ``synthetic`` holds new
    feature rows with their labels, in the sampler's order.
    """

    kept: npt.NDArray[np.int64]
    synthetic_features: Any = None
    synthetic_labels: list[str] = field(default_factory=list)
    routed: str | None = None


def _import(path: str) -> Any:
    import importlib

    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _neighbours(k: int, n_jobs: int | None) -> Any:
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k + 1, n_jobs=n_jobs)


def build_sampler(
    method: str,
    strategy: Any,
    *,
    seed: int,
    params: Mapping[str, Any],
    categorical_idx: Sequence[int],
    all_categorical: bool,
    n_jobs: int | None,
) -> tuple[Any, str]:
    """The imbalanced-learn sampler for a method, and the name it ran as (SMOTE may route to SMOTENC/SMOTEN)."""
    path = METHODS[method].path
    kwargs = dict(params)
    name = method
    if method == "smote" and categorical_idx:
        name = "smoten" if all_categorical else "smotenc"
        path = METHODS[name].path
    if name == "smotenc":
        kwargs.setdefault("categorical_features", list(categorical_idx))
    # the same algorithm with a neighbour search that skips rows which cannot form a link
    cls = _import(METHODS[name].faster or path)
    if method in _COMBINED:
        return _combined(method, cls, strategy, seed=seed, params=kwargs, n_jobs=n_jobs), name
    accepted = set(cls().get_params()) if name not in ("smotenc",) else set(cls([0]).get_params())
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise RebalanceError(
            f"--param {unknown[0]!r} is not a parameter of {path.rsplit('.', 1)[1]} "
            f"(parameters: {', '.join(sorted(accepted - {'sampling_strategy'}))})"
        )
    if "random_state" in accepted:
        kwargs.setdefault("random_state", seed)
    if n_jobs is not None:
        if "n_jobs" in accepted:
            kwargs.setdefault("n_jobs", n_jobs)
        elif "k_neighbors" in accepted and name != "kmeans-smote":
            # SMOTE-family samplers lost n_jobs; a NearestNeighbors with n_jobs does the same job
            k = kwargs.get("k_neighbors", 5)
            if isinstance(k, int):
                kwargs["k_neighbors"] = _neighbours(k, n_jobs)
        elif "n_neighbors" in accepted and name == "adasyn":
            k = kwargs.get("n_neighbors", 5)
            if isinstance(k, int):
                kwargs["n_neighbors"] = _neighbours(k, n_jobs)
    try:
        return cls(sampling_strategy=strategy, **kwargs), name
    except TypeError as exc:  # a parameter of the wrong shape: one line, not a traceback
        raise RebalanceError(f"--param for {path.rsplit('.', 1)[1]}: {_first_line(exc)}") from None


# the parts of SMOTETomek / SMOTEENN: the oversampler, then the cleaner (its attribute name)
_COMBINED = {"smote-tomek": "tomek", "smote-enn": "enn"}
_CLEANER_NEIGHBOURS = {"tomek": False, "enn": True}  # whether the cleaner takes n_neighbors


def _combined(
    method: str,
    cls: Any,
    strategy: Any,
    *,
    seed: int,
    params: Mapping[str, Any],
    n_jobs: int | None,
) -> Any:
    """SMOTETomek / SMOTEENN with ``--k-neighbors`` routed to the inner SMOTE and
    ``--n-neighbors`` to the inner cleaner (the combined classes take neither).

    With no such parameter this builds exactly what imbalanced-learn builds by default.
    """
    from imblearn.over_sampling import SMOTE

    from rebalance.samplers.neighbours import FastEditedNearestNeighbours

    cleaner = _COMBINED[method]
    kwargs = dict(params)
    k = kwargs.pop("k_neighbors", None)
    n = kwargs.pop("n_neighbors", None)
    accepted = set(cls().get_params())
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise RebalanceError(
            f"--param {unknown[0]!r} is not a parameter of {cls.__name__} "
            f"(parameters: k_neighbors, {'n_neighbors, ' if _CLEANER_NEIGHBOURS[cleaner] else ''}"
            f"{', '.join(sorted(accepted - {'sampling_strategy', 'smote', cleaner}))})"
        )
    if n is not None and not _CLEANER_NEIGHBOURS[cleaner]:
        raise RebalanceError(
            f"--n-neighbors does not apply to {method}: Tomek links pair each row with its one "
            "nearest neighbour (use --k-neighbors for the SMOTE step, or --method smote-enn)"
        )
    kwargs.setdefault("random_state", seed)
    if n_jobs is not None:
        kwargs.setdefault("n_jobs", n_jobs)
    if k is not None or (n_jobs is not None and "smote" not in kwargs):
        neighbours: Any = 5 if k is None else k
        if n_jobs is not None and isinstance(neighbours, int):
            neighbours = _neighbours(neighbours, n_jobs)
        kwargs.setdefault(
            "smote",
            SMOTE(
                sampling_strategy=strategy,
                random_state=kwargs["random_state"],
                k_neighbors=neighbours,
            ),
        )
    if cleaner == "tomek":
        from rebalance.samplers.neighbours import FastTomekLinks

        kwargs.setdefault(
            "tomek", FastTomekLinks(sampling_strategy="all", n_jobs=kwargs.get("n_jobs"))
        )
    if cleaner == "enn":
        kwargs.setdefault(
            "enn",
            FastEditedNearestNeighbours(
                sampling_strategy="all",
                n_neighbors=3 if n is None else n,
                n_jobs=kwargs.get("n_jobs"),
            ),
        )
    return cls(sampling_strategy=strategy, **kwargs)


def _encode_for_distance(features: Features) -> Any:
    """One-hot encode categorical features so selection methods can measure distance."""
    if not features.categorical:
        return features.matrix
    import pandas as pd

    return pd.get_dummies(features.matrix, columns=features.categorical, dtype=float).to_numpy()


def run_method(
    method: str,
    features: Features,
    labels: Sequence[str],
    targets: Mapping[str, int],
    *,
    seed: int,
    params: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
    where: str = "manifest",
) -> TabularResult:
    """Run an imbalanced-learn method on the rows given.

    ``targets`` holds the classes to resample and their target counts (ignored by
    the cleaning methods, which resample every class but the minority).
    """
    kind = method_kind(method)
    params = dict(params or {})
    # integer class codes in sorted-label order: some samplers (NCR, IHT) reject text
    # labels, and sorted codes keep imbalanced-learn's per-class order (and RNG use) the same
    classes = sorted(set(labels))
    code_of = {label: i for i, label in enumerate(classes)}
    y = np.asarray([code_of[label] for label in labels], dtype=np.int64)
    n = len(y)
    columns = features.columns
    categorical_idx = [columns.index(c) for c in features.categorical]
    all_categorical = len(categorical_idx) == len(columns)
    if features.categorical and not (
        method == "smote" or method in ("smotenc", "smoten") or kind in ("select", "clean")
    ):
        raise RebalanceError(
            f"{method} needs numeric features, but {', '.join(map(repr, features.categorical))} "
            "are text (use --method smote, which routes to SMOTENC/SMOTEN, or leave them out of --features)"
        )
    X = (
        features.matrix
        if kind in ("over", "combine", "generate")
        else _encode_for_distance(features)
    )
    strategy: Any = {code_of[k]: t for k, t in targets.items()} if kind != "clean" else "auto"
    if "sampling_strategy" in params:
        strategy = _cleaning_strategy(method, kind, params.pop("sampling_strategy"), code_of)
    sampler, ran_as = build_sampler(
        method,
        strategy,
        seed=seed,
        params=params,
        categorical_idx=categorical_idx,
        all_categorical=all_categorical,
        n_jobs=n_jobs,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X_res, y_res = sampler.fit_resample(X, y)
    except (ValueError, RuntimeError, IndexError, TypeError) as exc:
        raise RebalanceError(
            f"{where}: {ran_as} failed: {_first_line(exc)}{_hint(method, exc)}"
        ) from exc
    routed = ran_as if ran_as != method else None
    if kind in ("select", "clean"):
        return TabularResult(
            kept=np.sort(np.asarray(sampler.sample_indices_, dtype=np.int64)), routed=routed
        )
    if kind == "over":
        new = _rows(X_res, n)
        return TabularResult(
            kept=np.arange(n, dtype=np.int64),
            synthetic_features=new,
            synthetic_labels=[classes[int(v)] for v in np.asarray(y_res)[n:]],
            routed=routed,
        )
    if kind == "generate":
        resampled = [code_of[k] for k in targets]
        kept = np.flatnonzero(~np.isin(y, resampled)).astype(np.int64)
        y_res = np.asarray(y_res)
        mask = np.isin(y_res, resampled)
        return TabularResult(
            kept=kept,
            synthetic_features=_rows(X_res, None, mask),
            synthetic_labels=[classes[int(v)] for v in y_res[mask]],
        )
    cleaner = getattr(sampler, "tomek_", None) or getattr(sampler, "enn_", None)
    assert cleaner is not None, f"{method}: the cleaning step left no sample_indices_"
    indices = np.asarray(cleaner.sample_indices_, dtype=np.int64)
    originals = np.sort(indices[indices < n])
    order = np.argsort(indices, kind="stable")
    synth_positions = order[indices[order] >= n]
    return TabularResult(
        kept=originals,
        synthetic_features=_rows(X_res, None, synth_positions),
        synthetic_labels=[classes[int(v)] for v in np.asarray(y_res)[synth_positions]],
    )


def _cleaning_strategy(method: str, kind: str, value: Any, code_of: Mapping[str, int]) -> Any:
    """``--param sampling_strategy`` of a cleaning method, with class labels as codes.

    The other kinds follow the plan (``--target``, ``--plan``, ``--mode``), which is their
    sampling strategy."""
    from rebalance.plan import cleaned_classes

    if kind != "clean":
        raise RebalanceError(
            f"--param sampling_strategy does not apply to {method}: its per-class counts come "
            "from the plan (--target, --plan, --mode)"
        )
    cleaned_classes(dict.fromkeys(code_of, 1), value)  # one clear error for a bad value
    if isinstance(value, str):
        return value
    return [code_of[str(v)] for v in value]


def _rows(X: Any, start: int | None, index: Any = None) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[start:] if index is None else X.iloc[index]
    return X[start:] if index is None else X[index]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _hint(method: str, exc: BaseException) -> str:
    text = str(exc)
    if type(exc).__name__ == "InvalidParameterError" or " parameter of " in text:
        return " (a --param, --k-neighbors or --n-neighbors value of the wrong kind)"
    if method == "kmeans-smote" and "cluster" in text.lower():
        return " (try --param cluster_balance_threshold=0.1, or --method smote)"
    if "n_neighbors" in text or "n_samples" in text:
        return " (a class may be too small: lower --k-neighbors, or use --method random)"
    return ""
