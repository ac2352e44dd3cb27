"""imbalanced-learn's own test fixtures, run through rebalance: the same rows.

The arrays below are copied from imbalanced-learn's test suite
(``imblearn/under_sampling/_prototype_selection/tests/``); each test resamples the
fixture with rebalance and compares every row with the fixture's expected output.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from rebalance.cli import app
from rebalance.errors import RebalanceError
from rebalance.resampling import resample

runner = CliRunner()

# test_condensed_nearest_neighbour.py
CNN_X = np.array(
    [
        [2.59928271, 0.93323465],
        [0.25738379, 0.95564169],
        [1.42772181, 0.526027],
        [1.92365863, 0.82718767],
        [-0.10903849, -0.12085181],
        [-0.284881, -0.62730973],
        [0.57062627, 1.19528323],
        [0.03394306, 0.03986753],
        [0.78318102, 2.59153329],
        [0.35831463, 1.33483198],
        [-0.14313184, -1.0412815],
        [0.01936241, 0.17799828],
        [-1.25020462, -0.40402054],
        [-0.09816301, -0.74662486],
        [-0.01252787, 0.34102657],
        [0.52726792, -0.38735648],
        [0.2821046, -0.07862747],
        [0.05230552, 0.09043907],
        [0.15198585, 0.12512646],
        [0.70524765, 0.39816382],
    ]
)
CNN_Y = np.array([1, 2, 1, 1, 0, 2, 2, 2, 2, 2, 2, 0, 1, 2, 2, 2, 2, 1, 2, 1])
CNN_X_GT = np.array(
    [
        [-0.10903849, -0.12085181],
        [0.01936241, 0.17799828],
        [0.05230552, 0.09043907],
        [-1.25020462, -0.40402054],
        [0.70524765, 0.39816382],
        [0.35831463, 1.33483198],
        [-0.284881, -0.62730973],
        [0.03394306, 0.03986753],
        [-0.01252787, 0.34102657],
        [0.15198585, 0.12512646],
    ]
)
CNN_Y_GT = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 2])

# test_random_under_sampler.py
RUS_X = np.array(
    [
        [0.04352327, -0.20515826],
        [0.92923648, 0.76103773],
        [0.20792588, 1.49407907],
        [0.47104475, 0.44386323],
        [0.22950086, 0.33367433],
        [0.15490546, 0.3130677],
        [0.09125309, -0.85409574],
        [0.12372842, 0.6536186],
        [0.13347175, 0.12167502],
        [0.094035, -2.55298982],
    ]
)
RUS_Y = np.array([1, 0, 1, 0, 1, 1, 1, 1, 0, 1])
RUS_X_GT = np.array(
    [
        [0.92923648, 0.76103773],
        [0.47104475, 0.44386323],
        [0.13347175, 0.12167502],
        [0.09125309, -0.85409574],
        [0.12372842, 0.6536186],
        [0.04352327, -0.20515826],
    ]
)
RUS_Y_GT = np.array([0, 0, 0, 1, 1, 1])


def table_of(X: np.ndarray, y: np.ndarray) -> pa.Table:
    columns = {f"f{j}": X[:, j] for j in range(X.shape[1])}
    return pa.table({**columns, "label": [str(v) for v in y]})


def sorted_rows(X: np.ndarray, y: np.ndarray) -> list[tuple[float, float, str]]:
    return sorted((float(a), float(b), str(c)) for (a, b), c in zip(X, y, strict=True))


def rows_of(out: pa.Table) -> list[tuple[float, float, str]]:
    return sorted(
        zip(
            out.column("f0").to_pylist(),
            out.column("f1").to_pylist(),
            out.column("label").to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize("n_neighbors", [None, 1])
def test_condensed_nearest_neighbour_keeps_the_fixture_rows(n_neighbors: int | None) -> None:
    params = {} if n_neighbors is None else {"n_neighbors": n_neighbors}
    out = resample(
        table_of(CNN_X, CNN_Y), method="condensed-nearest-neighbour", params=params, seed=0
    )
    assert rows_of(out.table) == sorted_rows(CNN_X_GT, CNN_Y_GT)
    assert out.table.num_rows < len(CNN_Y)  # rows were removed


def test_condensed_nearest_neighbour_from_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rebalance.manifest import read_manifest, write_manifest

    write_manifest(table_of(CNN_X, CNN_Y), tmp_path / "m.parquet")
    result = runner.invoke(
        app,
        ["resample", str(tmp_path / "m.parquet"), "-o", str(tmp_path / "o.parquet"),
         "--method", "condensed-nearest-neighbour", "--provenance"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = read_manifest(tmp_path / "o.parquet")
    assert rows_of(out) == sorted_rows(CNN_X_GT, CNN_Y_GT)
    # exact input rows, in input order
    sources = out.column("rebalance_source_row").to_pylist()
    assert sources == sorted(sources)
    assert [CNN_X[i, 0] for i in sources] == out.column("f0").to_pylist()


def test_random_undersampling_with_replacement_draws_the_fixture_rows() -> None:
    out = resample(table_of(RUS_X, RUS_Y), target="min", replacement=True, seed=0)
    assert rows_of(out.table) == sorted_rows(RUS_X_GT, RUS_Y_GT)


def test_with_replacement_a_row_drawn_twice_is_a_copy() -> None:
    # class '1' (7 rows) down to 6, drawn with replacement as RandomState(0).choice does
    out = resample(
        table_of(RUS_X, RUS_Y),
        target=6,
        mode="under",
        replacement=True,
        seed=0,
        provenance=True,
    )
    ones = np.flatnonzero(RUS_Y == 1)
    expected = sorted(ones[np.random.RandomState(0).choice(len(ones), size=6, replace=True)])
    sources = out.table.column("rebalance_source_row").to_pylist()
    labels = out.table.column("label").to_pylist()
    assert sorted(s for s, c in zip(sources, labels, strict=True) if c == "1") == expected
    assert len(set(expected)) < 6  # a row was drawn twice
    assert sorted(s for s, c in zip(sources, labels, strict=True) if c == "0") == [1, 3, 8]
    kept = sources[: len(set(sources))]
    assert kept == sorted(set(sources))  # first draws in input order, repeats after
    flags = out.table.column("rebalance_synthetic").to_pylist()
    assert not any(flags)  # a repeat is a copy of an exact input row


def test_replacement_applies_to_random_undersampling_only() -> None:
    with pytest.raises(RebalanceError, match="--replacement"):
        resample(table_of(RUS_X, RUS_Y), method="tomek", replacement=True)


@pytest.mark.parametrize(
    "strategy", ["auto", "majority", "not minority", "not majority", "all", ["0", "2"]]
)
@pytest.mark.parametrize("method", ["tomek", "enn", "condensed-nearest-neighbour"])
def test_cleaning_strategies_equal_imblearn(method: str, strategy: object) -> None:
    import importlib

    from sklearn.datasets import make_classification

    from rebalance.samplers.tabular import METHODS

    X, y = make_classification(
        n_samples=100, n_clusters_per_class=1, n_classes=3, weights=[0.1, 0.3, 0.6],
        random_state=0,
    )  # fmt: skip
    module, name = METHODS[method][1].rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    ours = [int(v) for v in strategy] if isinstance(strategy, list) else strategy
    kwargs = {"random_state": 0} if "random_state" in cls().get_params() else {}
    sampler = cls(sampling_strategy=ours, **kwargs)
    sampler.fit_resample(X, y)
    out = resample(
        table_of(X, y), method=method, params={"sampling_strategy": strategy}, provenance=True
    )
    kept = out.table.column("rebalance_source_row").to_pylist()
    assert kept == sorted(int(i) for i in sampler.sample_indices_)
    assert len(kept) < len(y)
    cleaned = set(out.plan.may_remove)
    removed = {str(y[i]) for i in set(range(len(y))) - set(kept)}
    assert removed <= cleaned  # the plan names every class that lost rows


@pytest.mark.parametrize(
    "param,message",
    [
        ('sampling_strategy="all"', None),
        ('sampling_strategy="most"', "is not one of auto, all, majority"),
        ('sampling_strategy=["9"]', "names '9', which is not a class"),
        ("sampling_strategy=3", "is one of auto, all"),
        ("n_neighbors=[1,2]", "a --param, --k-neighbors or --n-neighbors value of the wrong kind"),
    ],
)
def test_bad_params_are_one_line(tmp_path, param: str, message: str | None) -> None:  # type: ignore[no-untyped-def]
    from rebalance.manifest import write_manifest

    write_manifest(table_of(CNN_X, CNN_Y), tmp_path / "m.parquet")
    result = runner.invoke(
        app,
        ["resample", str(tmp_path / "m.parquet"), "-o", str(tmp_path / "o.parquet"),
         "--method", "tomek" if "sampling" in param else "enn", "--param", param],
    )  # fmt: skip
    assert "Traceback" not in result.output
    if message is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.parquet").exists()


def test_sampling_strategy_of_a_planned_method_points_at_the_plan() -> None:
    with pytest.raises(RebalanceError, match="comes? from the plan"):
        resample(table_of(CNN_X, CNN_Y), method="smote", params={"sampling_strategy": "all"})


def test_near_miss_takes_a_nearest_neighbors_object() -> None:
    from imblearn.under_sampling import NearMiss
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.array([0] * 90 + [1] * 30)
    for version in (1, 2, 3):
        reference = NearMiss(version=version, n_neighbors=NearestNeighbors(n_neighbors=4))
        reference.fit_resample(X, y)
        out = resample(
            table_of(X, y),
            method="near-miss",
            target="min",
            params={"version": version, "n_neighbors": NearestNeighbors(n_neighbors=4)},
            provenance=True,
        )
        kept = out.table.column("rebalance_source_row").to_pylist()
        assert kept == sorted(int(i) for i in reference.sample_indices_)
