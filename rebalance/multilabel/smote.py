"""MLSMOTE (Charte et al., 2015): synthetic rows for the minority labels of multi-label data.

MeanIR is taken once, on the input. For each label in turn whose IRLbl (counted again as new
rows are added) is above it, every input row with the label makes one new row: one of its
``k`` nearest rows that also have the label (numeric features, Euclidean) is the reference,
and each feature is x + u_f · (x_ref − x) with its own u_f uniform in [0, 1). The new row's
labels come from the row and its k neighbours: ``ranking`` (the default) keeps the labels held
by more than half of those k + 1 rows; ``union`` every label any holds; ``intersection`` the
labels all hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.errors import RebalanceError

LABEL_MODES = ("ranking", "union", "intersection")


@dataclass
class Synthetic:
    """New rows: features, label indicators, and the two input rows each came from."""

    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.bool_]
    parents: npt.NDArray[np.int64]
    messages: list[str] = field(default_factory=list)


def mlsmote(
    X: npt.NDArray[np.float64],
    indicator: npt.NDArray[np.bool_],
    names: Sequence[str],
    *,
    k: int = 5,
    seed: int = 0,
    label_mode: str = "ranking",
) -> Synthetic:
    """MLSMOTE's new rows for features ``X`` (rows × features) and labels ``indicator``."""
    from sklearn.neighbors import NearestNeighbors

    if label_mode not in LABEL_MODES:
        raise RebalanceError(f"--label-mode {label_mode!r} is not one of: {', '.join(LABEL_MODES)}")
    if k < 1:
        raise RebalanceError(f"--k-neighbors must be at least 1, got {k}")
    counts = indicator.sum(axis=0).astype(float)
    present = counts > 0
    if not present.any():
        raise RebalanceError("no row has a label: nothing to resample")
    start_mean = float(np.mean(counts[present].max() / counts[present]))
    rng = np.random.default_rng(seed)
    features: list[Any] = []
    labels: list[Any] = []
    parents: list[Any] = []
    messages = []
    for j in range(len(names)):
        if counts[j] == 0 or counts.max() / counts[j] <= start_mean:
            continue
        bag = np.flatnonzero(indicator[:, j])
        if len(bag) < 2:
            messages.append(f"label {names[j]!r} has 1 row: MLSMOTE needs 2 or more to interpolate")
            continue
        kk = min(k, len(bag) - 1)
        found = (
            NearestNeighbors(n_neighbors=kk + 1)
            .fit(X[bag])
            .kneighbors(X[bag], return_distance=False)
        )
        # drop each row itself (with exact duplicates it need not come first)
        own = found == np.arange(len(bag))[:, None]
        neighbours = np.array(
            [row[~mask][:kk] for row, mask in zip(found, own, strict=True)], dtype=np.intp
        )
        picks = neighbours[np.arange(len(bag)), rng.integers(0, kk, len(bag))]
        gaps = rng.random((len(bag), X.shape[1]))
        features.append(X[bag] + gaps * (X[bag[picks]] - X[bag]))
        votes = indicator[bag].astype(np.int64) + indicator[bag[neighbours]].sum(axis=1)
        if label_mode == "ranking":
            new = votes > (kk + 1) / 2
        elif label_mode == "union":
            new = votes > 0
        else:
            new = votes == kk + 1
        labels.append(new)
        parents.append(np.column_stack([bag, bag[picks]]))
        counts += new.sum(axis=0)
    if not features:
        return Synthetic(
            np.empty((0, X.shape[1])), np.empty((0, len(names)), dtype=bool),
            np.empty((0, 2), dtype=np.int64), messages,
        )  # fmt: skip
    return Synthetic(
        np.vstack(features), np.vstack(labels), np.vstack(parents).astype(np.int64), messages
    )
