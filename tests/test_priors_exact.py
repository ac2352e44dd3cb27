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


# ---------------------------------------------------------------- adjust, end to end


def predictions() -> pa.Table:
    """Three classes' scores (columns in unsorted order) and other columns to keep."""
    return pa.table(
        {
            "id": pa.array(["r1", "r2", "r3", "r4"]),
            "p_b": [0.30, 0.10, 0.45, 0.20],
            "p_a": [0.60, 0.20, 0.45, 0.30],
            "p_c": [0.10, 0.70, 0.10, 0.50],
            "note": pa.array([1, 2, 3, 4], pa.int16()),
        }
    )


MATRIX = np.array([[0.60, 0.30, 0.10], [0.20, 0.10, 0.70], [0.45, 0.45, 0.10], [0.30, 0.20, 0.50]])


def test_adjust_adds_bayes_rule_columns_and_keeps_every_other_one() -> None:
    from rebalance.priors import adjust

    result = adjust(
        predictions(),
        train_priors={"a": 6, "b": 3, "c": 1},
        target_priors={"a": 1, "b": 2, "c": 1},
    )
    train = np.array([0.6, 0.3, 0.1])
    target = np.array([0.25, 0.5, 0.25])
    raw = MATRIX * target / train
    expected = raw / raw.sum(axis=1, keepdims=True)
    table = result.table
    assert table.column_names == [
        *predictions().column_names,
        "adjusted_p_a",
        "adjusted_p_b",
        "adjusted_p_c",
        "adjusted_pred",
    ]
    assert table.select(predictions().column_names).equals(predictions())
    for j, c in enumerate("abc"):
        column = table.column(f"adjusted_p_{c}")
        assert column.type == pa.float64()
        np.testing.assert_allclose(column.to_numpy(), expected[:, j], rtol=1e-12, atol=0)
    assert table.column("adjusted_pred").type == pa.string()
    assert table.column("adjusted_pred").to_pylist() == [
        "abc"[int(i)] for i in expected.argmax(axis=1)
    ]
    assert result.classes == ["a", "b", "c"]
    assert result.train_priors == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1}, rel=1e-12)
    assert result.target.method == "file"
    assert result.target.priors == pytest.approx({"a": 0.25, "b": 0.5, "c": 0.25}, rel=1e-12)
    before, after = MATRIX.argmax(axis=1), expected.argmax(axis=1)
    assert result.changed == int((before != after).sum()) > 0
    assert result.source == "predictions"
    assert result.warnings == []


def test_adjust_with_a_uniform_target_and_with_em() -> None:
    from rebalance.priors import adjust

    uniform = adjust(predictions(), train_priors={"a": 6, "b": 3, "c": 1}, target_priors="uniform")
    assert uniform.target == PriorEstimate({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, "uniform")
    em = adjust(
        predictions(), train_priors={"a": 6, "b": 3, "c": 1}, estimate="em", tol=1e-10, max_iter=500
    )
    # EM by hand: priors <- mean of the scores shifted to the current priors
    train = np.array([0.6, 0.3, 0.1])
    priors, steps = train.copy(), 0
    while True:
        steps += 1
        raw = MATRIX * priors / train
        new = (raw / raw.sum(axis=1, keepdims=True)).mean(axis=0)
        moved, priors = np.abs(new - priors).max(), new
        if moved < 1e-10:
            break
    assert em.target.method == "em"
    assert em.target.iterations == steps and em.target.converged is True
    assert list(em.target.priors.values()) == pytest.approx(list(priors), rel=1e-9)
    capped = adjust(predictions(), train_priors={"a": 6, "b": 3, "c": 1}, estimate="em", max_iter=2)
    assert (capped.target.iterations, capped.target.converged) == (2, False)


def validation() -> pa.Table:
    # argmax classes: a, a, b, c, c, b; truth: a, b, b, c, a, b
    return pa.table(
        {
            "y_true": ["a", "b", "b", "c", "a", "b"],
            "p_a": [0.7, 0.5, 0.2, 0.1, 0.2, 0.3],
            "p_b": [0.2, 0.3, 0.6, 0.2, 0.3, 0.4],
            "p_c": [0.1, 0.2, 0.2, 0.7, 0.5, 0.3],
        }
    )


def test_adjust_with_bbse_is_lipton_et_al_by_hand() -> None:
    from rebalance.priors import adjust

    result = adjust(
        predictions(),
        train_priors={"a": 6, "b": 3, "c": 1},
        estimate="bbse",
        val_predictions=validation(),
    )
    pred = [0, 0, 1, 2, 2, 1]
    true = [0, 1, 1, 2, 0, 1]
    joint = np.zeros((3, 3))
    for i, j in zip(pred, true, strict=True):
        joint[i, j] += 1 / 6
    mu = np.bincount(MATRIX.argmax(axis=1), minlength=3) / 4
    w = np.clip(np.linalg.lstsq(joint, mu, rcond=None)[0], 0, None)
    expected = w * np.bincount(true, minlength=3) / 6
    assert result.target.method == "bbse"
    assert list(result.target.priors.values()) == pytest.approx(
        list(expected / expected.sum()), rel=1e-12
    )
    assert result.target.to_dict() == {"method": "bbse", "priors": result.target.priors}


@pytest.mark.parametrize(
    "options,message",
    [
        ({}, "give the target priors: --target-priors or --estimate (one)"),
        (
            {"target_priors": "uniform", "estimate": "em"},
            "give the target priors: --target-priors or --estimate (one)",
        ),
        (
            {"estimate": "em", "val_predictions": "x"},
            "--val-preds is for --estimate bbse (em needs only the test scores)",
        ),
        (
            {"estimate": "bbse"},
            "--estimate bbse needs labelled validation predictions (--val-preds FILE)",
        ),
        ({"estimate": "mle"}, "--estimate 'mle' is not a method (methods: em, bbse)"),
        (
            {"target_priors": {"a": 1, "b": 1}},
            "--target-priors has no prior for class(es) 'c' (the score columns' classes: a, b, c)",
        ),
    ],
)
def test_target_estimate_messages(options: dict[str, object], message: str) -> None:
    from rebalance.priors import adjust

    with pytest.raises(RebalanceError) as error:
        adjust(predictions(), train_priors={"a": 6, "b": 3, "c": 1}, **options)  # type: ignore[arg-type]
    assert str(error.value) == message


def test_a_target_prior_of_zero_is_allowed_and_takes_no_mass() -> None:
    from rebalance.priors import adjust

    result = adjust(
        predictions(), train_priors={"a": 6, "b": 3, "c": 1}, target_priors={"a": 1, "b": 1, "c": 0}
    )
    assert result.target.priors == {"a": 0.5, "b": 0.5, "c": 0.0}
    assert result.table.column("adjusted_p_c").to_pylist() == [0.0] * 4


def test_validation_predictions_must_match_the_test_classes() -> None:
    from rebalance.priors import adjust

    train = {"a": 6, "b": 3, "c": 1}
    other = validation().rename_columns(["y_true", "p_a", "p_b", "p_d"])
    with pytest.raises(RebalanceError) as mismatch:
        adjust(predictions(), train_priors=train, estimate="bbse", val_predictions=other)
    assert str(mismatch.value) == (
        "--val-preds predictions: its score columns' classes (a, b, d) are not the test file's (a, b, c)"
    )
    unknown = validation().set_column(0, "y_true", pa.array(["a", "b", "q", "c", "a", "zz"]))
    with pytest.raises(RebalanceError) as labels:
        adjust(predictions(), train_priors=train, estimate="bbse", val_predictions=unknown)
    assert str(labels.value) == (
        "--val-preds predictions: true label(s) 'q', 'zz' have no score column"
    )
    renamed = validation().rename_columns(["answer", "p_a", "p_b", "p_c"])
    found = adjust(
        predictions(),
        train_priors=train,
        estimate="bbse",
        val_predictions=renamed,
        true_col="answer",
    )
    assert (
        found.target.priors
        == adjust(
            predictions(), train_priors=train, estimate="bbse", val_predictions=validation()
        ).target.priors
    )
    with pytest.raises(RebalanceError, match="--true-col"):
        adjust(predictions(), train_priors=train, estimate="bbse", val_predictions=renamed)


def test_bbse_from_refuses_unlabelled_validation_rows() -> None:
    from rebalance.priors import bbse_from

    scores = validation().select(["p_a", "p_b", "p_c"]).to_pandas().to_numpy()
    truth: list[str | None] = ["a", None, "b", "c", None, "b"]
    with pytest.raises(RebalanceError) as missing:
        bbse_from(["a", "b", "c"], truth, scores, MATRIX, where="v.csv")
    assert str(missing.value) == (
        "v.csv: row 2 has no true label (2 row(s) like it); BBSE needs every validation row labelled"
    )
    full = bbse_from(["a", "b", "c"], ["a", "b", "b", "c", "a", "b"], scores, MATRIX, where="v")
    assert full.method == "bbse" and list(full.priors) == ["a", "b", "c"]


def test_adjust_refuses_to_overwrite_its_own_columns() -> None:
    from rebalance.priors import adjust

    train = {"a": 6, "b": 3, "c": 1}
    clash = predictions().append_column("adjusted_p_b", pa.array([0.0] * 4))
    with pytest.raises(RebalanceError) as column:
        adjust(clash, train_priors=train, target_priors="uniform")
    assert str(column.value) == (
        "predictions: column 'adjusted_p_b' already exists (rename it first)"
    )
    pred = predictions().append_column("adjusted_pred", pa.array(["a"] * 4))
    with pytest.raises(RebalanceError) as column:
        adjust(pred, train_priors=train, target_priors="uniform")
    assert str(column.value) == (
        "predictions: column 'adjusted_pred' already exists (rename it first)"
    )


def test_adjust_file_writes_the_table_and_the_priors_document(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from rebalance.priors import adjust, adjust_file

    source = tmp_path / "preds.csv"
    pacsv.write_csv(predictions().drop_columns(["note"]), source)
    out, sidecar = tmp_path / "adjusted.parquet", tmp_path / "priors.json"
    result = adjust_file(
        source, out, priors_out=sidecar, train_priors={"a": 6, "b": 3, "c": 1}, estimate="em"
    )
    assert pq.read_table(out).equals(result.table)
    document = json.loads(sidecar.read_text())
    assert document == json.loads(json.dumps(result.to_dict()))
    assert document["source"] == str(source) and document["rows"] == 4
    in_memory = adjust(source, train_priors={"a": 6, "b": 3, "c": 1}, estimate="em")
    assert in_memory.table.equals(result.table)
    # the format of a file output follows its name; a JSONL output is JSONL
    jsonl = tmp_path / "adjusted.jsonl"
    adjust_file(source, jsonl, train_priors={"a": 6, "b": 3, "c": 1}, target_priors="uniform")
    lines = jsonl.read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["id"] == "r1"
    assert not (tmp_path / "priors.json.tmp").exists()
    # a TSV input is read as TSV when named so, even under another name
    tsv = tmp_path / "preds.data"
    tsv.write_text(source.read_text().replace(",", "\t"))
    renamed = adjust_file(
        tsv,
        tmp_path / "t.csv",
        input_format="tsv",
        train_priors={"a": 6, "b": 3, "c": 1},
        target_priors="uniform",
    )
    assert renamed.table.num_rows == 4
    # neither file is written when the second cannot be
    with pytest.raises(RebalanceError):
        adjust_file(
            source,
            tmp_path / "never.csv",
            priors_out=tmp_path / "missing" / "p.json",
            train_priors={"a": 6, "b": 3, "c": 1},
            target_priors="uniform",
        )
    assert not (tmp_path / "never.csv").exists()
    # an output onto the input is refused, and the input is untouched
    before = source.read_bytes()
    with pytest.raises(RebalanceError):
        adjust_file(source, source, train_priors={"a": 6, "b": 3, "c": 1}, target_priors="uniform")
    assert source.read_bytes() == before
