"""Multi-label manifests: reading label sets, and inspect's measures against direct formulas."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.errors import RebalanceError
from rebalance.multilabel.labels import read_label_sets
from rebalance.multilabel.stats import describe_sets, inspect_multilabel

runner = CliRunner()

ROWS = [["red", "dress"], ["red"], ["blue", "dress", "summer"], [], ["red", "summer"], ["red"]]
SPLITS = ["train", "train", "val", "train", "val", "val"]


def tags_csv(tmp_path: Path, rows=ROWS, sep="|") -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "tags.csv"
    lines = ["labels,split,f1"] + [
        f"{sep.join(r)},{s},{i}" for i, (r, s) in enumerate(zip(rows, SPLITS, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def direct_measures(rows: list[list[str]]) -> dict[str, float]:
    """Charte et al.'s measures written out over Python lists, one formula a line."""
    labels = sorted({label for r in rows for label in r})
    n = {label: sum(label in r for r in rows) for label in labels}
    ir = {label: max(n.values()) / n[label] for label in labels}
    mean_ir = sum(ir.values()) / len(ir)
    sd = math.sqrt(sum((v - mean_ir) ** 2 for v in ir.values()) / (len(ir) - 1))
    scumble_i = []
    for r in rows:
        if len(set(r)) < 2:
            scumble_i.append(0.0)
            continue
        values = [ir[label] for label in set(r)]
        geometric = math.prod(values) ** (1 / len(values))
        scumble_i.append(1 - geometric / (sum(values) / len(values)))
    return {
        "mean_ir": mean_ir,
        "max_ir": max(ir.values()),
        "cvir": sd / mean_ir,
        "scumble": sum(scumble_i) / len(rows),
        "cardinality": sum(len(set(r)) for r in rows) / len(rows),
        "density": sum(len(set(r)) for r in rows) / len(rows) / len(labels),
    }


def test_measures_equal_the_formulas_written_out(tmp_path: Path) -> None:
    report = inspect_multilabel(tags_csv(tmp_path), sep="|", detect_split=False)
    d = report.overall
    expected = direct_measures(ROWS)
    for key, value in expected.items():
        assert getattr(d, key) == pytest.approx(value, rel=1e-12), key
    assert d.counts == {"blue": 1, "dress": 2, "red": 4, "summer": 2}
    assert d.irlbl == {"blue": 4.0, "dress": 2.0, "red": 1.0, "summer": 2.0}
    assert d.empty_rows == 1
    assert d.distinct_sets == 5  # {red} twice
    assert d.top_sets[0] == (["red"], 2)
    assert ("red", "summer", 1) in d.top_pairs


def test_three_input_shapes_give_the_same_report(tmp_path: Path) -> None:
    from_text = inspect_multilabel(tags_csv(tmp_path), sep="|", detect_split=False)
    lists = pa.table({"tags": pa.array(ROWS, pa.list_(pa.string()))})
    pq.write_table(lists, tmp_path / "tags.parquet")
    from_list = inspect_multilabel(tmp_path / "tags.parquet", label_col="tags")
    names = ["blue", "dress", "red", "summer"]
    wide = pa.table({f"tag_{n}": [int(n in r) for r in ROWS] for n in names})
    from_cols = inspect_multilabel(wide, label_cols=["tag_*"])
    a, b, c = (r.overall.to_dict() for r in (from_text, from_list, from_cols))
    assert a == b
    renamed = {f"tag_{n}": n for n in names}
    assert {renamed[k]: v for k, v in c["counts"].items()} == a["counts"]
    for key in ("mean_ir", "max_ir", "cvir", "scumble", "cardinality", "density", "empty_rows"):
        assert c[key] == pytest.approx(a[key]), key


def test_jsonl_list_column_and_labels_kept_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "tags.jsonl"
    path.write_text('{"labels": ["01", " a"]}\n{"labels": ["1"]}\n{"labels": []}\n')
    report = inspect_multilabel(path)
    assert report.overall.counts == {" a": 1, "01": 1, "1": 1}
    assert report.overall.empty_rows == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=4), min_size=2, max_size=40
    ).filter(lambda rows: len({x for r in rows for x in r}) >= 2)
)
def test_measures_are_bounded_and_ignore_row_order(rows: list[list[str]]) -> None:
    table = pa.table({"labels": pa.array(rows, pa.list_(pa.string()))})
    d = inspect_multilabel(table).overall
    expected = direct_measures(rows)
    for key, value in expected.items():
        assert getattr(d, key) == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert d.mean_ir is not None and d.max_ir is not None
    assert 1.0 <= d.mean_ir <= d.max_ir
    assert 0.0 <= d.scumble < 1.0
    shuffled = pa.table({"labels": pa.array(rows[::-1], pa.list_(pa.string()))})
    assert inspect_multilabel(shuffled).overall.to_dict() == d.to_dict()


def test_per_split_measures_are_those_of_the_split_alone(tmp_path: Path) -> None:
    report = inspect_multilabel(tags_csv(tmp_path), sep="|")
    assert report.split_col == "split"
    assert report.splits is not None
    for name in ("train", "val"):
        rows = [r for r, s in zip(ROWS, SPLITS, strict=True) if s == name]
        alone = describe_sets(*_indicator(rows))
        got = report.splits[name]
        assert got.rows == len(rows)
        assert got.mean_ir == pytest.approx(alone.mean_ir)
        assert got.scumble == pytest.approx(alone.scumble)
    assert report.splits["train"].absent_labels == ["blue", "summer"]


def _indicator(rows: list[list[str]]) -> tuple[list[str], np.ndarray]:
    names = ["blue", "dress", "red", "summer"]
    return names, np.array([[n in r for n in names] for r in rows], dtype=bool)


def test_rows_without_labels_are_counted_dropped_or_refused(tmp_path: Path) -> None:
    path = tags_csv(tmp_path)
    assert inspect_multilabel(path, sep="|").overall.empty_rows == 1
    dropped = inspect_multilabel(path, sep="|", drop_empty=True)
    assert dropped.overall.rows == 5 and dropped.overall.empty_rows == 0
    with pytest.raises(RebalanceError, match="data row 4"):
        inspect_multilabel(path, sep="|", strict=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "is text: give the separator"),
        ({"sep": ";"}, "no value of label column 'labels' contains ';'"),
        ({"label_col": "f1", "sep": "|"}, "no value of label column 'f1'"),
        ({"label_col": "lables", "sep": "|"}, "did you mean 'labels'"),
        ({"label_cols": ["tag_*"]}, "no column matches --label-cols 'tag_\\*'"),
        ({"label_cols": ["f1", "split"]}, "column 'split' has 'train'"),
    ],
)
def test_bad_multi_label_input_is_one_clear_error(tmp_path: Path, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RebalanceError, match=message):
        inspect_multilabel(tags_csv(tmp_path), detect_split=False, **kwargs)


def test_indicator_columns_must_hold_zero_or_one() -> None:
    table = pa.table({"a": [0, 1, 2], "b": [1, 0, 0]})
    with pytest.raises(RebalanceError, match="column 'a' has 2.0 at data row 3"):
        read_label_sets(table, label_cols=["a", "b"])
    ok = read_label_sets(
        pa.table({"a": [True, None, False], "b": ["1", "0", "true"]}), label_cols=["a", "b"]
    )
    assert ok.indicator.tolist() == [[True, True], [False, False], [False, True]]


# ---------------------------------------------------------------- CLI


def test_cli_inspect_multi_label_json_table_csv_markdown(tmp_path: Path) -> None:
    path = str(tags_csv(tmp_path))
    result = runner.invoke(app, ["inspect", path, "--sep", "|", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["multi_label"] is True and doc["label_columns"] == ["labels"]
    assert doc["mean_ir"] == pytest.approx(direct_measures(ROWS)["mean_ir"])
    assert set(doc["splits"]) == {"train", "val"}
    assert "1 row(s) have no label" in result.stderr
    table = runner.invoke(app, ["inspect", path, "--sep", "|"], env={"COLUMNS": "120"})
    assert table.exit_code == 0 and "MeanIR" in table.stdout and "SCUMBLE" in table.stdout
    csv_out = runner.invoke(app, ["inspect", path, "--sep", "|", "--format", "csv", "--no-split"])
    assert csv_out.stdout.splitlines()[0] == "label,rows,share,irlbl"
    assert csv_out.stdout.splitlines()[1].startswith("blue,1,")
    md = runner.invoke(app, ["inspect", path, "--sep", "|", "--format", "markdown"])
    assert "| red | 4 |" in md.stdout


def test_cli_label_cols_globs_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("id,tag_a,tag_b,other\n1,1,0,x\n2,1,1,y\n3,0,1,z\n4,1,0,w\n")
    one = runner.invoke(app, ["inspect", str(path), "--label-cols", "tag_*", "--json"])
    two = runner.invoke(app, ["inspect", str(path), "--label-cols", "tag_a,tag_b", "--json"])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout) == json.loads(two.stdout)
    assert json.loads(one.stdout)["counts"] == {"tag_a": 3, "tag_b": 2}


def test_cli_meanir_gate_exits_one(tmp_path: Path) -> None:
    path = str(tags_csv(tmp_path))
    passed = runner.invoke(app, ["inspect", path, "--sep", "|", "--json", "--max-meanir", "3"])
    assert passed.exit_code == 0
    failed = runner.invoke(app, ["inspect", path, "--sep", "|", "--json", "--max-meanir", "1.5"])
    assert failed.exit_code == 1
    assert "gate failed: MeanIR 2.25 > 1.5" in failed.stderr
    ratio = runner.invoke(app, ["inspect", path, "--sep", "|", "--json", "--max-ratio", "3"])
    assert ratio.exit_code == 1 and "MaxIR 4.00 > 3" in ratio.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--multi-label"], "is text: give the separator"),
        (["--sep", ";"], "not multi-label"),
        (["--sep", "|", "--strict"], "have no label (first at data row 4)"),
        (["--max-meanir", "2"], "--max-meanir gates multi-label data"),
        (["--sep", "|", "--mask-col", "m"], "--mask-col does not apply with --multi-label"),
    ],
)
def test_cli_bad_multi_label_usage_exits_two(tmp_path: Path, args, message) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["inspect", str(tags_csv(tmp_path)), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- weights


def test_pos_weight_is_negatives_over_positives_in_label_order(tmp_path: Path) -> None:
    from rebalance.multilabel.weights import multilabel_weights

    found = multilabel_weights(tags_csv(tmp_path), sep="|", detect_split=False)
    n = len(ROWS)
    for label in ["blue", "dress", "red", "summer"]:
        positives = sum(label in r for r in ROWS)
        assert found.weights[label] == pytest.approx((n - positives) / positives)
    assert found.labels == ["blue", "dress", "red", "summer"]
    assert found.vector() == [found.weights[x] for x in found.labels]
    assert found.to_dict()["negatives"]["red"] == n - 4


def test_pos_weight_from_the_train_split_only(tmp_path: Path) -> None:
    from rebalance.multilabel.weights import multilabel_weights

    path = tags_csv(tmp_path, rows=[["a"], ["b"], ["a", "b"], ["a"], ["a"], ["b"]])
    found = multilabel_weights(path, sep="|")
    assert found.split == "train" and found.rows == 3  # rows 1, 2 and 4: a, b, a
    assert found.weights == {"a": pytest.approx(0.5), "b": pytest.approx(2.0)}
    val = multilabel_weights(path, sep="|", from_split="val")  # a|b, a, b
    assert val.rows == 3 and val.weights == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}


@pytest.mark.parametrize("scheme", ["balanced", "inverse", "effective", "median"])
def test_single_label_schemes_apply_to_the_labels_positive_counts(
    tmp_path: Path, scheme: str
) -> None:
    from rebalance.multilabel.weights import multilabel_weights
    from rebalance.weights import class_weights

    found = multilabel_weights(tags_csv(tmp_path), sep="|", detect_split=False, scheme=scheme)
    direct = class_weights({"blue": 1, "dress": 2, "red": 4, "summer": 2}, scheme=scheme)
    assert found.weights == pytest.approx(direct.weights)
    assert found.normalize == direct.normalize


def test_row_weights_are_the_mean_or_max_of_the_rows_labels() -> None:
    from rebalance.multilabel.weights import label_weights, row_weights

    table = pa.table({"labels": pa.array(ROWS, pa.list_(pa.string()))})
    sets = read_label_sets(table)
    weights = label_weights(sets)
    w = weights.weights
    mean = row_weights(sets, weights, combine="mean")
    largest = row_weights(sets, weights, combine="max")
    for i, labels in enumerate(ROWS):
        if not labels:
            assert mean[i] == largest[i] == 1.0
            continue
        assert mean[i] == pytest.approx(sum(w[x] for x in labels) / len(labels))
        assert largest[i] == pytest.approx(max(w[x] for x in labels))


def test_bad_weights_input_is_one_clear_error() -> None:
    from rebalance.multilabel.weights import label_weights

    never = read_label_sets(pa.table({"a": [1, 0], "b": [0, 0]}), label_cols=["a", "b"])
    with pytest.raises(RebalanceError, match="label\\(s\\) on no row of the rows weighed: 'b'"):
        label_weights(never)
    always = read_label_sets(pa.table({"a": [1, 1], "b": [0, 1]}), label_cols=["a", "b"])
    with pytest.raises(RebalanceError, match="on every row: 'a'; their pos_weight would be 0"):
        label_weights(always)
    assert label_weights(always, scheme="balanced").weights["a"] == pytest.approx(0.75)


def test_cli_weights_torch_pos_weight_with_label_order_sidecar(tmp_path: Path) -> None:
    path = tags_csv(tmp_path)
    out = tmp_path / "pos_weight.json"
    result = runner.invoke(
        app,
        [
            "weights",
            str(path),
            "--sep",
            "|",
            "--format",
            "torch-pos-weight",
            "-o",
            str(out),
            "--no-split",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == pytest.approx([5.0, 2.0, 0.5, 2.0])
    assert (tmp_path / "pos_weight.classes.txt").read_text() == "blue\ndress\nred\nsummer\n"
    rows = runner.invoke(
        app,
        [
            "weights",
            str(path),
            "--sep",
            "|",
            "--sample-weights",
            "--row-weight",
            "max",
            "--no-split",
        ],
    )
    assert rows.exit_code == 0, rows.output
    assert rows.stdout.splitlines()[0] == "labels,split,f1,weight"
    assert rows.stdout.splitlines()[3].endswith(",5")  # blue|dress|summer: blue's 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "torch-pos-weight"], "pos-weight is for multi-label data"),
        (["--scheme", "pos-weight"], "pos-weight is for multi-label data"),
        (["--sep", "|", "--format", "keras"], "--format keras is for one label per row"),
        (["--sep", "|", "--missing-weight", "1"], "--missing-weight does not apply"),
        (["--sep", "|", "--sample-weights", "--row-weight", "median"], "--row-weight 'median'"),
        (["--row-weight", "max"], "--row-weight combines label weights"),
    ],
)
def test_cli_bad_multi_label_weights_exit_two(tmp_path: Path, args, message) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["weights", str(tags_csv(tmp_path)), "--no-split", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


# ---------------------------------------------------------------- evaluate


def scored_predictions(rows: int = 300, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Imbalanced true label sets and noisy per-label scores (every label has both classes)."""
    rng = np.random.default_rng(seed)
    names = ["cat", "dog", "fish", "owl", "yak"]
    rates = np.array([0.5, 0.3, 0.1, 0.05, 0.02])
    y = rng.random((rows, len(names))) < rates
    y[0, :] = True  # every label present at least once
    y[1, :] = False
    scores = np.clip(0.45 * y + rng.normal(0.3, 0.2, y.shape), 0, 1)
    return names, y, scores


def predictions_table(names, y, scores, *, pred=None) -> pa.Table:  # type: ignore[no-untyped-def]
    columns: dict[str, object] = {
        "y_true": pa.array(
            [[n for n, v in zip(names, row, strict=True) if v] for row in y], pa.list_(pa.string())
        )
    }
    if pred is not None:
        columns["y_pred"] = pa.array(
            [[n for n, v in zip(names, row, strict=True) if v] for row in pred],
            pa.list_(pa.string()),
        )
    columns.update({f"p_{n}": scores[:, j] for j, n in enumerate(names)})
    return pa.table(columns)


def test_every_multi_label_metric_equals_scikit_learn() -> None:
    from sklearn import metrics

    from rebalance.multilabel.evaluation import evaluate_multilabel

    names, y, scores = scored_predictions()
    result = evaluate_multilabel(
        predictions_table(names, y, scores), proba_prefix="p_", threshold=0.5
    )
    pred = (scores >= 0.5).astype(int)
    t = y.astype(int)
    assert result.labels == names
    p, r, f, s = metrics.precision_recall_fscore_support(t, pred, average=None, zero_division=0)
    for j, n in enumerate(names):
        got = result.per_label[n]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx(
            (p[j], r[j], f[j], s[j])
        )
        assert got["roc_auc"] == pytest.approx(metrics.roc_auc_score(t[:, j], scores[:, j]))
        assert got["pr_auc"] == pytest.approx(
            metrics.average_precision_score(t[:, j], scores[:, j])
        )
    for average in ("micro", "macro", "weighted", "samples"):
        p, r, f, _ = metrics.precision_recall_fscore_support(
            t, pred, average=average, zero_division=0
        )
        assert result.averages[average] == pytest.approx({"precision": p, "recall": r, "f1": f})
    for average in ("micro", "macro", "weighted"):
        assert result.roc_auc is not None and result.pr_auc is not None
        assert result.roc_auc[average] == pytest.approx(
            metrics.roc_auc_score(t, scores, average=average)
        )
        assert result.pr_auc[average] == pytest.approx(
            metrics.average_precision_score(t, scores, average=average)
        )
    assert result.hamming_loss == pytest.approx(metrics.hamming_loss(t, pred))
    assert result.subset_accuracy == pytest.approx(metrics.accuracy_score(t, pred))


def test_predicted_sets_and_delimited_text_evaluate_the_same() -> None:
    from sklearn import metrics

    from rebalance.multilabel.evaluation import evaluate_multilabel

    names, y, scores = scored_predictions(seed=3)
    pred = scores >= 0.6
    table = predictions_table(names, y, scores, pred=pred)
    listed = evaluate_multilabel(table)  # y_pred: lists
    text = pa.table({
        "y_true": ["|".join(n for n, v in zip(names, row, strict=True) if v) for row in y],
        "y_pred": ["|".join(n for n, v in zip(names, row, strict=True) if v) for row in pred],
    })  # fmt: skip
    delimited = evaluate_multilabel(text, sep="|")
    assert listed.averages == delimited.averages
    assert listed.averages["samples"]["f1"] == pytest.approx(
        metrics.f1_score(y.astype(int), pred.astype(int), average="samples", zero_division=0)
    )
    thresholded = evaluate_multilabel(table.drop(["y_pred"]), proba_prefix="p_", threshold=0.6)
    assert thresholded.averages == listed.averages


def test_a_label_with_one_class_has_no_auc_and_is_named() -> None:
    from rebalance.multilabel.evaluation import evaluate_multilabel

    names, y, scores = scored_predictions()
    y[:, 4] = False
    result = evaluate_multilabel(predictions_table(names, y, scores), proba_prefix="p_")
    assert result.per_label["yak"]["roc_auc"] is None and result.per_label["yak"]["pr_auc"] is None
    assert any("'yak'" in w for w in result.warnings)
    from sklearn.metrics import roc_auc_score

    assert result.roc_auc is not None
    assert result.roc_auc["macro"] == pytest.approx(
        roc_auc_score(y[:, :4], scores[:, :4], average="macro")
    )


def test_cli_evaluate_multi_label_with_gates(tmp_path: Path) -> None:
    names, y, scores = scored_predictions()
    path = tmp_path / "tag_preds.parquet"
    pq.write_table(predictions_table(names, y, scores), path)
    ok = runner.invoke(
        app, ["evaluate", str(path), "--multi-label", "--proba-prefix", "p_", "--json"]
    )
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["multi_label"] is True and doc["labels"] == names and doc["threshold"] == 0.5
    table = runner.invoke(
        app,
        ["evaluate", str(path), "--multi-label", "--proba-prefix", "p_"],
        env={"COLUMNS": "120"},
    )
    assert table.exit_code == 0 and "hamming loss" in table.stdout and "samples" in table.stdout
    gate = runner.invoke(
        app, ["evaluate", str(path), "--multi-label", "--proba-prefix", "p_", "--json",
              "--fail-under", "macro_f1=0.99", "--fail-over", "hamming_loss=0.5"],
    )  # fmt: skip
    assert gate.exit_code == 1
    assert "gate failed: macro_f1" in gate.stderr and "hamming_loss" not in gate.stderr
    md = tmp_path / "report.md"
    runner.invoke(
        app, ["evaluate", str(path), "--multi-label", "--proba-prefix", "p_", "--markdown", str(md)]
    )
    assert "| yak |" in md.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--multi-label"], "no predictions: name the predicted label sets with --pred-col"),
        (["--multi-label", "--proba-prefix", "q_"], "no column starts with --proba-prefix 'q_'"),
        (
            ["--multi-label", "--proba-prefix", "p_", "--fail-under", "macro_f2=0.5"],
            "unknown metric 'macro_f2'",
        ),
        (
            ["--multi-label", "--proba-prefix", "p_", "--bootstrap", "100"],
            "--bootstrap does not apply",
        ),
        (
            ["--multi-label", "--proba-prefix", "p_", "--threshold", "1.5"],
            "--threshold must be in [0, 1]",
        ),
        # a list truth column is read as --multi-label without the flag: --threshold applies
        (["--threshold", "0.3"], "holds lists: read as --multi-label"),
    ],
)
def test_cli_bad_multi_label_evaluate_exits_two(tmp_path: Path, args, message) -> None:  # type: ignore[no-untyped-def]
    names, y, scores = scored_predictions(rows=40)
    path = tmp_path / "p.parquet"
    pq.write_table(predictions_table(names, y, scores), path)
    result = runner.invoke(app, ["evaluate", str(path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_threshold_needs_multi_label_data(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("y_true,y_pred\na,a\nb,a\na,b\n")
    result = runner.invoke(app, ["evaluate", str(path), "--threshold", "0.3"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "rebalance: error: --threshold applies with --multi-label (binary: --thresholds)"
    )


# ---------------------------------------------------------------- resample


def skewed_sets(rows: int = 1500, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    names, rates = ["a", "b", "c", "d", "e"], [0.6, 0.3, 0.1, 0.05, 0.02]
    sets = [[n for n, r in zip(names, rates, strict=True) if rng.random() < r] for _ in range(rows)]
    return pa.table({"labels": pa.array(sets, pa.list_(pa.string())), "row": np.arange(rows)})


def _irlbl_of(table: pa.Table) -> dict[str, float]:
    counts: dict[str, int] = {}
    for labels in table.column("labels").to_pylist():
        for x in labels:
            counts[x] = counts.get(x, 0) + 1
    top = max(counts.values())
    return {k: top / v for k, v in counts.items()}


@pytest.mark.parametrize("method", ["ml-ros", "ml-rus", "lp-ros", "lp-rus"])
def test_every_output_row_is_an_input_row_and_runs_repeat(method: str) -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets()
    out, result = resample_multilabel(table, method=method, percentage=20, seed=5, provenance=True)
    source = out.column("rebalance_source_row").to_pylist()
    assert out.drop_columns(["rebalance_source_row", "rebalance_synthetic"]).equals(
        table.take(pa.array(source))
    )
    assert not any(out.column("rebalance_synthetic").to_pylist())
    again, _ = resample_multilabel(table, method=method, percentage=20, seed=5, provenance=True)
    assert again.equals(out)
    assert result.mean_ir_after is not None and result.mean_ir_before is not None
    assert result.mean_ir_after < result.mean_ir_before  # each method lowers MeanIR here


def test_ml_ros_copies_only_rows_of_minority_labels() -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets()
    ir = _irlbl_of(table)
    mean = sum(ir.values()) / len(ir)
    minority = {k for k, v in ir.items() if v > mean}
    out, result = resample_multilabel(table, method="ml-ros", percentage=5, seed=1)
    after = _irlbl_of(out)
    # the budget is spent, or every minority label has left the minority
    assert result.copies <= 75
    assert result.copies == 75 or all(after[k] <= mean for k in minority)
    copies = out.slice(table.num_rows).column("labels").to_pylist()
    assert copies and all(set(labels) & minority for labels in copies)


def test_ml_rus_removes_rows_of_majority_labels_and_spares_minority_ones() -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets()
    ir = _irlbl_of(table)
    mean = sum(ir.values()) / len(ir)
    minority = {k for k, v in ir.items() if v > mean}
    out, result = resample_multilabel(table, method="ml-rus", percentage=10, seed=1)
    assert result.removed == round(0.1 * table.num_rows)
    gone = set(range(table.num_rows)) - set(out.column("row").to_pylist())
    labels = table.column("labels").to_pylist()
    assert all(not set(labels[i]) & minority for i in gone)
    assert out.column("row").to_pylist() == sorted(out.column("row").to_pylist())  # input order


@pytest.mark.parametrize("method", ["lp-ros", "lp-rus"])
def test_label_powerset_moves_sets_towards_the_mean_size_only(method: str) -> None:
    from collections import Counter

    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets()
    before = Counter(tuple(x) for x in table.column("labels").to_pylist())
    mean = sum(before.values()) / len(before)
    out, _ = resample_multilabel(table, method=method, percentage=15, seed=2)
    after = Counter(tuple(x) for x in out.column("labels").to_pylist())
    for key, n in before.items():
        if method == "lp-ros":
            assert after[key] >= n and (after[key] == n or n < mean)
            assert after[key] <= max(n, math.ceil(mean))
        else:
            assert after[key] <= n and (after[key] == n or n > mean)
            assert after[key] >= min(n, math.floor(mean))


def test_target_meanir_is_reached_or_refused() -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets()
    _, result = resample_multilabel(table, method="ml-ros", target_meanir=4.0, seed=0)
    assert result.mean_ir_after is not None and result.mean_ir_after <= 4.0
    _, removed = resample_multilabel(table, method="ml-rus", target_meanir=8.5, seed=0)
    assert removed.mean_ir_after is not None and removed.mean_ir_after <= 8.5
    with pytest.raises(RebalanceError, match="takes more than 10× the 1,500 input rows"):
        resample_multilabel(table, method="ml-ros", target_meanir=1.0, seed=0)
    with pytest.raises(RebalanceError, match="give one of --percentage P and --target-meanir M"):
        resample_multilabel(table, method="ml-ros")
    with pytest.raises(RebalanceError, match="--target-meanir applies to ml-ros and ml-rus"):
        resample_multilabel(table, method="lp-ros", target_meanir=2)


def test_only_the_chosen_split_is_resampled(tmp_path: Path) -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets(600).append_column("split", pa.array(["train", "val"] * 300))
    with pytest.raises(RebalanceError, match="choose --only-split train"):
        resample_multilabel(table, method="ml-ros", percentage=10)
    out, _ = resample_multilabel(table, method="ml-ros", percentage=10, only_splits=["train"])
    assert out.slice(0, 600).equals(table)
    assert set(out.slice(600).column("split").to_pylist()) == {"train"}


def test_cli_resample_multi_label(tmp_path: Path) -> None:
    path = tmp_path / "tags.parquet"
    pq.write_table(skewed_sets(), path)
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["resample", str(path), "--multi-label", "-o", str(out), "--method", "ml-ros",
                                 "--target-meanir", "4", "--plan-out", str(tmp_path / "plan.json")])  # fmt: skip
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["method"] == "ml-ros" and plan["mean_ir_after"] <= 4
    assert pq.read_table(out).num_rows == plan["rows_out"]
    dry = runner.invoke(
        app,
        [
            "resample",
            str(path),
            "--multi-label",
            "--method",
            "lp-rus",
            "--percentage",
            "10",
            "--dry-run",
        ],
    )
    assert dry.exit_code == 0 and "dry run: nothing written" in dry.stderr
    for args, message in [
        (
            ["--percentage", "10", "--method", "smote"],
            "--method 'smote' does not resample multi-label rows",
        ),
        (["--percentage", "10", "--shuffle"], "--shuffle does not apply with --multi-label"),
        (["--target-meanir", "2", "--label-col", "row"], "give --multi-label too"),
    ]:
        multi = [] if "give --multi-label" in message else ["--multi-label"]
        bad = runner.invoke(
            app, ["resample", str(path), *multi, "-o", str(tmp_path / "x.parquet"), *args]
        )
        assert bad.exit_code == 2 and message in bad.stderr, (args, bad.output)
    assert not (tmp_path / "x.parquet").exists()


# ---------------------------------------------------------------- MLSMOTE


def mlsmote_table(rows: int = 400, seed: int = 0) -> pa.Table:
    """3 features; labels a (70%), b (20%), c (5%): only c is a minority label (IRLbl 14 > MeanIR)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    sets = [
        [n for n, r in zip("abc", [0.7, 0.2, 0.05], strict=True) if rng.random() < r]
        for _ in range(rows)
    ]
    return pa.table({"tags": pa.array(sets, pa.list_(pa.string())), **{f"x{j}": X[:, j] for j in range(3)},
                     "path": [f"f{i}.jpg" for i in range(rows)]})  # fmt: skip


@pytest.mark.parametrize("mode", ["ranking", "union", "intersection"])
def test_mlsmote_rows_follow_the_algorithm_written_out(mode: str) -> None:
    from sklearn.neighbors import NearestNeighbors

    from rebalance.multilabel.resample import PARENTS, resample_multilabel

    table = mlsmote_table()
    out, result = resample_multilabel(
        table, method="mlsmote", seed=3, provenance=True, label_mode=mode, k_neighbors=3
    )
    assert (
        out.slice(0, table.num_rows)
        .drop_columns(["rebalance_source_row", "rebalance_synthetic", PARENTS])
        .equals(table)
    )
    new = out.slice(table.num_rows).to_pylist()
    tags = table.column("tags").to_pylist()
    X = np.column_stack([table.column(f"x{j}").to_numpy() for j in range(3)])
    bag = [i for i, t in enumerate(tags) if "c" in t]
    assert result.synthetic == len(new) == len(bag)  # one new row per row of the minority label
    found = NearestNeighbors(n_neighbors=4).fit(X[bag]).kneighbors(X[bag], return_distance=False)
    for row in new:
        a, b = row[PARENTS]
        assert "c" in tags[a] and "c" in tags[b]
        x = np.array([row[f"x{j}"] for j in range(3)])
        assert np.all(x >= np.minimum(X[a], X[b]) - 1e-12) and np.all(
            x <= np.maximum(X[a], X[b]) + 1e-12
        )
        position = bag.index(a)
        group = [a] + [bag[p] for p in found[position] if p != position][:3]
        assert b in group[1:]
        votes = {label: sum(label in tags[i] for i in group) for label in "abc"}
        expected = {
            "ranking": [k for k, v in votes.items() if v > 2],
            "union": [k for k, v in votes.items() if v > 0],
            "intersection": [k for k, v in votes.items() if v == 4],
        }[mode]
        assert row["tags"] == expected
        assert (
            row["path"] is None
            and row["rebalance_synthetic"]
            and row["rebalance_source_row"] is None
        )
    assert result.mean_ir_after is not None and result.mean_ir_before is not None
    assert result.mean_ir_after < result.mean_ir_before
    again, _ = resample_multilabel(
        table, method="mlsmote", seed=3, provenance=True, label_mode=mode, k_neighbors=3
    )
    assert again.equals(out)


def test_mlsmote_writes_labels_in_the_shape_they_came_in() -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = mlsmote_table()
    tags = table.column("tags").to_pylist()
    text = table.set_column(0, "tags", pa.array(["|".join(t) for t in tags]))
    out, _ = resample_multilabel(text, method="mlsmote", sep="|", seed=1)
    assert all("c" in v.split("|") for v in out.slice(table.num_rows).column("tags").to_pylist())
    wide = table.drop_columns(["tags"])
    for label in "abc":
        wide = wide.append_column(
            f"tag_{label}", pa.array([int(label in t) for t in tags], pa.int8())
        )
    out, _ = resample_multilabel(wide, method="mlsmote", label_cols=["tag_*"], seed=1)
    assert out.schema == wide.schema
    assert set(out.slice(wide.num_rows).column("tag_c").to_pylist()) == {1}
    with pytest.raises(RebalanceError, match="mlsmote interpolates numbers; 'path' is text"):
        resample_multilabel(table, method="mlsmote", features=["x*", "path"])
    with pytest.raises(RebalanceError, match="takes no --percentage"):
        resample_multilabel(table, method="mlsmote", percentage=10)


def test_the_plan_counts_rows_per_label_before_and_after(tmp_path: Path) -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = skewed_sets()
    out, result = resample_multilabel(table, method="ml-rus", percentage=10, seed=1)
    for label, counts in result.labels.items():
        assert counts["before"] == sum(label in x for x in table.column("labels").to_pylist())
        assert counts["after"] == sum(label in x for x in out.column("labels").to_pylist())
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    dry = runner.invoke(
        app,
        [
            "resample",
            str(path),
            "--multi-label",
            "--method",
            "ml-rus",
            "--percentage",
            "10",
            "--seed",
            "1",
            "--dry-run",
        ],
    )
    lines = dry.stdout.splitlines()
    assert lines[0] == "label\tbefore\tafter"
    assert lines[1] == f"a\t{result.labels['a']['before']}\t{result.labels['a']['after']}"


def test_mlsmote_rows_keep_the_split_they_grew_in() -> None:
    from rebalance.multilabel.resample import resample_multilabel

    table = mlsmote_table().append_column(
        "split", pa.array(["train", "train", "val", "train"] * 100)
    )
    out, result = resample_multilabel(
        table, method="mlsmote", only_splits=["train"], seed=1, provenance=True
    )
    new = out.slice(table.num_rows)
    assert result.synthetic == new.num_rows > 0
    assert set(new.column("split").to_pylist()) == {"train"}
    parents = [p for pair in new.column("rebalance_parent_rows").to_pylist() for p in pair]
    assert all(table.column("split")[p].as_py() == "train" for p in parents)
