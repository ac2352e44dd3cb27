"""The faster neighbour searches return imbalanced-learn's rows, ties and duplicates included."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest
from imblearn.combine import SMOTETomek
from imblearn.under_sampling import OneSidedSelection, TomekLinks
from sklearn.datasets import make_classification
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from rebalance.resampling import SOURCE_ROW, resample
from rebalance.samplers import neighbours
from rebalance.samplers.neighbours import FastOneSidedSelection, FastTomekLinks, nearest_other


def shaped(n: int, *, features: int = 20, weights=(0.99,), decimals=None, seed=0):  # type: ignore[no-untyped-def]
    """Imbalanced, clustered data with exact duplicates carrying the other label, shuffled;
    rounding makes more exact ties."""
    X, y = make_classification(
        n_samples=n, n_features=features, n_informative=min(5, features - 2), weights=list(weights),
        n_classes=len(weights) + 1, flip_y=0.02, random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    rare = np.flatnonzero(y != 0)
    copies = np.concatenate([rng.choice(rare, n // 200), rng.integers(0, n, n // 100)])
    X = np.vstack([X, X[copies]])
    y = np.concatenate([y, (y[copies] + 1) % (len(weights) + 1)])
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    return (X if decimals is None else np.round(X, decimals)), y


@pytest.fixture(params=["auto", "kd-tree"])
def search(request, monkeypatch):  # type: ignore[no-untyped-def]
    """``kd-tree``: the k-d tree settles what it can whatever it saves, on small data too
    (and in threads); ``auto``: it is used only where it pays (rarely on these cases)."""
    if request.param == "kd-tree":
        monkeypatch.setattr(neighbours, "KD_SHARE", 10.0)
        monkeypatch.setattr(neighbours, "KD_MIN_ROWS", 16)
    return request.param


CASES = [
    pytest.param({"n": 12_000}, id="1:100"),
    pytest.param({"n": 12_000, "decimals": 0}, id="1:100-coarse-ties"),
    pytest.param({"n": 9_000, "features": 6, "decimals": 1}, id="kd-tree"),
    pytest.param({"n": 10_000, "weights": (0.9, 0.07)}, id="three-classes"),
    pytest.param({"n": 700}, id="small"),
    pytest.param({"n": 12_000, "weights": (0.5,)}, id="balanced"),  # as after SMOTE
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [1, 2])
def test_nearest_other_equals_a_query_of_all_rows(case, threads, search) -> None:  # type: ignore[no-untyped-def]
    # scikit-learn's search order (so its tie-breaking) depends on the number of threads
    with threadpool_limits(limits=threads, user_api="openmp"):
        assert neighbours._openmp_threads() == min(threads, os.cpu_count() or 1)
        X, y = shaped(**case)
        nearest = nearest_other(X, y)
        nn = NearestNeighbors(n_neighbors=2).fit(X)
        full = nn.kneighbors(X, return_distance=False)[:, 1]
    asked = nearest >= 0
    np.testing.assert_array_equal(nearest[asked], full[asked])
    # rows settled as pointing within their class truly do
    own = nearest == neighbours.OWN
    assert (y[full[own]] == y[own]).all()
    # every row outside the largest class was asked or settled, and every row they point at
    assert (asked | own)[y != 0].all()
    assert asked[full[(y != 0) & asked & (y[full] == 0)]].all()
    if len(y) > 8_000:  # the short cut was taken: many largest-class rows were never asked
        largest = np.bincount(y).max() / len(y)
        assert asked.mean() < (0.6 if largest > 0.8 else 0.9)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("strategy", ["auto", "all", "majority"])
def test_tomek_links_equal_imblearn(case, strategy, search) -> None:  # type: ignore[no-untyped-def]
    X, y = shaped(**case)
    ours, theirs = (
        FastTomekLinks(sampling_strategy=strategy),
        TomekLinks(sampling_strategy=strategy),
    )
    X_ours, y_ours = ours.fit_resample(X, y)
    X_theirs, y_theirs = theirs.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, theirs.sample_indices_)
    np.testing.assert_array_equal(X_ours, X_theirs)
    np.testing.assert_array_equal(y_ours, y_theirs)
    assert len(theirs.sample_indices_) < len(y)  # links were found: the test can fail


@pytest.mark.parametrize("case", CASES)
def test_one_sided_selection_equals_imblearn(case, search) -> None:  # type: ignore[no-untyped-def]
    X, y = shaped(**case)
    ours, theirs = FastOneSidedSelection(random_state=3), OneSidedSelection(random_state=3)
    ours.fit_resample(X, y)
    theirs.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, theirs.sample_indices_)
    assert len(theirs.sample_indices_) < len(y)  # rows were removed: the test can fail


def test_smote_tomek_equals_imblearn_on_the_fast_path() -> None:
    X, y = shaped(8_000, weights=(0.8,))
    table = pa.table({**{f"f{j}": X[:, j] for j in range(X.shape[1])}, "label": y.astype(str)})
    result = resample(table, method="smote-tomek", seed=5, provenance=True)
    X_ref, y_ref = SMOTETomek(random_state=5).fit_resample(X, y)
    out = np.column_stack([result.table.column(f"f{j}").to_numpy() for j in range(X.shape[1])])
    labels = result.table.column("label").to_pylist()
    ours = sorted((*row, label) for row, label in zip(out.tolist(), labels, strict=True))
    theirs = sorted((*row, str(c)) for row, c in zip(X_ref.tolist(), y_ref.tolist(), strict=True))
    assert ours == theirs  # row by row: features with their label
    assert len(ours) < len(y) + sum(np.bincount(y).max() - np.bincount(y))  # Tomek removed rows


@pytest.mark.parametrize(
    "method", ["tomek", "enn", "renn", "allknn", "one-sided-selection", "neighbourhood-cleaning"]
)
def test_every_neighbour_cleaner_keeps_imblearns_rows_on_real_shaped_data(method: str) -> None:
    import importlib

    from rebalance.samplers.tabular import METHODS

    X, y = shaped(6_000, weights=(0.85, 0.1), seed=4)
    table = pa.table({**{f"f{j}": X[:, j] for j in range(X.shape[1])}, "label": y.astype(str)})
    result = resample(table, method=method, seed=7, provenance=True)
    module, name = METHODS[method][1].rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    kwargs = {"random_state": 7} if "random_state" in cls().get_params() else {}
    sampler = cls(**kwargs)
    sampler.fit_resample(X, y)
    assert result.table.column(SOURCE_ROW).to_pylist() == sorted(sampler.sample_indices_.tolist())


@pytest.mark.parametrize("case", [*CASES, pytest.param({"n": 20_000, "seed": 5}, id="1:100-20k")])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kwargs", [{}, {"n_neighbors": 5}, {"sampling_strategy": "all"}])
def test_edited_nearest_neighbours_equal_imblearn(case, threads, kwargs) -> None:  # type: ignore[no-untyped-def]
    _same_edited_rows(case, threads, kwargs)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [1, 2])
def test_edited_nearest_neighbours_from_the_tree_equal_imblearn(case, threads, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(neighbours, "KD_SHARE", 10.0)
    monkeypatch.setattr(neighbours, "KD_MIN_ROWS", 16)
    _same_edited_rows(case, threads, {})


def _same_edited_rows(case, threads, kwargs) -> None:  # type: ignore[no-untyped-def]
    from imblearn.under_sampling import EditedNearestNeighbours

    from rebalance.samplers.neighbours import FastEditedNearestNeighbours

    with threadpool_limits(limits=threads, user_api="openmp"):
        X, y = shaped(**case)
        ours, theirs = FastEditedNearestNeighbours(**kwargs), EditedNearestNeighbours(**kwargs)
        ours.fit_resample(X, y)
        theirs.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, theirs.sample_indices_)
    assert len(theirs.sample_indices_) < len(y)


def test_most_majority_rows_are_settled_without_their_own_search() -> None:
    from rebalance.samplers.neighbours import surely_kept

    X, y = make_classification(n_samples=20_000, n_features=20, n_informative=8, weights=[0.95], flip_y=0.01, random_state=0)  # fmt: skip
    rows = np.flatnonzero(y == 0)
    sure = surely_kept(X, y, rows, 4)
    assert sure.mean() > 0.5
    # and each sure row is truly kept: its 3 nearest neighbours are all of its class
    full = NearestNeighbors(n_neighbors=4).fit(X).kneighbors(X[rows[sure]], return_distance=False)
    assert (y[full[:, 1:]] == 0).all()


def smoted(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """SMOTE's output on 90:5:5 data with 10 features and a few exact duplicates: dense
    new minority rows (with two classes SMOTE's output rarely has a Tomek link at all)."""
    from imblearn.over_sampling import SMOTE

    X, y = shaped(n, features=10, weights=(0.9, 0.05), seed=seed)
    return SMOTE(random_state=seed).fit_resample(X, y)


@pytest.mark.parametrize("threads", [1, 2])
def test_after_smote_the_tree_settles_most_rows_and_keeps_imblearns_links(
    threads, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    X, y = smoted(10_000)
    used = []
    real = neighbours.KdSearch.pays
    monkeypatch.setattr(
        neighbours.KdSearch, "pays", lambda self, *a: used.append(real(self, *a)) or used[-1]
    )
    with threadpool_limits(limits=threads, user_api="openmp"):
        ours, theirs = FastTomekLinks(sampling_strategy="all"), TomekLinks(sampling_strategy="all")
        ours.fit_resample(X, y)
        theirs.fit_resample(X, y)
        nearest = nearest_other(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, theirs.sample_indices_)
    assert len(theirs.sample_indices_) < len(y)  # links were found
    assert used and used[0]  # the tree paid here (the probe said so), without forcing it
    assert (nearest == neighbours.OWN).mean() > 0.3


@pytest.mark.parametrize("kwargs", [{}, {"sampling_strategy": "all"}, {"n_neighbors": 1}])
def test_edited_nearest_neighbours_after_smote_equal_imblearn(kwargs, search) -> None:  # type: ignore[no-untyped-def]
    from imblearn.under_sampling import EditedNearestNeighbours

    from rebalance.samplers.neighbours import FastEditedNearestNeighbours

    X, y = smoted(6_000, seed=2)
    ours, theirs = FastEditedNearestNeighbours(**kwargs), EditedNearestNeighbours(**kwargs)
    ours.fit_resample(X, y)
    theirs.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, theirs.sample_indices_)
    assert len(theirs.sample_indices_) < len(y)  # rows were removed: the test can fail
    assert len(theirs.sample_indices_) < len(y)
