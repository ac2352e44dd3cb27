"""evaluate: every number equals scikit-learn / imbalanced-learn on the same input."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score, sensitivity_specificity_support
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    cohen_kappa_score,
    confusion_matrix,
    matthews_corrcoef,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from rebalance.errors import RebalanceError
from rebalance.metrics import Scores, adjust_priors, evaluate, gate_failures, parse_gate


def multiclass(seed: int = 0, n: int = 600) -> tuple[list[str], list[str], Scores]:
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c"]
    y = rng.choice(classes, size=n, p=[0.7, 0.2, 0.1])
    logits = rng.normal(size=(n, 3)) + 2.0 * (y[:, None] == np.array(classes)[None, :])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = np.array(classes)[proba.argmax(axis=1)]
    return y.tolist(), pred.tolist(), Scores(classes, proba)


def test_classification_numbers_equal_sklearn() -> None:
    y, pred, scores = multiclass()
    report = evaluate(y, pred, scores=scores).report
    labels = ["a", "b", "c"]
    assert report["accuracy"] == accuracy_score(y, pred)
    assert report["balanced_accuracy"] == balanced_accuracy_score(y, pred)
    assert report["kappa"] == pytest.approx(cohen_kappa_score(y, pred), abs=1e-15)
    assert report["mcc"] == pytest.approx(matthews_corrcoef(y, pred), abs=1e-15)
    assert report["geometric_mean"] == pytest.approx(geometric_mean_score(y, pred), abs=1e-15)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels)
    _, spec, _ = sensitivity_specificity_support(y, pred, labels=labels)
    for i, label in enumerate(labels):
        row = report["per_class"][label]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (p[i], r[i], f[i], s[i])
        )
        assert row["specificity"] == pytest.approx(spec[i])
    for average in ("macro", "weighted", "micro"):
        ap, ar, af, _ = precision_recall_fscore_support(y, pred, average=average)
        assert (
            report[average]["precision"],
            report[average]["recall"],
            report[average]["f1"],
        ) == pytest.approx((ap, ar, af))
    assert report["confusion_matrix"]["counts"] == confusion_matrix(y, pred, labels=labels).tolist()
    assert report["baseline_label"] == "a"
    assert report["baseline_accuracy"] == pytest.approx(y.count("a") / len(y))


def test_score_numbers_equal_sklearn() -> None:
    y, pred, scores = multiclass(1)
    report = evaluate(y, pred, scores=scores).report
    assert report["scores"]["roc_auc_macro"] == pytest.approx(
        roc_auc_score(y, scores.matrix, multi_class="ovr", average="macro", labels=scores.classes)
    )
    for j, label in enumerate(scores.classes):
        truth = np.array(y) == label
        assert report["per_class"][label]["roc_auc"] == pytest.approx(
            roc_auc_score(truth, scores.matrix[:, j])
        )
        assert report["per_class"][label]["pr_auc"] == pytest.approx(
            average_precision_score(truth, scores.matrix[:, j])
        )


def test_binary_brier_ece_and_operating_points() -> None:
    rng = np.random.default_rng(2)
    y = np.where(rng.random(1000) < 0.1, "pos", "neg")
    s = np.clip(
        np.where(y == "pos", rng.normal(0.7, 0.15, 1000), rng.normal(0.3, 0.15, 1000)), 0, 1
    )
    scores = Scores(["neg", "pos"], np.column_stack([1 - s, s]))
    pred = np.where(s >= 0.5, "pos", "neg").tolist()
    report = evaluate(
        y.tolist(),
        pred,
        scores=scores,
        positive="pos",
        at_specificity=0.9,
        at_recall=0.8,
        thresholds=True,
    ).report
    assert report["scores"]["brier"] == pytest.approx(brier_score_loss(y == "pos", s))
    fpr, tpr, thr = roc_curve(y == "pos", s)
    ok = (1 - fpr) >= 0.9
    assert report["binary"]["at_specificity"]["sensitivity"] == pytest.approx(tpr[ok].max())
    assert report["binary"]["at_specificity"]["specificity"] >= 0.9
    assert report["binary"]["at_recall"]["recall"] >= 0.8
    assert report["binary"]["sweep"][0]["recall"] == pytest.approx(1.0)
    # expected calibration error from its definition
    conf = np.maximum(s, 1 - s)
    correct = (np.where(s >= 0.5, "pos", "neg") == y).astype(float)
    edges = np.linspace(0, 1, 16)
    bins = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, 14)
    ece = sum(
        abs(correct[bins == b].mean() - conf[bins == b].mean()) * (bins == b).sum() / 1000
        for b in range(15)
        if (bins == b).any()
    )
    assert report["scores"]["ece"] == pytest.approx(ece)


def test_accuracy_paradox_is_loud() -> None:
    y = ["ok"] * 800 + ["fraud"]
    result = evaluate(y, ["ok"] * 801)
    assert result.report["accuracy"] == pytest.approx(800 / 801)
    assert not result.report["beats_baseline"]
    assert any("ACCURACY PARADOX" in w for w in result.warnings)
    assert any("never predicted" in w and "'fraud'" in w for w in result.warnings)
    assert result.report["balanced_accuracy"] == 0.5


def test_unseen_predictions_are_reported() -> None:
    result = evaluate(["a", "b", "a"], ["a", "zebra", "a"])
    assert result.report["unseen_predictions"] == ["zebra"]
    assert result.report["per_class"]["zebra"]["support"] == 0
    assert result.report["per_class"]["zebra"]["recall"] is None


def test_one_class_in_truth_is_refused() -> None:
    with pytest.raises(RebalanceError, match="only one class in the true labels"):
        evaluate(["a", "a"], ["a", "b"])


def test_buckets_by_training_frequency() -> None:
    y = ["head"] * 50 + ["mid"] * 20 + ["tail"] * 5 + ["new"] * 2
    pred = ["head"] * 50 + ["mid"] * 10 + ["head"] * 10 + ["head"] * 5 + ["head"] * 2
    buckets = evaluate(y, pred, train_counts={"head": 5000, "mid": 50, "tail": 3}).report["buckets"]
    assert buckets["many"]["macro_recall"] == 1.0 and buckets["many"]["classes"] == 1
    assert buckets["medium"]["macro_recall"] == 0.5
    assert buckets["few"]["macro_recall"] == 0.0
    assert buckets["unseen"]["classes"] == 1


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    y, pred, _ = multiclass(3)
    one = evaluate(y, pred, bootstrap=200, seed=4).report["bootstrap"]
    two = evaluate(y, pred, bootstrap=200, seed=4).report["bootstrap"]
    assert one == two
    point = evaluate(y, pred).report["balanced_accuracy"]
    assert one["balanced_accuracy"]["low"] <= point <= one["balanced_accuracy"]["high"]


def test_prior_adjustment_is_bayes_rule() -> None:
    scores = Scores(["a", "b"], np.array([[0.6, 0.4], [0.9, 0.1]]))
    adjusted = adjust_priors(scores, {"a": 80, "b": 20})
    expected = np.array([[0.6 / 0.8, 0.4 / 0.2], [0.9 / 0.8, 0.1 / 0.2]])
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(adjusted.matrix, expected)
    # a model whose scores carry the training prior: removing it raises balanced accuracy
    y, _, s = multiclass(5)
    prior = np.array([0.7, 0.2, 0.1])
    with_prior = s.matrix * prior / (s.matrix * prior).sum(axis=1, keepdims=True)
    pred = np.array(s.classes)[with_prior.argmax(axis=1)].tolist()
    train = {"a": 700, "b": 200, "c": 100}
    report = evaluate(
        y, pred, scores=Scores(s.classes, with_prior), train_counts=train, prior_adjust=True
    ).report
    assert report["prior_adjusted"]["report"]["balanced_accuracy"] > report["balanced_accuracy"]


def test_gates() -> None:
    y, pred, _ = multiclass()
    result = evaluate(y, pred)
    assert parse_gate("recall[a]=0.5", "--fail-under") == ("recall[a]", 0.5)
    assert gate_failures(result, under=[("macro_f1", 0.0)]) == []
    failed = gate_failures(result, under=[("macro_f1", 0.99), ("recall[c]", 0.99)])
    assert (
        len(failed) == 2 and failed[0].startswith("macro_f1 0.") and "< required 0.99" in failed[0]
    )
    with pytest.raises(RebalanceError, match="unknown metric 'f2'.*macro_f1"):
        gate_failures(result, under=[("f2", 0.5)])
    with pytest.raises(RebalanceError, match="must look like METRIC=VALUE"):
        parse_gate("macro_f1>0.5", "--fail-under")


def test_binary_positive_defaults_to_the_rarer_class() -> None:
    y = ["ok"] * 90 + ["fraud"] * 10
    s = np.array([0.1] * 85 + [0.6] * 5 + [0.9] * 8 + [0.2] * 2)
    scores = Scores(["fraud", "ok"], np.column_stack([s, 1 - s]))
    pred = ["fraud" if v >= 0.5 else "ok" for v in s]
    result = evaluate(y, pred, scores=scores, at_specificity=0.9)
    assert result.report["binary"]["positive"] == "fraud"
    assert any("the rarer one" in w for w in result.warnings)
