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

Where the rows lie densely (SMOTE's output: new rows on segments between close
minority rows), a k-d tree finds a row's neighbours after a few thousand distances
instead of all n. :class:`KdSearch` tries the tree on a few rows and uses it only
when it pays; a row whose neighbours it finds with a clear gap (far above the
brute-force search's rounding) is settled by the tree, and the rest are asked
exactly as before, so the rows returned stay imbalanced-learn's.
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

# in :func:`nearest_other`: the row's nearest neighbour is surely of its own class
OWN = -2


def nearest_other(X: Any, y: npt.NDArray[Any], *, n_jobs: int | None = None) -> Index:
    """The nearest neighbour (column 1 of ``kneighbors``, as imbalanced-learn takes it) of
    at least the rows that can be part of a Tomek link; ``-1`` for rows never asked, and
    :data:`OWN` for rows whose nearest neighbour is surely of their own class (so in no link).

    Every row outside the largest class is asked; a largest-class row is asked only
    when some other row's nearest neighbour is that row.
    """
    n = len(y)
    nearest = np.full(n, -1, dtype=np.intp)
    if n < 2:
        return nearest
    nn = NearestNeighbors(n_neighbors=2, n_jobs=n_jobs).fit(X)
    tree = KdSearch(X)
    values, counts = np.unique(y, return_counts=True)
    largest = values[int(np.argmax(counts))]
    for value in values[values != largest]:
        own = np.flatnonzero(y == value)
        sure = tree.nearest_is_own(own, np.flatnonzero(y != value))
        if sure is not None:
            nearest[own[sure]] = OWN
    _ask(nn, tree, X, np.flatnonzero((y != largest) & (nearest == -1)), nearest)
    pointed = nearest[(nearest >= 0) & (y != largest)]
    pointed = np.unique(pointed[y[pointed] == largest])
    _ask(nn, tree, X, pointed[nearest[pointed] < 0], nearest)
    return nearest


def _ask(nn: NearestNeighbors, tree: KdSearch, X: Any, rows: Index, nearest: Index) -> None:
    """Fill ``nearest`` (column 1) for ``rows`` (and possibly a few more), exactly as a
    query of all rows of ``X`` would."""
    settled = tree.neighbours(rows, 2)
    if settled is not None:
        sure, found = settled
        nearest[rows[sure]] = found[sure, 1]
        rows = rows[~sure]
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
        from rebalance.cpus import usable_cpus

        return usable_cpus()


# the k-d tree is tried on this many rows, and used when it needs fewer than this share of
# the distances a brute-force search computes: a tree distance costs about 20 times a
# brute-force one (measured on 2 cores, 20 features)
KD_PROBE_ROWS = 32
KD_SHARE = 1 / 25
# beyond this many features a k-d tree prunes nothing; below this many rows to ask, the
# brute-force search is quick anyway
KD_MAX_FEATURES = 64
KD_MIN_ROWS = 2048


class KdSearch:
    """Euclidean neighbours of rows of ``X`` among all rows of ``X`` from a k-d tree,
    settled only where no rounding of the brute-force search could change them.

    The tree computes each distance directly (exact to a few ulps); scikit-learn's brute
    force computes ‖x‖² − 2x·y + ‖y‖², whose rounding is far below :data:`_MARGIN`
    times the squared norms. So where the row itself comes first, the next row lies
    clearly farther, and the k-th and (k+1)-th distances differ clearly, the brute-force
    query would return the same first column (the row) and the same set of k columns
    (for k = 2, so the same second column; for larger k the order within may differ).
    """

    def __init__(self, X: Any) -> None:
        from scipy import sparse

        self._X: npt.NDArray[np.float64] | None = None
        self._largest = 0.0
        self._tree: Any = None
        self._pays: bool | None = None
        if sparse.issparse(X) or X.shape[1] > KD_MAX_FEATURES or X.shape[0] < KD_MIN_ROWS:
            self._pays = False
            return
        self._X = np.ascontiguousarray(X, dtype=np.float64)
        self._largest = float(np.einsum("ij,ij->i", self._X, self._X).max())

    def pays(self, rows: Index, k: int) -> bool:
        """Whether asking the ``k`` nearest neighbours of ``rows`` from the tree pays
        (tried once, on a few of them)."""
        if self._pays is False or len(rows) < KD_MIN_ROWS or self._X is None:
            return False
        if self._tree is None:
            from sklearn.neighbors import KDTree

            self._tree = KDTree(self._X)
        if self._pays is None:
            self._pays = _tree_pays(self._tree, self._X, rows, k)
        return self._pays

    def neighbours(
        self, rows: Index, k: int
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]] | None:
        """For ``rows``: which are settled, and their ``k`` nearest rows (the row itself
        first), as brute force would give them where settled; ``None`` when the tree
        does not pay here (then nothing is settled)."""
        if not self.pays(rows, k + 1):
            return None
        X = self._X
        assert X is not None
        dist, found = _query(self._tree, X[rows], k + 1)
        d2 = dist * dist
        norms = np.einsum("ij,ij->i", X[rows], X[rows])
        margin = _MARGIN * (norms + self._largest) + 1e-300
        sure: npt.NDArray[np.bool_] = (
            (found[:, 0] == rows) & (d2[:, 1] > 2 * margin) & (d2[:, k] - d2[:, k - 1] > 2 * margin)
        )
        return sure, found[:, :k].astype(np.intp)

    def nearest_is_own(self, rows: Index, others: Index) -> npt.NDArray[np.bool_] | None:
        """Which of ``rows`` (one class; ``others`` are the rest) surely have a row of their
        own class as nearest neighbour: no other row lies within the distance of the
        nearest own row plus the margin. ``None`` when the tree does not pay here.

        Costs a search among the class and a small-radius count among the others, where
        SMOTE's dense new rows make both cheap; the rows not settled are left to the search.
        """
        if len(others) == 0 or not self.pays(rows, 3):
            return None
        from sklearn.neighbors import KDTree

        X = self._X
        assert X is not None
        Q = X[rows]
        dist, _ = _query(KDTree(Q), Q, 2)
        norms = np.einsum("ij,ij->i", Q, Q)
        margin = _MARGIN * (norms + self._largest) + 1e-300
        radius = np.sqrt(dist[:, 1] ** 2 + 2 * margin)
        inside = _count(KDTree(X[others]), Q, radius)
        sure: npt.NDArray[np.bool_] = inside == 0
        return sure


def _tree_pays(tree: Any, X: npt.NDArray[np.float64], rows: Index, k: int) -> bool:
    """Whether the tree finds the neighbours of a few random rows with fewer than
    :data:`KD_SHARE` of the distances brute force needs; stops as soon as it cannot."""
    size = min(KD_PROBE_ROWS, len(rows))
    budget = KD_SHARE * len(X) * size
    tree.reset_n_calls()
    for row in np.random.default_rng(0).choice(rows, size, replace=False):
        tree.query(X[row : row + 1], k=k)
        if tree.get_n_calls() > budget:
            return False
    return True


def _query(tree: Any, Q: npt.NDArray[np.float64], k: int) -> tuple[Any, Any]:
    """``tree.query(Q, k)`` over the OpenMP thread budget (the tree releases the GIL)."""
    results = _in_threads(lambda part: tree.query(Q[part], k=k), len(Q))
    return np.vstack([d for d, _ in results]), np.vstack([i for _, i in results])


def _count(tree: Any, Q: npt.NDArray[np.float64], radius: npt.NDArray[np.float64]) -> Any:
    """How many tree rows lie within ``radius`` of each row of ``Q`` (threaded as above)."""
    results = _in_threads(
        lambda part: tree.query_radius(Q[part], radius[part], count_only=True), len(Q)
    )
    return np.concatenate(results)


def _in_threads(work: Any, n: int) -> list[Any]:
    """``work`` over parts of ``range(n)``, in as many threads as OpenMP may use."""
    threads = _openmp_threads()
    if threads < 2 or n < 4 * KD_MIN_ROWS:
        return [work(np.arange(n))]
    from concurrent.futures import ThreadPoolExecutor

    parts = np.array_split(np.arange(n), 4 * threads)
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, parts))


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
        euclidean = getattr(self.nn_, "effective_metric_", None) == "euclidean"
        tree = KdSearch(X) if euclidean else None
        kept_parts = []
        for target_class in np.unique(y):
            rows = np.flatnonzero(y == target_class)
            if target_class not in self.sampling_strategy_:
                kept_parts.append(rows)
                continue
            settled = tree.neighbours(rows, k) if tree is not None else None
            if settled is not None:
                sure, found = settled
                keep = np.zeros(len(rows), dtype=bool)
                keep[sure] = np.all(y[found[sure, 1:]] == target_class, axis=1)
                unsure = np.flatnonzero(~sure).astype(np.intp)
            else:
                if 10 * (len(y) - len(rows)) + len(rows) > 3 * len(y):
                    # the other classes are large: sorting out sure rows costs more than it saves
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
