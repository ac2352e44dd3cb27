"""Prior shift, exactly: Bayes' rule, EM and BBSE on small cases worked out by hand, every
message of the prior readers, and the sidecar document (the module's mutation score is
in the README)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from rebalance.errors import RebalanceError
from rebalance.priors import (
    AdjustResult,
    PriorEstimate,
    _vector,
    estimate_bbse,
    estimate_em,
    priors_from_counts,
    read_prior_file,
    shift,
    train_priors_of,
)


def test_shift_is_bayes_rule_row_by_row() -> None:
    matrix = np.array([[0.8, 0.2], [0.5, 0.5], [0.0, 1.0]])
    train = np.array([0.8, 0.2])
    target = np.array([0.5, 0.5])
    # p'(c|x) ∝ p(c|x) π_target(c) / π_train(c)
    raw = matrix * np.array([0.5 / 0.8, 0.5 / 0.2])
    np.testing.assert_allclose(shift(matrix, train, target), raw / raw.sum(axis=1, keepdims=True))
    # a row whose mass sits on a class with target prior 0 keeps its scores
    zero = shift(np.array([[0.0, 1.0], [0.6, 0.4]]), train, np.array([1.0, 0.0]))
    np.testing.assert_allclose(zero, [[0.0, 1.0], [1.0, 0.0]])


def test_em_from_its_definition() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.dirichlet([1.0, 2.0, 0.5], size=50)
    train = np.array([0.5, 0.3, 0.2])
    priors, step, moved = train.copy(), 0, 1.0
    while moved >= 1e-10:
        step += 1
        new = shift(matrix, train, priors).mean(axis=0)
        moved = float(np.abs(new - priors).max())
        priors = new
    got, iterations, converged = estimate_em(matrix, train, tol=1e-10)
    np.testing.assert_allclose(got, priors, rtol=0, atol=1e-15)
    assert converged and iterations == step
    capped, ran, done = estimate_em(matrix, train, tol=1e-10, max_iter=2)
    assert ran == 2 and done is False
    np.testing.assert_allclose(
        capped, shift(matrix, train, shift(matrix, train, train).mean(0)).mean(0)
    )


def test_bbse_on_a_worked_example() -> None:
    # validation: a perfect classifier on 3 rows of class 0 and 1 of class 1
    val_true = np.array([0, 0, 0, 1])
    val_pred = np.array([0, 0, 0, 1])
    test_pred = np.array([0, 1, 1, 1])  # the test set is 1/4 class 0
    np.testing.assert_allclose(estimate_bbse(val_true, val_pred, test_pred, 2), [0.25, 0.75])
    with pytest.raises(RebalanceError) as refused:
        estimate_bbse(np.array([0, 0]), np.array([0, 0]), np.array([1, 1]), 2)
    assert str(refused.value) == (
        "bbse: the estimate is all zero (the validation predictions say too little about the "
        "test predictions); use --estimate em"
    )


def test_read_prior_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"a": 3, "b": 1.5, "c": 0}')
    assert read_prior_file(str(path), "--target-priors") == {"a": 3.0, "b": 1.5, "c": 0.0}
    assert read_prior_file({"x": 1}, "--train-priors") == {"x": 1.0}
    cases = [
        ("[1, 2]", "--target-priors: expected a JSON object of label: prior"),
        ("{}", "--target-priors: expected a JSON object of label: prior"),
        ('{"a": "1"}', "--target-priors: the prior of 'a' is not a number ('1')"),
        ('{"a": true}', "--target-priors: the prior of 'a' is not a number (True)"),
        ('{"a": NaN}', "--target-priors: the prior of 'a' is not a number (nan)"),
        ('{"a": -0.5}', "--target-priors: the prior of 'a' is negative (-0.5)"),
        ('{"a": 0, "b": 0}', "--target-priors: every prior is 0"),
    ]
    for content, message in cases:
        path.write_text(content)
        with pytest.raises(RebalanceError) as refused:
            read_prior_file(str(path), "--target-priors")
        assert str(refused.value) == message
    path.write_text("{nope")
    with pytest.raises(RebalanceError) as bad:
        read_prior_file(str(path), "--target-priors")
    assert str(bad.value).startswith(f"--target-priors {path}: not JSON (")
    with pytest.raises(RebalanceError) as missing:
        read_prior_file(str(tmp_path / "none.json"), "--train-priors")
    assert str(missing.value) == (
        f"--train-priors {tmp_path / 'none.json'}: cannot read (No such file or directory)"
    )


def test_prior_vectors() -> None:
    np.testing.assert_allclose(
        _vector({"a": 3, "b": 1}, ["b", "a"], "--f", positive=True), [0.25, 0.75]
    )
    np.testing.assert_allclose(_vector({"a": 0, "b": 2}, ["a", "b"], "--f", positive=False), [0, 1])
    cases = [
        (({"a": 1}, ["a", "b", "c"], True), "--f has no prior for class(es) 'b', 'c' (the score columns' classes: a, b, c)"),
        (({"a": 0, "b": 1}, ["a", "b"], True), "--f: class(es) 'a' have a prior of 0; Bayes' rule divides by the training prior, so every class needs training rows"),
        (({"a": 0, "b": 0}, ["a", "b"], False), "--f: every prior is 0"),
    ]  # fmt: skip
    for (priors, classes, positive), message in cases:
        with pytest.raises(RebalanceError) as refused:
            _vector(priors, classes, "--f", positive=positive)
        assert str(refused.value) == message


def test_priors_from_counts_and_train_priors_of(tmp_path: Path) -> None:
    np.testing.assert_allclose(
        priors_from_counts({"a": 6, "b": 2}, ["a", "b"], flag="--m"), [0.75, 0.25]
    )
    with pytest.raises(RebalanceError) as refused:
        priors_from_counts({"a": 6, "b": 0}, ["a", "b", "c"], flag="--m")
    assert str(refused.value) == (
        "--m: class(es) 'b', 'c' have no training rows; Bayes' rule divides by the training "
        "prior (check the label column, or give --train-priors)"
    )
    manifest = tmp_path / "train.csv"
    manifest.write_text("kind,part\na,train\na,train\nb,train\nb,test\nb,test\n")
    got = train_priors_of(["a", "b"], train_manifest=str(manifest), train_label_col="kind",
                          train_split_col="part")  # fmt: skip
    np.testing.assert_allclose(got, [2 / 3, 1 / 3])
    with pytest.raises(RebalanceError) as only_test:  # the test split has no class a
        train_priors_of(["a", "b"], train_manifest=str(manifest), train_label_col="kind",
                        train_split_col="part", train_split="test")  # fmt: skip
    assert str(only_test.value).startswith(
        f"--train-manifest {manifest}: class(es) 'a' have no training rows"
    )
    priors = tmp_path / "p.json"
    priors.write_text('{"a": 1, "b": 3}')
    np.testing.assert_allclose(train_priors_of(["b", "a"], train_priors=str(priors)), [0.75, 0.25])
    for kwargs in ({}, {"train_manifest": str(manifest), "train_priors": str(priors)}):
        with pytest.raises(RebalanceError) as either:
            train_priors_of(["a", "b"], **kwargs)  # type: ignore[arg-type]
        assert (
            str(either.value)
            == "give the training priors: --train-manifest or --train-priors (one)"
        )


def test_the_sidecar_document() -> None:
    em = PriorEstimate({"a": 0.4, "b": 0.6}, "em", iterations=7, converged=True)
    assert em.to_dict() == {
        "method": "em",
        "priors": {"a": 0.4, "b": 0.6},
        "iterations": 7,
        "converged": True,
    }
    assert PriorEstimate({"a": 1.0}, "file").to_dict() == {"method": "file", "priors": {"a": 1.0}}
    result = AdjustResult(
        table=pa.table({"x": [1, 2, 3]}), classes=["a", "b"], train_priors={"a": 0.5, "b": 0.5},
        target=em, changed=2, source="p.csv",
    )  # fmt: skip
    assert result.to_dict() == {
        "source": "p.csv",
        "classes": ["a", "b"],
        "train_priors": {"a": 0.5, "b": 0.5},
        "target_priors": {"a": 0.4, "b": 0.6},
        "estimate": {
            "method": "em",
            "priors": {"a": 0.4, "b": 0.6},
            "iterations": 7,
            "converged": True,
        },
        "rows": 3,
        "changed_predictions": 2,
    }
    assert json.loads(json.dumps(result.to_dict())) == result.to_dict()
