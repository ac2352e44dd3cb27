"""`rebalance adjust`: Bayes' rule for a prior shift, with test priors given or estimated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays as np_arrays
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import rebalance
from rebalance.cli import app
from rebalance.manifest import read_manifest, write_manifest
from rebalance.priors import estimate_bbse, estimate_em, shift

runner = CliRunner()
CLASSES = ["a", "b", "c"]
TRAIN_PRIORS = [0.6, 0.3, 0.1]
TEST_PRIORS = [0.2, 0.3, 0.5]
EM_TOLERANCE = 0.03  # largest error allowed on any class prior (20,000 test rows)
BBSE_TOLERANCE = 0.04


def planted(n: int, priors: list[float], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three overlapping 2-D Gaussians; only the class priors change between sets."""
    means = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])
    y = rng.choice(3, size=n, p=priors)
    return means[y] + rng.normal(size=(n, 2)), y


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Training manifest, labelled validation predictions and unlabelled test predictions
    of a model trained at 0.6/0.3/0.1 and tested at 0.2/0.3/0.5."""
    folder = tmp_path_factory.mktemp("shift")
    rng = np.random.default_rng(0)
    X_train, y_train = planted(20_000, TRAIN_PRIORS, rng)
    X_val, y_val = planted(10_000, TRAIN_PRIORS, rng)
    X_test, y_test = planted(20_000, TEST_PRIORS, rng)
    model = LogisticRegression().fit(X_train, y_train)
    names = np.array(CLASSES)
    write_manifest(pa.table({"path": [f"{i}.png" for i in range(len(y_train))], "label": names[y_train].tolist()}), folder / "train.csv")  # fmt: skip

    def preds(X: np.ndarray, y: np.ndarray | None, path: Path) -> np.ndarray:
        P = model.predict_proba(X)
        cols = {f"p_{c}": P[:, j] for j, c in enumerate(CLASSES)}
        if y is not None:
            cols = {"y_true": names[y].tolist(), "y_pred": names[P.argmax(1)].tolist(), **cols}
        write_manifest(pa.table({"id": list(range(len(X))), **cols}), path)
        return P

    P_test = preds(X_test, None, folder / "test.parquet")
    preds(X_val, y_val, folder / "val.parquet")
    truth = np.bincount(y_test, minlength=3) / len(y_test)
    return {"folder": folder, "truth": truth, "P_test": P_test, "y_test": y_test}


def test_em_recovers_the_planted_test_priors(shifted) -> None:  # type: ignore[no-untyped-def]
    found, iterations, converged = estimate_em(shifted["P_test"], np.array(TRAIN_PRIORS))
    assert converged and iterations > 1
    assert np.abs(found - shifted["truth"]).max() < EM_TOLERANCE
    # far from the training priors it started from: the test can fail
    assert np.abs(np.array(TRAIN_PRIORS) - shifted["truth"]).max() > 10 * EM_TOLERANCE


def test_cli_adjust_with_em_writes_scores_prediction_and_priors(shifted) -> None:  # type: ignore[no-untyped-def]
    folder = shifted["folder"]
    out = folder / "adjusted.csv"
    result = runner.invoke(app, ["adjust", str(folder / "test.parquet"), "--train-manifest", str(folder / "train.csv"), "--estimate", "em", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "estimated by EM in" in result.stderr and "prediction(s) changed" in result.stderr
    table = read_manifest(out)
    assert table.column_names == ["id", "p_a", "p_b", "p_c", "adjusted_p_a", "adjusted_p_b", "adjusted_p_c", "adjusted_pred"]  # fmt: skip
    sidecar = json.loads((folder / "adjusted.csv.priors.json").read_text())
    assert sidecar["estimate"]["method"] == "em" and sidecar["estimate"]["converged"] is True
    found = np.array([sidecar["target_priors"][c] for c in CLASSES])
    assert np.abs(found - shifted["truth"]).max() < EM_TOLERANCE
    train = np.array([sidecar["train_priors"][c] for c in CLASSES])
    np.testing.assert_allclose(train, TRAIN_PRIORS, atol=0.01)
    # the adjustment is the closed form, and the prediction its argmax
    P = shifted["P_test"]
    expected = P * (found / train)
    expected /= expected.sum(axis=1, keepdims=True)
    got = np.column_stack(
        [np.asarray(table.column(f"adjusted_p_{c}").to_pylist(), float) for c in CLASSES]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert (
        table.column("adjusted_pred").to_pylist() == np.array(CLASSES)[expected.argmax(1)].tolist()
    )
    # and it helps: accuracy on the shifted test set rises
    before = (P.argmax(1) == shifted["y_test"]).mean()
    after = (expected.argmax(1) == shifted["y_test"]).mean()
    assert after > before


def test_bbse_recovers_the_planted_test_priors(shifted) -> None:  # type: ignore[no-untyped-def]
    folder = shifted["folder"]
    found = rebalance.adjust(
        folder / "test.parquet",
        train_manifest=folder / "train.csv",
        estimate="bbse",
        val_predictions=folder / "val.parquet",
    )
    priors = np.array([found.target.priors[c] for c in CLASSES])
    assert found.target.method == "bbse"
    assert np.abs(priors - shifted["truth"]).max() < BBSE_TOLERANCE


def test_bbse_on_a_known_confusion_matrix() -> None:
    # a perfect classifier: BBSE returns the test prediction shares themselves
    val = np.array([0, 0, 1, 1, 2, 2])
    test = np.array([0, 2, 2, 2])
    np.testing.assert_allclose(estimate_bbse(val, val, test, 3), [0.25, 0.0, 0.75])


def test_target_priors_file_and_uniform(shifted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = shifted["folder"]
    (tmp_path / "priors.json").write_text(json.dumps({"a": 2, "b": 3, "c": 5}))
    for given_priors, expected in (
        (str(tmp_path / "priors.json"), [0.2, 0.3, 0.5]),
        ("uniform", [1 / 3] * 3),
    ):
        result = rebalance.adjust(folder / "test.parquet", train_priors={"a": 6, "b": 3, "c": 1}, target_priors=given_priors)  # fmt: skip
        np.testing.assert_allclose([result.target.priors[c] for c in CLASSES], expected)
        P = shifted["P_test"]
        direct = P * (np.array(expected) / np.array(TRAIN_PRIORS))
        direct /= direct.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(
            np.asarray(result.table.column("adjusted_p_c").to_pylist()), direct[:, 2]
        )


def test_stdout_output_and_json(shifted) -> None:  # type: ignore[no-untyped-def]
    folder = shifted["folder"]
    result = runner.invoke(app, ["adjust", str(folder / "test.parquet"), "--train-priors", '{"a": 6, "b": 3, "c": 1}', "--target-priors", "uniform", "-o", "-", "--output-format", "csv"])  # fmt: skip
    # a JSON text is not a file: the error names the flag
    assert result.exit_code == 2 and "--train-priors" in result.stderr
    (folder / "tp.json").write_text('{"a": 6, "b": 3, "c": 1}')
    result = runner.invoke(app, ["adjust", str(folder / "test.parquet"), "--train-priors", str(folder / "tp.json"), "--target-priors", "uniform", "-o", "-", "--output-format", "csv"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout.splitlines()[0]
        == "id,p_a,p_b,p_c,adjusted_p_a,adjusted_p_b,adjusted_p_c,adjusted_pred"
    )
    assert len(result.stdout.splitlines()) == 20_001


@settings(max_examples=60, deadline=None)
@given(
    matrix=np_arrays(np.float64, (7, 3), elements=st.floats(0, 1)),
    train=np_arrays(np.float64, 3, elements=st.floats(0.01, 1)),
    target=np_arrays(np.float64, 3, elements=st.floats(0, 1)),
)
def test_adjusted_scores_are_probabilities(matrix, train, target) -> None:  # type: ignore[no-untyped-def]
    matrix = matrix + 1e-9
    matrix = matrix / matrix.sum(axis=1, keepdims=True)
    train, target = train / train.sum(), (target + 1e-12) / (target + 1e-12).sum()
    out = shift(matrix, train, target)
    assert ((out >= 0) & (out <= 1 + 1e-12)).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("class-not-in-training", "have no training rows"),
        ("zero-training-prior", "have a prior of 0"),
        ("scores-do-not-sum", "sum to 1.3, not 1"),
        ("target-missing-class", "--target-priors has no prior for class(es) 'c'"),
        ("bbse-without-val", "needs labelled validation predictions (--val-preds FILE)"),
        ("no-target", "--target-priors or --estimate"),
        ("one-score-column", "a prior shift needs one per class"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, case: str, message: str) -> None:
    preds = _write(tmp_path / "p.csv", "id,p_a,p_b,p_c\n1,0.2,0.3,0.5\n2,0.6,0.3,0.1\n")
    train = _write(tmp_path / "train.csv", "label\na\nb\nc\na\n")
    args = [
        "adjust",
        preds,
        "-o",
        str(tmp_path / "out.csv"),
        "--train-manifest",
        train,
        "--estimate",
        "em",
    ]
    if case == "class-not-in-training":
        args[args.index(train)] = _write(tmp_path / "t2.csv", "label\na\nb\n")
    elif case == "zero-training-prior":
        args[4:6] = ["--train-priors", _write(tmp_path / "tp.json", '{"a": 1, "b": 1, "c": 0}')]
    elif case == "scores-do-not-sum":
        args[1] = _write(tmp_path / "p2.csv", "id,p_a,p_b,p_c\n1,0.5,0.3,0.5\n")
    elif case == "target-missing-class":
        args[6:8] = ["--target-priors", _write(tmp_path / "tg.json", '{"a": 1, "b": 1}')]
    elif case == "bbse-without-val":
        args[7] = "bbse"
    elif case == "no-target":
        args = args[:6]
    elif case == "one-score-column":
        args[1] = _write(tmp_path / "p3.csv", "id,p_a\n1,1\n")
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_evaluate_reports_before_and_after_the_estimated_priors(shifted) -> None:  # type: ignore[no-untyped-def]
    folder = shifted["folder"]
    for method, tolerance in (("em", EM_TOLERANCE), ("bbse", BBSE_TOLERANCE)):
        result = runner.invoke(app, ["evaluate", str(folder / "val.parquet"), "--proba-prefix", "p_", "--train-manifest", str(folder / "train.csv"), "--estimate-priors", method, "--test-preds", str(folder / "test.parquet"), "--json"])  # fmt: skip
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        estimate = doc["prior_adjusted"]["estimate"]
        assert estimate["method"] == method
        found = np.array([estimate["priors"][c] for c in CLASSES])
        assert np.abs(found - shifted["truth"]).max() < tolerance
        assert doc["prior_adjusted"]["report"]["balanced_accuracy"] is not None
    result = runner.invoke(
        app, ["evaluate", str(folder / "val.parquet"), "--estimate-priors", "em"]
    )
    assert (
        result.exit_code == 2 and "--estimate-priors and --test-preds go together" in result.stderr
    )
