"""NearMiss without imbalanced-learn: the same rows as imbalanced-learn's, every version."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.under_sampling import NearMiss
from sklearn.datasets import make_classification

from rebalance.samplers.nearmiss import FastNearMiss


def data(seed: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=600, n_features=6, n_informative=4, n_classes=3, weights=[0.7, 0.2, 0.1],
        random_state=seed,
    )  # fmt: skip
    if ties:  # repeated rows and a coarse grid: many equal distances
        X = np.round(X, 0)
        X[::7] = X[1::7][: len(X[::7])]
    return X, y


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_rows_of_imbalanced_learn(version: int, ties: bool, seed: int) -> None:
    X, y = data(seed, ties)
    counts = np.bincount(y)
    strategy = {0: int(counts[2]) + 5, 1: int(counts[1]) - 3, 2: int(counts[2])}
    for k in (1, 3):
        theirs = NearMiss(sampling_strategy=strategy, version=version, n_neighbors=k)
        ours = FastNearMiss(sampling_strategy=strategy, version=version, n_neighbors=k)
        theirs.fit_resample(X, y)
        Xo, yo = ours.fit_resample(X, y)
        assert np.array_equal(ours.sample_indices_, theirs.sample_indices_)
        assert np.array_equal(yo, y[theirs.sample_indices_]) and len(Xo) == len(yo)


def test_bad_parameters_are_value_errors() -> None:
    X, y = data(0, False)
    with pytest.raises(ValueError, match="version"):
        FastNearMiss(sampling_strategy={0: 10}, version=4).fit_resample(X, y)
    with pytest.raises(ValueError, match="n_neighbors"):
        FastNearMiss(sampling_strategy={0: 10}, n_neighbors=0).fit_resample(X, y)
    with pytest.raises(ValueError, match="less or equal"):
        FastNearMiss(sampling_strategy={2: 10_000}).fit_resample(X, y)
    assert set(FastNearMiss().get_params()) == set(NearMiss().get_params())
