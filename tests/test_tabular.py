"""imbalanced-learn methods: the rows rebalance writes are the rows imbalanced-learn makes."""

from __future__ import annotations

import importlib
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from sklearn.datasets import make_classification

from rebalance.errors import RebalanceError
from rebalance.resampling import SOURCE_ROW, SYNTHETIC, resample
from rebalance.samplers.tabular import METHODS

SEED = 0


def dataset() -> tuple[pa.Table, np.ndarray, np.ndarray]:
    X, y_int = make_classification(
        n_samples=300, n_features=4, n_informative=3, n_redundant=0, n_clusters_per_class=1, n_classes=3,
        weights=[0.75, 0.18, 0.07], class_sep=1.0, random_state=SEED,
    )  # fmt: skip
    y = np.array(["maj", "mid", "min"], dtype=object)[y_int]  # sorted names: codes 0, 1, 2
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(len(y))],
            **{f"f{j}": X[:, j] for j in range(4)},
            "label": y.tolist(),
        }
    )
    return table, X, y


def imblearn(method: str, **kwargs):  # type: ignore[no-untyped-def]
    module, name = METHODS[method][1].rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


def features(table: pa.Table) -> np.ndarray:
    return np.column_stack([table.column(f"f{j}").to_numpy() for j in range(4)])


def labelled_rows(X: np.ndarray, labels: list) -> list[tuple]:  # type: ignore[type-arg]
    """Rows as (features..., label), sorted: compared row by row, order aside."""
    return sorted((*map(float, row), str(label)) for row, label in zip(X, labels, strict=True))


def oversampled_by_imblearn(method: str, X: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    """imbalanced-learn's own output for every class raised to the majority."""
    counts = Counter(y.tolist())
    strategy = {k: max(counts.values()) for k in counts if counts[k] < max(counts.values())}
    return imblearn(method, sampling_strategy=strategy, random_state=SEED).fit_resample(X, y)


OVER = ["smote", "borderline-smote", "svm-smote", "adasyn"]


@pytest.mark.parametrize("method", OVER)
def test_oversamplers_equal_imblearn(method: str) -> None:
    table, X, y = dataset()
    result = resample(table, method=method, seed=SEED, provenance=True)
    X_ref, y_ref = oversampled_by_imblearn(method, X, y)
    out = result.table
    assert Counter(out.column("label").to_pylist()) == Counter(y_ref.tolist())
    synthetic = out.filter(out.column(SYNTHETIC))
    np.testing.assert_array_equal(features(synthetic), X_ref[len(y) :])
    assert synthetic.column("label").to_pylist() == y_ref[len(y) :].tolist()
    assert synthetic.column("id").null_count == synthetic.num_rows  # no invented ids
    originals = out.filter(pc_not(out.column(SYNTHETIC)))
    assert originals.drop_columns([SOURCE_ROW, SYNTHETIC]).equals(table)


def pc_not(column):  # type: ignore[no-untyped-def]
    import pyarrow.compute as pc

    return pc.invert(column)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("near-miss", {"version": 1}),
        ("near-miss", {"version": 3}),
        ("tomek", {}),
        ("enn", {}),
        ("renn", {}),
        ("allknn", {}),
        ("one-sided-selection", {}),
        ("neighbourhood-cleaning", {}),
        ("instance-hardness", {}),
    ],
)
def test_selection_methods_equal_imblearn(method: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    table, X, y = dataset()
    result = resample(table, method=method, seed=SEED, params=kwargs, provenance=True)
    kind = METHODS[method][0]
    counts = Counter(y.tolist())
    strategy = (
        {k: min(counts.values()) for k in counts if counts[k] > min(counts.values())}
        if kind == "select"
        else "auto"
    )
    if "random_state" in imblearn(method).get_params():
        kwargs = {**kwargs, "random_state": SEED}
    codes = {"maj": 0, "mid": 1, "min": 2}
    if isinstance(strategy, dict):
        strategy = {codes[k]: v for k, v in strategy.items()}
    sampler = imblearn(method, sampling_strategy=strategy, **kwargs)
    sampler.fit_resample(X, np.array([codes[v] for v in y]))
    expected = sorted(sampler.sample_indices_.tolist())
    assert result.table.column(SOURCE_ROW).to_pylist() == expected
    assert not any(result.table.column(SYNTHETIC).to_pylist())


@pytest.mark.parametrize("method", ["smote-tomek", "smote-enn"])
def test_combined_methods_equal_imblearn(method: str) -> None:
    table, X, y = dataset()
    result = resample(table, method=method, seed=SEED, provenance=True)
    X_ref, y_ref = oversampled_by_imblearn(method, X, y)
    out = result.table
    assert Counter(out.column("label").to_pylist()) == Counter(y_ref.tolist())
    # row by row: each output row's features with its label
    assert labelled_rows(features(out), out.column("label").to_pylist()) == labelled_rows(
        X_ref, y_ref.tolist()
    )
    originals = out.filter(pc_not(out.column(SYNTHETIC)))
    src = originals.column(SOURCE_ROW).to_pylist()
    assert originals.drop_columns([SOURCE_ROW, SYNTHETIC]).equals(table.take(pa.array(src)))


def test_cluster_centroids_equal_imblearn() -> None:
    table, X, y = dataset()
    result = resample(table, method="cluster-centroids", seed=SEED, provenance=True)
    smallest = Counter(y.tolist())["min"]
    X_ref, y_ref = imblearn(
        "cluster-centroids", sampling_strategy={"maj": smallest, "mid": smallest}, random_state=SEED
    ).fit_resample(X, y)
    out = result.table
    assert Counter(out.column("label").to_pylist()) == Counter(y_ref.tolist())
    assert set(Counter(y_ref.tolist()).values()) == {smallest}
    np.testing.assert_allclose(
        sorted(map(tuple, features(out).tolist())), sorted(map(tuple, X_ref.tolist())), rtol=1e-12
    )


def test_text_features_from_csv_are_parsed_and_written_back_as_text() -> None:
    table, X, y = dataset()
    as_text = pa.table({name: table.column(name).cast(pa.string()) for name in table.column_names})
    result = resample(as_text, method="smote", seed=SEED, provenance=True)
    synthetic = result.table.filter(result.table.column(SYNTHETIC))
    assert synthetic.schema.field("f0").type == pa.string()
    # the reference: imbalanced-learn's SMOTE on the numbers the text holds
    parsed = np.column_stack(
        [np.array(as_text.column(f"f{j}").to_pylist(), dtype=float) for j in range(4)]
    )
    X_res, y_res = oversampled_by_imblearn("smote", parsed, y)
    expected = X_res[len(y) :]
    got = np.column_stack(
        [np.array(synthetic.column(f"f{j}").to_pylist(), dtype=float) for j in range(4)]
    )
    assert got.shape == expected.shape and len(got) > 0
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)  # every digit kept
    assert synthetic.column("label").to_pylist() == list(y_res[len(y) :])


def test_categorical_features_route_smote_to_smotenc() -> None:
    table, X, y = dataset()
    colour = ["red" if v > 0 else "blue" for v in X[:, 0]]
    table = table.append_column("colour", pa.array(colour))
    result = resample(table, method="smote", features=["f*", "colour"], seed=SEED)
    assert any("SMOTENC" in m for m in result.messages)
    assert set(result.table.column("colour").to_pylist()) <= {"red", "blue"}
    only = resample(table, method="smote", features=["colour"], seed=SEED)
    assert any("SMOTEN" in m for m in only.messages)
    with pytest.raises(RebalanceError, match="adasyn needs numeric features"):
        resample(table, method="adasyn", features=["f*", "colour"])


def test_small_class_falls_back_to_random_or_fails_with_strict() -> None:
    table, _, _ = dataset()
    tiny = pa.concat_tables(
        [table, table.slice(0, 3).set_column(5, "label", pa.array(["tiny"] * 3))]
    )
    result = resample(tiny, method="smote", seed=SEED)
    assert any("too small for smote (needs 6 rows): 'tiny' (3)" in m for m in result.messages)
    produced = Counter(result.table.column("label").to_pylist())
    assert (
        produced["tiny"]
        == produced["maj"]
        == max(Counter(table.column("label").to_pylist()).values())
    )
    with pytest.raises(RebalanceError, match=r"too small for smote.*'tiny' \(3\).*--k-neighbors"):
        resample(tiny, method="smote", strict=True)


def test_file_manifest_refuses_synthetic_methods() -> None:
    table = pa.table(
        {
            "path": [f"img/{i}.png" for i in range(30)],
            "label": ["a"] * 25 + ["b"] * 5,
            "x": list(range(30)),
        }
    )
    with pytest.raises(RebalanceError, match="column .path. holds file paths.*--method augment"):
        resample(table, method="smote")


def test_features_with_gaps_are_refused() -> None:
    table, _, _ = dataset()
    f0 = table.column("f0").to_pylist()
    f0[4] = None
    table = table.set_column(1, "f0", pa.array(f0))
    with pytest.raises(RebalanceError, match="feature column 'f0' has empty or NaN values"):
        resample(table, method="smote")


def test_unknown_method_and_param() -> None:
    table, _, _ = dataset()
    with pytest.raises(RebalanceError, match="did you mean 'smote'"):
        resample(table, method="smot")
    with pytest.raises(RebalanceError, match="'bogus' is not a parameter of SMOTE"):
        resample(table, method="smote", params={"bogus": 1})


@pytest.mark.parametrize(
    ("method", "params", "inner"),
    [
        ("smote-tomek", {"k_neighbors": 3}, {}),
        ("smote-enn", {"k_neighbors": 3}, {"n_neighbors": 4}),
        ("smote-enn", {}, {"n_neighbors": 2}),
    ],
)
def test_combined_methods_route_neighbours_to_their_parts(
    method: str,
    params: dict,
    inner: dict,  # type: ignore[type-arg]
) -> None:
    """--k-neighbors reaches the inner SMOTE and --n-neighbors the inner ENN: the rows equal
    imbalanced-learn's combined sampler built with those parts."""
    from imblearn.over_sampling import SMOTE
    from imblearn.under_sampling import EditedNearestNeighbours

    table, X, y = dataset()
    result = resample(table, method=method, seed=SEED, params={**params, **inner})
    counts = Counter(y.tolist())
    strategy = {k: max(counts.values()) for k in counts if counts[k] < max(counts.values())}
    parts: dict = {}  # type: ignore[type-arg]
    if params:
        parts["smote"] = SMOTE(sampling_strategy=strategy, random_state=SEED, **params)
    if inner:
        parts["enn"] = EditedNearestNeighbours(sampling_strategy="all", **inner)
    X_ref, y_ref = imblearn(
        method, sampling_strategy=strategy, random_state=SEED, **parts
    ).fit_resample(X, y)
    out = result.table
    assert labelled_rows(features(out), out.column("label").to_pylist()) == labelled_rows(
        X_ref, y_ref.tolist()
    )
    default = resample(table, method=method, seed=SEED)
    assert not features(default.table).tolist() == features(out).tolist()  # the parameters mattered


def test_tomek_has_no_n_neighbors() -> None:
    table, _, _ = dataset()
    with pytest.raises(RebalanceError, match="--n-neighbors does not apply to smote-tomek"):
        resample(table, method="smote-tomek", params={"n_neighbors": 3})


def test_kmeans_smote_equals_imblearn() -> None:
    from imblearn.over_sampling import KMeansSMOTE

    table, X, y = dataset()
    params = {"cluster_balance_threshold": 0.05, "k_neighbors": 2}
    result = resample(table, method="kmeans-smote", seed=SEED, params=params, provenance=True)
    counts = Counter(y.tolist())
    strategy = {k: max(counts.values()) for k in counts if counts[k] < max(counts.values())}
    X_ref, y_ref = KMeansSMOTE(
        sampling_strategy=strategy, random_state=SEED, **params
    ).fit_resample(X, y)
    synthetic = result.table.filter(result.table.column(SYNTHETIC))
    assert synthetic.num_rows == len(y_ref) - len(y) > 0
    np.testing.assert_array_equal(features(synthetic), X_ref[len(y) :])
    assert synthetic.column("label").to_pylist() == y_ref[len(y) :].tolist()


def test_smotenc_and_smoten_equal_imblearn() -> None:
    import pandas as pd
    from imblearn.over_sampling import SMOTEN, SMOTENC

    table, X, y = dataset()
    colour = np.where(X[:, 0] > 0.3, "red", np.where(X[:, 0] > -0.5, "green", "blue"))
    size = np.where(X[:, 1] > 0, "big", "small")
    table = table.append_column("colour", pa.array(colour.tolist()))
    table = table.append_column("size", pa.array(size.tolist()))
    counts = Counter(y.tolist())
    strategy = {k: max(counts.values()) for k in counts if counts[k] < max(counts.values())}
    # mixed: SMOTENC on f0..f3 + colour (column 4 is categorical)
    mixed = resample(table, method="smotenc", features=["f*", "colour"], seed=SEED, provenance=True)
    frame = pd.DataFrame({**{f"f{j}": X[:, j] for j in range(4)}, "colour": colour})
    X_ref, y_ref = SMOTENC(
        categorical_features=[4], sampling_strategy=strategy, random_state=SEED
    ).fit_resample(frame, y)
    synthetic = mixed.table.filter(mixed.table.column(SYNTHETIC))
    np.testing.assert_array_equal(features(synthetic), X_ref.iloc[len(y) :, :4].to_numpy(float))
    assert synthetic.column("colour").to_pylist() == X_ref.iloc[len(y) :, 4].tolist()
    assert synthetic.column("label").to_pylist() == list(y_ref[len(y) :])
    # all categorical: SMOTEN on colour + size
    only = resample(table, method="smoten", features=["colour", "size"], seed=SEED, provenance=True)
    cats = pd.DataFrame({"colour": colour, "size": size})
    C_ref, c_ref = SMOTEN(sampling_strategy=strategy, random_state=SEED).fit_resample(cats, y)
    synthetic = only.table.filter(only.table.column(SYNTHETIC))
    assert synthetic.num_rows == len(c_ref) - len(y) > 0
    assert synthetic.column("colour").to_pylist() == C_ref.iloc[len(y) :, 0].tolist()
    assert synthetic.column("size").to_pylist() == C_ref.iloc[len(y) :, 1].tolist()
    assert synthetic.column("label").to_pylist() == list(c_ref[len(y) :])
