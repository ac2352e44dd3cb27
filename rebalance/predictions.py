"""Reading a predictions manifest: true labels, predicted labels and optional scores."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rebalance.errors import RebalanceError
from rebalance.manifest import (
    Source,
    as_table,
    check_label_type,
    detect_column,
    is_table,
    labels_as_text,
    missing_mask,
    read_manifest,
    resolve_source,
)
from rebalance.scores import Scores

TRUE_CANDIDATES = ("y_true", "label", "target", "true", "truth")
PRED_CANDIDATES = ("y_pred", "pred", "prediction", "predicted")
PREFIX_CANDIDATES = ("p_", "prob_", "proba_", "score_")
_POSITIVE_WORDS = ("1", "true", "yes", "pos", "positive")


@dataclass
class Predictions:
    """True and predicted labels (text), per-class scores if any, and where they came from."""

    source: str
    y_true: pa.Array  # text, one per row (index like a list; .to_pylist() for Python strings)
    y_pred: pa.Array
    scores: Scores | None
    true_col: str
    pred_col: str
    score_cols: list[str] = field(default_factory=list)
    positive: str | None = None
    warnings: list[str] = field(default_factory=list)


def _numbers(table: pa.Table, column: str, where: str) -> np.ndarray:
    values = table.column(column)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = pc.if_else(pc.equal(values, ""), None, values)
    try:
        numbers = pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise RebalanceError(f"{where}: score column {column!r} is not numeric") from None
    if numbers.null_count:
        raise RebalanceError(
            f"{where}: score column {column!r} has {numbers.null_count} empty value(s)"
        )
    array = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    if not np.isfinite(array).all():
        raise RebalanceError(f"{where}: score column {column!r} has NaN or infinite values")
    return array


def _check_probabilities(matrix: np.ndarray, columns: Sequence[str], where: str) -> None:
    low, high = float(matrix.min()), float(matrix.max())
    if low < 0 or high > 1:
        bad = columns[int(np.argmax((matrix < 0).any(axis=0) | (matrix > 1).any(axis=0)))]
        raise RebalanceError(
            f"{where}: score column {bad!r} has values outside [0, 1] ({low:g} to {high:g}); "
            "probabilities are expected (apply a softmax/sigmoid first)"
        )


def read_predictions(
    source: str | os.PathLike[str] | Source | Any,
    *,
    true_col: str | None = None,
    pred_col: str | None = None,
    proba_prefix: str | None = None,
    proba_cols: Sequence[str] | None = None,
    score_col: str | None = None,
    positive: str | None = None,
    drop_missing: bool = False,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> Predictions:
    """Read a predictions file (or table): columns detected, labels as text, scores validated.

    Score columns come from ``proba_prefix`` (``p_<label>``), ``proba_cols``, one
    ``score_col`` for the ``positive`` class of a binary task, or are found
    automatically (``p_``/``prob_``/``proba_``/``score_`` + label, or a numeric
    column named exactly as each label).

    Raises
    ------
    RebalanceError
        Missing columns, empty file, labels missing, non-numeric or out-of-range scores.
    """
    if is_table(source):
        table, where = as_table(source, name="predictions"), "predictions"
        if table.num_rows == 0:
            raise RebalanceError("predictions: no rows")
    else:
        if not isinstance(source, Source):
            source = resolve_source(source, input_format=input_format, encoding=encoding)
        where = source.name
        table = read_manifest(source)
    names = table.column_names
    t_col = detect_column(
        names, true_col, TRUE_CANDIDATES, where=where, flag="--true-col", required=False
    )
    p_col = detect_column(
        [c for c in names if c != t_col],
        pred_col,
        PRED_CANDIDATES,
        where=where,
        flag="--pred-col",
        required=False,
    )
    if t_col is None:
        raise RebalanceError(
            f"{where}: no true-label column found among {', '.join(TRUE_CANDIDATES)} (name it with --true-col)"
        )
    if p_col is None:
        raise RebalanceError(
            f"{where}: no predicted-label column found among {', '.join(PRED_CANDIDATES)} (name it with --pred-col)"
        )
    for col in (t_col, p_col):
        check_label_type(table.schema.field(col).type, col, where=where)
    truth = labels_as_text(table.column(t_col), name=t_col, where=where)
    pred = labels_as_text(table.column(p_col), name=p_col, where=where)
    blank = pc.or_(missing_mask(truth), missing_mask(pred))
    warnings: list[str] = []
    if pc.any(blank).as_py():
        count = pc.sum(pc.cast(blank, pa.int64())).as_py()
        if not drop_missing:
            first = pc.index(blank, True).as_py() + 1
            raise RebalanceError(
                f"{where}: {count} row(s) have an empty true or predicted label (first at data row {first}; "
                "use --drop-missing to leave them out)"
            )
        keep = pc.invert(blank)
        table, truth, pred = table.filter(keep), pc.filter(truth, keep), pc.filter(pred, keep)
        warnings.append(f"{count} row(s) without a label left out")
    # labels stay Arrow text: evaluate encodes them to integer codes without Python strings
    y_true = _combined(truth)
    y_pred = _combined(pred)
    truth_set = set(pc.unique(y_true).to_pylist())
    labels = sorted(truth_set)
    scores, cols, positive = _scores(
        table, labels, sorted(truth_set | set(pc.unique(y_pred).to_pylist())), where,
        proba_prefix=proba_prefix, proba_cols=proba_cols, score_col=score_col, positive=positive,
        taken=(t_col, p_col),
    )  # fmt: skip
    if scores is not None and len(scores.classes) > 1 and score_col is None:
        sums = scores.matrix.sum(axis=1)
        off = int((np.abs(sums - 1) > 1e-3).sum())
        if off:
            warnings.append(
                f"{off} row(s) of scores do not sum to 1 (e.g. {sums[np.argmax(np.abs(sums - 1))]:.4g}); "
                "calibration numbers assume probabilities"
            )
    return Predictions(
        source=where,
        y_true=y_true,
        y_pred=y_pred,
        scores=scores,
        true_col=t_col,
        pred_col=p_col,
        score_cols=cols,
        positive=positive,
        warnings=warnings,
    )


def _combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.DictionaryArray):
        column = column.dictionary_decode()
    return column.cast(pa.string())


def _scores(
    table: pa.Table,
    truth_labels: list[str],
    all_labels: list[str],
    where: str,
    *,
    proba_prefix: str | None,
    proba_cols: Sequence[str] | None,
    score_col: str | None,
    positive: str | None,
    taken: tuple[str, str],
) -> tuple[Scores | None, list[str], str | None]:
    names = table.column_names
    if score_col is not None:
        if score_col not in names:
            from rebalance.manifest import column_error

            raise column_error(where, score_col, names)
        if len(truth_labels) != 2:
            raise RebalanceError(
                f"{where}: --score-col is for binary tasks, but the true labels hold {len(truth_labels)} classes "
                "(use --proba-prefix with one column per class)"
            )
        if positive is None:
            hits = [label for label in truth_labels if label.lower() in _POSITIVE_WORDS]
            if len(hits) != 1:
                raise RebalanceError(
                    f"{where}: say which class --score-col scores with --positive ({' or '.join(truth_labels)})"
                )
            positive = hits[0]
        if positive not in truth_labels:
            raise RebalanceError(
                f"{where}: --positive {positive!r} is not a true label ({', '.join(truth_labels)})"
            )
        score = _numbers(table, score_col, where)
        _check_probabilities(score[:, None], [score_col], where)
        negative = next(label for label in truth_labels if label != positive)
        return (
            Scores([negative, positive], np.column_stack([1 - score, score])),
            [score_col],
            positive,
        )
    mapping: dict[str, str] = {}
    if proba_cols:
        cols = [c.strip() for part in proba_cols for c in part.split(",") if c.strip()]
        for col in cols:
            if col not in names:
                from rebalance.manifest import column_error

                raise column_error(where, col, names)
            label = (
                col[len(proba_prefix) :] if proba_prefix and col.startswith(proba_prefix) else col
            )
            mapping[label] = col
    elif proba_prefix is not None:
        mapping = {
            c[len(proba_prefix) :]: c
            for c in names
            if c.startswith(proba_prefix) and c not in taken
        }
        if not mapping:
            raise RebalanceError(f"{where}: no column starts with --proba-prefix {proba_prefix!r}")
    else:
        for prefix in PREFIX_CANDIDATES:
            found = {label: prefix + label for label in truth_labels if prefix + label in names}
            if len(found) == len(truth_labels):
                mapping = {
                    c[len(prefix) :]: c for c in names if c.startswith(prefix) and c not in taken
                }
                break
        else:
            exact = {label: label for label in all_labels if label in names and label not in taken}
            if len(exact) == len(all_labels) or (
                len(exact) >= len(truth_labels) and set(truth_labels) <= set(exact)
            ):
                try:
                    for col in exact.values():
                        _numbers(table, col, where)
                    mapping = exact
                except RebalanceError:
                    mapping = {}
    if not mapping:
        return None, [], positive
    absent = [label for label in truth_labels if label not in mapping]
    if absent:
        raise RebalanceError(
            f"{where}: no score column for class(es) {', '.join(map(repr, absent[:10]))} "
            f"(expected e.g. {next(iter(mapping.values()))[: -len(next(iter(mapping)))] or ''}{absent[0]})"
        )
    classes = sorted(mapping)
    matrix = np.column_stack([_numbers(table, mapping[c], where) for c in classes])
    _check_probabilities(matrix, [mapping[c] for c in classes], where)
    return Scores(classes, matrix), [mapping[c] for c in classes], positive
