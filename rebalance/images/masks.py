"""Pixel-level class counts of segmentation masks.

A mask is an image whose pixel values are class ids (mode ``L``, ``P``, ``I;16`` or
``I``). :func:`pixel_counts` streams every mask once, ``workers`` at a time, holding
one mask per worker: for each class, its pixels, the images in which it appears and
the pixels of those images (the denominator of SegNet's median-frequency weights).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError

_MASK_MODES = ("1", "L", "P", "I;16", "I;16B", "I;16L", "I")


@dataclass(frozen=True)
class PixelCounts:
    """Per-class pixel statistics of a set of masks; class names are text (``"0"``, ``"road"``)."""

    counts: dict[str, int]  # pixels per class, most first
    images_with_class: dict[str, int]  # masks in which the class appears
    pixels_of_images_with_class: dict[str, int]  # all pixels of those masks
    images: int
    pixels: int
    # a few masks (positions in the order counted) per class, seeded: the report's overlays
    examples: dict[str, list[int]] = field(default_factory=dict)

    @property
    def share(self) -> dict[str, float]:
        return {k: v / self.pixels for k, v in self.counts.items()}

    @property
    def imbalance_ratio(self) -> float:
        values = [v for v in self.counts.values() if v > 0]
        return max(values) / min(values) if values else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "pixels": self.pixels,
            "counts": dict(self.counts),
            "share": self.share,
            "imbalance_ratio": self.imbalance_ratio,
            "images_with_class": dict(self.images_with_class),
        }


def read_mask_classes(path: str) -> dict[int, str]:
    """``--mask-classes FILE.json``: ``{"0": "background", "7": "traffic light"}`` or a list by id."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise RebalanceError(f"--mask-classes {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise RebalanceError(f"--mask-classes {path}: not a JSON file ({exc})") from None
    if isinstance(doc, list):
        doc = {str(i): name for i, name in enumerate(doc)}
    if not isinstance(doc, dict):
        raise RebalanceError(f"--mask-classes {path}: expected {{id: name}} or a list of names")
    names: dict[int, str] = {}
    for key, name in doc.items():
        try:
            names[int(key)] = str(name)
        except ValueError:
            raise RebalanceError(
                f"--mask-classes {path}: key {key!r} is not a class id (a mask value)"
            ) from None
    if len(set(names.values())) != len(names):
        raise RebalanceError(f"--mask-classes {path}: two ids have the same name")
    return names


def check_named(ids: npt.NDArray[np.int64], names: Mapping[int, str] | None) -> None:
    """With ``--mask-classes``, every mask value present must have a name."""
    if names is None:
        return
    unknown = [int(c) for c in ids if int(c) not in names]
    if unknown:
        raise RebalanceError(
            f"mask value(s) {', '.join(map(str, unknown[:10]))} have no name in --mask-classes"
        )


def read_mask(path: str, shown: str) -> npt.NDArray[np.int64]:
    """A mask's pixel values (class ids), or a :class:`RebalanceError` naming the file."""
    from rebalance.images.files import open_image

    with open_image(path, "mask", shown=shown) as im:
        if im.mode not in _MASK_MODES:
            raise RebalanceError(
                f"{shown}: a mask must hold one class id per pixel (mode L, P, I;16 or I), "
                f"not mode {im.mode}"
            )
        values = np.asarray(im)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    if values.size and values.min() < 0:
        raise RebalanceError(f"{shown}: negative class ids in a mask")
    return values.astype(np.int64, copy=False).ravel()


def _count_one(item: tuple[str, str]) -> npt.NDArray[np.int64]:
    full, shown = item
    return np.bincount(read_mask(full, shown))


def pixel_counts(
    paths: Sequence[str],
    *,
    shown: Sequence[str] | None = None,
    names: Mapping[int, str] | None = None,
    workers: int | None = None,
    step: Callable[[int], None] | None = None,
    examples: int = 0,
    seed: int = 0,
) -> PixelCounts:
    """Count the pixels of each class over every mask (``paths`` resolved; ``shown`` as written).

    Class ids become text: their name from ``names`` (``--mask-classes``), else the id.
    An id not in ``names`` is an error when ``names`` is given. With ``examples``, up to
    that many masks holding each class are kept (a reservoir sample drawn from ``seed``).
    """
    if not paths:
        raise RebalanceError("no masks to count")
    shown = list(shown) if shown is not None else list(paths)
    totals = np.zeros(0, dtype=np.int64)
    images_with = np.zeros(0, dtype=np.int64)
    pixels_with = np.zeros(0, dtype=np.int64)
    pixels = 0
    picked = _Reservoir(examples, seed)

    def grow(a: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
        return a if len(a) >= n else np.concatenate([a, np.zeros(n - len(a), dtype=np.int64)])

    with ThreadPoolExecutor(max_workers=workers or usable_cpus()) as pool:
        for i, counts in enumerate(pool.map(_count_one, zip(paths, shown, strict=True))):
            n = len(counts)
            totals, images_with, pixels_with = (
                grow(a, n) for a in (totals, images_with, pixels_with)
            )
            size = int(counts.sum())
            present = counts > 0
            totals[:n] += counts
            images_with[:n] += present
            pixels_with[:n][present] += size
            pixels += size
            picked.add(i, np.flatnonzero(present))
            if step is not None:
                step(1)
    ids = np.flatnonzero(totals)
    check_named(ids, names)

    def name(c: int) -> str:
        return names[c] if names is not None else str(c)

    order = sorted(ids.tolist(), key=lambda c: (-int(totals[c]), c))
    return PixelCounts(
        counts={name(c): int(totals[c]) for c in order},
        images_with_class={name(c): int(images_with[c]) for c in order},
        pixels_of_images_with_class={name(c): int(pixels_with[c]) for c in order},
        images=len(paths),
        pixels=pixels,
        examples={name(c): picked.chosen[c] for c in order if c in picked.chosen},
    )


class _Reservoir:
    """Up to ``size`` items per class, each seen item equally likely (Algorithm R)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.seen: dict[int, int] = {}
        self.chosen: dict[int, list[int]] = {}

    def add(self, item: int, classes: npt.NDArray[np.intp]) -> None:
        if not self.size:
            return
        for c in classes.tolist():
            n = self.seen[c] = self.seen.get(c, 0) + 1
            kept = self.chosen.setdefault(c, [])
            if n <= self.size:
                kept.append(item)
            else:
                j = int(self.rng.integers(n))
                if j < self.size:
                    kept[j] = item
