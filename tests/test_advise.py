"""`rebalance advise`: remedies scored inside the training folds, equal to a hand-wired reference."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from imblearn.combine import SMOTETomek
from imblearn.metrics import geometric_mean_score
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import EditedNearestNeighbours, RandomUnderSampler
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, make_scorer, recall_score
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    StratifiedShuffleSplit,
    TunedThresholdClassifierCV,
    cross_validate,
)
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

import rebalance
from rebalance.advise import REMEDIES, advise
from rebalance.cli import app
from rebalance.manifest import write_manifest

runner = CliRunner()
SEED = 3


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's breast cancer data (a real set a package ships), malignant cut to 1:9."""
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    malignant = rng.choice(np.flatnonzero(y == 0), 40, replace=False)
    keep = np.sort(np.concatenate([malignant, np.flatnonzero(y == 1)]))
    return X[keep], y[keep]  # 0 = malignant (the minority), 1 = benign


class EffectiveWeights(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Written out here: w_c = (1 − β)/(1 − β^n_c) on the training fold, mean 1."""

    def __init__(self, beta: float = 0.999) -> None:
        self.beta = beta

    def fit(self, X, y):  # type: ignore[no-untyped-def]
        values, counts = np.unique(y, return_counts=True)
        w = (1 - self.beta) / (1 - self.beta**counts)
        w = w / w.mean()
        self.model_ = LogisticRegression(max_iter=1000, class_weight=dict(zip(values.tolist(), w, strict=True))).fit(X, y)  # fmt: skip
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict(X)

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return self.model_.predict_proba(X)


def reference(remedy: str):  # type: ignore[no-untyped-def]
    """The hand-wired imbalanced-learn pipeline a careful user would write."""
    scale = ("scale", StandardScaler())
    logreg = ("model", LogisticRegression(max_iter=1000))
    steps = {
        "none": [scale, logreg],
        "balanced-weights": [scale, ("model", LogisticRegression(max_iter=1000, class_weight="balanced"))],
        "effective-weights": [scale, ("model", EffectiveWeights())],
        "random-over": [scale, ("s", RandomOverSampler(random_state=SEED)), logreg],
        "random-under": [scale, ("s", RandomUnderSampler(random_state=SEED)), logreg],
        "smote": [scale, ("s", SMOTE(random_state=SEED)), logreg],
        "smote-tomek": [scale, ("s", SMOTETomek(random_state=SEED)), logreg],
        "enn": [scale, ("s", EditedNearestNeighbours()), logreg],
    }  # fmt: skip
    if remedy == "threshold":
        inner = StratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=SEED)
        return TunedThresholdClassifierCV(
            Pipeline([scale, logreg]), scoring="balanced_accuracy", cv=inner, random_state=SEED
        )
    return Pipeline(steps[remedy])


SCORING = {
    "balanced_accuracy": "balanced_accuracy",
    "macro_f1": "f1_macro",
    "g_mean": make_scorer(geometric_mean_score),
    "minority_recall": make_scorer(recall_score, labels=[0], average="macro"),
    "pr_auc": make_scorer(average_precision_score, response_method="predict_proba", pos_label=0),
}


def test_every_remedy_equals_the_hand_wired_pipeline(cancer) -> None:  # type: ignore[no-untyped-def]
    X, y = cancer
    labels = np.where(y == 0, "malignant", "benign").tolist()  # sorted: benign 0, malignant 1
    result = advise(X, labels, folds=4, repeats=2, seed=SEED)
    assert {r.name for r in result.remedies} == set(REMEDIES)
    y_codes = (y == 0).astype(int)  # rebalance's codes: sorted labels
    scoring = dict(SCORING)
    scoring["minority_recall"] = make_scorer(recall_score, labels=[1], average="macro")
    scoring["pr_auc"] = make_scorer(
        average_precision_score, response_method="predict_proba", pos_label=1
    )
    cv = RepeatedStratifiedKFold(n_splits=4, n_repeats=2, random_state=SEED)
    for remedy in result.remedies:
        ref = cross_validate(reference(remedy.name), X, y_codes, cv=cv, scoring=scoring)
        for metric in SCORING:
            np.testing.assert_allclose(
                remedy.folds[metric],
                ref[f"test_{metric}"],
                rtol=1e-12,
                err_msg=f"{remedy.name} {metric}",
            )
    none = next(r for r in result.remedies if r.name == "none")
    smote = next(r for r in result.remedies if r.name == "smote")
    assert smote.difference is not None
    np.testing.assert_allclose(
        smote.difference["macro_f1"].mean, (smote.folds["macro_f1"] - none.folds["macro_f1"]).mean()
    )


def test_resampling_before_splitting_leaks_and_advise_does_not() -> None:
    """Labels independent of the features: nothing can be learnt. Oversampling first puts
    copies of the rare rows in the test folds, and a tree model remembers them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    y = (rng.random(600) < 0.1).astype(int)
    X_leaky, y_leaky = RandomOverSampler(random_state=0).fit_resample(X, y)
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=1, random_state=0)
    leaky = cross_validate(HistGradientBoostingClassifier(random_state=0), X_leaky, y_leaky, cv=cv, scoring="balanced_accuracy")  # fmt: skip
    assert leaky["test_score"].mean() > 0.9  # the inflated, wrong answer
    result = advise(X, np.where(y == 1, "rare", "common").tolist(), model="hgb", remedies=["random-over"], repeats=1)  # fmt: skip
    honest = next(r for r in result.remedies if r.name == "random-over")
    assert abs(honest.metrics["balanced_accuracy"].mean - 0.5) < 0.06
    assert not result.beats_none and result.verdict.startswith("nothing beats none beyond noise")


def test_corrected_interval_is_wider_than_the_naive_one() -> None:
    from rebalance.advise import corrected_interval

    scores = np.array([0.70, 0.72, 0.69, 0.74, 0.71, 0.73, 0.70, 0.72, 0.71, 0.69])
    got = corrected_interval(scores, folds=5)
    from scipy import stats

    naive = stats.t.ppf(0.975, 9) * scores.std(ddof=1) / np.sqrt(10)
    corrected = stats.t.ppf(0.975, 9) * np.sqrt((1 / 10 + 1 / 4) * scores.var(ddof=1))
    assert got.mean == pytest.approx(scores.mean())
    assert got.high - got.mean == pytest.approx(corrected) and corrected > naive


@pytest.fixture
def fraud_csv(tmp_path: Path, cancer) -> Path:  # type: ignore[no-untyped-def]
    X, y = cancer
    table = pa.table({**{f"f{j}": X[:, j] for j in range(6)}, "label": np.where(y == 0, "malignant", "benign").tolist()})  # fmt: skip
    path = tmp_path / "cancer.csv"
    write_manifest(table, path)
    return path


def test_cli_json_html_and_the_command_to_apply(fraud_csv: Path, tmp_path: Path) -> None:
    page = tmp_path / "advice.html"
    result = runner.invoke(app, ["advise", str(fraud_csv), "--features", "f*", "--remedies", "smote,balanced-weights", "--folds", "4", "--repeats", "1", "--json", "--html", str(page)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc) == ["source", "rows", "rows_used", "classes", "minority", "features", "model", "folds", "repeats", "seed", "metric", "best", "beats_none", "verdict", "remedies", "estimated_seconds", "seconds", "warnings"]  # fmt: skip
    assert [r["name"] for r in doc["remedies"]].count("none") == 1 and len(doc["remedies"]) == 3
    assert doc["minority"] == "malignant" and doc["features"] == ["f*"]
    smote = next(r for r in doc["remedies"] if r["name"] == "smote")
    assert (
        smote["command"]
        == f"rebalance resample {fraud_csv} -o cancer-balanced.csv --method smote --features 'f*' --seed 0"
    )
    assert smote["output_rows"] == 2 * doc["classes"]["benign"]
    assert set(smote["metrics"]) == {
        "balanced_accuracy",
        "macro_f1",
        "g_mean",
        "minority_recall",
        "pr_auc",
    }
    assert "advise took" in result.stderr
    text = page.read_text()
    assert "<svg" in text and "<script" not in text and "Which remedy helps?" in text
    table = runner.invoke(app, ["advise", str(fraud_csv), "--remedies", "balanced-weights", "--folds", "3", "--repeats", "1"])  # fmt: skip
    assert (
        table.exit_code == 0
        and "to apply it:" in table.stdout
        and "balanced-weights" in table.stdout
    )


@pytest.mark.skipif(
    __import__("shutil").which("chromium") is None,
    reason="no headless Chromium here (.ci/run installs it)",
)
def test_html_renders_in_a_real_browser(fraud_csv: Path, tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    assert runner.invoke(app, ["advise", str(fraud_csv), "--remedies", "smote", "--folds", "3", "--repeats", "1", "--html", str(page)]).exit_code == 0  # fmt: skip
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert (
        dom.returncode == 0 and "<circle" in dom.stdout and "Difference against none" in dom.stdout
    )
    assert not [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line]


def test_multiclass_leaves_threshold_out_and_max_rows_samples(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    y = rng.choice(["a", "b", "c"], p=[0.7, 0.2, 0.1], size=900)
    X = rng.normal(size=(900, 3)) + (y == "b")[:, None] * 1.5
    path = tmp_path / "m.parquet"
    write_manifest(
        pa.table({"x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2], "label": y.tolist()}), path
    )
    result = runner.invoke(app, ["advise", str(path), "--folds", "3", "--repeats", "1", "--max-rows", "600", "--remedies", "balanced-weights", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "stratified sample of 600" in result.stderr
    assert json.loads(result.stdout)["rows_used"] == 600
    found = rebalance.advise_file(path, folds=3, repeats=1, remedies=None, max_rows=None)
    assert "threshold" not in {r.name for r in found.remedies}
    assert any("threshold moving left out" in w for w in found.warnings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--remedies", "smot"], "--remedies 'smot' is not a remedy (did you mean 'smote'?)"),
        (["--metric", "accuracy"], "--metric 'accuracy' is not a metric"),
        (["--model", "svm"], "--model 'svm' is not a model"),
        (["--folds", "50"], "have fewer rows than --folds 50"),
        (["--features", "nope"], "nope"),
    ],
)
def test_bad_input_is_one_line_exit_2(fraud_csv: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["advise", str(fraud_csv), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr


def test_one_class_and_split_rows(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("x,label\n" + "".join(f"{i},a\n" for i in range(20)))
    result = runner.invoke(app, ["advise", str(path)])
    assert result.exit_code == 2 and "one class only" in result.stderr
    split = tmp_path / "split.csv"
    rows = [
        f"{i},{'b' if i % 5 == 0 else 'a'},{'val' if i % 4 == 0 else 'train'}\n" for i in range(200)
    ]
    split.write_text("x,label,split\n" + "".join(rows))
    found = rebalance.advise_file(split, folds=3, repeats=1, remedies=["balanced-weights"])
    assert found.rows_used == 150 and any("split 'train'" in w for w in found.warnings)


def test_image_manifests_through_image_features_or_an_embedding_column(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "samples"
    found = rebalance.advise_file(
        root / "street.csv", image_features="builtin", folds=3, repeats=1,
        remedies=["balanced-weights"], detect_split=False,
    )  # fmt: skip
    assert found.rows_used == 24 and found.features == ["builtin descriptors of path"]
    rng = np.random.default_rng(0)
    y = rng.choice(["cat", "dog"], p=[0.85, 0.15], size=300)
    emb = rng.normal(size=(300, 8)) + (y == "dog")[:, None]
    path = tmp_path / "emb.parquet"
    write_manifest(pa.table({"embedding": pa.array(emb.tolist(), pa.list_(pa.float64())), "label": y.tolist()}), path)  # fmt: skip
    result = runner.invoke(app, ["advise", str(path), "--features", "embedding", "--folds", "3", "--repeats", "1", "--remedies", "smote", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["features"] == ["embedding"] and doc["rows_used"] == 300


@pytest.fixture
def split_manifest(tmp_path: Path) -> Path:
    """Two informative features, a 1:6 minority, and train/val/test rows in column 'part'."""
    rng = np.random.default_rng(4)
    n = 420
    y = np.where(rng.random(n) < 0.14, "rare", "common")
    X = rng.normal(size=(n, 2)) + (y == "rare")[:, None] * 1.2
    part = rng.choice(["train", "val", "test"], p=[0.6, 0.2, 0.2], size=n)
    rows = [f"{a:.5f},{b:.5f},{c},{s}" for (a, b), c, s in zip(X, y, part, strict=True)]
    path = tmp_path / "data" / "m.csv"
    path.parent.mkdir()
    path.write_text("f1,f2,kind,part\n" + "\n".join(rows) + "\n")
    return path


def test_every_command_advise_prints_runs(
    split_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    result = runner.invoke(
        app,
        ["advise", str(split_manifest), "--label-col", "kind", "--split-col", "part",
         "--features", "f*", "--folds", "3", "--repeats", "1", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    commands = [r["command"] for r in doc["remedies"] if r["command"].startswith("rebalance ")]
    assert len(commands) == 7  # every remedy but none and threshold
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for command in commands:
        assert "--label-col kind" in command and "--split-col part" in command
        assert "--only-split train" in command or "--from-split train" in command
        ran = runner.invoke(app, shlex.split(command)[1:])
        assert ran.exit_code == 0, (command, ran.stderr)
    threshold = next(r for r in doc["remedies"] if r["name"] == "threshold")
    assert "VAL_PREDS.csv" in threshold["command"]


def test_advise_table_fits_100_columns_and_says_why_the_top_is_not_chosen(
    tmp_path: Path,
) -> None:
    from rebalance.advise import advise
    from rebalance.render import print_advice

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    labels = list(np.where(rng.random(300) < 0.2, "b", "a"))  # labels are noise
    found = advise(X, labels, folds=3, repeats=1, seed=0)
    doc = found.to_dict()
    top = doc["remedies"][0]["name"]
    assert top != found.best == "none"  # a remedy leads by chance, within noise
    assert f"{top} ranks first by its mean but is not recommended" in found.verdict
    assert "includes 0" in found.verdict
    import io

    from rich.console import Console

    import rebalance.render as render

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, no_color=True)
    original = render.stdout_console
    render.stdout_console = lambda: console  # type: ignore[assignment]
    try:
        print_advice(doc)
    finally:
        render.stdout_console = original  # type: ignore[assignment]
    lines = buffer.getvalue().splitlines()
    table = lines[: lines.index("") if "" in lines else len(lines)]
    assert max(len(line.rstrip()) for line in table) <= 100
    text = buffer.getvalue()
    for r in doc["remedies"]:
        assert r["name"] in text  # whole names, never cut to 'random-u…'
    assert "…" not in "\n".join(table)
