"""Prior shift, exactly: Bayes' rule, EM and BBSE on small cases worked out by hand, every
message of the prior readers, and the sidecar document (the module's mutation score is
in the README)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from rebalance.counts import TrainingSource
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
    trained = TrainingSource(str(manifest), label_col="kind", split_col="part")
    got = train_priors_of(["a", "b"], train_manifest=trained)
    np.testing.assert_allclose(got, [2 / 3, 1 / 3])
    with pytest.raises(RebalanceError) as only_test:  # the test split has no class a
        train_priors_of(["a", "b"], train_manifest=replace(trained, split="test"))
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


# ---------------------------------------------------------------- reading the scores, exactly


def test_read_scores_from_a_prefix_or_from_named_columns() -> None:
    from rebalance.priors import read_scores

    table, scores, cols, where = read_scores(predictions())
    assert table.equals(predictions()) and where == "predictions"
    assert scores.classes == ["a", "b", "c"] and cols == ["p_a", "p_b", "p_c"]
    np.testing.assert_array_equal(scores.matrix, MATRIX)
    # a bare prefix column ("p_" alone) names no class
    _, bare, _, _ = read_scores(predictions().append_column("p_", pa.array([0.0] * 4)))
    assert bare.classes == ["a", "b", "c"]
    other = predictions().rename_columns(["id", "s:b", "s:a", "s:c", "note"])
    _, prefixed, cols, _ = read_scores(other, proba_prefix="s:")
    assert prefixed.classes == ["a", "b", "c"] and cols == ["s:a", "s:b", "s:c"]
    # named columns: comma lists and repeats, spaces and empty parts ignored
    _, named, cols, _ = read_scores(predictions(), proba_cols=[" p_c , p_a,", "p_b", ""])
    assert named.classes == ["p_a", "p_b", "p_c"] and cols == ["p_a", "p_b", "p_c"]
    np.testing.assert_array_equal(named.matrix, MATRIX)
    # with a prefix too, the prefix is taken off the class names
    _, stripped, _, _ = read_scores(predictions(), proba_cols=["p_a,p_b,p_c"], proba_prefix="p_")
    assert stripped.classes == ["a", "b", "c"]
    renamed = predictions().rename_columns(["id", "beta", "p_a", "p_c", "note"])
    _, mixed, cols, _ = read_scores(renamed, proba_cols=["p_a,beta,p_c"], proba_prefix="p_")
    assert mixed.classes == ["a", "beta", "c"] and cols == ["p_a", "beta", "p_c"]


def test_read_scores_reads_files_with_their_format_and_encoding(tmp_path: Path) -> None:
    from rebalance.priors import read_scores

    path = tmp_path / "scores.data"
    path.write_bytes("name\tp_a\tp_b\nZoë\t0.25\t0.75\n".encode("latin-1"))
    table, scores, _, where = read_scores(path, input_format="tsv", encoding="latin-1")
    assert where == str(path) and table.column("name").to_pylist() == ["Zoë"]
    np.testing.assert_array_equal(scores.matrix, [[0.25, 0.75]])
    utf8 = tmp_path / "scores.csv"
    utf8.write_text("name,p_a,p_b\nZoë,0.5,0.5\n", encoding="utf-8")
    assert read_scores(utf8)[0].column("name").to_pylist() == ["Zoë"]
    with pytest.raises(RebalanceError):  # the bytes are not UTF-8 and the name is not a format
        read_scores(path)


def test_read_scores_messages(tmp_path: Path) -> None:
    from rebalance.priors import read_scores

    header = tmp_path / "empty.csv"
    header.write_text("p_a,p_b\n")
    wide = pa.table({f"col{i:02d}": [1] for i in range(25)})
    eleven = pa.table({f"p_{c}": [0.1, 0.1, 0.5, 0.5] for c in "abcdefghijk"})
    cases = [
        ((header, {}), f"{header}: no data rows (header only)"),
        ((predictions().slice(0, 0), {}), "predictions: no data rows"),
        ((predictions(), {"proba_cols": ["p_a,p_z"]}), "predictions: no column 'p_z' (did you mean 'p_c'?)"),
        ((predictions(), {"proba_prefix": "score_"}), "predictions: no column starts with --proba-prefix 'score_' (columns: id, p_b, p_a, p_c, note)"),
        ((wide, {}), "predictions: no column starts with --proba-prefix 'p_' (columns: " + ", ".join(f"col{i:02d}" for i in range(20)) + ")"),
        ((predictions(), {"proba_cols": ["p_a"]}), "predictions: one score column (p_a); a prior shift needs one per class"),
        ((predictions().select(["id", "p_a"]), {}), "predictions: one score column (p_a); a prior shift needs one per class"),
        ((predictions().set_column(1, "p_b", pa.array(["x", "0.1", "0.4", "0.2"])), {}), "predictions: score column 'p_b' is not numeric"),
        ((predictions().set_column(3, "p_c", pa.array([0.1, 1.7, 0.1, 0.5])), {}), "predictions: score column 'p_c' has values outside [0, 1] (0.1 to 1.7); probabilities are expected (apply a softmax/sigmoid first)"),
        ((eleven, {}), "predictions: the scores of row 1 sum to 1.1, not 1 (4 row(s) like it); a prior shift needs probabilities over every class (p_a, p_b, p_c, p_d, p_e, p_f, p_g, p_h, p_i, p_j)"),
    ]  # fmt: skip
    for (source, options), message in cases:
        with pytest.raises(RebalanceError) as refused:
            read_scores(source, **options)  # type: ignore[arg-type]
        assert str(refused.value) == message
    third = predictions().set_column(1, "p_b", pa.array([0.30, 0.10, 0.40, 0.10]))
    with pytest.raises(RebalanceError) as row:
        read_scores(third)
    assert str(row.value).startswith(
        "predictions: the scores of row 3 sum to 0.95, not 1 (2 row(s) like it);"
    )
    # within 1e-3 of 1 is a probability row; the check can be turned off
    near = predictions().set_column(1, "p_b", pa.array([0.3009, 0.0991, 0.45, 0.2]))
    assert read_scores(near)[1].matrix[0, 1] == 0.3009
    np.testing.assert_array_equal(
        read_scores(third, check_sums=False)[1].matrix[2], [0.45, 0.4, 0.1]
    )


# ---------------------------------------------------------------- every option reaches its reader


def test_adjust_passes_the_score_options_through() -> None:
    from rebalance.priors import adjust

    train = {"a": 6, "b": 3, "c": 1}
    plain = adjust(predictions(), train_priors=train, target_priors="uniform")
    other = predictions().rename_columns(["id", "s:b", "s:a", "s:c", "note"])
    prefixed = adjust(other, train_priors=train, target_priors="uniform", proba_prefix="s:")
    assert prefixed.classes == ["a", "b", "c"]
    assert prefixed.table.column("adjusted_s:a").equals(plain.table.column("adjusted_p_a"))
    named = adjust(
        predictions(),
        train_priors={"p_a": 6, "p_b": 3, "p_c": 1},
        target_priors="uniform",
        proba_cols=["p_a,p_b,p_c"],
    )
    assert named.classes == ["p_a", "p_b", "p_c"]
    assert named.table.column("adjusted_p_c").equals(plain.table.column("adjusted_p_c"))
    # BBSE reads the validation file with the same score options
    val = validation().rename_columns(["y_true", "s:a", "s:b", "s:c"])
    bbse = adjust(
        other, train_priors=train, estimate="bbse", val_predictions=val, proba_prefix="s:"
    )
    same = adjust(predictions(), train_priors=train, estimate="bbse", val_predictions=validation())
    assert bbse.target == same.target
    by_name = adjust(
        predictions(),
        train_priors={"p_a": 6, "p_b": 3, "p_c": 1},
        estimate="bbse",
        val_predictions=validation()
        .rename_columns(["y_true", "p_a", "p_b", "p_c"])
        .set_column(0, "y_true", pa.array(["p_a", "p_b", "p_b", "p_c", "p_a", "p_b"])),
        proba_cols=["p_a", "p_b", "p_c"],
    )
    assert list(by_name.target.priors.values()) == list(same.target.priors.values())


def test_adjust_passes_the_file_and_training_options_through(tmp_path: Path) -> None:
    from rebalance.priors import adjust

    path = tmp_path / "scores.data"
    path.write_bytes("name\tp_a\tp_b\nZoë\t0.6\t0.4\nAl\t0.1\t0.9\n".encode("latin-1"))
    manifest = tmp_path / "train.csv"
    manifest.write_text("kind,part\na,train\na,train\na,train\nb,train\nb,test\nb,test\n")
    result = adjust(
        path,
        input_format="tsv",
        encoding="latin-1",
        train_manifest=TrainingSource(str(manifest), label_col="kind", split_col="part"),
        target_priors="uniform",
    )
    assert result.table.column("name").to_pylist() == ["Zoë", "Al"]
    assert result.train_priors == {"a": 0.75, "b": 0.25}
    with pytest.raises(RebalanceError) as only_b:  # the test split has no class a
        adjust(
            path,
            input_format="tsv",
            encoding="latin-1",
            train_manifest=TrainingSource(
                str(manifest), label_col="kind", split_col="part", split="test"
            ),
            target_priors="uniform",
        )
    assert str(only_b.value).startswith(
        f"--train-manifest {manifest}: class(es) 'a' have no training rows"
    )


def test_adjust_passes_the_em_options_through() -> None:
    from rebalance.priors import adjust, estimate_em

    train = {"a": 6, "b": 3, "c": 1}
    vector = np.array([0.6, 0.3, 0.1])
    for tol, max_iter in ((1e-2, 1000), (1e-12, 1000), (1e-12, 3)):
        result = adjust(
            predictions(), train_priors=train, estimate="em", tol=tol, max_iter=max_iter
        )
        priors, iterations, converged = estimate_em(MATRIX, vector, tol=tol, max_iter=max_iter)
        assert (result.target.iterations, result.target.converged) == (iterations, converged)
        assert list(result.target.priors.values()) == list(map(float, priors))
    assert adjust(predictions(), train_priors=train, estimate="em", tol=1e-2).target.iterations < (
        adjust(predictions(), train_priors=train, estimate="em").target.iterations or 0
    )


def test_adjust_file_to_stdout_and_in_a_named_format(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from rebalance.priors import adjust_file

    train = {"a": 6, "b": 3, "c": 1}
    source = tmp_path / "preds.data"
    source.write_bytes("id\tp_a\tp_b\tp_c\nZoë\t0.6\t0.3\t0.1\n".encode("latin-1"))
    result = adjust_file(
        source, "-", input_format="tsv", encoding="latin-1", train_priors=train,
        target_priors="uniform",
    )  # fmt: skip
    out = capsysbinary.readouterr().out.decode("utf-8")
    assert out.splitlines()[0].split("\t") == result.table.column_names  # stdout keeps TSV
    assert out.splitlines()[1].startswith("Zoë\t0.6\t")
    named = tmp_path / "adjusted.out"
    adjust_file(
        source, named, output_format="jsonl", input_format="tsv", encoding="latin-1",
        train_priors=train, target_priors="uniform",
    )  # fmt: skip
    assert json.loads(named.read_text(encoding="utf-8"))["id"] == "Zoë"
    adjust_file(
        source, tmp_path / "a.csv", priors_out="-", input_format="tsv", encoding="latin-1",
        train_priors=train, target_priors="uniform",
    )  # fmt: skip
    assert json.loads(capsysbinary.readouterr().out)["rows"] == 1
    before = source.read_bytes()
    with pytest.raises(RebalanceError) as onto:
        adjust_file(
            source, tmp_path / "b.csv", priors_out=source, input_format="tsv",
            encoding="latin-1", train_priors=train, target_priors="uniform",
        )  # fmt: skip
    assert str(onto.value) == f"{source}: refusing to overwrite the input (choose another -o)"
    assert source.read_bytes() == before and not (tmp_path / "b.csv").exists()


def test_the_lists_in_messages_stop_at_ten() -> None:
    from rebalance.priors import bbse_from

    classes = [f"c{i:02d}" for i in range(12)]
    with pytest.raises(RebalanceError) as absent:
        _vector({}, classes, "--f", positive=True)
    assert str(absent.value) == (
        "--f has no prior for class(es) " + ", ".join(repr(c) for c in classes[:10])
        + " (the score columns' classes: " + ", ".join(classes[:10]) + ")"
    )  # fmt: skip
    with pytest.raises(RebalanceError) as zero:
        _vector(dict.fromkeys(classes, 0.0) | {"c11": 1.0}, classes, "--f", positive=True)
    assert str(zero.value).startswith(
        "--f: class(es) " + ", ".join(repr(c) for c in classes[:10]) + " have a prior of 0;"
    )
    with pytest.raises(RebalanceError) as empty:
        priors_from_counts({"c11": 3}, classes, flag="--m")
    assert str(empty.value).startswith(
        "--m: class(es) " + ", ".join(repr(c) for c in classes[:10]) + " have no training rows;"
    )
    scores = np.full((12, 2), 0.5)
    truth = [f"z{i:02d}" for i in range(11, -1, -1)]
    with pytest.raises(RebalanceError) as unknown:
        bbse_from(["a", "b"], truth, scores, MATRIX[:, :2], where="v")
    assert str(unknown.value) == (
        "v: true label(s) " + ", ".join(repr(f"z{i:02d}") for i in range(10))
        + " have no score column"
    )  # fmt: skip


def test_bbse_clips_negative_weights_and_counts_every_class() -> None:
    # class 2 never predicted on the test set; the least-squares weights go negative
    val_true = np.array([0, 0, 1, 1, 2, 2])
    val_pred = np.array([0, 1, 1, 2, 2, 0])
    test_pred = np.array([0, 0, 0, 1])
    joint = np.zeros((3, 3))
    np.add.at(joint, (val_pred, val_true), 1 / 6)
    raw = np.linalg.lstsq(joint, np.array([0.75, 0.25, 0.0]), rcond=None)[0]
    assert (raw < 0).any()
    expected = np.clip(raw, 0, None) * np.array([1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(
        estimate_bbse(val_true, val_pred, test_pred, 3), expected / expected.sum(), atol=1e-12
    )
    # a class no validation row has still gets its place (and a prior of 0)
    got = estimate_bbse(np.array([0, 1, 0, 1]), np.array([0, 1, 0, 1]), np.array([0, 1, 1]), 3)
    np.testing.assert_allclose(got, [1 / 3, 2 / 3, 0.0], atol=1e-12)


def test_bbse_through_adjust_names_the_validation_file() -> None:
    from rebalance.priors import adjust

    unlabelled = validation().set_column(0, "y_true", pa.array(["a", None, "b", "c", "a", "b"]))
    with pytest.raises(RebalanceError) as missing:
        adjust(
            predictions(),
            train_priors={"a": 6, "b": 3, "c": 1},
            estimate="bbse",
            val_predictions=unlabelled,
        )
    assert str(missing.value) == (
        "--val-preds predictions: row 2 has no true label (1 row(s) like it); "
        "BBSE needs every validation row labelled"
    )


def test_the_flags_named_when_a_prior_file_is_wrong(tmp_path: Path) -> None:
    from rebalance.priors import adjust

    bad = tmp_path / "bad.json"
    bad.write_text('{"a": "x"}')
    short = tmp_path / "short.json"
    short.write_text('{"a": 1, "b": 1}')
    cases = [
        ({"train_priors": str(bad), "target_priors": "uniform"}, "--train-priors: the prior of 'a' is not a number ('x')"),
        ({"train_priors": str(short), "target_priors": "uniform"}, "--train-priors has no prior for class(es) 'c' (the score columns' classes: a, b, c)"),
        ({"train_priors": {"a": 6, "b": 3, "c": 1}, "target_priors": str(bad)}, "--target-priors: the prior of 'a' is not a number ('x')"),
    ]  # fmt: skip
    for options, message in cases:
        with pytest.raises(RebalanceError) as refused:
            adjust(predictions(), **options)  # type: ignore[arg-type]
        assert str(refused.value) == message
    # priors that sum below 1 are scaled up, not refused
    np.testing.assert_allclose(
        _vector({"a": 0.2, "b": 0.3}, ["a", "b"], "--f", positive=True), [0.4, 0.6]
    )


def test_adjust_counts_the_predictions_it_changes() -> None:
    from rebalance.priors import adjust

    # uniform target from a training set of 6:3:1: only row 3 (a tie of a and b) moves to b
    result = adjust(predictions(), train_priors={"a": 6, "b": 3, "c": 1}, target_priors="uniform")
    before = predictions().column("p_a").to_pylist()
    assert len(before) == 4
    expected = MATRIX / np.array([0.6, 0.3, 0.1])
    changed = int((MATRIX.argmax(axis=1) != expected.argmax(axis=1)).sum())
    assert result.changed == changed and changed not in (0, 2, 4)


def test_read_scores_skips_an_empty_name_anywhere_in_the_list() -> None:
    from rebalance.priors import read_scores

    _, scores, cols, _ = read_scores(predictions(), proba_cols=[", p_a,,p_b", ",p_c"])
    assert cols == ["p_a", "p_b", "p_c"]


def test_validation_messages_name_the_file_and_flag() -> None:
    from rebalance.priors import adjust

    many = {f"p_{c}": [1 / 12] * 4 for c in "abcdefghijkl"}
    wide = pa.table({**many, "note": [1, 2, 3, 4]})
    other = pa.table({**{f"p_{c}": [1 / 12] * 2 for c in "mnopqrstuvwx"}, "y_true": ["m", "n"]})
    with pytest.raises(RebalanceError) as mismatch:
        adjust(
            wide, train_priors=dict.fromkeys("abcdefghijkl", 1), estimate="bbse",
            val_predictions=other,
        )  # fmt: skip
    assert str(mismatch.value) == (
        "--val-preds predictions: its score columns' classes (m, n, o, p, q, r, s, t, u, v) "
        "are not the test file's (a, b, c, d, e, f, g, h, i, j)"
    )
    unlabelled = validation().rename_columns(["answer", "p_a", "p_b", "p_c"])
    with pytest.raises(RebalanceError) as no_truth:
        adjust(
            predictions(), train_priors={"a": 6, "b": 3, "c": 1}, estimate="bbse",
            val_predictions=unlabelled,
        )  # fmt: skip
    assert str(no_truth.value).startswith("predictions: no label column found among ")
    assert str(no_truth.value).endswith("(name it with --true-col; columns: answer, p_a, p_b, p_c)")


def test_adjust_file_takes_resolved_sources(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    from rebalance.manifest import resolve_destination, resolve_source
    from rebalance.priors import adjust_file

    path = tmp_path / "preds.txt"
    pacsv.write_csv(predictions().drop_columns(["note"]), path)
    source = resolve_source(str(path), input_format="csv")
    output = resolve_destination(str(tmp_path / "out.data"), output_format="jsonl")
    result = adjust_file(
        source, output, train_priors={"a": 6, "b": 3, "c": 1}, target_priors="uniform"
    )
    lines = (tmp_path / "out.data").read_text().splitlines()
    assert len(lines) == result.table.num_rows == 4 and json.loads(lines[0])["id"] == "r1"


def test_a_training_source_from_its_flags(tmp_path: Path) -> None:
    assert TrainingSource.of(None) is None
    source = TrainingSource("t.csv", label_col="kind", split="dev", split_col="part")
    assert TrainingSource.of(source) is source
    assert TrainingSource.of("t.csv", label_col="kind", split="dev", split_col="part") == source
    assert TrainingSource.of(Path("t.csv")).name == "t.csv"  # type: ignore[union-attr]
    for flags in ({"split": "train"}, {"split_col": "part"}):
        with pytest.raises(RebalanceError) as refused:
            TrainingSource.of(None, **flags)  # type: ignore[arg-type]
        assert str(refused.value) == "--train-split and --train-split-col need --train-manifest"
