"""`rebalance weights` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.manifest import read_manifest

runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


def test_default_json_on_stdout(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"b": 30, "a": 10})
    result = run("weights", str(path))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scheme"] == "balanced" and doc["normalize"] == "none"
    assert doc["classes"] == ["a", "b"]
    assert doc["weights"] == pytest.approx({"a": 2.0, "b": 40 / 60})
    assert doc["counts"] == {"a": 10, "b": 30}


def test_torch_keras_csv_and_log_priors(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"10": 5, "2": 15, "1": 30})
    out = tmp_path / "w.json"
    assert run("weights", str(path), "--format", "torch", "-o", str(out)).exit_code == 0
    vector = json.loads(out.read_text())
    assert (tmp_path / "w.classes.txt").read_text() == "1\n2\n10\n"  # numeric order
    assert vector == pytest.approx([50 / 90, 50 / 45, 50 / 15])
    keras = json.loads(run("weights", str(path), "--format", "keras").stdout)
    assert list(keras) == ["0", "1", "2"] and keras["2"] == pytest.approx(50 / 15)
    table = run("weights", str(path), "--format", "csv").stdout.splitlines()
    assert table[0] == "label,count,weight" and table[1].startswith("1,30,")
    priors = json.loads(run("weights", str(path), "--format", "log-priors", "--tau", "1").stdout)
    assert priors[0] == pytest.approx(-0.5108256237659907)  # log(30/50)


def test_classes_file_sets_the_order(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"cat": 10, "dog": 20})
    order = tmp_path / "classes.txt"
    order.write_text("dog\ncat\n")
    vector = json.loads(
        run("weights", str(path), "--format", "torch", "--classes", str(order)).stdout
    )
    assert vector == pytest.approx([0.75, 1.5])
    order.write_text("dog\ncat\nbird\n")
    bad = run("weights", str(path), "--classes", str(order))
    assert bad.exit_code == 2 and "no rows in the data: 'bird'" in bad.stderr
    ok = run("weights", str(path), "--classes", str(order), "--missing-weight", "0")
    assert json.loads(ok.stdout)["weights"]["bird"] == 0.0
    torch = run(
        "weights", str(path), "--classes", str(order), "--missing-weight", "0.7",
        "--format", "torch",
    )  # fmt: skip
    assert json.loads(torch.stdout) == pytest.approx([0.75, 1.5, 0.7])


def test_scheme_options(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 800, "b": 1})
    doc = json.loads(run("weights", str(path), "--scheme", "effective", "--beta", "0.999").stdout)
    assert doc["normalize"] == "mean" and doc["params"] == {"beta": 0.999}
    assert doc["weights"]["b"] == pytest.approx(1.9963758323558571)
    clipped = json.loads(run("weights", str(path), "--clip", "1:10", "--override", "a=0.25").stdout)
    assert clipped["weights"] == {"a": 0.25, "b": 10.0}


def test_from_file(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 8, "b": 2})
    manual = tmp_path / "w.json"
    manual.write_text('{"a": 1, "b": 3.5}')
    doc = json.loads(run("weights", str(path), "--from", str(manual)).stdout)
    assert doc["scheme"] == "manual" and doc["weights"] == {"a": 1.0, "b": 3.5}


def test_sample_weights_manifest(tmp_path: Path, make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 6, "b": 2})
    out = tmp_path / "weighted.parquet"
    result = run("weights", str(path), "--sample-weights", "-o", str(out), "--weight-col", "w")
    assert result.exit_code == 0, result.output
    table = read_manifest(out)
    assert table.column_names == ["path", "label", "x", "w"]
    assert table.column("w").to_pylist() == pytest.approx([8 / 12] * 6 + [2.0] * 2)
    stdout = run("weights", str(path), "--sample-weights")
    assert stdout.stdout.splitlines()[0] == "path,label,x,weight"


def test_split_aware_default_train(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest({"a": 10, "b": 4}, split=lambda i, label: "test" if i % 2 else "train")
    result = run("weights", str(path))
    assert result.exit_code == 0
    assert "weights from split 'train'" in result.stderr
    assert json.loads(result.stdout)["counts"] == {"a": 5, "b": 2}
    test = json.loads(run("weights", str(path), "--from-split", "test").stdout)
    assert test["counts"] == {"a": 5, "b": 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheme", "effective", "--beta", "1"], "--beta must be in [0, 1), got 1"),
        (["--clip", "3:1"], "MIN 3 is greater than MAX 1"),
        (["--scheme", "focal"], "Invalid value for '--scheme'"),
        (["--from-split", "train"], "needs a split column"),
        (["--override", "a"], "must look like LABEL=WEIGHT"),
    ],
)
def test_bad_input_exit_2(make_manifest, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = run("weights", str(make_manifest({"a": 3, "b": 1})), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_class_absent_from_train_split(make_manifest) -> None:  # type: ignore[no-untyped-def]
    path = make_manifest(
        {"a": 6, "b": 2}, split=lambda i, label: "test" if label == "b" else "train"
    )
    result = run("weights", str(path))
    assert result.exit_code == 2
    assert "class(es) with zero rows in split 'train': 'b'" in result.stderr
