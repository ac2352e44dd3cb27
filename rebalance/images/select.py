"""Similarity-aware undersampling on feature rows: which rows of a class to keep.

* :func:`cluster_keep`: per class to be reduced to t rows, k-means with k = t
  (MiniBatchKMeans above 10,000 rows), then the real row nearest each centroid. The
  kept rows span the class's appearance instead of a random corner of it.
* :func:`dedup_keep`: per class, drop rows closer than ``threshold`` (Euclidean, on
  the features as given) to an earlier kept row of the same class: near-duplicates
  go, the first in input order stays, nothing else is removed.

Both return sorted positions of the rows kept; rows of classes not reduced are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from rebalance.errors import RebalanceError

Positions = npt.NDArray[np.int64]
_MINIBATCH_ABOVE = 10_000


def cluster_keep(
    features: npt.NDArray[np.floating],
    codes: npt.NDArray[np.int64],
    targets: Mapping[int, int],
    *,
    seed: int,
) -> Positions:
    """Rows kept when each class code in ``targets`` is reduced to its target by k-means."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    keep = [np.flatnonzero((codes >= 0) & ~np.isin(codes, list(targets)))]
    for code, target in sorted(targets.items()):
        rows = np.flatnonzero(codes == code)
        if target >= len(rows):
            keep.append(rows)
            continue
        if target < 1:
            raise RebalanceError("cluster: a class cannot be reduced to 0 rows")
        X = np.asarray(features[rows], dtype=np.float64)
        model = (
            MiniBatchKMeans(n_clusters=target, random_state=seed, n_init=3, batch_size=4096)
            if len(rows) > _MINIBATCH_ABOVE
            else KMeans(n_clusters=target, random_state=seed, n_init=1)
        )
        model.fit(X)
        keep.append(rows[_nearest_distinct(X, model.cluster_centers_)])
    return np.sort(np.concatenate(keep)).astype(np.int64)


def _nearest_distinct(X: npt.NDArray[np.float64], centres: npt.NDArray[np.float64]) -> Positions:
    """For each centre, the nearest row not taken by an earlier centre (one row each)."""
    from sklearn.metrics import pairwise_distances_argmin_min
    from sklearn.neighbors import NearestNeighbors

    nearest, _ = pairwise_distances_argmin_min(centres, X)
    chosen: list[int] = []
    taken: set[int] = set()
    finder = None
    for c, row in enumerate(nearest.tolist()):
        if row not in taken:
            chosen.append(row)
            taken.add(row)
            continue
        # identical rows (duplicates) can pull two centres onto one row: take the next free one
        if finder is None:
            finder = NearestNeighbors().fit(X)
        k = min(len(X), len(taken) + 1)
        _, order = finder.kneighbors(centres[c : c + 1], n_neighbors=k)
        row = next(r for r in order[0].tolist() if r not in taken)
        chosen.append(row)
        taken.add(row)
    return np.asarray(chosen, dtype=np.int64)


def dedup_keep(
    features: npt.NDArray[np.floating],
    codes: npt.NDArray[np.int64],
    threshold: float,
    *,
    classes: Sequence[int] | None = None,
) -> Positions:
    """Rows kept when near-duplicates (distance < ``threshold``) within each class go."""
    return dedup_pairs(features, codes, threshold, classes=classes)[0]


def dedup_pairs(
    features: npt.NDArray[np.floating],
    codes: npt.NDArray[np.int64],
    threshold: float,
    *,
    classes: Sequence[int] | None = None,
) -> tuple[Positions, Positions, npt.NDArray[np.float64]]:
    """:func:`dedup_keep`'s rows, and for each removed row the kept row it is near (``-1``
    for rows kept) and the distance between them."""
    from sklearn.neighbors import NearestNeighbors

    if not threshold > 0:
        raise RebalanceError(f"--threshold must be above 0, got {threshold:g}")
    keep = np.ones(len(codes), dtype=bool)
    duplicate_of = np.full(len(codes), -1, dtype=np.int64)
    distance = np.zeros(len(codes), dtype=np.float64)
    wanted = set(classes) if classes is not None else set(np.unique(codes[codes >= 0]).tolist())
    for code in sorted(wanted):
        rows = np.flatnonzero(codes == code)
        if len(rows) < 2:
            continue
        X = np.asarray(features[rows], dtype=np.float64)
        neighbours = NearestNeighbors(radius=threshold).fit(X)
        distances, hits = neighbours.radius_neighbors(X, return_distance=True)
        dropped = np.zeros(len(rows), dtype=bool)
        for i in range(len(rows)):  # input order: a row stays unless an earlier kept row is near
            if dropped[i]:
                continue
            # the query includes distance == threshold; only those below it go
            near = (hits[i] > i) & (distances[i] < threshold)
            new = near & ~dropped[hits[i]]
            duplicate_of[rows[hits[i][new]]] = rows[i]
            distance[rows[hits[i][new]]] = distances[i][new]
            dropped[hits[i][near]] = True
        keep[rows[dropped]] = False
    return np.flatnonzero(keep).astype(np.int64), duplicate_of, distance
