"""Regression targets: inspect's histogram and skew, and the weighting schemes, each against
a direct implementation; on scikit-learn's diabetes set (real data shipped with the package)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.errors import RebalanceError
from rebalance.regression.stats import inspect_regression, inspect_target
from rebalance.regression.weights import target_weights

runner = CliRunner()


def diabetes() -> np.ndarray:
    """Disease progression of 442 patients (scikit-learn ships it; no download)."""
    from sklearn.datasets import load_diabetes

    return np.asarray(load_diabetes().target, dtype=float)


def diabetes_csv(tmp_path: Path) -> Path:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame["split"] = np.where(np.arange(len(frame)) % 4 == 0, "val", "train")
    path = tmp_path / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path


def test_histogram_skew_and_rare_ranges_on_real_data() -> None:
    from scipy.stats import skew

    y = diabetes()
    report = inspect_target(y, bins=10)
    counts, edges = np.histogram(y, bins=10)
    assert report.overall.counts == counts.tolist()
    np.testing.assert_allclose(report.bins.edges, edges)
    assert report.overall.skew == pytest.approx(skew(y))
    assert report.overall.mean == pytest.approx(y.mean())
    # rare: bins under a fifth of an even share (442 / 10 / 5 = 8.84 rows): the top bin
    rare = report.overall.rare
    assert [(r["rows"], r["high"]) for r in rare] == [(int(counts[-1]), pytest.approx(y.max()))]
    assert counts[-1] < 8.84 <= counts[-2]


def test_quantile_bins_hold_about_equal_rows() -> None:
    y = diabetes()
    report = inspect_target(y, bins=4, binning="quantile")
    np.testing.assert_allclose(report.bins.edges, np.quantile(y, [0, 0.25, 0.5, 0.75, 1]))
    assert max(report.overall.counts) - min(report.overall.counts) <= 0.05 * len(y)


def test_lds_weights_equal_the_formula_written_out() -> None:
    y = diabetes()
    found = target_weights(y, scheme="lds", bins=30, kernel_size=5, sigma=2.0)
    counts, edges = np.histogram(y, bins=30)
    smoothed = []
    for b in range(30):
        total = 0.0
        for k in range(-2, 3):
            if 0 <= b + k < 30:
                total += math.exp(-(k**2) / (2 * 2.0**2)) * counts[b + k]
        smoothed.append(total)
    which = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, 29)
    raw = np.array([1 / smoothed[b] for b in which])
    np.testing.assert_allclose(found.weights, raw / raw.mean(), rtol=1e-12)
    assert found.weights.mean() == pytest.approx(1.0)


@pytest.mark.parametrize(("scheme", "power"), [("inverse", 1.0), ("sqrt-inverse", 0.5)])
def test_inverse_density_weights(scheme: str, power: float) -> None:
    y = diabetes()
    found = target_weights(y, scheme=scheme, bins=12)
    counts, edges = np.histogram(y, bins=12)
    which = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, 11)
    raw = 1 / counts[which].astype(float) ** power
    np.testing.assert_allclose(found.weights, raw / raw.mean(), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_denseweight_equals_a_direct_kernel_density(alpha: float) -> None:
    from scipy.stats import gaussian_kde

    y = diabetes()
    found = target_weights(y, scheme="denseweight", alpha=alpha)
    p = gaussian_kde(y, bw_method="silverman")(y)
    scaled = (p - p.min()) / (p.max() - p.min())
    raw = np.maximum(1 - alpha * scaled, 1e-6)
    expected = raw / raw.mean()
    big = expected > 0.05  # the gridded density is exact to ~1e-5; ε-clipped rows differ more
    np.testing.assert_allclose(found.weights[big], expected[big], rtol=2e-3)
    assert found.weights.mean() == pytest.approx(1.0)
    assert found.params["bandwidth"] == pytest.approx(
        gaussian_kde(y, bw_method="silverman").factor * y.std(ddof=1)
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=200).filter(
        lambda v: len(set(v)) > 1 and np.std(v) > 1e-6
    ),
    st.sampled_from(["lds", "inverse", "sqrt-inverse", "denseweight"]),
)
def test_weights_are_positive_with_mean_one(values: list[float], scheme: str) -> None:
    y = np.array(values)
    found = target_weights(y, scheme=scheme, bins=8)
    assert found.weights.shape == y.shape
    assert (found.weights > 0).all()
    assert found.weights.mean() == pytest.approx(1.0)
    # rarer values never weigh less than commoner ones under the inverse schemes
    if scheme == "inverse":
        counts = np.array(found.bin_rows)
        which = found.bins.index(y) if found.bins else None
        assert which is not None
        order = np.argsort(counts[which])
        assert np.all(np.diff(found.weights[order]) <= 1e-12)


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([3.0, 3.0, 3.0], {}, "one value only"),
        ([1.0, 2.0, 3.0], {"kernel_size": 4}, "--kernel-size must be a positive odd number"),
        ([1.0, 2.0, 3.0], {"sigma": 0.0}, "--sigma must be positive"),
        ([1.0, 2.0, 3.0], {"scheme": "balanced"}, "unknown regression scheme 'balanced'"),
        ([1.0, 2.0, 3.0], {"binning": "log"}, "--binning 'log'"),
    ],
)
def test_bad_weight_options_are_one_clear_error(values, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RebalanceError, match=message):
        target_weights(np.array(values), **kwargs)


def test_targets_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(RebalanceError, match="'age' has 'old' at data row 2, not a number"):
        inspect_regression(pa.table({"age": ["31", "old", "40"]}), label_col="age")
    with pytest.raises(RebalanceError, match="'age' is missing at data row 2"):
        inspect_regression(pa.table({"age": [31.0, None, 40.0]}), label_col="age")
    with pytest.raises(RebalanceError, match="'age' is missing at data row 3"):
        inspect_regression(pa.table({"age": ["31", "5", ""]}), label_col="age")


# ---------------------------------------------------------------- CLI


def test_cli_inspect_regression_json_and_per_split(tmp_path: Path) -> None:
    path = str(diabetes_csv(tmp_path))
    result = runner.invoke(
        app, ["inspect", path, "--label-col", "target", "--regression", "--bins", "10", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["regression"] is True and len(doc["bin_edges"]) == 11
    assert sum(doc["bin_rows"]) == 442
    assert set(doc["splits"]) == {"train", "val"}
    assert sum(doc["splits"]["val"]["bin_rows"]) == 111
    table = runner.invoke(
        app, ["inspect", path, "--label-col", "target", "--regression"], env={"COLUMNS": "100"}
    )
    assert table.exit_code == 0 and "skew" in table.stdout
    csv_out = runner.invoke(
        app, ["inspect", path, "--label-col", "target", "--regression", "--format", "csv"]
    )
    assert csv_out.stdout.splitlines()[0] == "low,high,rows,share,rows_train,rows_val"


def test_a_numeric_label_with_many_values_gets_a_hint(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["inspect", str(diabetes_csv(tmp_path)), "--label-col", "target", "--json"]
    )
    assert result.exit_code == 0
    assert "try --regression" in result.stderr


def test_cli_weights_regression_sample_weights_from_train(tmp_path: Path) -> None:
    path = str(diabetes_csv(tmp_path))
    result = runner.invoke(
        app,
        [
            "weights",
            path,
            "--label-col",
            "target",
            "--regression",
            "--scheme",
            "lds",
            "--sample-weights",
        ],
    )
    assert result.exit_code == 0, result.output
    import io

    import pandas as pd

    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns)[-1] == "weight" and len(out) == 442
    assert out.loc[out.split == "train", "weight"].mean() == pytest.approx(1.0)
    assert "weights from split 'train'" in result.stderr
    summary = runner.invoke(
        app,
        [
            "weights",
            path,
            "--label-col",
            "target",
            "--regression",
            "--scheme",
            "denseweight",
            "--alpha",
            "0.5",
        ],
    )
    assert summary.exit_code == 0
    assert json.loads(summary.stdout)["params"]["alpha"] == 0.5


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        (
            "inspect",
            ["--regression", "--label-col", "s"],
            "'s' has 'a' at data row 1, not a number",
        ),
        ("inspect", ["--bins", "5"], "--bins bins a regression target: give --regression too"),
        (
            "inspect",
            ["--regression", "--max-ratio", "3"],
            "--max-ratio does not apply with --regression",
        ),
        ("weights", ["--regression", "--scheme", "balanced"], "--scheme balanced is for classes"),
        ("weights", ["--scheme", "lds"], "weighs a regression target: give --regression"),
        ("weights", ["--sigma", "1"], "--sigma applies with --regression"),
        (
            "weights",
            ["--regression", "--format", "torch"],
            "--format does not apply with --regression",
        ),
    ],
)
def test_cli_bad_regression_usage_exits_two(tmp_path: Path, command, args, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.csv"
    path.write_text("s,label\na,1.5\nb,2.5\nc,3.5\n")
    result = runner.invoke(app, [command, str(path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


# ---------------------------------------------------------------- resample


def diabetes_table() -> pa.Table:
    from sklearn.datasets import load_diabetes

    return pa.Table.from_pandas(load_diabetes(as_frame=True).frame, preserve_index=False)


def test_random_by_bin_keeps_exact_rows_and_meets_the_plan() -> None:
    from rebalance.regression.resample import resample_regression

    table = diabetes_table()
    result = resample_regression(
        table, label_col="target", target="max", bins=5, seed=3, provenance=True
    )
    out = result.table
    source = out.column("rebalance_source_row").to_pylist()
    original = table.to_pylist()
    assert [
        {k: v for k, v in row.items() if not k.startswith("rebalance_")} for row in out.to_pylist()
    ] == [original[i] for i in source]
    assert {v["after"] for v in result.plan.values()} == {
        max(v["before"] for v in result.plan.values())
    }
    again = resample_regression(
        table, label_col="target", target="max", bins=5, seed=3, provenance=True
    )
    assert again.table.equals(out)
    other = resample_regression(
        table, label_col="target", target="max", bins=5, seed=4, provenance=True
    )
    assert not other.table.equals(out)


def test_smoter_new_rows_lie_between_their_parents() -> None:
    from rebalance.regression.resample import PARENTS, resample_regression

    table = diabetes_table()
    result = resample_regression(
        table, label_col="target", method="smoter", seed=1, provenance=True, over=1.5
    )
    y = table.column("target").to_numpy()
    low, high = np.quantile(y, [0.1, 0.9])
    tail_sizes = {"low": int((y <= low).sum()), "high": int((y >= high).sum())}
    assert result.synthetic_rows == sum(round(1.5 * n) for n in tail_sizes.values())
    out = result.table
    synthetic = out.filter(out.column("rebalance_synthetic"))
    features = [c for c in table.column_names if c != "target"]
    X = np.column_stack([table.column(c).to_numpy() for c in features])
    for row in synthetic.to_pylist():
        a, b = row[PARENTS]
        assert (y[a] <= low) == (y[b] <= low)  # both parents from the same tail
        lo, hi = sorted((y[a], y[b]))
        assert lo - 1e-9 <= row["target"] <= hi + 1e-9
        x = np.array([row[c] for c in features])
        # x = x_a + u (x_b − x_a) for one u in [0, 1]
        direction = X[b] - X[a]
        u = (
            float(np.dot(x - X[a], direction) / np.dot(direction, direction))
            if direction.any()
            else 0.0
        )
        assert -1e-9 <= u <= 1 + 1e-9
        np.testing.assert_allclose(x, X[a] + u * direction, atol=1e-12)
        # the target by inverse distance, distances on features scaled by their range
        span = X.max(axis=0) - X.min(axis=0)
        d_a = np.linalg.norm((x - X[a]) / span)
        d_b = np.linalg.norm((x - X[b]) / span)
        assert row["target"] == pytest.approx((d_b * y[a] + d_a * y[b]) / (d_a + d_b), rel=1e-9)
    # every input row is kept (under=1), exactly
    kept = out.filter(pa.compute.invert(out.column("rebalance_synthetic")))
    assert kept.column("rebalance_source_row").to_pylist() == list(range(table.num_rows))


def test_smoter_under_drops_only_normal_rows_and_is_seeded() -> None:
    from rebalance.regression.resample import resample_regression

    table = diabetes_table()
    a = resample_regression(
        table, label_col="target", method="smoter", seed=2, under=0.5, provenance=True
    )
    b = resample_regression(
        table, label_col="target", method="smoter", seed=2, under=0.5, provenance=True
    )
    assert a.table.equals(b.table)
    assert (
        0.35 * a.plan["normal"]["before"]
        < a.plan["normal"]["after"]
        < 0.65 * a.plan["normal"]["before"]
    )
    y = table.column("target").to_numpy()
    low, high = np.quantile(y, [0.1, 0.9])
    kept = [i for i in a.table.column("rebalance_source_row").to_pylist() if i is not None]
    assert all(i in kept for i in np.flatnonzero((y <= low) | (y >= high)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "smoter", "rare_quantile": 0.5}, "--rare-quantile must be in \\(0, 0.5\\)"),
        ({"method": "smoter", "under": 1.5}, "--under must be in \\[0, 1\\]"),
        ({"method": "smoter", "features": ["sex", "nope"]}, "no column 'nope'"),
        ({"method": "smote"}, "--method 'smote' does not resample a regression target"),
    ],
)
def test_bad_regression_resample_options(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    from rebalance.regression.resample import resample_regression

    with pytest.raises(RebalanceError, match=message):
        resample_regression(diabetes_table(), label_col="target", **kwargs)


def test_cli_resample_regression_smoter_dry_run_and_refusals(tmp_path: Path) -> None:
    path = str(diabetes_csv(tmp_path))
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["resample", path, "--label-col", "target", "--regression", "--method", "smoter", "--only-split", "train",
              "--rare-quantile", "0.1", "-o", str(out), "--provenance", "--seed", "4"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "synthetic" in result.stderr and out.exists()
    again = tmp_path / "again.csv"
    runner.invoke(app, ["resample", path, "--label-col", "target", "--regression", "--method", "smoter", "--only-split", "train",
                        "-o", str(again), "--provenance", "--seed", "4"])  # fmt: skip
    assert again.read_bytes() == out.read_bytes()
    dry = runner.invoke(
        app,
        [
            "resample",
            path,
            "--label-col",
            "target",
            "--regression",
            "--dry-run",
            "--bins",
            "4",
            "--all-splits",
        ],
    )
    assert dry.exit_code == 0 and dry.stdout.splitlines()[0] == "range\tbefore\tafter"
    assert not list(tmp_path.glob("*.tmp*"))
    for args, message in [
        (["--shuffle"], "--shuffle does not apply with --regression"),
        (["--method", "smoter", "--target", "max"], "--target plans --method random"),
        (["--over", "3"], "--over applies to --method smoter"),
    ]:
        bad = runner.invoke(
            app,
            [
                "resample",
                path,
                "--label-col",
                "target",
                "--regression",
                "-o",
                str(tmp_path / "x.csv"),
                *args,
            ],
        )
        assert bad.exit_code == 2 and message in bad.stderr, (args, bad.output)
    assert not (tmp_path / "x.csv").exists()
    plain = runner.invoke(
        app, ["resample", path, "--rare-quantile", "0.2", "-o", str(tmp_path / "y.csv")]
    )
    assert plain.exit_code == 2 and "give --regression too" in plain.stderr


def test_regression_resampling_leaves_other_splits_alone(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    path = str(diabetes_csv(tmp_path))
    refused = runner.invoke(
        app,
        ["resample", path, "--label-col", "target", "--regression", "-o", str(tmp_path / "r.csv")],
    )
    assert refused.exit_code == 2 and "choose --only-split train" in refused.stderr
    for method in ("random", "smoter"):
        out = tmp_path / f"{method}.csv"
        extra = ["--target", "max"] if method == "random" else []
        result = runner.invoke(app, ["resample", path, "--label-col", "target", "--regression", "--method", method,
                                     "--only-split", "train", "-o", str(out), "--provenance", *extra])  # fmt: skip
        assert result.exit_code == 0, result.output
        table = pacsv.read_csv(out)
        val = table.filter(pa.compute.equal(table.column("split"), "val"))
        assert val.num_rows == 111  # every val row once, none made or dropped
        assert sorted(val.column("rebalance_source_row").to_pylist()) == list(range(0, 442, 4))


def test_smoter_rows_keep_the_split_they_grew_in(tmp_path: Path) -> None:
    from rebalance.regression.resample import resample_regression

    table = diabetes_table()
    table = table.append_column(
        "split", pa.array(np.where(np.arange(442) % 4 == 0, "val", "train"))
    )
    result = resample_regression(
        table, label_col="target", method="smoter", only_splits=["train"], seed=2
    )
    new = result.table.slice(result.table.num_rows - result.synthetic_rows)
    assert result.synthetic_rows > 0
    assert set(new.column("split").to_pylist()) == {"train"}
