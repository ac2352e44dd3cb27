"""Every count-based metric from one confusion matrix on integer label codes.

scikit-learn's metric functions each re-encode string labels (a sort of every row per
call). Here the labels are encoded once (:func:`encode`), the confusion matrix is one
``bincount`` (:func:`confusion`), and every metric is arithmetic on that k × k matrix,
following scikit-learn's and imbalanced-learn's definitions exactly (the tests compare
each number with theirs). A bootstrap resample is a bincount of resampled codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Codes = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Coded:
    """True and predicted labels as codes into ``labels`` (sorted, the union of both)."""

    labels: list[str]
    y_true: Codes
    y_pred: Codes

    @property
    def k(self) -> int:
        return len(self.labels)


def text_array(values: Any) -> pa.Array:
    """Labels as an Arrow string array (other values as their ``str``)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string()) if not pa.types.is_string(values.type) else values
    return pa.array([v if isinstance(v, str) else str(v) for v in values], type=pa.string())


def encode(y_true: Any, y_pred: Any) -> Coded:
    """Codes for both label sequences, against their sorted union (as scikit-learn sorts)."""
    t, p = text_array(y_true), text_array(y_pred)
    labels = sorted(set(pc.unique(t).to_pylist()) | set(pc.unique(p).to_pylist()))
    value_set = pa.array(labels, type=pa.string())

    def codes(values: pa.Array) -> Codes:
        index = pc.index_in(values, value_set=value_set)
        return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)

    return Coded(labels, codes(t), codes(p))


def confusion(y_true: Codes, y_pred: Codes, k: int) -> Matrix:
    """The k × k confusion matrix (rows: true, columns: predicted)."""
    flat = np.bincount(y_true * k + y_pred, minlength=k * k)
    return flat.reshape(k, k).astype(np.int64)


def _divide(num: Any, den: Any) -> npt.NDArray[np.float64]:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out: npt.NDArray[np.float64] = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    return out


@dataclass(frozen=True)
class Counts:
    """Per-class counts read off a confusion matrix."""

    tp: npt.NDArray[np.int64]
    support: npt.NDArray[np.int64]  # true rows per class
    predicted: npt.NDArray[np.int64]  # predicted rows per class
    n: int

    @classmethod
    def of(cls, cm: Matrix) -> Counts:
        return cls(np.diag(cm).copy(), cm.sum(axis=1), cm.sum(axis=0), int(cm.sum()))

    @property
    def fp(self) -> npt.NDArray[np.int64]:
        return self.predicted - self.tp

    @property
    def fn(self) -> npt.NDArray[np.int64]:
        return self.support - self.tp

    @property
    def tn(self) -> npt.NDArray[np.int64]:
        return self.n - self.support - self.predicted + self.tp

    def precision(self) -> npt.NDArray[np.float64]:
        return _divide(self.tp, self.predicted)

    def recall(self) -> npt.NDArray[np.float64]:
        return _divide(self.tp, self.support)

    def specificity(self) -> npt.NDArray[np.float64]:
        return _divide(self.tn, self.tn + self.fp)

    def f1(self) -> npt.NDArray[np.float64]:
        # scikit-learn's F-score from counts: 2·tp / (2·tp + fp + fn)
        return _divide(2 * self.tp, self.support + self.predicted)


def accuracy(cm: Matrix) -> float:
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def balanced_accuracy(cm: Matrix) -> float:
    """Mean recall over the classes present in the true labels (scikit-learn)."""
    c = Counts.of(cm)
    present = c.support > 0
    return float(np.mean(c.tp[present] / c.support[present]))


def kappa(cm: Matrix) -> float:
    """Cohen's kappa (scikit-learn's ``cohen_kappa_score``, unweighted)."""
    m = cm.astype(np.float64)
    expected = np.outer(m.sum(axis=1), m.sum(axis=0)) / m.sum()
    off = 1.0 - np.eye(len(m))
    denominator = float(np.sum(off * expected))
    if denominator == 0:
        return math.nan
    return 1.0 - float(np.sum(off * m)) / denominator


def mcc(cm: Matrix) -> float:
    """Matthews correlation coefficient, multiclass (scikit-learn's ``matthews_corrcoef``)."""
    m = cm.astype(np.float64)
    t_sum, p_sum = m.sum(axis=1), m.sum(axis=0)
    correct, n = float(np.trace(m)), float(p_sum.sum())
    cov_ytyp = correct * n - float(np.dot(t_sum, p_sum))
    cov_ypyp = n * n - float(np.dot(p_sum, p_sum))
    cov_ytyt = n * n - float(np.dot(t_sum, t_sum))
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return cov_ytyp / math.sqrt(cov_ytyt * cov_ypyp)


def geometric_mean(cm: Matrix, classes: npt.NDArray[np.bool_] | None = None) -> float:
    """Geometric mean of the recalls of ``classes`` (default: every label of the matrix), as
    imbalanced-learn's ``geometric_mean_score(average="multiclass")``: a class without
    true rows counts as recall 0, and any recall of 0 makes the mean 0."""
    recall = Counts.of(cm).recall()
    if classes is not None:
        recall = recall[classes]
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(recall))))


def macro_f1(cm: Matrix) -> float:
    """``f1_score(average="macro")`` without ``labels``: over the labels that occur."""
    c = Counts.of(cm)
    occurring = (c.support > 0) | (c.predicted > 0)
    return float(np.mean(c.f1()[occurring]))


def averages(c: Counts) -> dict[str, dict[str, float]]:
    """Macro, weighted (by support) and micro precision, recall, specificity and F1."""
    per = {
        "precision": c.precision(),
        "recall": c.recall(),
        "specificity": c.specificity(),
        "f1": c.f1(),
    }
    weights = c.support.astype(np.float64)
    total = weights.sum()
    tp, fp, fn, tn = (int(a.sum()) for a in (c.tp, c.fp, c.fn, c.tn))
    micro_p = tp / (tp + fp) if tp + fp else 0.0
    micro_r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "macro": {k: float(np.mean(v)) for k, v in per.items()},
        "weighted": {
            k: float(np.sum(v * weights) / total) if total else 0.0 for k, v in per.items()
        },
        "micro": {
            "precision": micro_p,
            "recall": micro_r,
            "specificity": tn / (tn + fp) if tn + fp else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        },
    }


def headline(cm: Matrix) -> dict[str, float]:
    """The bootstrap's metrics of one resample, as scikit-learn computes them on it."""
    return {
        "accuracy": accuracy(cm),
        "balanced_accuracy": balanced_accuracy(cm),
        "macro_f1": macro_f1(cm),
        "mcc": mcc(cm),
        "kappa": kappa(cm),
        "geometric_mean": geometric_mean(cm, _occurring(cm)),
    }


def _occurring(cm: Matrix) -> npt.NDArray[np.bool_]:
    return np.asarray((cm.sum(axis=1) > 0) | (cm.sum(axis=0) > 0))


def roc_auc(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half: one sort."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(score, kind="mergesort")
    sorted_scores = score[order]
    # average rank of each run of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(score)]
    avg = (starts + ends + 1) / 2.0  # 1-based ranks start+1 .. end, averaged
    ranks = np.repeat(avg, ends - starts)
    rank_sum = float(ranks[positive[order]].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def average_precision(positive: npt.NDArray[np.bool_], score: npt.NDArray[np.float64]) -> float:
    """Average precision (scikit-learn's step-wise sum Σ (R_n − R_{n−1}) P_n): one sort."""
    n_pos = int(positive.sum())
    if n_pos == 0:
        return math.nan
    order = np.argsort(-score, kind="mergesort")
    s, y = score[order], positive[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]  # end of each distinct score
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1) - tps
    precision = tps / (tps + fps)
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def per_class_table(cm: Matrix) -> tuple[Counts, dict[str, npt.NDArray[np.float64]]]:
    """Counts and per-class precision/recall/specificity/F1, in the matrix's label order."""
    c = Counts.of(cm)
    return c, {
        "precision": c.precision(),
        "recall": c.recall(),
        "specificity": c.specificity(),
        "f1": c.f1(),
    }
