"""Metrics that do not lie under imbalance, from a predictions table.

Every number is computed by scikit-learn or imbalanced-learn on the same labels
(compared as text, exactly as written), so the report can be checked against them.
Undefined values (a metric of a class with no rows) are ``None``, never NaN.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.confusion import (
    Coded,
    Counts,
    accuracy,
    average_precision,
    averages,
    balanced_accuracy,
    confusion,
    encode,
    geometric_mean,
    headline,
    kappa,
    mcc,
    per_class_table,
    roc_auc,
)
from rebalance.errors import RebalanceError
from rebalance.scores import Scores, shift
from rebalance.validation import check_seed

HEADLINE = ("accuracy", "balanced_accuracy", "macro_f1", "mcc", "kappa", "geometric_mean")
_PER_CLASS_METRICS = ("precision", "recall", "specificity", "f1", "roc_auc", "pr_auc")


def class_codes(labels: Any, classes: Sequence[str]) -> npt.NDArray[np.int64]:
    """Each label's position in ``classes`` (-1 where absent), matched as exact text.

    Not numpy's ``==``: it turns the label it compares with into fixed-width text, which
    drops a trailing NUL (``"a\\x00"`` would equal ``"a"``)."""
    import pyarrow as pa

    from rebalance.arrays import pc
    from rebalance.confusion import text_array

    index = pc.index_in(text_array(labels), value_set=pa.array(list(classes), pa.string()))
    return np.asarray(index.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _f(value: Any) -> float | None:
    """A finite float, or None."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, the majority baseline, balanced accuracy, per-class and averaged P/R/Spec/F1, κ, MCC, G-mean, confusion matrix.

    All from one confusion matrix on integer codes (:mod:`rebalance.confusion`), equal
    to scikit-learn's and imbalanced-learn's functions on the same labels, with every
    label of either column as a class (``labels=`` the sorted union).
    """
    return _classification(encode(y_true, y_pred))


def _classification(coded: Coded) -> dict[str, Any]:
    labels = coded.labels
    cm = confusion(coded.y_true, coded.y_pred, coded.k)
    c, per = per_class_table(cm)
    n = c.n
    in_truth = c.support > 0
    # ties: the first label in sorted order (labels are sorted, argmax takes the first)
    majority = int(np.argmax(c.support))
    rows = cm.sum(axis=1, keepdims=True)
    normalized = cm / np.maximum(rows, 1)  # a label without true rows: a row of zeros
    per_class = {
        label: {
            "precision": _f(per["precision"][i]),
            "recall": _f(per["recall"][i]) if c.support[i] else None,
            "specificity": _f(per["specificity"][i]),
            "f1": _f(per["f1"][i]),
            "support": int(c.support[i]),
            "predicted": int(c.predicted[i]),
        }
        for i, label in enumerate(labels)
    }
    avg = averages(c)
    return {
        "n": n,
        "classes": labels,
        "accuracy": accuracy(cm),
        "baseline_accuracy": int(c.support[majority]) / n,
        "baseline_label": labels[majority],
        "balanced_accuracy": balanced_accuracy(cm),
        "macro": {k: _f(v) for k, v in avg["macro"].items()},
        "weighted": {k: _f(v) for k, v in avg["weighted"].items()},
        "micro": {k: _f(v) for k, v in avg["micro"].items()},
        "geometric_mean": _f(geometric_mean(cm, in_truth)),
        "kappa": _f(kappa(cm)),
        "mcc": _f(mcc(cm)),
        "per_class": per_class,
        "confusion_matrix": {
            "labels": labels,
            "counts": cm.tolist(),
            "normalized": [[float(v) for v in row] for row in normalized],
        },
        # every label is a true or a predicted one: those without true rows were predicted
        "unseen_predictions": [label for i, label in enumerate(labels) if c.support[i] == 0],
    }


def score_metrics(y_true: Sequence[str], scores: Scores, *, bins: int = 15) -> dict[str, Any]:
    """ROC AUC and PR AUC per class (one-vs-rest) and macro, Brier score, ECE and the reliability table."""
    codes = class_codes(y_true, scores.classes)
    out: dict[str, Any] = {"roc_auc": {}, "pr_auc": {}}
    for j, label in enumerate(scores.classes):
        positive = codes == j
        if positive.all() or not positive.any():
            out["roc_auc"][label] = None
            out["pr_auc"][label] = None
            continue
        out["roc_auc"][label] = _f(roc_auc(positive, scores.matrix[:, j]))
        out["pr_auc"][label] = _f(average_precision(positive, scores.matrix[:, j]))
    present = [label for label in scores.classes if out["roc_auc"][label] is not None]
    out["roc_auc_macro"] = _f(np.mean([out["roc_auc"][c] for c in present])) if present else None
    out["pr_auc_macro"] = _f(np.mean([out["pr_auc"][c] for c in present])) if present else None
    onehot = (codes[:, None] == np.arange(len(scores.classes))[None, :]).astype(float)
    if len(scores.classes) == 2:
        out["brier"] = _f(np.mean((scores.matrix[:, 1] - onehot[:, 1]) ** 2))
    else:
        out["brier"] = _f(np.mean(np.sum((scores.matrix - onehot) ** 2, axis=1)))
    confidence = scores.matrix.max(axis=1)
    correct = (scores.matrix.argmax(axis=1) == codes).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # bin b holds (edge b, edge b+1], the first one also 0: digitize gives 0..bins-1
    which = np.digitize(confidence, edges[1:-1], right=True)
    table = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        row: dict[str, Any] = {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": count,
            "confidence": None,
            "accuracy": None,
        }
        if count:
            row["confidence"] = float(confidence[mask].mean())
            row["accuracy"] = float(correct[mask].mean())
            ece += abs(row["accuracy"] - row["confidence"]) * count / len(codes)
        table.append(row)
    out["ece"] = ece
    out["reliability"] = table
    return out


def binary_operating_points(
    y_true: Sequence[str],
    score: npt.NDArray[np.float64],
    positive: str,
    *,
    at_specificity: float | None = None,
    at_recall: float | None = None,
    sweep: bool = False,
    sweep_points: int = 101,
) -> dict[str, Any]:
    """Sensitivity at a specificity, precision at a recall, and the F1/Youden optimal thresholds."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    y = class_codes(y_true, [positive]) == 0
    out: dict[str, Any] = {"positive": positive}
    fpr, tpr, roc_thresholds = roc_curve(y, score)
    specificity = 1 - fpr
    youden = int(np.argmax(tpr - fpr))
    out["youden"] = {
        "threshold": _f(roc_thresholds[youden]),
        "sensitivity": _f(tpr[youden]),
        "specificity": _f(specificity[youden]),
    }
    precision, recall, pr_thresholds = precision_recall_curve(y, score)
    total = precision + recall
    f1 = 2 * precision * recall / np.where(total > 0, total, 1.0)  # 0 where both are 0
    # the last point (recall 0, precision 1) has no threshold
    best = int(np.argmax(f1[:-1]))
    out["f1_optimal"] = {
        "threshold": _f(pr_thresholds[best]),
        "f1": _f(f1[best]),
        "precision": _f(precision[best]),
        "recall": _f(recall[best]),
    }
    # a required value in [0, 1] is always met: by the ROC curve's first point (nothing
    # predicted positive, specificity 1) and the PR curve's first one (recall 1)
    if at_specificity is not None:
        _check_fraction(at_specificity, "--at-specificity")
        ok = np.flatnonzero(specificity >= at_specificity)
        i = int(ok[np.argmax(tpr[ok])])
        out["at_specificity"] = {
            "specificity_required": at_specificity,
            "sensitivity": _f(tpr[i]),
            "specificity": _f(specificity[i]),
            "threshold": _f(roc_thresholds[i]),
        }
    if at_recall is not None:
        _check_fraction(at_recall, "--at-recall")
        ok = np.flatnonzero(recall[:-1] >= at_recall)
        i = int(ok[np.argmax(precision[ok])])
        out["at_recall"] = {
            "recall_required": at_recall,
            "precision": _f(precision[i]),
            "recall": _f(recall[i]),
            "threshold": _f(pr_thresholds[i]),
        }
    if sweep:
        # each cut is at most the highest score, so it predicts some row positive; both
        # classes have rows (evaluate checks), so recall and specificity are defined too
        cuts = np.unique(np.quantile(score, np.linspace(0, 1, sweep_points)))
        rows = []
        for t in cuts:
            pred = score >= t
            tp = int((pred & y).sum())
            fp = int((pred & ~y).sum())
            fn = int((~pred & y).sum())
            tn = int((~pred & ~y).sum())
            p = tp / (tp + fp)
            r = tp / (tp + fn)
            s = tn / (tn + fp)
            f = 2 * p * r / (p + r) if tp else 0.0
            rows.append(
                {"threshold": float(t), "precision": p, "recall": r, "specificity": s, "f1": f}
            )
        out["sweep"] = rows
    return out


def _check_fraction(value: float, flag: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise RebalanceError(f"{flag} {value:g} must be between 0 and 1")


def bucket_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    train_counts: Mapping[str, int],
    *,
    many: int = 100,
    few: int = 20,
) -> dict[str, Any]:
    """Metrics per training-frequency bucket: many-shot (> many), medium, few-shot (< few), unseen."""
    return _buckets(encode(y_true, y_pred), train_counts, many=many, few=few)


def _buckets(
    coded: Coded, train_counts: Mapping[str, int], *, many: int, few: int
) -> dict[str, Any]:
    if few > many:
        raise RebalanceError(f"--few-shot {few} is greater than --many-shot {many}")
    c = Counts.of(confusion(coded.y_true, coded.y_pred, coded.k))
    recall, f1 = c.recall(), c.f1()
    seen = np.asarray([train_counts.get(label, 0) for label in coded.labels])
    buckets = {
        "many": seen > many,
        "medium": (seen > 0) & (seen <= many) & (seen >= few),
        "few": (seen > 0) & (seen < few),
        "unseen": seen == 0,
    }
    out: dict[str, Any] = {"thresholds": {"many_shot_over": many, "few_shot_under": few}}
    for name, members in buckets.items():
        classes = members & (c.support > 0)
        if not classes.any():
            out[name] = {
                "classes": 0,
                "support": 0,
                "accuracy": None,
                "macro_recall": None,
                "macro_f1": None,
            }
            continue
        support = int(c.support[classes].sum())
        out[name] = {
            "classes": int(classes.sum()),
            "support": support,
            "accuracy": float(c.tp[classes].sum() / support),
            "macro_recall": float(np.mean(recall[classes])),
            "macro_f1": float(np.mean(f1[classes])),
        }
    return out


def adjust_priors(
    scores: Scores,
    train_counts: Mapping[str, int],
    target_priors: Mapping[str, float] | None = None,
) -> Scores:
    """Bayes' rule for a prior shift: p'(c|x) ∝ p(c|x) · π_target(c) / π_train(c), rows renormalized."""
    missing = [c for c in scores.classes if train_counts.get(c, 0) == 0]
    if missing:
        raise RebalanceError(
            f"cannot adjust priors: class(es) {', '.join(map(repr, missing[:10]))} have no rows in the training manifest"
        )
    total = sum(train_counts[c] for c in scores.classes)
    train = np.asarray([train_counts[c] / total for c in scores.classes])
    if target_priors is None:
        target = np.full(len(scores.classes), 1.0 / len(scores.classes))
    else:
        absent = [c for c in scores.classes if c not in target_priors]
        if absent:
            raise RebalanceError(
                f"--target-priors has no prior for class(es) {', '.join(map(repr, absent[:10]))}"
            )
        target = np.asarray([float(target_priors[c]) for c in scores.classes])
        if (target <= 0).any():
            raise RebalanceError("--target-priors must all be positive")
        target = target / target.sum()
    return Scores(scores.classes, shift(scores.matrix, train, target))


def _flat(report: Mapping[str, Any]) -> dict[str, float | None]:
    """Gate-able metric names → values (``recall[cat]`` style for per-class ones)."""
    flat: dict[str, float | None] = {
        "accuracy": report["accuracy"],
        "baseline_accuracy": report["baseline_accuracy"],
        "balanced_accuracy": report["balanced_accuracy"],
        "geometric_mean": report["geometric_mean"],
        "kappa": report["kappa"],
        "mcc": report["mcc"],
    }
    for average in ("macro", "weighted", "micro"):
        for key, value in report[average].items():
            flat[f"{average}_{key}"] = value
    scores = report.get("scores") or {}
    for key in ("roc_auc_macro", "pr_auc_macro", "brier", "ece"):
        if key in scores:
            flat[key.replace("_macro", "")] = scores[key]
    for label, values in report["per_class"].items():
        for key in _PER_CLASS_METRICS:
            if key in values:
                flat[f"{key}[{label}]"] = values[key]
    return flat


class _Lazy:
    """A value computed on first call, then kept."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._value: Any = None

    def __call__(self) -> Any:
        if self._value is None:
            self._value = self._make()
        return self._value


@dataclass
class Evaluation:
    """The whole report, as the JSON document (``report``) plus warnings for people."""

    report: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float | None]:
        return _flat(self.report)


def evaluate(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    scores: Scores | None = None,
    positive: str | None = None,
    at_specificity: float | None = None,
    at_recall: float | None = None,
    thresholds: bool = False,
    bins: int = 15,
    bootstrap: int = 0,
    seed: int = 0,
    train_counts: Mapping[str, int] | None = None,
    many_shot: int = 100,
    few_shot: int = 20,
    prior_adjust: bool = False,
    target_priors: Mapping[str, float] | None = None,
) -> Evaluation:
    """Evaluate predictions; see the README for the JSON schema.

    Parameters
    ----------
    y_true, y_pred:
        Labels as text. Predicted labels never seen in truth are allowed and reported.
    scores:
        Per-class probabilities (ROC/PR AUC, calibration, thresholds, prior correction).
    positive:
        The positive class of a binary task (``at_specificity``, ``at_recall``, ``thresholds``).
    bootstrap, seed:
        Number of seeded bootstrap resamples for percentile 95% intervals of the headline metrics.
    train_counts, many_shot, few_shot:
        Training class counts: metrics per frequency bucket, and the priors for ``prior_adjust``.

    Raises
    ------
    RebalanceError
        Empty input, one class only in truth, bad parameters.
    """
    check_seed(seed)
    if len(y_true) != len(y_pred):
        raise RebalanceError(
            f"y_true has {len(y_true):,} labels but y_pred has {len(y_pred):,}: they must pair up"
        )
    if not len(y_true):
        raise RebalanceError("no predictions to evaluate")
    coded = encode(y_true, y_pred)
    in_truth = np.flatnonzero(np.bincount(coded.y_true))
    truth = [coded.labels[i] for i in in_truth]
    if len(truth) < 2:
        raise RebalanceError(
            f"only one class in the true labels ({truth[0]!r}): recall, balanced accuracy and AUC are undefined"
        )
    # the labels as text, only for the paths that compare strings (scores, thresholds)
    text = np.asarray(coded.labels, dtype=object)
    yt: Any = _Lazy(lambda: text[coded.y_true])
    report = _classification(coded)
    warnings = _warnings(report, truth)
    if scores is not None:
        report["scores"] = score_metrics(yt(), scores, bins=bins)
        for label in truth:
            report["per_class"][label]["roc_auc"] = report["scores"]["roc_auc"].get(label)
            report["per_class"][label]["pr_auc"] = report["scores"]["pr_auc"].get(label)
    binary = _binary(
        report, truth, yt, scores, positive, at_specificity, at_recall, thresholds, warnings
    )
    if binary is not None:
        report["binary"] = binary
    if train_counts is not None:
        report["buckets"] = _buckets(coded, train_counts, many=many_shot, few=few_shot)
    if bootstrap:
        report["bootstrap"] = _bootstrap(coded, scores, n=bootstrap, seed=seed)
    if prior_adjust:
        report["prior_adjusted"] = _prior_adjusted(yt(), scores, train_counts, target_priors, bins)
    return Evaluation(report=report, warnings=warnings)


def _warnings(report: dict[str, Any], truth: list[str]) -> list[str]:
    """What a report must say loudly: the accuracy paradox, classes never predicted,
    predictions of labels truth does not have. Sets ``beats_baseline``."""
    warnings: list[str] = []
    # beaten: accuracy above the baseline by over 1% of the room left above it, in counts
    # (correct - majority) / n > (n - majority) / (100 n), exactly
    n, majority = report["n"], report["per_class"][report["baseline_label"]]["support"]
    correct = int(np.trace(np.asarray(report["confusion_matrix"]["counts"])))
    report["beats_baseline"] = 100 * (correct - majority) > n - majority
    if not report["beats_baseline"]:
        warnings.append(
            f"ACCURACY PARADOX: accuracy {report['accuracy']:.2%} does not beat always predicting "
            f"{report['baseline_label']!r} ({report['baseline_accuracy']:.2%}); "
            f"balanced accuracy is {report['balanced_accuracy']:.2%}"
        )
    never = [c for c in truth if report["per_class"][c]["predicted"] == 0]
    if never:
        shown = ", ".join(map(repr, never[:10])) + (
            f", … {len(never) - 10} more" if len(never) > 10 else ""
        )
        warnings.append(
            f"{len(never)} class(es) never predicted (recall 0, precision counted as 0): {shown}"
        )
    if report["unseen_predictions"]:
        warnings.append(
            f"predicted label(s) not in the true labels: {', '.join(map(repr, report['unseen_predictions'][:10]))}"
        )
    return warnings


def _binary(
    report: dict[str, Any],
    truth: list[str],
    yt: Any,
    scores: Scores | None,
    positive: str | None,
    at_specificity: float | None,
    at_recall: float | None,
    thresholds: bool,
    warnings: list[str],
) -> dict[str, Any] | None:
    """The positive class's operating points (``None`` without a positive class or scores)."""
    wants_points = at_specificity is not None or at_recall is not None or thresholds
    if positive is None and wants_points and len(truth) == 2 and scores is not None:
        # the rarer class is the one to find (ties: the later label)
        positive = min(reversed(truth), key=lambda c: report["per_class"][c]["support"])
        warnings.append(f"positive class {positive!r} (the rarer one; choose with --positive)")
    if positive is not None:
        if positive not in truth:
            raise RebalanceError(
                f"--positive {positive!r} is not a true label (labels: {', '.join(truth[:20])})"
            )
        if scores is None:
            if at_specificity is not None or at_recall is not None or thresholds:
                raise RebalanceError(
                    "--at-specificity, --at-recall and --thresholds need scores (--score-col or --proba-prefix)"
                )
        else:
            return binary_operating_points(
                yt(),
                scores.matrix[:, scores.classes.index(positive)],
                positive,
                at_specificity=at_specificity,
                at_recall=at_recall,
                sweep=thresholds,
            )
    elif at_specificity is not None or at_recall is not None or thresholds:
        raise RebalanceError(
            "--at-specificity, --at-recall and --thresholds are for binary tasks: name --positive"
        )
    return None


def _prior_adjusted(
    y_true: Any,
    scores: Scores | None,
    train_counts: Mapping[str, int] | None,
    target_priors: Mapping[str, float] | None,
    bins: int,
) -> dict[str, Any]:
    """The report again, on scores corrected from the training to the target priors."""
    if scores is None or train_counts is None:
        raise RebalanceError("--adjust-priors needs per-class scores and --train-manifest")
    adjusted = adjust_priors(scores, train_counts, target_priors)
    new_pred = np.asarray(adjusted.classes, dtype=object)[adjusted.matrix.argmax(axis=1)].tolist()
    after = evaluate(y_true, new_pred, scores=adjusted, bins=bins)
    return {
        "target_priors": "uniform" if target_priors is None else dict(target_priors),
        "report": after.report,
    }


def bootstrap_intervals(
    y_true: Sequence[str], y_pred: Sequence[str], scores: Scores | None, *, n: int, seed: int
) -> dict[str, Any]:
    """Seeded percentile 95% intervals for the headline metrics (and macro ROC AUC with scores).

    Each resample draws row positions, bincounts their label codes into a confusion
    matrix and reads the metrics off it, as scikit-learn computes them on that resample.
    """
    return _bootstrap(encode(y_true, y_pred), scores, n=n, seed=seed)


def _bootstrap(coded: Coded, scores: Scores | None, *, n: int, seed: int) -> dict[str, Any]:
    if n < 10:
        raise RebalanceError(f"--bootstrap {n}: use at least 10 resamples (1000 is typical)")
    t, p, k = coded.y_true, coded.y_pred, coded.k
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in HEADLINE}
    score_codes: list[tuple[int, int]] = []
    if scores is not None:
        draws["roc_auc"] = []
        code_of = {label: i for i, label in enumerate(coded.labels)}
        score_codes = [(j, code_of[c]) for j, c in enumerate(scores.classes) if c in code_of]
    for _ in range(n):
        idx = rng.integers(0, len(t), len(t))
        ti = t[idx]
        cm = confusion(ti, p[idx], k)
        if int((cm.sum(axis=1) > 0).sum()) < 2:
            continue
        for name, value in headline(cm).items():  # its divisions check their denominators
            draws[name].append(value)
        if scores is not None:
            aucs = []
            for j, code in score_codes:
                pos = ti == code
                if pos.any() and not pos.all():
                    aucs.append(roc_auc(pos, scores.matrix[idx, j]))
            if aucs:
                draws["roc_auc"].append(float(np.mean(aucs)))
    out: dict[str, Any] = {"resamples": n, "seed": seed, "level": 0.95}
    for name, values in draws.items():
        finite = [v for v in values if math.isfinite(v)]
        out[name] = (
            {"low": float(np.percentile(finite, 2.5)), "high": float(np.percentile(finite, 97.5))}
            if finite
            else None
        )
    return out


# ---------------------------------------------------------------- gates


_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\[.*\])?)\s*=\s*([-+0-9.eE]+)\s*$", re.S)


def parse_gate(text: str, flag: str) -> tuple[str, float]:
    match = _GATE.match(text)
    if not match:
        raise RebalanceError(
            f"{flag} {text!r} must look like METRIC=VALUE, e.g. macro_f1=0.6 or 'recall[fraud]=0.8'"
        )
    try:
        return match.group(1), float(match.group(2))
    except ValueError:
        raise RebalanceError(f"{flag} {text!r}: {match.group(2)!r} is not a number") from None


def gate_failures(
    evaluation: Evaluation,
    *,
    under: Sequence[tuple[str, float]] = (),
    over: Sequence[tuple[str, float]] = (),
    use_interval: bool = False,
) -> list[str]:
    """Failed gates, each 'metric actual vs required'. Unknown names raise, listing the valid ones.

    With ``use_interval`` and bootstrap intervals, ``under`` gates compare the interval's
    lower bound and ``over`` gates its upper bound, not the point estimate.
    """
    values = evaluation.metrics()
    intervals = evaluation.report.get("bootstrap") or {}
    failures = []
    for gates, is_under in ((under, True), (over, False)):
        for name, required in gates:
            if name not in values:
                valid = sorted(k for k in values if "[" not in k)
                raise RebalanceError(
                    f"unknown metric {name!r} (valid: {', '.join(valid)}, and precision/recall/specificity/f1/"
                    "roc_auc/pr_auc[LABEL])"
                )
            actual = values[name]
            shown = "undefined" if actual is None else f"{actual:.4f}"
            interval = intervals.get(name) if use_interval else None
            if isinstance(interval, dict):
                actual = interval["low"] if is_under else interval["high"]
                shown = f"{actual:.4f} ({'lower' if is_under else 'upper'} 95% bound)"
            if actual is None or (actual < required if is_under else actual > required):
                failures.append(f"{name} {shown} {'<' if is_under else '>'} required {required:g}")
    return failures


COMPARE_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "weighted_f1",
    "mcc",
    "kappa",
    "geometric_mean",
    "roc_auc",
    "pr_auc",
    "brier",
    "ece",
)


def compare_doc(names: Sequence[str], metrics: Sequence[dict[str, float | None]]) -> dict[str, Any]:
    """Each metric per file and its delta against the first file."""
    out: dict[str, Any] = {"files": list(names), "metrics": {}}
    for key in COMPARE_METRICS:
        values = [m.get(key) for m in metrics]
        if all(v is None for v in values):
            continue
        base = values[0]
        out["metrics"][key] = {
            "values": values,
            "delta": [None if v is None or base is None else v - base for v in values],
        }
    return out


__all__ = [
    "Evaluation",
    "Scores",
    "adjust_priors",
    "bucket_metrics",
    "classification_metrics",
    "compare_doc",
    "evaluate",
    "gate_failures",
    "parse_gate",
    "score_metrics",
]


def curve_points(
    y_true: Sequence[str], scores: Scores, *, positive: str | None = None, limit: int = 8
) -> dict[str, Any]:
    """ROC and precision-recall curve points: the positive class, or up to ``limit`` classes by support."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    codes = class_codes(y_true, scores.classes)
    if positive is not None:
        chosen = [positive]
    else:
        counts = np.bincount(codes[codes >= 0], minlength=len(scores.classes))
        support = {c: int(counts[j]) for j, c in enumerate(scores.classes)}
        chosen = sorted(
            (c for c in scores.classes if 0 < support[c] < len(codes)),
            key=lambda c: (-support[c], c),
        )[:limit]
    roc, pr = [], []
    for label in chosen:
        j = scores.classes.index(label)
        fpr, tpr, _ = roc_curve(codes == j, scores.matrix[:, j])
        precision, recall, _ = precision_recall_curve(codes == j, scores.matrix[:, j])
        roc.append((label, fpr.tolist(), tpr.tolist()))
        pr.append((label, recall[::-1].tolist(), precision[::-1].tolist()))
    return {"roc": roc, "pr": pr}
