"""``resample --preview``: what an image method did, as one self-contained page.

* ``augment``: parents beside the new images made from them, each captioned with its
  transform;
* ``cluster``: per class reduced, images it kept and images it dropped;
* ``dedup``: each removed image beside the kept image it duplicates, with the distance.

Made from the run's :class:`rebalance.resampling.choice.ImageChoice` after the output is
written: the preview reads files, it never changes what is written. Which examples
are shown is a seeded draw, and the page is capped (``SheetOptions.budget``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import rebalance.visual.page as page
from rebalance.visual.charts import esc
from rebalance.visual.sheet import SheetOptions, Tile
from rebalance.visual.thumbs import Made, Thumb, make_thumbs

PARENTS = 24  # augment: parents shown
NEW_PER_PARENT = 4
CLASSES = 12  # cluster: classes shown
PER_SIDE = 8  # cluster: kept and dropped images shown per class
PAIRS = 60  # dedup: pairs shown


def describe_transform(params: str) -> str:
    """An augment transform in words: ``rotate -7.2°, flip, zoom 1.06, colour``."""
    p = json.loads(params)
    parts = []
    if p.get("angle"):
        parts.append(f"rotate {p['angle']:+.1f}°")
    if p.get("hflip"):
        parts.append("flip")
    if p.get("vflip"):
        parts.append("vflip")
    if p.get("zoom", 1) != 1:
        parts.append(f"zoom {p['zoom']:.2f}")
    if p.get("skew_x") or p.get("skew_y"):
        parts.append(f"skew {p['skew_x']:+.2f}/{p['skew_y']:+.2f}")
    colour = [k for k in ("brightness", "contrast", "saturation") if p.get(k, 1) != 1]
    if colour or p.get("hue"):
        parts.append(
            "colour "
            + " ".join(f"{k[0]}{p[k]:.2f}" for k in colour)
            + (f" h{p['hue']:+.2f}" if p.get("hue") else "")
        )
    return ", ".join(parts) or "identity"


def preview_html(
    choice: Any,
    options: SheetOptions | None = None,
    *,
    source: str = "",
    step: Callable[[int], None] | None = None,
) -> str:
    """The preview page of an image method's run (``choice``: an ``ImageChoice``)."""
    options = options or SheetOptions()
    rng = np.random.default_rng(options.seed)
    if choice.method == "augment":
        title, body = "augment", _augment(choice, rng, options, step)
    elif choice.method == "cluster":
        title, body = "cluster", _cluster(choice, rng, options, step)
    elif choice.method == "dedup":
        title, body = "dedup", _dedup(choice, rng, options, step)
    else:
        raise ValueError(f"no preview for method {choice.method!r}")
    name = os.path.basename(source.rstrip("/")) or source
    return page.document(f"rebalance resample --method {title} · {name}", source, body)


def _thumbs(
    tasks: Sequence[tuple[str | None, str]],
    options: SheetOptions,
    step: Callable[[int], None] | None,
) -> list[Tile]:
    """Tiles of ``(resolved path, caption)``; past the size budget, a note instead."""
    todo = [Thumb(path, caption, options.thumb_size) for path, caption in tasks if path]
    made = iter(make_thumbs(todo, workers=options.workers, step=step))
    tiles, used = [], 0
    for path, caption in tasks:
        picture = next(made) if path else Made(None, "no path")
        size = len(picture.data) * 4 // 3 if picture.data is not None else 0
        if used + size > options.budget:
            tiles.append(Tile(caption, Made(None, None), "left out: preview size cap"))
            continue
        used += size
        tiles.append(Tile(caption, picture))
    return tiles


def _augment(choice: Any, rng: np.random.Generator, options: SheetOptions, step: Any) -> list[str]:
    by_parent: dict[int, list[Any]] = {}
    for new in choice.new:
        by_parent.setdefault(new.parent, []).append(new)
    counts = Counter(choice.labels[p] for p in by_parent)
    parents = sorted(by_parent)
    shown = [parents[i] for i in sorted(rng.permutation(len(parents))[:PARENTS].tolist())]
    shown.sort(key=lambda p: (counts[choice.labels[p]], str(choice.labels[p]), p))
    tasks: list[tuple[str | None, str]] = []
    for p in shown:
        tasks.append((choice.full[p], choice.shown[p] or ""))
        for new in by_parent[p][:NEW_PER_PARENT]:
            tasks.append((new.full, describe_transform(new.transform)))
    tiles = iter(_thumbs(tasks, options, step))
    out = [
        page.cards(
            [
                ("new images", f"{len(choice.new):,}", f"from {len(by_parent):,} parents"),
                ("classes", f"{len(counts):,}", "that got new images"),
            ]
        ),
        "<h2>New images beside their parents</h2>",
        f'<p class="note">{len(shown):,} of {len(by_parent):,} parents (a seeded draw), '
        "each followed by the images made from it and their transforms.</p>",
    ]
    for p in shown:
        parent = next(tiles)
        made = [next(tiles) for _ in by_parent[p][:NEW_PER_PARENT]]
        more = len(by_parent[p]) - len(made)
        out.append(
            f'<div class="cls"><div class="name"><b>{esc(choice.labels[p])}</b><br>'
            f'<span class="muted">{len(by_parent[p]):,} new</span></div><div class="tiles">'
            + page.tile(parent)
            + '<span class="muted">→</span>'
            + "".join(page.tile(t) for t in made)
            + (f'<span class="muted">+{more:,} more</span>' if more > 0 else "")
            + "</div></div>"
        )
    return out


def _cluster(choice: Any, rng: np.random.Generator, options: SheetOptions, step: Any) -> list[str]:
    kept = np.zeros(len(choice.labels), dtype=bool)
    kept[choice.kept] = True
    labelled = np.array([label is not None for label in choice.labels])
    classes: dict[str, list[int]] = {}
    for i, label in enumerate(choice.labels):
        if label is not None:
            classes.setdefault(label, []).append(i)
    reduced = sorted(
        (label for label, rows in classes.items() if not kept[rows].all()),
        key=lambda label: (-len(classes[label]), label),
    )
    tasks: list[tuple[str | None, str]] = []
    plan = []
    for label in reduced[:CLASSES]:
        rows = np.array(classes[label])
        order = rows[rng.permutation(len(rows))]
        keep = order[kept[order]][:PER_SIDE].tolist()
        drop = order[~kept[order]][:PER_SIDE].tolist()
        plan.append((label, len(rows), int(kept[rows].sum()), keep, drop))
        tasks += [(choice.full[i], choice.shown[i] or "") for i in keep + drop]
    tiles = iter(_thumbs(tasks, options, step))
    dropped = int((labelled & ~kept).sum())
    out = [
        page.cards(
            [
                ("classes reduced", f"{len(reduced):,}", ""),
                ("rows dropped", f"{dropped:,}", f"of {int(labelled.sum()):,}"),
            ]
        ),
        "<h2>Kept and dropped images per class</h2>",
        '<p class="note">k-means keeps the image nearest each centre: the kept row should span '
        "the class's look; the dropped ones resemble a kept one.</p>",
    ]
    if len(reduced) > CLASSES:
        out.append(f'<div class="warn">{len(reduced) - CLASSES:,} more classes reduced</div>')
    for label, n, n_kept, keep, drop in plan:
        kept_tiles = [next(tiles) for _ in keep]
        drop_tiles = [next(tiles) for _ in drop]
        out.append(
            f"<h3>{esc(label)} · kept {n_kept:,} of {n:,}</h3>"
            '<div class="tiles"><span class="pass">kept</span>'
            + "".join(page.tile(t) for t in kept_tiles)
            + '</div><div class="tiles"><span class="fail">dropped</span>'
            + "".join(page.tile(t) for t in drop_tiles)
            + "</div>"
        )
    return out


def _dedup(choice: Any, rng: np.random.Generator, options: SheetOptions, step: Any) -> list[str]:
    removed = np.flatnonzero(choice.duplicate_of >= 0)
    shown = np.sort(removed[rng.permutation(len(removed))[:PAIRS]])
    tasks: list[tuple[str | None, str]] = []
    for i in shown.tolist():
        j = int(choice.duplicate_of[i])
        tasks += [(choice.full[i], choice.shown[i] or ""), (choice.full[j], choice.shown[j] or "")]
    tiles = iter(_thumbs(tasks, options, step))
    per_class = Counter(choice.labels[i] for i in removed.tolist())
    out = [
        page.cards(
            [
                ("removed", f"{len(removed):,}", "near-duplicates"),
                ("classes", f"{len(per_class):,}", "with a duplicate"),
            ]
        ),
        "<h2>Removed images beside the image each duplicates</h2>",
        f'<p class="note">{len(shown):,} of {len(removed):,} pairs (a seeded draw): the removed '
        "image first, the kept one it is near second, and their distance.</p>",
        '<div class="pairs">',
    ]
    for i in shown.tolist():
        gone, stays = next(tiles), next(tiles)
        out.append(
            '<div class="pairbox">'
            + page.tile(gone)
            + page.tile(stays)
            + f'<div class="muted">{esc(choice.labels[i])}<br>distance '
            f"{float(choice.distance[i]):.3g}</div></div>"
        )
    out.append("</div>")
    if per_class:
        out.append("<h3>Removed per class</h3>")
        out.append(page.table(["class", "removed"], per_class.most_common(50)))
    return out
