"""Anything the CLI does, one Python call does: the same result, command by command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import rebalance
from rebalance.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def cli_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_inspect_is_one_call() -> None:
    path = str(SAMPLES / "longtail.csv")
    assert rebalance.inspect(path).to_dict() == cli_json("inspect", path, "--json")


def test_inspect_takes_a_table() -> None:
    frame = pd.read_csv(SAMPLES / "longtail.csv", dtype=str)
    from_frame = rebalance.inspect(frame).to_dict()
    from_file = rebalance.inspect(str(SAMPLES / "longtail.csv")).to_dict()
    assert from_frame["counts"] == from_file["counts"] and from_frame["source"] == "table"
    assert rebalance.inspect({"label": ["a", "a", "b"]}).overall.counts == {"a": 2, "b": 1}
    with pytest.raises(rebalance.RebalanceError, match="source must be a file path"):
        rebalance.inspect(42)


def test_resample_is_one_call(tmp_path: Path) -> None:
    src = str(SAMPLES / "longtail.csv")
    by_cli, by_call = tmp_path / "cli.csv", tmp_path / "call.csv"
    args = ["--target", "sqrt", "--only-split", "train", "--seed", "3"]
    assert runner.invoke(app, ["resample", src, "-o", str(by_cli), *args]).exit_code == 0
    rebalance.resample_file(src, by_call, target="sqrt", only_splits=["train"], seed=3)
    assert by_call.read_bytes() == by_cli.read_bytes()


def test_resample_takes_an_int_target_and_a_dataframe() -> None:
    frame = pd.DataFrame({"label": ["a"] * 30 + ["b"] * 5, "x": range(35)})
    result = rebalance.resample(frame, target=10)
    assert result.table.num_rows == 20 and result.plan.target == "10"
    with pytest.raises(rebalance.RebalanceError, match="target must be a string"):
        rebalance.resample(frame, target=[10])  # type: ignore[arg-type]
    with pytest.raises(rebalance.RebalanceError, match="data must be a file path"):
        rebalance.resample("not a table but a string")


def test_weights_is_one_call() -> None:
    path = str(SAMPLES / "longtail.csv")
    found = rebalance.manifest_weights(path, scheme="effective", missing_weight=0.0)
    assert found.label_col == "label" and found.split == "train" and found.split_col == "split"
    expected = cli_json("weights", path, "--scheme", "effective", "--missing-weight", "0")
    assert found.weights.to_dict() == expected


def test_keras_weights_have_int_keys_in_class_order() -> None:
    weights = rebalance.class_weights({"cat": 10, "dog": 30, "01": 5})
    keras = weights.keras()
    assert list(keras) == [0, 1, 2] and all(isinstance(k, int) for k in keras)
    assert [keras[i] for i in range(3)] == [weights.weights[c] for c in weights.classes]
    assert weights.classes == ["01", "cat", "dog"]


def test_evaluate_is_one_call(tmp_path: Path) -> None:
    preds = str(SAMPLES / "fraud-predictions.csv")
    result = rebalance.evaluate(preds, bootstrap=20, seed=1)
    assert result.report == cli_json(
        "evaluate", preds, "--json", "--bootstrap", "20", "--seed", "1"
    )
    assert result.gate_failures(under=[("recall[fraud]", 0.999)])
    frame = pd.read_csv(preds, dtype={"y_true": str, "y_pred": str})
    from_frame = rebalance.evaluate(frame).report
    assert from_frame["balanced_accuracy"] == result.report["balanced_accuracy"]


def test_evaluate_compares_several(tmp_path: Path) -> None:
    table = pa.table({"y_true": ["a", "b", "a", "b"], "y_pred": ["a", "b", "b", "b"]})
    other = pa.table({"y_true": ["a", "b", "a"], "y_pred": ["a", "a", "a"]})
    result = rebalance.evaluate([table, other])
    assert result.report["files"] == ["predictions", "predictions"]
    assert "has 4 rows but predictions has 3" in result.warnings[0]


def test_advise_is_one_call() -> None:
    path = str(SAMPLES / "fraud.csv")
    args = ["--remedies", "balanced-weights,random-under", "--folds", "4", "--repeats", "1"]
    doc = cli_json("advise", path, *args, "--json")
    found = rebalance.advise_file(
        path, remedies=["balanced-weights,random-under"], folds=4, repeats=1
    ).to_dict()
    for key in ("seconds", "estimated_seconds"):  # timings differ run to run
        doc.pop(key)
        found.pop(key)
    for remedy in (*doc["remedies"], *found["remedies"]):
        remedy.pop("fit_seconds")
    assert found == doc


def test_adjust_is_one_call(tmp_path: Path) -> None:
    preds, train = str(SAMPLES / "fraud-predictions.csv"), str(SAMPLES / "fraud.csv")
    out = tmp_path / "cli.csv"
    result = runner.invoke(app, ["adjust", preds, "--train-manifest", train, "--estimate", "em", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    found = rebalance.adjust_file(
        preds,
        tmp_path / "py.csv",
        priors_out=tmp_path / "py.json",
        train_manifest=train,
        estimate="em",
    )
    assert (tmp_path / "py.csv").read_bytes() == out.read_bytes()
    sidecar = json.loads((tmp_path / "cli.csv.priors.json").read_text())
    assert found.to_dict() | {"source": sidecar["source"]} == sidecar
