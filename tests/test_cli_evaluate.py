"""`rebalance evaluate` through the CLI: input detection, outputs, gates, compare, bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rebalance.cli import app

runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def preds(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    y = np.where(rng.random(400) < 0.1, "fraud", "ok")
    s = np.clip(
        np.where(y == "fraud", rng.normal(0.75, 0.15, 400), rng.normal(0.25, 0.15, 400)), 0, 1
    ).round(4)
    rows = [
        [t, "fraud" if v >= 0.5 else "ok", v, round(1 - v, 4)] for t, v in zip(y, s, strict=True)
    ]
    return write(tmp_path / "preds.csv", ["y_true", "y_pred", "p_fraud", "p_ok"], rows)


def test_report_and_json(tmp_path: Path, preds: Path) -> None:
    out = tmp_path / "report.json"
    result = run("evaluate", str(preds), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "balanced accuracy" in result.stdout and "ROC AUC" in result.stdout
    doc = json.loads(out.read_text())
    for key in (
        "n",
        "accuracy",
        "baseline_accuracy",
        "balanced_accuracy",
        "macro",
        "weighted",
        "per_class",
        "confusion_matrix",
    ):
        assert key in doc
    assert doc["score_cols"] == ["p_fraud", "p_ok"] and doc["scores"]["roc_auc_macro"] > 0.9
    assert json.loads(run("evaluate", str(preds), "--json").stdout)["n"] == 400


def test_binary_operating_points(preds: Path) -> None:
    doc = json.loads(
        run(
            "evaluate",
            str(preds),
            "--positive",
            "fraud",
            "--at-specificity",
            "0.9",
            "--at-recall",
            "0.8",
            "--thresholds",
            "--json",
        ).stdout
    )
    assert doc["binary"]["positive"] == "fraud"
    assert doc["binary"]["at_specificity"]["specificity"] >= 0.9
    assert doc["binary"]["sweep"]


def test_score_col_and_exact_name_columns(tmp_path: Path) -> None:
    rows = [["1", "1", 0.9], ["0", "0", 0.2], ["1", "0", 0.4], ["0", "0", 0.1]]
    path = write(tmp_path / "s.csv", ["label", "pred", "score"], rows)
    doc = json.loads(run("evaluate", str(path), "--score-col", "score", "--json").stdout)
    assert doc["per_class"]["1"]["roc_auc"] == 1.0  # positive '1' picked by itself
    yard = write(
        tmp_path / "y.csv",
        ["truth", "prediction", "cat", "dog"],
        [["cat", "cat", 0.8, 0.2], ["dog", "cat", 0.6, 0.4], ["dog", "dog", 0.1, 0.9]],
    )
    doc = json.loads(run("evaluate", str(yard), "--json").stdout)
    assert doc["score_cols"] == ["cat", "dog"]


def test_gates_exit_1_listing_every_failure(preds: Path) -> None:
    result = run(
        "evaluate",
        str(preds),
        "--fail-under",
        "macro_f1=0.99",
        "--fail-under",
        "recall[fraud]=0.999",
    )
    assert result.exit_code == 1
    assert (
        "gate failed: macro_f1" in result.stderr and "gate failed: recall[fraud]" in result.stderr
    )
    assert run("evaluate", str(preds), "--fail-under", "macro_f1=0.1").exit_code == 0
    bad = run("evaluate", str(preds), "--fail-under", "f9=0.1")
    assert bad.exit_code == 2 and "valid:" in bad.stderr


def test_bootstrap_gate_uses_lower_bound(preds: Path) -> None:
    doc = json.loads(run("evaluate", str(preds), "--bootstrap", "100", "--json").stdout)
    point, low = doc["balanced_accuracy"], doc["bootstrap"]["balanced_accuracy"]["low"]
    assert low < point
    middle = (low + point) / 2
    gated = run(
        "evaluate", str(preds), "--bootstrap", "100", "--fail-under", f"balanced_accuracy={middle}"
    )
    assert gated.exit_code == 1 and "lower 95% bound" in gated.stderr


def test_compare_two_files(tmp_path: Path, preds: Path) -> None:
    lazy = write(
        tmp_path / "lazy.csv",
        ["y_true", "y_pred"],
        [[r[0], "ok"] for r in csv.reader(open(preds))][1:],
    )
    result = run("evaluate", str(lazy), str(preds), "--json")
    doc = json.loads(result.stdout)
    assert doc["files"] == [str(lazy), str(preds)]
    assert doc["metrics"]["balanced_accuracy"]["delta"][1] > 0.3
    assert "ACCURACY PARADOX" in result.stderr


def test_train_manifest_buckets_and_priors(tmp_path: Path, preds: Path) -> None:
    train = write(tmp_path / "train.csv", ["label"], [["ok"]] * 500 + [["fraud"]] * 15)
    doc = json.loads(
        run(
            "evaluate", str(preds), "--train-manifest", str(train), "--adjust-priors", "--json"
        ).stdout
    )
    assert doc["buckets"]["many"]["classes"] == 1 and doc["buckets"]["few"]["classes"] == 1
    assert doc["prior_adjusted"]["target_priors"] == "uniform"


def test_markdown_and_html_are_written(tmp_path: Path, preds: Path) -> None:
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    assert run("evaluate", str(preds), "--markdown", str(md), "--html", str(page)).exit_code == 0
    assert "| fraud |" in md.read_text()
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<svg" in text
    assert (
        "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        and "https://" not in text
    )


@pytest.mark.parametrize(
    ("header", "rows", "args", "message"),
    [
        (["y_true", "y_pred"], [], [], "no data rows"),
        (["truth_x", "y_pred"], [["a", "a"], ["b", "b"]], [], "no true-label column found"),
        (
            ["y_true", "y_pred"],
            [["a", "a"], ["b", "b"]],
            ["--pred-col", "guess"],
            "no column 'guess'",
        ),
        (
            ["y_true", "y_pred", "p_a", "p_b"],
            [["a", "a", "x", 0.1], ["b", "b", 0.2, 0.8]],
            [],
            "not numeric",
        ),
        (
            ["y_true", "y_pred", "p_a", "p_b"],
            [["a", "a", 1.5, 0.1], ["b", "b", 0.2, 0.8]],
            [],
            "outside [0, 1]",
        ),
        (
            ["y_true", "y_pred"],
            [["a", "a"], ["a", "b"]],
            [],
            "only one class in the true labels ('a')",
        ),
        (["y_true", "y_pred"], [["a", "a"], ["", "b"]], [], "empty true or predicted label"),
    ],
)
def test_bad_input_exit_2(tmp_path: Path, header, rows, args, message) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "p.csv", header, rows)
    result = run("evaluate", str(path), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_rows_not_summing_to_one_warn(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv",
        ["y_true", "y_pred", "p_a", "p_b"],
        [["a", "a", 0.9, 0.9], ["b", "b", 0.1, 0.8]],
    )
    result = run("evaluate", str(path))
    assert result.exit_code == 0 and "do not sum to 1" in result.stderr


def _chromium() -> str | None:
    return (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


@pytest.mark.skipif(
    _chromium() is None, reason="no headless Chromium here (.ci/run installs Debian's chromium)"
)
def test_html_renders_in_a_real_browser_without_console_errors(tmp_path: Path, preds: Path) -> None:
    page = tmp_path / "r.html"
    assert run("evaluate", str(preds), "--positive", "fraud", "--html", str(page)).exit_code == 0
    browser = _chromium()
    assert browser is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<svg" in dom.stdout and "Confusion matrix" in dom.stdout
    console_errors = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)
    ]
    assert console_errors == []
    shot = tmp_path / "r.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000


def test_train_manifest_counts_its_train_split(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    rows = [["a", "train"]] * 150 + [["b", "train"]] * 30 + [["rare", "val"]] * 40
    write(train, ["label", "split"], rows)
    preds = write(
        tmp_path / "p.csv",
        ["y_true", "y_pred"],
        [["a", "a"]] * 20 + [["b", "b"]] * 10 + [["rare", "rare"]] * 5 + [["rare", "a"]] * 5,
    )
    result = run(
        "evaluate", str(preds), "--train-manifest", str(train), "-o", str(tmp_path / "r.json")
    )
    assert result.exit_code == 0, result.output
    assert "training counts from split 'train' of column 'split'" in result.stderr
    assert "180 rows, 2 classes" in result.stderr
    buckets = json.loads((tmp_path / "r.json").read_text())["buckets"]
    assert buckets["unseen"]["classes"] == 1 and buckets["unseen"]["support"] == 10  # 'rare'
    assert buckets["many"]["classes"] == 1 and buckets["medium"]["classes"] == 1
    val = run(
        "evaluate", str(preds), "--train-manifest", str(train), "--train-split", "val", "--json"
    )
    assert json.loads(val.stdout)["buckets"]["unseen"]["classes"] == 2  # a and b unseen in val
    bad = run("evaluate", str(preds), "--train-manifest", str(train), "--train-split", "nope")
    assert bad.exit_code == 2 and "no split 'nope'" in bad.stderr
    lone = run("evaluate", str(preds), "--train-split", "train")
    assert lone.exit_code == 2 and "need --train-manifest" in lone.stderr


def test_prior_adjustment_uses_train_split_priors(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    # in train a:b is 4:1; counting every row (val is all b) would make it 1:1
    write(
        train,
        ["label", "split"],
        [["a", "train"]] * 80 + [["b", "train"]] * 20 + [["b", "val"]] * 60,
    )
    preds = write(
        tmp_path / "p.csv",
        ["y_true", "y_pred", "p_a", "p_b"],
        [["a", "a", 0.7, 0.3]] * 10 + [["b", "a", 0.6, 0.4]] * 10,
    )
    doc = json.loads(
        run(
            "evaluate", str(preds), "--train-manifest", str(train), "--adjust-priors", "--json"
        ).stdout
    )
    # uniform target / train priors (0.8, 0.2): p'(b) ∝ 0.4/0.2 beats p'(a) ∝ 0.6/0.8
    assert doc["prior_adjusted"]["report"]["per_class"]["b"]["recall"] == 1.0
