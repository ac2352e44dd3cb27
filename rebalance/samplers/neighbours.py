"""Neighbour searches that skip the rows which cannot change the answer.

imbalanced-learn's :class:`~imblearn.under_sampling.TomekLinks` asks for the
nearest neighbour of *every* row, which costs n² distances. A Tomek link joins two
rows of different classes, so one of its ends always lies outside the largest
class. This module therefore asks only for the neighbours of the rows outside the
largest class, then for those of the largest-class rows they point at; every link
is found, and with 1:100 data that is about 2% of the queries.

The classes here subclass imbalanced-learn's, keep its parameters and checks, and
fit the same :class:`~sklearn.neighbors.NearestNeighbors` on all rows, so they
return the same rows as imbalanced-learn (tests compare them on real-shaped data,
duplicates included). The gain is largest when one class dominates; with classes
of equal size about half the queries remain.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
from imblearn.under_sampling import EditedNearestNeighbours, OneSidedSelection, TomekLinks
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import _safe_indexing, check_random_state

Index = npt.NDArray[np.intp]


def nearest_other(X: Any, y: npt.NDArray[Any], *, n_jobs: int | None = None) -> Index:
    """The nearest neighbour (column 1 of ``kneighbors``, as imbalanced-learn takes it) of
    at least the rows that can be part of a Tomek link; ``-1`` for rows never asked.

    Every row outside the largest class is asked; a largest-class row is asked only
    when some other row's nearest neighbour is that row.
    """
    n = len(y)
    nearest = np.full(n, -1, dtype=np.intp)
    if n < 2:
        return nearest
    nn = NearestNeighbors(n_neighbors=2, n_jobs=n_jobs).fit(X)
    values, counts = np.unique(y, return_counts=True)
    largest = values[int(np.argmax(counts))]
    _ask(nn, X, np.flatnonzero(y != largest), nearest)
    pointed = nearest[(nearest >= 0) & (y != largest)]
    pointed = np.unique(pointed[y[pointed] == largest])
    _ask(nn, X, pointed[nearest[pointed] < 0], nearest)
    return nearest


def _ask(nn: NearestNeighbors, X: Any, rows: Index, nearest: Index) -> None:
    """Fill ``nearest`` (column 1) for ``rows`` (and possibly a few more), exactly as a
    query of all rows of ``X`` would."""
    if not len(rows):
        return
    asked, found = ask_like_all(nn, X, rows)
    nearest[asked] = found[:, 1]


def ask_like_all(nn: NearestNeighbors, Q: Any, rows: Index) -> tuple[Index, npt.NDArray[np.intp]]:
    """``nn.kneighbors`` of the rows ``rows`` of the query matrix ``Q`` (and possibly a few
    more), exactly as ``nn.kneighbors(Q)`` would give them: the positions asked, and
    their neighbours.

    scikit-learn's brute-force search computes distances in blocks of 256 query rows,
    and a distance's last bit of rounding depends on the block's shape; with exact
    ties (duplicate rows) that decides which neighbour comes first. So the rows are
    asked in full blocks (padded with other rows), with the short last block of the
    whole query asked on its own shape, and with enough blocks that the search runs
    in parallel over query blocks, as the query of all rows does. When that query
    would not (few rows) or most rows are needed anyway, all rows are asked.
    """
    from sklearn import get_config

    n = int(Q.shape[0])
    chunk = int(get_config().get("pairwise_dist_chunk_size", 256))
    threads = _openmp_threads()
    # scikit-learn parallelises over query blocks only with more than 4 blocks per thread
    least = (4 * threads + 1) * chunk
    tail_start = n - n % chunk if n % chunk else n
    body = rows[rows < tail_start]
    size = max(-(-len(body) // chunk) * chunk, least)
    if 4 * chunk * threads >= n or 10 * (size + n - tail_start) >= 9 * n:
        every = np.arange(n, dtype=np.intp)
        return every, np.asarray(nn.kneighbors(Q, return_distance=False), dtype=np.intp)
    if len(body) < size:
        spare = np.setdiff1d(np.arange(tail_start), body, assume_unique=True)
        body = np.concatenate([body, spare[: size - len(body)]])
    asked = body
    if np.any(rows >= tail_start):
        asked = np.concatenate([body, np.arange(tail_start, n)])
    asked = asked.astype(np.intp)
    found = nn.kneighbors(_safe_indexing(Q, asked), return_distance=False)
    return asked, np.asarray(found, dtype=np.intp)


def _openmp_threads() -> int:
    try:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        return int(_openmp_effective_n_threads())
    except ImportError:  # pragma: no cover - a future scikit-learn moved it
        import os

        return os.cpu_count() or 1


def tomek_links(y: npt.NDArray[Any], nearest: Index, classes: Any) -> npt.NDArray[np.bool_]:
    """Rows of ``classes`` that form a Tomek link: their nearest neighbour has another
    class and has them as its own nearest neighbour (imbalanced-learn's ``is_tomek``)."""
    asked = np.flatnonzero(nearest >= 0)
    other = nearest[asked]
    linked = (y[other] != y[asked]) & (nearest[other] == asked)
    links = np.zeros(len(y), dtype=bool)
    links[asked[linked]] = True
    return links & np.isin(y, list(classes))


class FastTomekLinks(TomekLinks):  # type: ignore[misc]
    """:class:`~imblearn.under_sampling.TomekLinks` that searches neighbours only from
    the rows that can be part of a link; same parameters, same rows removed."""

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        y = np.asarray(y)
        nearest = nearest_other(X, y, n_jobs=self.n_jobs)
        links = tomek_links(y, nearest, self.sampling_strategy_)
        self.sample_indices_ = np.flatnonzero(~links)
        return (
            _safe_indexing(X, self.sample_indices_),
            _safe_indexing(y, self.sample_indices_),
        )


class FastOneSidedSelection(OneSidedSelection):  # type: ignore[misc]
    """:class:`~imblearn.under_sampling.OneSidedSelection` whose final Tomek-link
    cleaning is :class:`FastTomekLinks`; the rest is imbalanced-learn's algorithm
    step for step (the same random draws), so the same rows are kept."""

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        y = np.asarray(y)
        estimator = self._validate_estimator()
        random_state = check_random_state(self.random_state)
        target_stats = Counter(y)
        class_minority = min(target_stats, key=target_stats.__getitem__)
        minority_rows = np.flatnonzero(y == class_minority)
        idx_under = np.empty((0,), dtype=int)
        self.estimators_ = []
        for target_class in np.unique(y):
            rows = np.flatnonzero(y == target_class)
            if target_class not in self.sampling_strategy_:
                idx_under = np.concatenate((idx_under, rows))
                continue
            picked = random_state.randint(
                low=0, high=target_stats[target_class], size=self.n_seeds_S
            )
            seeds = rows[picked]
            seed_set = np.append(minority_rows, seeds)
            rest = np.delete(rows, picked, axis=0)
            from sklearn.base import clone

            fitted = clone(estimator).fit(_safe_indexing(X, seed_set), y[seed_set])
            self.estimators_.append(fitted)
            wrong = fitted.predict(_safe_indexing(X, rest)) != y[rest]
            idx_under = np.concatenate((idx_under, seeds, rest[np.flatnonzero(wrong)]))
        cleaner = FastTomekLinks(sampling_strategy=list(self.sampling_strategy_.keys()))
        X_cleaned, y_cleaned = cleaner.fit_resample(_safe_indexing(X, idx_under), y[idx_under])
        self.sample_indices_ = idx_under[cleaner.sample_indices_]
        return X_cleaned, y_cleaned


# ---------------------------------------------------------------- edited nearest neighbours

# how much larger a squared distance must be to count as surely larger, relative to the
# squared norms involved: far above the rounding of scikit-learn's ‖x‖² − 2x·y + ‖y‖²
_MARGIN = 1e-9


def surely_kept(
    X: Any, y: npt.NDArray[Any], rows: Index, k: int, *, seed: int = 0
) -> npt.NDArray[np.bool_]:
    """Rows of one class whose ``k`` nearest neighbours (the row itself included) are
    surely all of that class, whatever the rounding: ``k − 1`` rows of a sample of the
    class lie clearly closer than the nearest row of any other class.

    Costs a search against the other classes and against a tenth of the class, instead
    of against every row; the rows not found sure are left to the exact search.
    """
    Xd = np.asarray(X, dtype=np.float64)
    target = y[rows[0]]
    others = np.flatnonzero(y != target)
    sure = np.zeros(len(rows), dtype=bool)
    if len(others) == 0:
        return ~sure
    size = min(len(rows), max(16 * k, len(rows) // 10))
    if size < k:
        return sure
    sample = np.sort(np.random.default_rng(seed).choice(len(rows), size, replace=False))
    Q = Xd[rows]
    norms = np.einsum("ij,ij->i", Q, Q)
    largest = max(float(norms.max()), float(np.einsum("ij,ij->i", Xd[others], Xd[others]).max()))
    margin = _MARGIN * (norms + largest) + 1e-300
    far = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(Xd[others])
    other_d2 = far.kneighbors(Q, return_distance=True)[0][:, 0] ** 2
    near = NearestNeighbors(n_neighbors=min(k + 1, size), algorithm="brute").fit(Q[sample])
    dist, idx = near.kneighbors(Q, return_distance=True)
    own = sample[idx] == np.arange(len(rows))[:, None]  # the row itself, if sampled
    closer = (dist**2 < other_d2[:, None] - 2 * margin[:, None]) & ~own
    sure_rows: npt.NDArray[np.bool_] = closer.sum(axis=1) >= k - 1
    return sure_rows


class FastEditedNearestNeighbours(EditedNearestNeighbours):  # type: ignore[misc]
    """:class:`~imblearn.under_sampling.EditedNearestNeighbours` (``kind_sel="all"``) that
    skips the neighbour search of the rows surely kept (see :func:`surely_kept`) and asks
    the rest exactly as imbalanced-learn's query of the whole class would: same rows kept."""

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        from numbers import Integral

        from scipy import sparse

        if (
            self.kind_sel != "all"
            or not isinstance(self.n_neighbors, Integral)
            or sparse.issparse(X)
        ):
            return super()._fit_resample(X, y)  # type: ignore[no-any-return]
        y = np.asarray(y)
        self._validate_estimator()
        self.nn_.fit(X)
        k = int(self.n_neighbors) + 1  # columns of the query: the row itself first
        kept_parts = []
        for target_class in np.unique(y):
            rows = np.flatnonzero(y == target_class)
            if target_class not in self.sampling_strategy_:
                kept_parts.append(rows)
                continue
            if 10 * (len(y) - len(rows)) + len(rows) > 3 * len(y):
                # the other classes are large: sorting out the sure rows costs more than it saves
                keep = np.zeros(len(rows), dtype=bool)
            else:
                keep = surely_kept(X, y, rows, k)
            unsure = np.flatnonzero(~keep).astype(np.intp)
            if len(unsure):
                Q = _safe_indexing(X, rows)
                asked, found = ask_like_all(self.nn_, Q, unsure)
                keep[asked] = np.all(y[found[:, 1:]] == target_class, axis=1)
            kept_parts.append(rows[np.flatnonzero(keep)])
        self.sample_indices_ = np.concatenate(kept_parts) if kept_parts else np.empty(0, int)
        return (
            _safe_indexing(X, self.sample_indices_),
            _safe_indexing(y, self.sample_indices_),
        )
