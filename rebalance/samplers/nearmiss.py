"""NearMiss (versions 1, 2 and 3) without importing imbalanced-learn.

imbalanced-learn's ``NearMiss`` is a few lines around scikit-learn's ``NearestNeighbors``;
importing imbalanced-learn costs more than running it on tens of thousands of rows. This
class does the same steps with the same ``NearestNeighbors`` (so the same distances, to the
last bit) and the same stable ordering, and keeps the same rows: tests compare it with
imbalanced-learn's own on every version, ties included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt


class FastNearMiss:
    """``imblearn.under_sampling.NearMiss``: the same parameters, rows and ``sample_indices_``."""

    def __init__(
        self,
        *,
        sampling_strategy: Any = "auto",
        version: int = 1,
        n_neighbors: int = 3,
        n_neighbors_ver3: int = 3,
        n_jobs: int | None = None,
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.version = version
        self.n_neighbors = n_neighbors
        self.n_neighbors_ver3 = n_neighbors_ver3
        self.n_jobs = n_jobs

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {
            "sampling_strategy": self.sampling_strategy,
            "version": self.version,
            "n_neighbors": self.n_neighbors,
            "n_neighbors_ver3": self.n_neighbors_ver3,
            "n_jobs": self.n_jobs,
        }

    def _check(self) -> Mapping[Any, int]:
        if not isinstance(self.version, int) or self.version not in (1, 2, 3):
            raise ValueError(
                f"The 'version' parameter of NearMiss must be 1, 2 or 3; got {self.version!r}"
            )
        for name in ("n_neighbors", "n_neighbors_ver3"):
            value = getattr(self, name)
            if hasattr(value, "kneighbors") and hasattr(value, "n_neighbors"):
                continue  # a NearestNeighbors-like object, as imbalanced-learn accepts
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"The '{name}' parameter of NearMiss must be an int >= 1 or a "
                    f"NearestNeighbors object; got {value!r}"
                )
        if not isinstance(self.sampling_strategy, Mapping):
            raise ValueError("FastNearMiss takes the per-class targets as a dict")
        return self.sampling_strategy

    def _neighbours(self, spec: Any) -> Any:
        """A fresh neighbour search: ``spec`` neighbours, or a clone of ``spec`` itself."""
        if not isinstance(spec, int):
            from sklearn.base import clone

            return clone(spec)
        from sklearn.neighbors import NearestNeighbors

        return NearestNeighbors(n_neighbors=spec, n_jobs=self.n_jobs)

    def fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        targets = self._check()
        y = np.asarray(y)
        classes, first, counts = np.unique(y, return_index=True, return_counts=True)
        for cls, target in targets.items():
            found = np.flatnonzero(classes == cls)
            if not len(found) or target > counts[found[0]]:
                raise ValueError(
                    f"With under-sampling methods, the number of samples in a class should be "
                    f"less or equal to the original number of samples. Originally, there is "
                    f"{counts[found[0]] if len(found) else 0} samples and {target} samples are asked."
                )
        # Counter order (first appearance), then the smallest count: imbalanced-learn's minority
        by_appearance = np.argsort(first, kind="stable")
        minority = classes[by_appearance[np.argmin(counts[by_appearance])]]
        minority_rows = np.flatnonzero(y == minority)
        nn = self._neighbours(self.n_neighbors).fit(X[minority_rows])
        chosen = []
        for cls in classes:
            rows = np.flatnonzero(y == cls)
            if cls in targets:
                rows = rows[self._select(X, rows, minority_rows, nn, int(targets[cls]))]
            chosen.append(rows)
        self.sample_indices_ = np.concatenate(chosen)
        return X[self.sample_indices_], y[self.sample_indices_]

    def _select(
        self,
        X: Any,
        rows: npt.NDArray[np.intp],
        minority_rows: npt.NDArray[np.intp],
        nn: Any,
        n: int,
    ) -> npt.NDArray[np.intp]:
        """Positions (within ``rows``) of the class's rows NearMiss keeps."""
        spec = self.n_neighbors
        k = spec if isinstance(spec, int) else int(spec.n_neighbors)
        if self.version == 1:
            dist, _ = nn.kneighbors(X[rows], n_neighbors=k)
            return _ranked(dist, k, n, farthest=False)
        if self.version == 2:
            dist, _ = nn.kneighbors(X[rows], n_neighbors=len(minority_rows))
            return _ranked(dist, k, n, farthest=False)
        near = self._neighbours(self.n_neighbors_ver3).fit(X[rows])
        _, idx = near.kneighbors(X[minority_rows])
        candidates = np.unique(idx.reshape(-1))
        dist, _ = nn.kneighbors(X[rows[candidates]], n_neighbors=k)
        picked: npt.NDArray[np.intp] = candidates[_ranked(dist, k, n, farthest=True)]
        return picked


def _ranked(dist: npt.NDArray[Any], k: int, n: int, *, farthest: bool) -> npt.NDArray[np.intp]:
    """The ``n`` rows of smallest (or largest) summed distance to their last ``k`` neighbours;
    ties keep row order (Python's ``sorted``, which imbalanced-learn uses, is stable, and so
    is its ``reverse``)."""
    total = np.sum(dist[:, -k:], axis=1)
    order = np.argsort(-total if farthest else total, kind="stable")
    return order[:n]
