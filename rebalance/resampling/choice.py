"""What an image method did, file by file: the material of ``resample --preview``.

Kept apart from the output: a preview reads it, and nothing written depends on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class NewImage:
    """One image ``augment`` made: its parent row, its path (as the output writes it and
    resolved) and the transform, as JSON."""

    parent: int
    shown: str
    full: str
    transform: str


@dataclass(frozen=True)
class ImageChoice:
    """The rows an image method read (paths as written and resolved, each row's class;
    ``None``: not resampled) and what it decided: the rows ``cluster`` or ``dedup``
    kept, the kept row each row ``dedup`` removed is near (``-1``: none) and how near,
    the images ``augment`` made."""

    method: str
    shown: list[str | None]
    full: list[str | None]
    labels: list[str | None]
    kept: npt.NDArray[np.int64] | None = None
    duplicate_of: npt.NDArray[np.int64] | None = None
    distance: npt.NDArray[np.float64] | None = None
    new: list[NewImage] = field(default_factory=list)
