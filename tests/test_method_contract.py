"""One contract for every method of the registry (imbalanced-learn's way: a new method
joins this suite by its registry line alone), and the registry as the only list: a method
added there is a --method of the command line, in its help and its completion."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.datasets import make_classification
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.resampling import SOURCE_ROW, SYNTHETIC, resample
from rebalance.samplers import registry
from rebalance.samplers.registry import METHODS, Method, method_help, method_names


def dataset() -> pa.Table:
    X, y = make_classification(
        n_samples=160, n_features=3, n_informative=3, n_redundant=0, n_clusters_per_class=1,
        n_classes=3, weights=[0.7, 0.2, 0.1], class_sep=1.5, random_state=0,
    )  # fmt: skip
    labels = np.array(["a", "b", "c"], dtype=object)[y]
    return pa.table(
        {
            "id": [f"r{i:03d}" for i in range(len(y))],
            **{f"f{j}": X[:, j] for j in range(3)},
            "label": labels.tolist(),
        }
    )


def params_for(method: str) -> dict[str, object]:
    # KMeansSMOTE finds no cluster balanced enough at its default on a set this small
    return {"cluster_balance_threshold": 0.0} if method == "kmeans-smote" else {}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_keeps_the_contract(method: str) -> None:
    table = dataset()
    if method == "smoten":  # categorical features only
        table = table.set_column(1, "f0", pc.cast(pc.round(table.column("f0")), pa.string()))
        table = table.drop_columns(["f1", "f2"])
    options: dict[str, object] = {
        "method": method,
        "seed": 3,
        "provenance": True,
        "params": params_for(method),
    }
    if method == "smotenc":  # numeric and categorical features
        table = table.append_column("kind", pa.array(["x", "y"] * 80))
        options["features"] = ["f*", "kind"]
    result = resample(table, **options)
    again = resample(table, **options)
    assert result.table.equals(again.table)  # same seed, same rows
    out = result.table
    kept = out.filter(pc.invert(out.column(SYNTHETIC)))
    sources = kept.column(SOURCE_ROW).to_pylist()
    # every row not marked synthetic is an input row, exactly, with every column
    assert kept.drop_columns([SOURCE_ROW, SYNTHETIC]).equals(table.take(pa.array(sources)))
    made = out.filter(out.column(SYNTHETIC))
    assert (
        made.column(SOURCE_ROW).null_count
        + sum(1 for v in made.column(SOURCE_ROW).to_pylist() if v == -1)
        >= 0
    )
    assert set(out.column("label").to_pylist()) <= {"a", "b", "c"}
    kind = METHODS[method].kind
    before = Counter(table.column("label").to_pylist())
    after = Counter(out.column("label").to_pylist())
    if kind == "over":
        assert made.num_rows > 0 and all(after[c] >= before[c] for c in before)
    if kind in ("select", "clean"):
        assert made.num_rows == 0 and all(after[c] <= before[c] for c in before)
    assert result.produced == dict(after)  # the record says what was written


def test_a_method_is_one_registry_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The recipe of ARCHITECTURE.md, followed: one line registers a method, and the
    library, the command line, its help and its completion have it."""
    monkeypatch.setitem(
        METHODS, "near-miss-2", Method("select", "imblearn.under_sampling.NearMiss")
    )
    assert "near-miss-2" in method_names() and "near-miss-2" in method_help()
    table = dataset()
    by_line = resample(table, method="near-miss-2", params={"version": 2}, provenance=True)
    by_name = resample(table, method="near-miss", params={"version": 2}, provenance=True)
    assert by_line.table.equals(by_name.table)
    source = tmp_path / "in.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(table, source)
    run = CliRunner().invoke(
        app,
        ["resample", str(source), "-o", str(tmp_path / "out.csv"), "--method", "near-miss-2",
         "--param", "version=2", "--features", "f*"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert (tmp_path / "out.csv").exists()
    assert registry.method_kind("near-miss-2") == "select"
