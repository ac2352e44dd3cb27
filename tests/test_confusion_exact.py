"""Confusion counts, exactly: the averages against scikit-learn and imbalanced-learn,
the empty and absent-class corners, and label encoding of every input type (the module's
mutation score is in the README)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from imblearn.metrics import sensitivity_specificity_support
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from rebalance.confusion import (
    Counts,
    accuracy,
    averages,
    confusion,
    encode,
    headline,
    macro_f1,
)


def data(seed: int, n: int = 300) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    noise = rng.random(n) < 0.35
    pred = np.where(noise, rng.choice(["a", "b", "c"], size=n), y)
    return y.tolist(), pred.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_average_equals_the_references(seed: int) -> None:
    y, pred = data(seed)
    coded = encode(y, pred)
    got = averages(Counts.of(confusion(coded.y_true, coded.y_pred, coded.k)))
    for average in ("macro", "weighted", "micro"):
        p, r, f, _ = precision_recall_fscore_support(y, pred, average=average, zero_division=0)
        _, spec, _ = sensitivity_specificity_support(y, pred, average=average)
        expected = {"precision": p, "recall": r, "f1": f, "specificity": spec}
        assert got[average] == {k: pytest.approx(v, rel=1e-12) for k, v in expected.items()}


def test_a_class_never_predicted_and_one_never_true() -> None:
    y = ["a", "a", "b", "b", "a"]
    pred = ["a", "c", "a", "a", "a"]  # b never predicted, c never true
    coded = encode(y, pred)
    assert coded.labels == ["a", "b", "c"]
    cm = confusion(coded.y_true, coded.y_pred, coded.k)
    assert cm.dtype == np.int64 and cm.tolist() == [[2, 0, 1], [2, 0, 0], [0, 0, 0]]
    got = averages(Counts.of(cm))
    for average in ("macro", "weighted", "micro"):
        p, r, f, _ = precision_recall_fscore_support(y, pred, average=average, zero_division=0)
        _, spec, _ = sensitivity_specificity_support(y, pred, average=average)
        assert got[average]["precision"] == pytest.approx(p)
        assert got[average]["recall"] == pytest.approx(r)
        assert got[average]["f1"] == pytest.approx(f)
        assert got[average]["specificity"] == pytest.approx(spec)
    # macro F1 over the labels that occur, as f1_score without labels
    assert macro_f1(cm) == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
    only = np.array([[3, 0, 0], [1, 1, 0], [0, 0, 0]])  # class c neither true nor predicted
    assert macro_f1(only) == pytest.approx(
        f1_score([0, 0, 0, 1, 1], [0, 0, 0, 0, 1], average="macro")
    )
    assert headline(only)["macro_f1"] == macro_f1(only)
    assert headline(only)["accuracy"] == pytest.approx(0.8)
    from imblearn.metrics import geometric_mean_score

    # G-mean over the classes that occur (class c would make it 0)
    assert headline(only)["geometric_mean"] == pytest.approx(
        geometric_mean_score([0, 0, 0, 1, 1], [0, 0, 0, 0, 1])
    )
    assert headline(only)["geometric_mean"] > 0


def test_micro_averages_at_half_right() -> None:
    # tp = fp = fn = tn = 2 summed over both classes: no denominator may be mistaken for 0
    got = averages(Counts.of(confusion(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), 2)))
    assert got["micro"] == {"precision": 0.5, "recall": 0.5, "specificity": 0.5, "f1": 0.5}


def test_an_empty_matrix_is_all_zeros() -> None:
    empty = np.zeros((2, 2), dtype=np.int64)
    assert accuracy(empty) == 0.0
    got = averages(Counts.of(empty))
    assert got == {
        "macro": {"precision": 0.0, "recall": 0.0, "specificity": 0.0, "f1": 0.0},
        "weighted": {"precision": 0.0, "recall": 0.0, "specificity": 0.0, "f1": 0.0},
        "micro": {"precision": 0.0, "recall": 0.0, "specificity": 0.0, "f1": 0.0},
    }


def test_accuracy_and_the_headline_numbers() -> None:
    y, pred = data(3)
    coded = encode(y, pred)
    cm = confusion(coded.y_true, coded.y_pred, coded.k)
    assert accuracy(cm) == pytest.approx(accuracy_score(y, pred))
    assert set(headline(cm)) == {
        "accuracy", "balanced_accuracy", "macro_f1", "mcc", "kappa", "geometric_mean",
    }  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [
        lambda v: v,
        lambda v: pa.array(v),
        lambda v: pa.chunked_array([v[:2], v[2:]]),
        lambda v: np.array(v),
    ],
    ids=["list", "array", "chunked", "numpy"],
)
def test_encode_takes_any_sequence_of_labels(make) -> None:  # type: ignore[no-untyped-def]
    y = [1, 10, 2, 1]
    pred = [2, 2, 10, 1]
    coded = encode(make(y), make(pred))
    assert coded.labels == ["1", "10", "2"]  # text, sorted as text (as scikit-learn sorts str)
    assert coded.y_true.dtype == np.int64
    assert coded.y_true.tolist() == [0, 1, 2, 0] and coded.y_pred.tolist() == [2, 2, 1, 0]
    mixed = encode(["a", 3, None], ["a", "3", "a"])
    assert mixed.labels == ["3", "None", "a"]  # callers pass labels without gaps


def test_rank_based_curves_equal_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(5)
    from rebalance.confusion import average_precision, roc_auc

    positive = rng.random(400) < 0.2
    score = np.round(rng.random(400) * 0.6 + positive * 0.3, 2)  # many ties
    assert roc_auc(positive, score) == pytest.approx(roc_auc_score(positive, score), rel=1e-12)
    assert average_precision(positive, score) == pytest.approx(
        average_precision_score(positive, score), rel=1e-12
    )
    assert math.isnan(roc_auc(np.zeros(3, bool), np.arange(3.0)))
    assert math.isnan(roc_auc(np.ones(3, bool), np.arange(3.0)))
    assert math.isnan(average_precision(np.zeros(3, bool), np.arange(3.0)))
    # one positive at the top: AP 1; at the bottom of three: 1/3
    assert average_precision(np.array([True, False, False]), np.array([0.9, 0.5, 0.1])) == 1.0
    assert average_precision(np.array([False, False, True]), np.array([0.9, 0.5, 0.1])) == (
        pytest.approx(1 / 3)
    )
