"""The confusion-matrix metrics equal scikit-learn's and imbalanced-learn's, number for number."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
)

from rebalance import confusion as cf
from rebalance.metrics import Scores, bootstrap_intervals, classification_metrics

LABELS = ["01", "1", "a", "b", "cat", "é"]


def close(a: float | None, b: float) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return math.isnan(b)
    return a == pytest.approx(b, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(LABELS[:4]), st.sampled_from(LABELS)), min_size=2, max_size=80
    )
)
def test_count_metrics_equal_sklearn(pairs: list[tuple[str, str]]) -> None:
    y = [t for t, _ in pairs]
    p = [q for _, q in pairs]
    coded = cf.encode(y, p)
    cm = cf.confusion(coded.y_true, coded.y_pred, coded.k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert close(cf.accuracy(cm), accuracy_score(y, p))
        assert close(cf.balanced_accuracy(cm), balanced_accuracy_score(y, p))
        assert close(cf.kappa(cm), cohen_kappa_score(y, p))
        assert close(cf.mcc(cm), matthews_corrcoef(y, p))
        assert close(cf.macro_f1(cm), f1_score(y, p, average="macro", zero_division=0))
        occurring = cf.geometric_mean(cm, cf._occurring(cm))
        assert close(occurring, geometric_mean_score(y, p, average="multiclass"))
        truth = sorted(set(y))
        in_truth = np.isin(coded.labels, truth)
        assert close(
            cf.geometric_mean(cm, in_truth),
            geometric_mean_score(y, p, labels=truth, average="multiclass"),
        )
        report = classification_metrics(y, p)
    assert report["confusion_matrix"]["labels"] == sorted(set(y) | set(p))  # "01" stays "01"


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0])),
        min_size=2,
        max_size=60,
    )
)
def test_ranking_metrics_equal_sklearn_with_ties(data: list[tuple[bool, float]]) -> None:
    positive = np.array([d[0] for d in data])
    score = np.array([d[1] for d in data])
    if positive.all() or not positive.any():
        assert math.isnan(cf.roc_auc(positive, score))
        return
    assert cf.roc_auc(positive, score) == pytest.approx(roc_auc_score(positive, score), abs=1e-12)
    assert cf.average_precision(positive, score) == pytest.approx(
        average_precision_score(positive, score), abs=1e-12
    )


def test_bootstrap_equals_sklearn_on_the_same_resamples() -> None:
    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b", "c"], size=300, p=[0.7, 0.2, 0.1])
    p = np.where(rng.random(300) < 0.7, y, rng.choice(["a", "b", "c", "zz"], size=300))
    proba = rng.dirichlet([1, 1, 1], size=300)
    scores = Scores(["a", "b", "c"], proba)
    got = bootstrap_intervals(y.tolist(), p.tolist(), scores, n=30, seed=5)
    draws: dict[str, list[float]] = {k: [] for k in got if k not in ("resamples", "seed", "level")}
    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(30):
            idx = rng.integers(0, 300, 300)
            t, q = y[idx], p[idx]
            draws["accuracy"].append(accuracy_score(t, q))
            draws["balanced_accuracy"].append(balanced_accuracy_score(t, q))
            draws["macro_f1"].append(f1_score(t, q, average="macro", zero_division=0))
            draws["mcc"].append(matthews_corrcoef(t, q))
            draws["kappa"].append(cohen_kappa_score(t, q))
            draws["geometric_mean"].append(geometric_mean_score(t, q, average="multiclass"))
            draws["roc_auc"].append(
                np.mean([roc_auc_score(t == c, proba[idx, j]) for j, c in enumerate("abc")])
            )
    for name, values in draws.items():
        assert got[name]["low"] == pytest.approx(np.percentile(values, 2.5), abs=1e-12), name
        assert got[name]["high"] == pytest.approx(np.percentile(values, 97.5), abs=1e-12), name
