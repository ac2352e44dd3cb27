"""Every number of evaluate against a reference computed independently on the same data.

The operating points are found by brute force over every threshold (each distinct
score, predicting positive at score >= t), not through the ROC/PR curve code the
library uses; the multiclass numbers are written out from their definitions or taken
from scikit-learn, and compared value by value.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, confusion_matrix

from rebalance.metrics import Scores, binary_operating_points, evaluate


def binary(seed: int, n: int = 800, rate: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < rate
    s = np.where(y, rng.normal(0.62, 0.18, n), rng.normal(0.38, 0.18, n))
    return y, np.round(np.clip(s, 0, 1), 3)  # rounded: many tied scores


def brute_force(y: np.ndarray, s: np.ndarray) -> list[dict[str, float]]:
    """The confusion numbers at every threshold that predicts at least one positive."""
    out = []
    for t in np.unique(s):
        pred = s >= t
        tp = int((pred & y).sum())
        fp = int((pred & ~y).sum())
        fn = int((~pred & y).sum())
        tn = int((~pred & ~y).sum())
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(
            {
                "t": float(t),
                "tpr": recall,
                "spec": tn / (tn + fp),
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
    return out


def at(y: np.ndarray, s: np.ndarray, t: float) -> dict[str, float]:
    pred = s >= t
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    return {
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("required", [0.5, 0.8, 0.9, 0.97])
def test_sensitivity_at_specificity_is_the_best_one(seed: int, required: float) -> None:
    y, s = binary(seed)
    found = binary_operating_points(
        np.where(y, "p", "n").tolist(), s, "p", at_specificity=required
    )["at_specificity"]
    candidates = [r for r in brute_force(y, s) if r["spec"] >= required]
    best = max(r["tpr"] for r in candidates)
    assert best > 0  # a threshold that predicts nothing would meet any specificity
    assert found["sensitivity"] == pytest.approx(best)
    assert found["specificity"] >= required
    # the threshold given is one that gives those numbers
    measured = at(y, s, found["threshold"])
    assert measured["sensitivity"] == pytest.approx(found["sensitivity"])
    assert measured["specificity"] == pytest.approx(found["specificity"])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("required", [0.3, 0.6, 0.8, 0.95])
def test_precision_at_recall_is_the_best_one(seed: int, required: float) -> None:
    y, s = binary(seed)
    found = binary_operating_points(np.where(y, "p", "n").tolist(), s, "p", at_recall=required)[
        "at_recall"
    ]
    candidates = [r for r in brute_force(y, s) if r["recall"] >= required]
    best = max(r["precision"] for r in candidates)
    worst = min(r["precision"] for r in candidates)
    assert best > worst  # the data can tell the best precision from the worst
    assert found["precision"] == pytest.approx(best)
    assert found["recall"] >= required
    assert at(y, s, found["threshold"])["precision"] == pytest.approx(best)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_youden_and_f1_optimal_thresholds(seed: int) -> None:
    y, s = binary(seed)
    points = binary_operating_points(np.where(y, "p", "n").tolist(), s, "p")
    table = brute_force(y, s)
    best_j = max(r["tpr"] + r["spec"] - 1 for r in table)
    youden = points["youden"]
    assert youden["sensitivity"] + youden["specificity"] - 1 == pytest.approx(best_j)
    measured = at(y, s, youden["threshold"])
    assert measured["sensitivity"] == pytest.approx(youden["sensitivity"])
    assert measured["specificity"] == pytest.approx(youden["specificity"])
    best_f1 = max(r["f1"] for r in table)
    f1 = points["f1_optimal"]
    assert f1["f1"] == pytest.approx(best_f1)
    check = next(r for r in table if r["t"] == pytest.approx(f1["threshold"]))
    assert check["f1"] == pytest.approx(best_f1)
    assert (f1["precision"], f1["recall"]) == pytest.approx((check["precision"], check["recall"]))


def multiclass(seed: int, n: int = 700) -> tuple[list[str], list[str], Scores]:
    rng = np.random.default_rng(seed)
    classes = ["a", "b", "c", "d"]
    y = rng.choice(classes, size=n, p=[0.6, 0.25, 0.1, 0.05])
    logits = rng.normal(size=(n, 4)) + 1.5 * (y[:, None] == np.array(classes)[None, :])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = np.array(classes)[proba.argmax(axis=1)]
    return y.tolist(), pred.tolist(), Scores(classes, proba)


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_score_numbers_from_their_definitions(seed: int) -> None:
    y, pred, scores = multiclass(seed)
    report = evaluate(y, pred, scores=scores).report
    truth = np.array(y)
    onehot = (truth[:, None] == np.array(scores.classes)[None, :]).astype(float)
    # Brier: the squared error summed over the classes, averaged over the rows
    brier = float(np.mean(np.sum((scores.matrix - onehot) ** 2, axis=1)))
    assert report["scores"]["brier"] == pytest.approx(brier, rel=1e-12)
    per_class = [
        average_precision_score(truth == c, scores.matrix[:, j])
        for j, c in enumerate(scores.classes)
    ]
    assert report["scores"]["pr_auc_macro"] == pytest.approx(np.mean(per_class), rel=1e-12)
    assert max(per_class) - np.mean(per_class) > 0.01  # the mean is not the max here
    for j, c in enumerate(scores.classes):
        assert report["scores"]["pr_auc"][c] == pytest.approx(per_class[j], rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_row_normalised_confusion_matrix(seed: int) -> None:
    y, pred, scores = multiclass(seed)
    report = evaluate(y, pred, scores=scores).report
    labels = report["confusion_matrix"]["labels"]
    expected = confusion_matrix(y, pred, labels=labels, normalize="true")
    got = np.array(report["confusion_matrix"]["normalized"], dtype=float)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(
        report["confusion_matrix"]["counts"], confusion_matrix(y, pred, labels=labels)
    )
