"""The contact sheet of an image manifest: a few thumbnails per class, rarest classes first.

Which rows are shown is a seeded draw (one permutation of the rows; each class shows
its first rows in that order), so the same manifest and seed give the same report.
The sheet is capped: at most ``max_classes`` classes and ``budget`` bytes of pictures;
what is left out is said in a note.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.visual.thumbs import Made, Thumb, make_thumbs


@dataclass(frozen=True)
class SheetOptions:
    """Which images a report shows, and how large it may grow."""

    seed: int = 0
    per_class: int = 4
    max_classes: int = 200
    thumb_size: int = 96
    budget: int = 3_500_000  # bytes of embedded pictures (base64), thumbnails and overlays
    overlay_classes: int = 6
    overlays_per_class: int = 2
    workers: int | None = None


@dataclass(frozen=True)
class Tile:
    """One picture on a sheet and its caption (a path as the manifest writes it)."""

    caption: str
    made: Made
    note: str = ""


@dataclass
class Sheet:
    """Classes (rarest first) with their tiles, and what was left out."""

    classes: list[tuple[str, int, list[Tile]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    embedded: int = 0  # bytes of pictures


@dataclass(frozen=True)
class ImageRows:
    """An image manifest's path column (Arrow text, as written), the folder its relative
    paths start from, and each class's rows. Only the rows a page shows become Python
    strings: a manifest of millions of images costs an array, not millions of objects."""

    paths: Any  # pyarrow Array or ChunkedArray of text
    base: str
    members: Callable[[str], npt.NDArray[np.int64]]  # a class's row positions

    @property
    def count(self) -> int:
        return len(self.paths)

    def at(self, rows: Sequence[int]) -> tuple[list[str | None], list[str | None]]:
        """The paths of ``rows``: as written, and resolved."""
        from rebalance import arrays
        from rebalance.images.files import resolve

        picked = self.paths.take(arrays.to_arrow(np.asarray(rows, dtype=np.int64)))
        shown = [None if v is None or v == "" else str(v) for v in picked.to_pylist()]
        return shown, resolve(shown, self.base)


def single_members(labels: Any) -> Callable[[str], npt.NDArray[np.int64]]:
    """Row positions of each class of one label per row (an Arrow text column), found once."""
    from rebalance import arrays
    from rebalance.arrays import pc

    encoded = pc.dictionary_encode(labels)
    if not isinstance(encoded, pa.ChunkedArray):
        encoded = pa.chunked_array([encoded])
    encoded = encoded.unify_dictionaries()
    chunks = [c for c in encoded.chunks if len(c)]
    codes = {str(v): i for i, v in enumerate(chunks[0].dictionary.to_pylist())} if chunks else {}
    column = np.concatenate(
        [np.zeros(0, dtype=np.int64), *(arrays.integers(c.indices) for c in chunks)]
    ).astype(np.int64)
    order = np.argsort(column, kind="stable")
    sorted_codes = column[order]

    def members(label: str) -> npt.NDArray[np.int64]:
        code = codes.get(label)
        if code is None:
            return np.empty(0, dtype=np.int64)
        lo, hi = np.searchsorted(sorted_codes, [code, code + 1])
        return order[lo:hi].astype(np.int64)

    return members


def indicator_members(
    names: Sequence[str], indicator: npt.NDArray[np.bool_]
) -> Callable[[str], npt.NDArray[np.int64]]:
    """Row positions of each label of a multi-label manifest."""
    column = {name: j for j, name in enumerate(names)}

    def members(label: str) -> npt.NDArray[np.int64]:
        j = column.get(label)
        if j is None:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(indicator[:, j]).astype(np.int64)

    return members


def _drawn(rows: ImageRows, seed: int) -> npt.NDArray[np.int64]:
    """Each row's place in the seeded draw (lower is shown first)."""
    order = np.random.default_rng(seed).permutation(rows.count)
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    return place


def contact_sheet(
    rows: ImageRows,
    counts: Mapping[str, int],
    options: SheetOptions,
    *,
    step: Callable[[int], None] | None = None,
) -> Sheet:
    """Thumbnails of up to ``options.per_class`` rows of each class, rarest classes first."""
    sheet = Sheet()
    ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if len(ranked) > options.max_classes:
        sheet.notes.append(
            f"the sheet shows the {options.max_classes:,} rarest of {len(ranked):,} classes "
            f"({len(ranked) - options.max_classes:,} larger classes are not shown)"
        )
        ranked = ranked[: options.max_classes]
    place = _drawn(rows, options.seed)
    chosen: list[tuple[str, int, list[int]]] = []
    for label, count in ranked:
        members = rows.members(label)
        first = members[np.argsort(place[members], kind="stable")[: options.per_class]]
        chosen.append((label, count, first.tolist()))
    shown, full = rows.at([i for _, _, picked in chosen for i in picked])
    tasks = [Thumb(f, s or "", options.thumb_size) for s, f in zip(shown, full, strict=True)]
    made = iter(_make(tasks, options, step))
    captions = iter(shown)
    for label, count, picked in chosen:
        tiles = [Tile(next(captions) or "(no path)", next(made)) for _ in picked]
        sheet.classes.append((label, count, tiles))
    missing = [t for _, _, tiles in sheet.classes for t in tiles if t.made.data is None]
    if missing and len(missing) == len(tasks):
        sheet.notes.append(
            f"none of the {len(tasks):,} images drawn could be shown: relative paths start at "
            f"{rows.base} (--root sets another folder)"
        )
    _keep_within(sheet, options.budget)
    return sheet


def _make(
    tasks: list[Thumb],
    options: SheetOptions,
    step: Callable[[int], None] | None,
) -> list[Made]:
    """Thumbnails of tasks whose file exists; a row without a path or file is said."""
    todo = [t for t in tasks if t.path is not None and os.path.lexists(t.path)]
    done = iter(make_thumbs(todo, workers=options.workers, step=step))
    out = []
    for task in tasks:
        if task.path is None:
            out.append(Made(None, "no path"))
        elif not os.path.lexists(task.path):
            out.append(Made(None, f"{task.shown}: no such file"))
        else:
            out.append(next(done))
    return out


def _keep_within(sheet: Sheet, budget: int) -> None:
    """Drop pictures past ``budget`` bytes (classes stay listed, rarest first), and say so."""
    used, dropped = 0, 0
    for _, _, tiles in sheet.classes:
        for k, tile in enumerate(tiles):
            if tile.made.data is None:
                continue
            size = len(tile.made.data) * 4 // 3 + 32
            if used + size > budget:
                tiles[k] = Tile(tile.caption, Made(None, None), "left out: report size cap")
                dropped += 1
                continue
            used += size
    sheet.embedded = used
    if dropped:
        sheet.notes.append(
            f"{dropped:,} thumbnail(s) of the larger classes were left out to keep the report "
            f"under {budget / 1e6:.1f} MB of pictures"
        )


def mask_overlays(
    examples: Mapping[str, Sequence[int]],
    shares: Mapping[str, float],
    images: ImageRows | None,
    masks: Sequence[str | None],
    class_ids: Mapping[str, int],
    options: SheetOptions,
    *,
    captions: Sequence[str | None] | None = None,
) -> list[tuple[str, float, list[Tile]]]:
    """Overlays of the rarest pixel classes: each class's example masks over their images."""
    rarest = sorted(shares.items(), key=lambda kv: (kv[1], kv[0]))[: options.overlay_classes]
    tasks: list[Thumb] = []
    plan: list[tuple[str, float, list[int]]] = []
    for label, share in rarest:
        picked = list(examples.get(label, ()))[: options.overlays_per_class]
        plan.append((label, share, picked))
        size = options.thumb_size * 2
        under = images.at(picked)[1] if images is not None else [None] * len(picked)
        for i, image in zip(picked, under, strict=True):
            tasks.append(Thumb(image, image or masks[i] or "", size, masks[i], class_ids[label]))
    made = iter(make_thumbs(tasks, workers=options.workers))
    names = captions if captions is not None else masks
    return [
        (label, share, [Tile(names[i] or "", next(made)) for i in picked])
        for label, share, picked in plan
    ]


def class_ids(names: Sequence[str], mask_classes: Mapping[int, str] | None) -> dict[str, int]:
    """The mask value of each pixel class name (the id itself without ``--mask-classes``)."""
    if mask_classes is None:
        return {name: int(name) for name in names}
    by_name = {v: k for k, v in mask_classes.items()}
    return {name: by_name[name] for name in names}


def as_rows(paths: Any, base: str, members: Callable[[str], Any]) -> ImageRows:
    """:class:`ImageRows` of a path column (``base``: where relative paths start)."""
    from rebalance.manifest import labels_as_text

    return ImageRows(labels_as_text(paths), base, members)
