"""Metrics of multi-label predictions, each equal to scikit-learn's (tests compare them).

Per label: precision, recall, F1 and support (rows with the label), ROC AUC and PR AUC
(average precision) from the scores. Averages: ``micro`` (pooled over every row × label),
``macro`` (mean over labels), ``weighted`` (by support) and ``samples`` (mean over rows).
Hamming loss is the share of wrong row × label cells; subset accuracy the share of rows whose
predicted set is exactly the true one. A division by zero counts 0, as scikit-learn's
``zero_division=0``. A label whose true column is all 0 or all 1 has no ROC AUC (and no PR
AUC without positives): it is ``null`` and left out of the macro and weighted AUCs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.multilabel.labels import LabelSets, read_label_sets

AVERAGES = ("micro", "macro", "weighted", "samples")
PRED_CANDIDATES = ("y_pred", "pred", "prediction", "predicted")
TRUE_CANDIDATES = ("y_true", "labels", "tags", "label", "target")


@dataclass(frozen=True)
class MultiLabelEvaluation:
    """The metrics report of multi-label predictions."""

    source: str
    labels: list[str]
    rows: int
    threshold: float | None
    per_label: dict[str, dict[str, float | int | None]]
    averages: dict[str, dict[str, float]]
    roc_auc: dict[str, float | None] | None
    pr_auc: dict[str, float | None] | None
    hamming_loss: float
    subset_accuracy: float
    warnings: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """Flat ``{name: value}`` for gates: ``macro_f1``, ``micro_recall``, ``hamming_loss``,
        ``subset_accuracy``, ``macro_roc_auc``, ``f1[label]``…"""
        out: dict[str, float] = {
            "hamming_loss": self.hamming_loss,
            "subset_accuracy": self.subset_accuracy,
        }
        for average, by_name in self.averages.items():
            for name, number in by_name.items():
                out[f"{average}_{name}"] = number
        for kind, aucs in (("roc_auc", self.roc_auc), ("pr_auc", self.pr_auc)):
            for average in ("micro", "macro", "weighted"):
                auc = (aucs or {}).get(average)
                if auc is not None:
                    out[f"{average}_{kind}"] = auc
        for label, per in self.per_label.items():
            for name, value in per.items():
                if value is not None and name != "support":
                    out[f"{name}[{label}]"] = float(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "multi_label": True,
            "rows": self.rows,
            "labels": list(self.labels),
            "threshold": self.threshold,
            "hamming_loss": self.hamming_loss,
            "subset_accuracy": self.subset_accuracy,
            "averages": {k: dict(v) for k, v in self.averages.items()},
            "roc_auc": None if self.roc_auc is None else dict(self.roc_auc),
            "pr_auc": None if self.pr_auc is None else dict(self.pr_auc),
            "per_label": {k: dict(v) for k, v in self.per_label.items()},
            "warnings": list(self.warnings),
        }


def multilabel_metrics(
    labels: Sequence[str],
    y_true: npt.NDArray[np.bool_],
    y_pred: npt.NDArray[np.bool_],
    scores: npt.NDArray[np.float64] | None = None,
    *,
    source: str = "data",
    threshold: float | None = None,
) -> MultiLabelEvaluation:
    """Every metric of indicator matrices (rows × labels) and optional scores."""
    from sklearn.metrics import hamming_loss, precision_recall_fscore_support

    t = y_true.astype(np.int8)
    p = y_pred.astype(np.int8)
    precision, recall, f1, support = precision_recall_fscore_support(
        t, p, average=None, zero_division=0
    )
    per_label: dict[str, dict[str, float | int | None]] = {
        label: {
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
            "support": int(support[j]),
        }
        for j, label in enumerate(labels)
    }
    averages = {}
    for average in AVERAGES:
        pr, rc, f, _ = precision_recall_fscore_support(t, p, average=average, zero_division=0)
        averages[average] = {"precision": float(pr), "recall": float(rc), "f1": float(f)}
    warnings = []
    roc = pr_auc = None
    if scores is not None:
        roc, pr_auc, skipped = _aucs(labels, t, scores, per_label)
        if skipped:
            warnings.append(
                f"{len(skipped)} label(s) have one class only in the truth and no AUC: "
                + ", ".join(map(repr, skipped[:10]))
            )
    empty_truth = int((~y_true.any(axis=1)).sum())
    if empty_truth:
        warnings.append(f"{empty_truth:,} row(s) have no true label")
    return MultiLabelEvaluation(
        source=source,
        labels=list(labels),
        rows=int(t.shape[0]),
        threshold=threshold,
        per_label=per_label,
        averages=averages,
        roc_auc=roc,
        pr_auc=pr_auc,
        hamming_loss=float(hamming_loss(t, p)),
        subset_accuracy=float(np.mean(np.all(t == p, axis=1))),
        warnings=warnings,
    )


def _aucs(
    labels: Sequence[str],
    t: npt.NDArray[np.int8],
    scores: npt.NDArray[np.float64],
    per_label: dict[str, dict[str, float | int | None]],
) -> tuple[dict[str, float | None], dict[str, float | None], list[str]]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    both = [j for j in range(len(labels)) if 0 < t[:, j].sum() < len(t)]
    positive = [j for j in range(len(labels)) if t[:, j].sum() > 0]
    for j, label in enumerate(labels):
        per_label[label]["roc_auc"] = (
            float(roc_auc_score(t[:, j], scores[:, j])) if j in both else None
        )
        per_label[label]["pr_auc"] = (
            float(average_precision_score(t[:, j], scores[:, j])) if j in positive else None
        )
    roc: dict[str, float | None] = {"micro": None, "macro": None, "weighted": None}
    pr: dict[str, float | None] = {"micro": None, "macro": None, "weighted": None}
    flat_t = t.ravel()
    if 0 < flat_t.sum() < len(flat_t):
        roc["micro"] = float(roc_auc_score(flat_t, scores.ravel()))
        pr["micro"] = float(average_precision_score(flat_t, scores.ravel()))
    if both:
        roc["macro"] = float(roc_auc_score(t[:, both], scores[:, both], average="macro"))
        roc["weighted"] = float(roc_auc_score(t[:, both], scores[:, both], average="weighted"))
    if positive:
        pr["macro"] = float(
            average_precision_score(t[:, positive], scores[:, positive], average="macro")
        )
        pr["weighted"] = float(
            average_precision_score(t[:, positive], scores[:, positive], average="weighted")
        )
    skipped = [labels[j] for j in range(len(labels)) if j not in both]
    return roc, pr, skipped


def evaluate_multilabel(
    source: str | os.PathLike[str] | Any,
    *,
    true_col: str | None = None,
    pred_col: str | None = None,
    sep: str | None = None,
    label_cols: Sequence[str] | None = None,
    proba_prefix: str | None = None,
    threshold: float = 0.5,
    input_format: str | None = None,
    encoding: str = "utf-8",
) -> MultiLabelEvaluation:
    """Evaluate a multi-label predictions file (a path, ``"-"`` or a table).

    The truth is ``true_col`` (text split on ``sep``, or a list column) or the 0/1 columns
    ``label_cols``. The prediction is ``pred_col`` (the same shape as a text or list
    column), else the scores ``PREFIX<label>`` at or above ``threshold``; with both, the
    scores give the AUCs. Every label of the truth needs a score column.
    """
    from rebalance.manifest import detect_column, load_table

    if not 0.0 <= threshold <= 1.0:
        raise RebalanceError(f"--threshold must be in [0, 1], got {threshold:g}")
    table, where = load_table(source, input_format=input_format, encoding=encoding)
    columns = list(table.column_names)
    if label_cols:
        truth = read_label_sets(table, label_cols=label_cols, where=where, require_several=False)
    else:
        name = detect_column(columns, true_col, TRUE_CANDIDATES, where=where, flag="--true-col")
        truth = read_label_sets(table, label_col=name, sep=sep, where=where, require_several=False)
    pred_name = detect_column(
        columns, pred_col, PRED_CANDIDATES, where=where, flag="--pred-col", required=False
    )
    if pred_name is None and proba_prefix is None:
        raise RebalanceError(
            f"{where}: no predictions: name the predicted label sets with --pred-col, or the "
            "per-label scores with --proba-prefix"
        )
    predicted = None
    if pred_name is not None:
        if label_cols:
            raise RebalanceError(
                "--label-cols truth is compared with --proba-prefix scores, not --pred-col"
            )
        predicted = read_label_sets(
            table, label_col=pred_name, sep=sep, where=where, require_several=False
        )
    names = sorted(set(truth.names) | set(predicted.names if predicted else ()))
    if label_cols:
        names = list(truth.names)
    scores = None
    if proba_prefix is not None:
        scores, names = _scores(table, proba_prefix, names, where)
    y_true = _columns(truth, names)
    y_pred = _columns(predicted, names) if predicted is not None else scores >= threshold  # type: ignore[operator]
    return multilabel_metrics(
        names,
        y_true,
        np.asarray(y_pred, dtype=bool),
        scores,
        source=where,
        threshold=threshold if predicted is None else None,
    )


def _scores(
    table: pa.Table, prefix: str, names: Sequence[str], where: str
) -> tuple[npt.NDArray[np.float64], list[str]]:
    """The score matrix (rows × labels): every label of the truth and predictions, plus
    labels that only have a score column."""
    scored = [c[len(prefix) :] for c in table.column_names if c.startswith(prefix)]
    if not scored:
        raise RebalanceError(f"{where}: no column starts with --proba-prefix {prefix!r}")
    missing = [n for n in names if n not in scored]
    if missing:
        raise RebalanceError(
            f"{where}: label(s) without a score column {prefix}<label>: "
            + ", ".join(repr(m) for m in missing[:10])
        )
    every = list(names) + sorted(set(scored) - set(names))
    matrix = np.empty((table.num_rows, len(every)), dtype=float)
    for j, label in enumerate(every):
        column = table.column(prefix + label)
        try:
            values = column.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise RebalanceError(
                f"{where}: score column {prefix + label!r} is not numeric"
            ) from None
        if values.null_count:
            raise RebalanceError(f"{where}: score column {prefix + label!r} has missing values")
        matrix[:, j] = values.to_numpy()
    if not np.isfinite(matrix).all():
        raise RebalanceError(f"{where}: a --proba-prefix {prefix!r} column has NaN or inf scores")
    return matrix, every


def _columns(sets: LabelSets, names: Sequence[str]) -> npt.NDArray[np.bool_]:
    position = {n: j for j, n in enumerate(sets.names)}
    out = np.zeros((sets.rows, len(names)), dtype=bool)
    for k, name in enumerate(names):
        if name in position:
            out[:, k] = sets.indicator[:, position[name]]
    return out


def gate_failures(
    evaluation: MultiLabelEvaluation,
    *,
    under: Sequence[tuple[str, float]] = (),
    over: Sequence[tuple[str, float]] = (),
) -> list[str]:
    """Failed gates, one sentence each; an unknown metric name raises, listing the valid ones."""
    values = evaluation.metrics()
    failures = []
    for gates, below in ((under, True), (over, False)):
        for name, required in gates:
            if name not in values:
                valid = sorted(k for k in values if "[" not in k)
                raise RebalanceError(
                    f"unknown metric {name!r} (valid: {', '.join(valid)}, and "
                    "precision/recall/f1/roc_auc/pr_auc[LABEL])"
                )
            actual = values[name]
            if actual < required if below else actual > required:
                sign = "<" if below else ">"
                failures.append(f"{name} {actual:.4f} {sign} required {required:g}")
    return failures
