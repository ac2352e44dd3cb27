"""The whole evaluate report, key by key and value by value, against a reference.

The reference below is written from the metrics' definitions and scikit-learn /
imbalanced-learn, never from rebalance's own code: every key of the report must be
there (and no other), and every number must equal the reference's. The data sets
are built to reach each branch: a predicted label never seen in truth, a class never
predicted, ties in the majority class, binary and multiclass scores, every training
frequency bucket, and the bootstrap.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from rebalance.errors import RebalanceError
from rebalance.metrics import (
    COMPARE_METRICS,
    Evaluation,
    Scores,
    adjust_priors,
    bootstrap_intervals,
    bucket_metrics,
    compare_doc,
    curve_points,
    evaluate,
    gate_failures,
    score_metrics,
)

# ---------------------------------------------------------------- comparing


def assert_same(got: Any, expected: Any, where: str = "report") -> None:
    """Equal structure (the same keys, no more), numbers to 1e-12, text and None exactly."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), where
        assert sorted(got) == sorted(expected), f"{where}: keys {sorted(got)} != {sorted(expected)}"
        for key in expected:
            assert_same(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)), where
        assert len(got) == len(expected), f"{where}: length {len(got)} != {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same(g, e, f"{where}[{i}]")
    elif expected is None or isinstance(expected, (str, bool)):
        assert got == expected and type(got) is type(expected), f"{where}: {got!r} != {expected!r}"
    else:
        assert got is not None and not isinstance(got, bool), f"{where}: {got!r} != {expected!r}"
        assert float(got) == pytest.approx(float(expected), rel=1e-12, abs=1e-12), (
            f"{where}: {got!r} != {expected!r}"
        )


# ---------------------------------------------------------------- the reference


def ref_classification(y: list[str], pred: list[str]) -> dict[str, Any]:
    labels = sorted(set(y) | set(pred))
    truth = sorted(set(y))
    cm = confusion_matrix(y, pred, labels=labels)
    n = len(y)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    tn = n - cm.sum(axis=1) - cm.sum(axis=0) + np.diag(cm)
    fp = cm.sum(axis=0) - np.diag(cm)
    spec = np.array([tn[i] / (tn[i] + fp[i]) if tn[i] + fp[i] else 0.0 for i in range(len(labels))])
    support = {label: y.count(label) for label in labels}
    majority = sorted(truth, key=lambda c: -support[c])[0]  # stable: ties keep sorted order
    averaged = {}
    for average in ("macro", "weighted", "micro"):
        ap, ar, af, _ = precision_recall_fscore_support(
            y, pred, labels=labels, average=average, zero_division=0
        )
        if average == "macro":
            aspec = float(np.mean(spec))
        elif average == "weighted":
            aspec = float(np.sum(spec * s) / s.sum())
        else:
            aspec = float(tn.sum() / (tn.sum() + fp.sum()))
        averaged[average] = {"precision": ap, "recall": ar, "f1": af, "specificity": aspec}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gmean = geometric_mean_score(y, pred, labels=truth, average="multiclass")
    return {
        "n": n,
        "classes": labels,
        "accuracy": accuracy_score(y, pred),
        "baseline_accuracy": support[majority] / n,
        "baseline_label": majority,
        "balanced_accuracy": balanced_accuracy_score(y, pred),
        **averaged,
        "geometric_mean": gmean,
        "kappa": cohen_kappa_score(y, pred),
        "mcc": matthews_corrcoef(y, pred),
        "per_class": {
            label: {
                "precision": p[i],
                "recall": r[i] if s[i] else None,
                "specificity": spec[i],
                "f1": f[i],
                "support": int(s[i]),
                "predicted": int(cm[:, i].sum()),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "counts": cm.tolist(),
            "normalized": [
                [v / row.sum() if row.sum() else 0.0 for v in row] for row in cm.astype(float)
            ],
        },
        "unseen_predictions": [c for c in labels if support[c] == 0 and c in pred],
    }


def ref_reliability(y: list[str], scores: Scores, bins: int) -> tuple[float, list[dict[str, Any]]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    confidence = scores.matrix.max(axis=1)
    correct = [
        scores.classes[int(np.argmax(row))] == t for row, t in zip(scores.matrix, y, strict=True)
    ]
    members: list[list[int]] = [[] for _ in range(bins)]
    for i, c in enumerate(confidence):
        # bin b holds (edge b, edge b+1]; the first bin also holds 0
        b = next(b for b in range(bins) if c <= edges[b + 1] or b == bins - 1)
        members[b].append(i)
    ece, table = 0.0, []
    for b, rows in enumerate(members):
        conf = float(np.mean(confidence[rows])) if rows else None
        acc = float(np.mean([correct[i] for i in rows])) if rows else None
        if rows:
            ece += abs(acc - conf) * len(rows) / len(y)  # type: ignore[operator]
        table.append(
            {
                "low": edges[b],
                "high": edges[b + 1],
                "count": len(rows),
                "confidence": conf,
                "accuracy": acc,
            }
        )
    return ece, table


def ref_scores(y: list[str], scores: Scores, bins: int = 15) -> dict[str, Any]:
    truth = np.array(y)
    roc, pr = {}, {}
    for j, c in enumerate(scores.classes):
        positive = truth == c
        if positive.all() or not positive.any():
            roc[c] = pr[c] = None
        else:
            roc[c] = roc_auc_score(positive, scores.matrix[:, j])
            pr[c] = average_precision_score(positive, scores.matrix[:, j])
    present = [c for c in scores.classes if roc[c] is not None]
    onehot = (truth[:, None] == np.array(scores.classes)[None, :]).astype(float)
    if len(scores.classes) == 2:
        brier = brier_score_loss(truth == scores.classes[1], scores.matrix[:, 1])
    else:
        brier = float(np.mean(np.sum((scores.matrix - onehot) ** 2, axis=1)))
    ece, table = ref_reliability(y, scores, bins)
    return {
        "roc_auc": roc,
        "pr_auc": pr,
        "roc_auc_macro": float(np.mean([roc[c] for c in present])) if present else None,
        "pr_auc_macro": float(np.mean([pr[c] for c in present])) if present else None,
        "brier": brier,
        "ece": ece,
        "reliability": table,
    }


def ref_binary(
    y: list[str], score: np.ndarray, positive: str, *, spec: float, rec: float
) -> dict[str, Any]:
    """Operating points by brute force over the thresholds (each distinct score)."""
    truth = np.array(y) == positive
    rows = []
    for t in np.unique(score):
        pred = score >= t
        tp, fp = int((pred & truth).sum()), int((pred & ~truth).sum())
        fn, tn = int((~pred & truth).sum()), int((~pred & ~truth).sum())
        p, r = tp / (tp + fp), tp / (tp + fn)
        rows.append(
            {"t": t, "p": p, "r": r, "s": tn / (tn + fp), "f1": 2 * p * r / (p + r) if p + r else 0}
        )
    youden = max(rows, key=lambda row: (row["r"] + row["s"], row["t"]))
    best_f1 = max(rows, key=lambda row: (row["f1"], row["t"]))
    at_spec = max((row for row in rows if row["s"] >= spec), key=lambda row: (row["r"], row["t"]))
    at_rec = max((row for row in rows if row["r"] >= rec), key=lambda row: (row["p"], row["t"]))
    sweep = []
    for t in np.unique(np.quantile(score, np.linspace(0, 1, 101))):
        pred = score >= t
        tp, fp = int((pred & truth).sum()), int((pred & ~truth).sum())
        fn, tn = int((~pred & truth).sum()), int((~pred & ~truth).sum())
        p = tp / (tp + fp) if tp + fp else None
        r = tp / (tp + fn) if tp + fn else None
        s = tn / (tn + fp) if tn + fp else None
        f = 2 * p * r / (p + r) if p is not None and r is not None and p + r else 0.0
        sweep.append({"threshold": t, "precision": p, "recall": r, "specificity": s, "f1": f})
    return {
        "positive": positive,
        "youden": {
            "threshold": youden["t"],
            "sensitivity": youden["r"],
            "specificity": youden["s"],
        },
        "f1_optimal": {
            "threshold": best_f1["t"],
            "f1": best_f1["f1"],
            "precision": best_f1["p"],
            "recall": best_f1["r"],
        },
        "at_specificity": {
            "specificity_required": spec,
            "sensitivity": at_spec["r"],
            "specificity": at_spec["s"],
            "threshold": at_spec["t"],
        },
        "at_recall": {
            "recall_required": rec,
            "precision": at_rec["p"],
            "recall": at_rec["r"],
            "threshold": at_rec["t"],
        },
        "sweep": sweep,
    }


def ref_buckets(
    y: list[str], pred: list[str], train: dict[str, int], many: int, few: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"thresholds": {"many_shot_over": many, "few_shot_under": few}}

    def bucket(seen: int) -> str:
        if seen == 0:
            return "unseen"
        return "many" if seen > many else "few" if seen < few else "medium"

    for name in ("many", "medium", "few", "unseen"):
        classes = sorted(c for c in set(y) if bucket(train.get(c, 0)) == name)
        if not classes:
            out[name] = dict.fromkeys(["accuracy", "macro_recall", "macro_f1"], None)
            out[name] |= {"classes": 0, "support": 0}
            continue
        rows = [i for i, t in enumerate(y) if t in classes]
        _, r, f, _ = precision_recall_fscore_support(
            y, pred, labels=classes, zero_division=0, average=None
        )
        out[name] = {
            "classes": len(classes),
            "support": len(rows),
            "accuracy": sum(pred[i] == y[i] for i in rows) / len(rows),
            "macro_recall": float(np.mean(r)),
            "macro_f1": float(np.mean(f)),
        }
    return out


def ref_bootstrap(
    y: list[str], pred: list[str], scores: Scores | None, n: int, seed: int
) -> dict[str, Any]:
    """scikit-learn's metrics on each resample (the same seeded row draws)."""
    rng = np.random.default_rng(seed)
    names = ["accuracy", "balanced_accuracy", "macro_f1", "mcc", "kappa", "geometric_mean"]
    draws: dict[str, list[float]] = {name: [] for name in names}
    if scores is not None:
        draws["roc_auc"] = []
    yt, yp = np.array(y), np.array(pred)
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        t, p = yt[idx].tolist(), yp[idx].tolist()
        if len(set(t)) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = {
                "accuracy": accuracy_score(t, p),
                "balanced_accuracy": balanced_accuracy_score(t, p),
                "macro_f1": f1_score(t, p, average="macro", zero_division=0),
                "mcc": matthews_corrcoef(t, p),
                "kappa": cohen_kappa_score(t, p),
                "geometric_mean": geometric_mean_score(t, p),
            }
        for name in names:
            draws[name].append(values[name])
        if scores is not None:
            aucs = [
                roc_auc_score(yt[idx] == c, scores.matrix[idx, j])
                for j, c in enumerate(scores.classes)
                if 0 < (yt[idx] == c).sum() < len(idx)
            ]
            if aucs:
                draws["roc_auc"].append(float(np.mean(aucs)))
    out: dict[str, Any] = {"resamples": n, "seed": seed, "level": 0.95}
    for name, values in draws.items():
        finite = [v for v in values if math.isfinite(v)]
        out[name] = (
            {"low": np.percentile(finite, 2.5), "high": np.percentile(finite, 97.5)}
            if finite
            else None
        )
    return out


# ---------------------------------------------------------------- data


def multiclass(seed: int, n: int = 500) -> tuple[list[str], list[str], Scores]:
    """Four classes a..d; 'd' is never predicted and a few rows are predicted 'z' (unseen)."""
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c", "d"]
    y = rng.choice(classes, size=n, p=[0.55, 0.25, 0.12, 0.08])
    logits = rng.normal(size=(n, 4)) + 1.6 * (y[:, None] == np.array(classes)[None, :])
    logits[:, 3] -= 3.0  # d is scored low
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = np.array(classes)[proba.argmax(axis=1)]
    pred[pred == "d"] = "a"
    pred[rng.choice(n, 7, replace=False)] = "z"
    return y.tolist(), pred.tolist(), Scores(classes, proba)


def binary(seed: int, n: int = 400) -> tuple[list[str], list[str], Scores]:
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.15, "pos", "neg")
    s = np.where(y == "pos", rng.normal(0.6, 0.2, n), rng.normal(0.35, 0.2, n))
    s = np.round(np.clip(s, 0.0, 1.0), 2)  # ties
    pred = np.where(s >= 0.5, "pos", "neg")
    return y.tolist(), pred.tolist(), Scores(["neg", "pos"], np.stack([1 - s, s], axis=1))


def ref_warnings(ref: dict[str, Any], y: list[str]) -> list[str]:
    out = []
    if not ref["beats_baseline"]:
        out.append(
            f"ACCURACY PARADOX: accuracy {ref['accuracy']:.2%} does not beat always predicting "
            f"{ref['baseline_label']!r} ({ref['baseline_accuracy']:.2%}); "
            f"balanced accuracy is {ref['balanced_accuracy']:.2%}"
        )
    never = [c for c in sorted(set(y)) if ref["per_class"][c]["predicted"] == 0]
    if never:
        shown = ", ".join(map(repr, never[:10]))
        if len(never) > 10:
            shown += f", … {len(never) - 10} more"
        out.append(
            f"{len(never)} class(es) never predicted (recall 0, precision counted as 0): {shown}"
        )
    if ref["unseen_predictions"]:
        out.append(
            "predicted label(s) not in the true labels: "
            + ", ".join(map(repr, ref["unseen_predictions"][:10]))
        )
    return out


def with_baseline(ref: dict[str, Any]) -> dict[str, Any]:
    margin = ref["accuracy"] - ref["baseline_accuracy"]
    return ref | {"beats_baseline": bool(margin > 0.01 * (1 - ref["baseline_accuracy"]) + 1e-12)}


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_multiclass_report_is_the_reference_report(seed: int) -> None:
    y, pred, scores = multiclass(seed)
    train = {"a": 500, "b": 60, "c": 5}  # many, medium, few; d unseen in training
    got = evaluate(
        y, pred, scores=scores, train_counts=train, many_shot=100, few_shot=20, bootstrap=12 if seed == 0 else 0,
        seed=seed + 7,
    )  # fmt: skip
    ref = with_baseline(ref_classification(y, pred))
    ref["scores"] = ref_scores(y, scores)
    for c in sorted(set(y)):
        ref["per_class"][c] |= {
            "roc_auc": ref["scores"]["roc_auc"][c],
            "pr_auc": ref["scores"]["pr_auc"][c],
        }
    ref["buckets"] = ref_buckets(y, pred, train, 100, 20)
    if seed == 0:
        ref["bootstrap"] = ref_bootstrap(y, pred, scores, 12, seed + 7)
    assert_same(got.report, ref)
    assert got.warnings == ref_warnings(ref, y)
    assert any("never predicted" in w for w in got.warnings)  # 'd' is never predicted
    assert ref["unseen_predictions"] == ["z"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_binary_report_is_the_reference_report(seed: int) -> None:
    y, pred, scores = binary(seed)
    got = evaluate(
        y, pred, scores=scores, at_specificity=0.9, at_recall=0.7, thresholds=True, bins=10
    )
    ref = with_baseline(ref_classification(y, pred))
    ref["scores"] = ref_scores(y, scores, bins=10)
    for c in ("neg", "pos"):
        ref["per_class"][c] |= {
            "roc_auc": ref["scores"]["roc_auc"][c],
            "pr_auc": ref["scores"]["pr_auc"][c],
        }
    ref["binary"] = ref_binary(y, scores.matrix[:, 1], "pos", spec=0.9, rec=0.7)
    assert_same(got.report, ref)
    # the rarer class is chosen as the positive one, and said
    assert got.warnings == [
        *ref_warnings(ref, y),
        "positive class 'pos' (the rarer one; choose with --positive)",
    ]
    assert 0 < ref["binary"]["at_specificity"]["sensitivity"] < 1


def test_the_positive_class_can_be_named_and_the_rarer_one_is_the_default() -> None:
    y, pred, scores = binary(3)
    named = evaluate(y, pred, scores=scores, positive="neg", at_recall=0.5)
    assert named.report["binary"]["positive"] == "neg"
    assert_same(
        named.report["binary"]["at_recall"],
        {
            "recall_required": 0.5,
            **{
                k: v
                for k, v in ref_binary(y, scores.matrix[:, 0], "neg", spec=0.5, rec=0.5)[
                    "at_recall"
                ].items()
                if k != "recall_required"
            },
        },
    )
    assert not any("positive class" in w for w in named.warnings)
    # with classes of equal size, the later label is the positive one
    tied = ["x"] * 5 + ["y"] * 5
    proba = np.linspace(0.05, 0.95, 10)
    report = evaluate(
        tied, tied, scores=Scores(["x", "y"], np.stack([1 - proba, proba], 1)), at_recall=0.5
    )
    assert report.report["binary"]["positive"] == "y"


def test_prior_adjusted_report_is_the_report_of_bayes_rule() -> None:
    y, pred, scores = multiclass(4)
    train = {"a": 700, "b": 200, "c": 70, "d": 30}
    got = evaluate(y, pred, scores=scores, train_counts=train, prior_adjust=True)
    prior = np.array([700, 200, 70, 30]) / 1000
    shifted = scores.matrix / prior
    shifted /= shifted.sum(axis=1, keepdims=True)
    new_pred = [scores.classes[int(i)] for i in shifted.argmax(axis=1)]
    after = Scores(scores.classes, shifted)
    ref = with_baseline(ref_classification(y, new_pred))
    ref["scores"] = ref_scores(y, after)
    for c in scores.classes:
        ref["per_class"][c] |= {
            "roc_auc": ref["scores"]["roc_auc"][c],
            "pr_auc": ref["scores"]["pr_auc"][c],
        }
    assert got.report["prior_adjusted"]["target_priors"] == "uniform"
    assert_same(got.report["prior_adjusted"]["report"], ref)
    target = {"a": 1.0, "b": 1.0, "c": 2.0, "d": 4.0}
    named = evaluate(
        y, pred, scores=scores, train_counts=train, prior_adjust=True, target_priors=target
    )
    assert named.report["prior_adjusted"]["target_priors"] == target
    weighted = scores.matrix * (np.array([1, 1, 2, 4]) / 8) / prior
    weighted /= weighted.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        adjust_priors(scores, train, target).matrix, weighted, rtol=1e-12, atol=0
    )
    assert adjust_priors(scores, train, target).classes == scores.classes
    with pytest.raises(RebalanceError, match="needs per-class scores and --train-manifest"):
        evaluate(y, pred, scores=scores, prior_adjust=True)
    with pytest.raises(RebalanceError, match="needs per-class scores and --train-manifest"):
        evaluate(y, pred, train_counts=train, prior_adjust=True)


def test_adjust_priors_refuses_what_it_cannot_shift() -> None:
    _, _, scores = multiclass(5)
    with pytest.raises(RebalanceError) as missing:
        adjust_priors(scores, {"a": 3, "b": 0, "c": 2})
    assert str(missing.value) == (
        "cannot adjust priors: class(es) 'b', 'd' have no rows in the training manifest"
    )
    train = {"a": 3, "b": 1, "c": 2, "d": 1}
    with pytest.raises(RebalanceError) as absent:
        adjust_priors(scores, train, {"a": 0.5, "b": 0.5})
    assert str(absent.value) == "--target-priors has no prior for class(es) 'c', 'd'"
    with pytest.raises(RebalanceError, match="^--target-priors must all be positive$"):
        adjust_priors(scores, train, {"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.1})
    # the train priors are the counts' shares; a uniform target divides by them only
    got = adjust_priors(scores, train).matrix
    ref = scores.matrix / (np.array([3, 1, 2, 1]) / 7)
    np.testing.assert_allclose(got, ref / ref.sum(axis=1, keepdims=True), rtol=1e-12, atol=0)


def test_score_metrics_of_a_class_without_rows_or_with_all_rows() -> None:
    y = ["a", "a", "b", "b", "b"]
    m = np.array(
        [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]]
    )
    scores = Scores(["a", "b", "c"], m)
    assert_same(score_metrics(y, scores, bins=4), ref_scores(y, scores, bins=4))
    only = score_metrics(["a"] * 3, Scores(["a", "b"], m[:3, :2] / m[:3, :2].sum(1, keepdims=True)))
    assert only["roc_auc"] == {"a": None, "b": None}
    assert only["roc_auc_macro"] is None and only["pr_auc_macro"] is None


@pytest.mark.parametrize("many,few", [(100, 20), (50, 5), (10, 10)])
def test_buckets_follow_their_thresholds(many: int, few: int) -> None:
    y, pred, _ = multiclass(6)
    train = {"a": many + 1, "b": many, "c": few, "d": max(few - 1, 1), "z": 3}
    assert_same(
        bucket_metrics(y, pred, train, many=many, few=few), ref_buckets(y, pred, train, many, few)
    )
    with pytest.raises(RebalanceError, match="^--few-shot 30 is greater than --many-shot 20$"):
        bucket_metrics(y, pred, train, many=20, few=30)


def test_bootstrap_intervals_are_the_percentiles_of_sklearn_on_each_resample() -> None:
    y, pred, scores = binary(7, n=120)
    assert_same(
        bootstrap_intervals(y, pred, scores, n=20, seed=3), ref_bootstrap(y, pred, scores, 20, 3)
    )
    assert_same(
        bootstrap_intervals(y, pred, None, n=10, seed=0), ref_bootstrap(y, pred, None, 10, 0)
    )
    with pytest.raises(RebalanceError, match=r"^--bootstrap 9: use at least 10 resamples"):
        bootstrap_intervals(y, pred, None, n=9, seed=0)
    # resamples with one true class only are skipped, not counted as zeros
    rare = ["x"] * 9 + ["y"]
    assert_same(
        bootstrap_intervals(rare, rare, None, n=30, seed=1), ref_bootstrap(rare, rare, None, 30, 1)
    )


def test_evaluate_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(RebalanceError) as pairing:
        evaluate(["a", "b", "a"], ["a", "b"])
    assert str(pairing.value) == "y_true has 3 labels but y_pred has 2: they must pair up"
    with pytest.raises(RebalanceError, match="^no predictions to evaluate$"):
        evaluate([], [])
    with pytest.raises(RebalanceError) as one:
        evaluate(["a", "a"], ["a", "b"])
    assert str(one.value) == (
        "only one class in the true labels ('a'): recall, balanced accuracy and AUC are undefined"
    )
    y, pred, scores = binary(0)
    with pytest.raises(RebalanceError) as positive:
        evaluate(y, pred, scores=scores, positive="maybe")
    assert str(positive.value) == "--positive 'maybe' is not a true label (labels: neg, pos)"
    for kwargs in ({"at_recall": 0.5}, {"at_specificity": 0.5}, {"thresholds": True}):
        with pytest.raises(
            RebalanceError, match="^--at-specificity, --at-recall and --thresholds need scores"
        ):
            evaluate(y, pred, positive="pos", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(RebalanceError, match="are for binary tasks: name --positive$"):
            evaluate(y, pred, **kwargs)  # type: ignore[arg-type]
    # a named positive without scores nor points is fine, and adds no binary section
    assert "binary" not in evaluate(y, pred, positive="pos").report


def test_the_accuracy_paradox_and_its_margin() -> None:
    y = ["maj"] * 95 + ["min"] * 5
    always = ["maj"] * 100
    paradox = evaluate(y, always)
    assert paradox.report["beats_baseline"] is False
    assert paradox.warnings[0] == (
        "ACCURACY PARADOX: accuracy 95.00% does not beat always predicting 'maj' (95.00%); "
        "balanced accuracy is 50.00%"
    )
    assert paradox.warnings[1] == (
        "1 class(es) never predicted (recall 0, precision counted as 0): 'min'"
    )
    # one more right row: 96% against 95%, a margin of 1 point over 5 points of room
    better = evaluate(y, ["maj"] * 95 + ["min"] + ["maj"] * 4)
    assert better.report["beats_baseline"] is True
    assert not any("PARADOX" in w for w in better.warnings)
    # ties for the majority: the first label in sorted order
    assert evaluate(["b", "a", "b", "a"], ["a", "a", "b", "b"]).report["baseline_label"] == "a"


def test_never_predicted_lists_ten_and_counts_the_rest() -> None:
    y = [f"c{i:02d}" for i in range(13)] * 2
    pred = ["c00"] * len(y)
    warning = next(w for w in evaluate(y, pred).warnings if "never predicted" in w)
    shown = ", ".join(repr(f"c{i:02d}") for i in range(1, 11))
    assert warning == (
        f"12 class(es) never predicted (recall 0, precision counted as 0): {shown}, … 2 more"
    )


def evaluation_for_gates() -> Evaluation:
    y, pred, scores = multiclass(8)
    return evaluate(y, pred, scores=scores, bootstrap=30, seed=1)


def test_flat_metrics_name_every_gateable_number() -> None:
    evaluation = evaluation_for_gates()
    report = evaluation.report
    expected: dict[str, Any] = {
        k: report[k]
        for k in ("accuracy", "baseline_accuracy", "balanced_accuracy", "geometric_mean")
    }
    expected |= {"kappa": report["kappa"], "mcc": report["mcc"]}
    for average in ("macro", "weighted", "micro"):
        for key in ("precision", "recall", "specificity", "f1"):
            expected[f"{average}_{key}"] = report[average][key]
    expected |= {
        "roc_auc": report["scores"]["roc_auc_macro"],
        "pr_auc": report["scores"]["pr_auc_macro"],
        "brier": report["scores"]["brier"],
        "ece": report["scores"]["ece"],
    }
    for label, row in report["per_class"].items():
        for key in ("precision", "recall", "specificity", "f1", "roc_auc", "pr_auc"):
            if key in row:
                expected[f"{key}[{label}]"] = row[key]
    assert_same(evaluation.metrics(), expected)
    assert "roc_auc[z]" not in expected and "recall[z]" in expected  # z: predicted only


def test_gate_failures_say_the_metric_its_value_and_the_requirement() -> None:
    evaluation = evaluation_for_gates()
    values = evaluation.metrics()
    f1, brier = values["macro_f1"], values["brier"]
    assert f1 is not None and brier is not None
    assert gate_failures(evaluation, under=[("macro_f1", f1)], over=[("brier", brier)]) == []
    assert gate_failures(
        evaluation, under=[("macro_f1", f1 + 0.01)], over=[("brier", brier - 0.01)]
    ) == [
        f"macro_f1 {f1:.4f} < required {f1 + 0.01:g}",
        f"brier {brier:.4f} > required {brier - 0.01:g}",
    ]
    # an undefined value fails every gate
    assert gate_failures(evaluation, under=[("recall[z]", 0.0)]) == [
        "recall[z] undefined < required 0"
    ]
    # with intervals, the lower bound must pass an under gate and the upper bound an over gate
    interval = evaluation.report["bootstrap"]["macro_f1"]
    low, high = interval["low"], interval["high"]
    assert low < f1 < high
    assert gate_failures(evaluation, under=[("macro_f1", low)], use_interval=True) == []
    assert gate_failures(evaluation, under=[("macro_f1", f1)], use_interval=True) == [
        f"macro_f1 {low:.4f} (lower 95% bound) < required {f1:g}"
    ]
    assert gate_failures(evaluation, over=[("macro_f1", f1)], use_interval=True) == [
        f"macro_f1 {high:.4f} (upper 95% bound) > required {f1:g}"
    ]
    assert gate_failures(evaluation, over=[("macro_f1", high)], use_interval=True) == []
    # a metric without an interval is gated on its value
    assert gate_failures(evaluation, under=[("brier", brier)], use_interval=True) == []


def test_an_unknown_gate_lists_the_valid_names() -> None:
    evaluation = evaluation_for_gates()
    with pytest.raises(RebalanceError) as unknown:
        gate_failures(evaluation, over=[("macro_f2", 0.5)])
    valid = sorted(k for k in evaluation.metrics() if "[" not in k)
    assert str(unknown.value) == (
        f"unknown metric 'macro_f2' (valid: {', '.join(valid)}, and "
        "precision/recall/specificity/f1/roc_auc/pr_auc[LABEL])"
    )


def test_compare_doc_lists_values_and_deltas_against_the_first_file() -> None:
    first = {"accuracy": 0.9, "macro_f1": 0.5, "roc_auc": None, "brier": 0.2}
    second = {"accuracy": 0.8, "macro_f1": 0.75, "roc_auc": 0.7}
    doc = compare_doc(["a.csv", "b.csv"], [first, second])
    assert doc["files"] == ["a.csv", "b.csv"]
    assert list(doc["metrics"]) == [
        k for k in COMPARE_METRICS if k in ("accuracy", "macro_f1", "roc_auc", "brier")
    ]
    assert_same(
        doc["metrics"],
        {
            "accuracy": {"values": [0.9, 0.8], "delta": [0.0, 0.8 - 0.9]},
            "macro_f1": {"values": [0.5, 0.75], "delta": [0.0, 0.25]},
            "roc_auc": {"values": [None, 0.7], "delta": [None, None]},
            "brier": {"values": [0.2, None], "delta": [0.0, None]},
        },
    )


def test_curve_points_are_sklearn_curves_of_the_largest_classes() -> None:
    y, _, scores = multiclass(9)
    y[0] = "a"
    got = curve_points(y, scores, limit=3)
    support = {c: y.count(c) for c in scores.classes}
    chosen = sorted(scores.classes, key=lambda c: (-support[c], c))[:3]
    truth = np.array(y)
    roc, pr = [], []
    for c in chosen:
        j = scores.classes.index(c)
        fpr, tpr, _ = roc_curve(truth == c, scores.matrix[:, j])
        precision, recall, _ = precision_recall_curve(truth == c, scores.matrix[:, j])
        roc.append([c, fpr.tolist(), tpr.tolist()])
        pr.append([c, recall[::-1].tolist(), precision[::-1].tolist()])
    assert_same(got, {"roc": roc, "pr": pr})
    assert [label for label, *_ in curve_points(y, scores, positive="c")["roc"]] == ["c"]
    # a class with no rows, or with every row, has no curve
    only_ab = ["a", "b"] * 5
    two = Scores(["a", "b", "c"], np.full((10, 3), 1 / 3))
    assert [label for label, *_ in curve_points(only_ab, two)["roc"]] == ["a", "b"]
    assert curve_points(["a"] * 4, Scores(["a"], np.ones((4, 1))))["roc"] == []


# ---------------------------------------------------------------- edges of each rule


def test_labels_are_kept_exactly_even_with_a_trailing_nul() -> None:
    # numpy's fixed-width text would drop a trailing NUL: labels stay Python strings
    y, pred, scores = binary(11, n=120)
    rename = {"neg": "n\x00", "pos": "p\x00"}
    y2, pred2 = [rename[v] for v in y], [rename[v] for v in pred]
    scores2 = Scores(["n\x00", "p\x00"], scores.matrix)
    got = evaluate(
        y2, pred2, scores=scores2, at_recall=0.5, train_counts={"n\x00": 9, "p\x00": 1},
        prior_adjust=True,
    )  # fmt: skip
    plain = evaluate(
        y, pred, scores=scores, at_recall=0.5, train_counts={"neg": 9, "pos": 1}, prior_adjust=True
    )
    text = json.dumps(plain.report).replace('"neg"', '"n\\u0000"').replace('"pos"', '"p\\u0000"')
    assert_same(got.report, json.loads(text))
    assert got.report["binary"]["positive"] == "p\x00"
    assert [c for c, *_ in curve_points(y2, scores2)["roc"]] == ["n\x00", "p\x00"]


@pytest.mark.parametrize("correct,beats", [(101, False), (102, True)])
def test_beating_the_baseline_needs_over_one_percent_of_the_room_left(
    correct: int, beats: bool
) -> None:
    # baseline 50%: 1% of the 50 points above it is 0.5 points, one row in 200
    y = ["a"] * 100 + ["b"] * 100
    pred = ["a"] * 100 + ["b"] * (correct - 100) + ["a"] * (200 - correct)
    assert evaluate(y, pred).report["beats_baseline"] is beats


@pytest.mark.parametrize("never", [10, 11, 12])
def test_never_predicted_lists_ten_then_counts(never: int) -> None:
    y = [f"c{i:02d}" for i in range(never + 1)] * 2
    warning = next(w for w in evaluate(y, ["c00"] * len(y)).warnings if "never predicted" in w)
    shown = ", ".join(repr(f"c{i:02d}") for i in range(1, min(never, 10) + 1))
    more = f", … {never - 10} more" if never > 10 else ""
    assert warning == (
        f"{never} class(es) never predicted (recall 0, precision counted as 0): {shown}{more}"
    )


def test_long_label_lists_in_messages_are_cut() -> None:
    y = ["a", "b"] * 11
    pred = [f"u{i:02d}" for i in range(11)] + ["a"] * 11
    warning = evaluate(y, pred).warnings[-1]
    assert warning == "predicted label(s) not in the true labels: " + ", ".join(
        repr(f"u{i:02d}") for i in range(10)
    )
    many = [f"k{i:02d}" for i in range(21)] * 2
    with pytest.raises(RebalanceError) as error:
        evaluate(many, many, positive="zz")
    assert str(error.value) == (
        f"--positive 'zz' is not a true label (labels: {', '.join(many[:20])})"
    )
    with pytest.raises(RebalanceError) as missing:
        adjust_priors(Scores(many[:21], np.full((2, 21), 1 / 21)), {})
    assert str(missing.value) == (
        "cannot adjust priors: class(es) "
        + ", ".join(map(repr, many[:10]))
        + " have no rows in the training manifest"
    )
    with pytest.raises(RebalanceError) as absent:
        adjust_priors(Scores(many[:21], np.full((2, 21), 1 / 21)), dict.fromkeys(many, 1), {})
    assert str(absent.value) == (
        "--target-priors has no prior for class(es) " + ", ".join(map(repr, many[:10]))
    )


def test_geometric_mean_is_over_the_true_classes_only() -> None:
    # every true class is found at least once (one with a single row), and a label is
    # predicted that is not a true one: it does not pull the mean to 0
    y = ["a"] * 6 + ["b"] * 3 + ["c"]
    pred = ["a"] * 5 + ["x"] + ["b", "b", "a"] + ["c"]
    report = evaluate(y, pred).report
    assert report["geometric_mean"] == pytest.approx((5 / 6 * 2 / 3 * 1.0) ** (1 / 3), rel=1e-12)
    assert_same(report, with_baseline(ref_classification(y, pred)) | {})
    assert report["confusion_matrix"]["normalized"][2] == [0.0, 0.0, 1.0, 0.0]  # c: one row
    assert report["confusion_matrix"]["normalized"][3] == [0.0, 0.0, 0.0, 0.0]  # x: none


def test_the_defaults_of_evaluate_and_buckets() -> None:
    y, pred, scores = multiclass(12, n=300)
    train = {"a": 101, "b": 100, "c": 20, "d": 19}
    got = evaluate(y, pred, train_counts=train, bootstrap=10)
    assert_same(got.report["buckets"], ref_buckets(y, pred, train, 100, 20))
    assert_same(got.report["bootstrap"], ref_bootstrap(y, pred, None, 10, 0))
    assert_same(bucket_metrics(y, pred, train), ref_buckets(y, pred, train, 100, 20))
    assert_same(evaluate(y, pred, scores=scores).report["scores"], ref_scores(y, scores, bins=15))


@pytest.mark.parametrize(
    "few,many,train",
    [
        (0, 5, {"a": 0, "b": 1, "c": 5, "d": 6}),  # --few-shot 0: no few-shot bucket at all
        (1, 5, {"a": 1, "b": 2, "c": 9}),  # seen once is medium when few is 1
        (3, 50, {"b": 1, "c": 2, "d": 3}),  # seen once is few-shot; nothing many-shot
    ],
)
def test_bucket_edges(few: int, many: int, train: dict[str, int]) -> None:
    y = ["a"] * 5 + ["b"] * 3 + ["c"] + ["d"] * 2  # c has a single true row
    pred = ["a"] * 4 + ["b"] + ["b", "a", "b"] + ["c"] + ["d", "a"]
    assert_same(
        bucket_metrics(y, pred, train, many=many, few=few), ref_buckets(y, pred, train, many, few)
    )


def test_bootstrap_edges() -> None:
    # a rare class: some resamples miss it (skipped) or hold it once (kept)
    rare = ["x"] * 9 + ["y"]
    guess = ["x"] * 8 + ["y", "y"]
    assert_same(
        bootstrap_intervals(rare, guess, None, n=40, seed=1),
        ref_bootstrap(rare, guess, None, 40, 1),
    )
    # a scored class missing from a resample does not count in that resample's macro AUC
    y, pred, scores = multiclass(13, n=40)
    assert_same(
        bootstrap_intervals(y, pred, scores, n=15, seed=2), ref_bootstrap(y, pred, scores, 15, 2)
    )
    # scores whose classes are none of the labels: no AUC interval
    other = Scores(["p", "q"], np.full((len(y), 2), 0.5))
    assert bootstrap_intervals(y, pred, other, n=10, seed=0)["roc_auc"] is None


def test_a_gate_value_that_is_not_a_number() -> None:
    from rebalance.metrics import parse_gate

    with pytest.raises(RebalanceError) as error:
        parse_gate("macro_f1=1.2.3", "--fail-under")
    assert str(error.value) == "--fail-under 'macro_f1=1.2.3': '1.2.3' is not a number"


def test_curve_points_order_by_support_then_name_and_keep_eight() -> None:
    rng = np.random.default_rng(14)
    classes = [f"k{i}" for i in range(10)]
    sizes = [1, 30, 5, 30, 12, 2, 8, 20, 3, 9]  # k0 has one row
    y = [c for c, n in zip(classes, sizes, strict=True) for _ in range(n)]
    proba = rng.dirichlet(np.ones(10), size=len(y))
    got = [label for label, *_ in curve_points(y, Scores(classes, proba))["pr"]]
    assert got == ["k1", "k3", "k7", "k4", "k9", "k6", "k2", "k8"]
    assert [label for label, *_ in curve_points(y, Scores(classes, proba), limit=10)["roc"]] == [
        *got,
        "k5",
        "k0",
    ]


def test_score_metrics_of_a_class_holding_every_row() -> None:
    m = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3]])
    only = score_metrics(["a"] * 3, Scores(["a", "b"], m))
    assert only["pr_auc"] == {"a": None, "b": None}


def test_binary_operating_point_edges() -> None:
    from rebalance.metrics import binary_operating_points

    # the top score is a negative row: the first PR point has precision and recall 0
    y = ["n", "p", "p", "n", "p", "n", "n", "n", "p", "n"]
    s = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    points = binary_operating_points(y, s, "p", at_specificity=5 / 6, at_recall=0.25)
    ref = ref_binary(y, s, "p", spec=5 / 6, rec=0.25)
    for key in ("youden", "f1_optimal", "at_specificity", "at_recall"):
        assert_same(points[key], ref[key])
    assert points["at_specificity"]["specificity"] == 5 / 6  # met exactly counts
    assert "sweep" not in points
    # positives in the majority and a weak score: predicting all positive is F1-optimal
    y = ["p", "p", "n", "p", "p", "n", "p", "p"]
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    assert_same(
        binary_operating_points(y, s, "p")["f1_optimal"],
        ref_binary(y, s, "p", spec=0.5, rec=0.5)["f1_optimal"],
    )
    for flag, kwargs in (
        ("--at-recall", {"at_recall": 1.5}),
        ("--at-specificity", {"at_specificity": -0.1}),
    ):
        with pytest.raises(RebalanceError, match=f"^{flag} .* must be between 0 and 1$"):
            binary_operating_points(y, s, "p", **kwargs)  # type: ignore[arg-type]


def test_prior_adjusted_report_with_named_priors_and_bins() -> None:
    y, pred, scores = multiclass(15)
    train = {"a": 500, "b": 300, "c": 150, "d": 50}
    target = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 3.0}
    got = evaluate(
        y, pred, scores=scores, train_counts=train, prior_adjust=True, target_priors=target, bins=6
    )
    prior = np.array([500, 300, 150, 50]) / 1000
    raw = scores.matrix * (np.array([1, 1, 1, 3]) / 6) / prior
    shifted = raw / raw.sum(axis=1, keepdims=True)
    new_pred = [scores.classes[int(i)] for i in shifted.argmax(axis=1)]
    ref = with_baseline(ref_classification(y, new_pred))
    ref["scores"] = ref_scores(y, Scores(scores.classes, shifted), bins=6)
    for c in scores.classes:
        ref["per_class"][c] |= {
            "roc_auc": ref["scores"]["roc_auc"][c],
            "pr_auc": ref["scores"]["pr_auc"][c],
        }
    assert_same(got.report["prior_adjusted"]["report"], ref)
    with pytest.raises(RebalanceError) as error:
        evaluate(y, pred, scores=scores, prior_adjust=True)
    assert str(error.value) == "--adjust-priors needs per-class scores and --train-manifest"


def test_classification_metrics_on_its_own_is_the_reference() -> None:
    from rebalance.metrics import classification_metrics

    y, pred, _ = multiclass(16, n=200)
    assert_same(classification_metrics(y, pred), ref_classification(y, pred))


def test_class_codes_match_exact_text_and_mark_the_rest() -> None:
    from rebalance.metrics import class_codes

    codes = class_codes(["a", "zz", "b\x00", "b", "a"], ["a", "b", "b\x00"])
    assert codes.dtype == np.int64
    assert codes.tolist() == [0, -1, 2, 1, 0]


def test_score_metrics_default_bins_and_fractions_at_the_ends() -> None:
    from rebalance.metrics import binary_operating_points

    y, _, scores = multiclass(17, n=100)
    assert len(score_metrics(y, scores)["reliability"]) == 15
    yb, _, sb = binary(18, n=60)
    for at in (0.0, 1.0):
        points = binary_operating_points(
            yb, sb.matrix[:, 1], "pos", at_recall=at, at_specificity=at
        )
        ref = ref_binary(yb, sb.matrix[:, 1], "pos", spec=at, rec=at)
        assert_same(points["at_recall"], ref["at_recall"])
        assert_same(points["at_specificity"], ref["at_specificity"])


def test_the_highest_threshold_and_a_sweep_through_a_negative_top_row() -> None:
    from rebalance.metrics import binary_operating_points

    # one positive, scored highest: the best F1 and the best precision at any recall are
    # at the highest threshold
    y = ["p"] + ["n"] * 7
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    points = binary_operating_points(y, s, "p", at_recall=0.5)
    ref = ref_binary(y, s, "p", spec=0.5, rec=0.5)
    assert_same(points["f1_optimal"], ref["f1_optimal"])
    assert_same(points["at_recall"], ref["at_recall"])
    assert points["f1_optimal"]["f1"] == 1.0
    # the top row is negative: the sweep's highest cut finds no positive (F1 0)
    y = ["n", "p", "p", "n", "p", "n", "n", "n", "p", "n"]
    s = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    sweep = binary_operating_points(y, s, "p", sweep=True)["sweep"]
    assert_same(sweep, ref_binary(y, s, "p", spec=0.5, rec=0.5)["sweep"])
    assert sweep[-1]["f1"] == 0.0


def test_a_bootstrap_resample_without_a_scored_class_leaves_it_out_of_the_auc() -> None:
    rng = np.random.default_rng(19)
    y = ["a"] * 17 + ["b"] * 12 + ["c"]  # c: one row, missing from about a third of resamples
    pred = list(y)
    pred[3], pred[20] = "b", "a"
    proba = rng.dirichlet(np.ones(3), size=30)
    scores = Scores(["a", "b", "c"], proba)
    assert_same(
        bootstrap_intervals(y, pred, scores, n=15, seed=4), ref_bootstrap(y, pred, scores, 15, 4)
    )


def test_a_finite_float_or_none() -> None:
    from rebalance.metrics import _f

    assert _f(None) is None
    assert _f(float("nan")) is None and _f(float("inf")) is None and _f(-np.inf) is None
    assert _f(np.float32(0.5)) == 0.5 and type(_f(np.int64(2))) is float


def test_scores_of_a_single_true_class_have_no_auc_and_no_warning() -> None:
    import warnings

    from rebalance.metrics import score_metrics
    from rebalance.scores import Scores

    scores = Scores(["a", "b"], np.array([[0.6, 0.4], [0.7, 0.3], [0.2, 0.8]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" on the way
        out = score_metrics(["a", "a", "a"], scores)
    assert out["roc_auc"] == {"a": None, "b": None} and out["pr_auc"] == {"a": None, "b": None}
    assert out["roc_auc_macro"] is None and out["pr_auc_macro"] is None


def test_bootstrap_raises_no_floating_point_warning() -> None:
    import warnings

    from rebalance.metrics import _bootstrap, encode

    # constant predictions: MCC's and kappa's denominators are 0 in every resample
    coded = encode(["a", "b", "a", "c", "b", "a"] * 3, ["a"] * 18)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _bootstrap(coded, None, n=50, seed=1)
    assert out["resamples"] == 50 and out["mcc"] == {"low": 0.0, "high": 0.0}
