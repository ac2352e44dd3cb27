"""Per-class scores and Bayes' rule on them: the types metrics, predictions and priors share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scores:
    """Per-class probability scores (rows × classes), columns in ``classes`` order."""

    classes: list[str]
    matrix: npt.NDArray[np.float64]


def shift(matrix: Vector, train: Vector, target: Vector) -> Vector:
    """Scores adjusted from ``train`` to ``target`` priors, rows renormalised."""
    adjusted = matrix * (target / train)
    totals = adjusted.sum(axis=1, keepdims=True)
    # a row that gives all its mass to classes with a target prior of 0 keeps its scores
    zero = totals[:, 0] <= 0
    if zero.any():
        adjusted[zero] = matrix[zero]
        totals[zero] = matrix[zero].sum(axis=1, keepdims=True)
    out: Vector = adjusted / totals
    return out
