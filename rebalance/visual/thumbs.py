"""Thumbnails and mask overlays for the HTML reports, made by Pillow in worker processes.

A thumbnail is a small JPEG (the image fitted into a square, transparency on white,
16-bit and float images stretched to their range), embedded as a ``data:`` URL. An
overlay tints a mask over its image: every class lightly in its own colour, the class
shown strongly in red with a box around it, so a class of a few pixels is still found
at thumbnail size. The same file and size give the same bytes, whatever the workers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.images.files import max_image_pixels, open_image, set_max_image_pixels

QUALITY = 72
_POOL_FROM = 16  # fewer thumbnails are made in this process (a pool costs more to start)


@dataclass(frozen=True)
class Thumb:
    """One picture to make: an image (``path`` resolved, ``shown`` as written), or with
    ``mask`` the mask over it, ``highlight`` the class id drawn strongly."""

    path: str | None
    shown: str
    size: int = 96
    mask: str | None = None
    highlight: int | None = None


@dataclass(frozen=True)
class Made:
    """A thumbnail's JPEG bytes, or why it could not be made."""

    data: bytes | None
    error: str | None = None

    def url(self) -> str:
        assert self.data is not None
        return "data:image/jpeg;base64," + base64.b64encode(self.data).decode("ascii")


def _rgb(im: Any) -> Any:
    """``im`` as RGB: transparency on white, wide integer and float modes stretched."""
    from PIL import Image

    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        import numpy as np

        values = np.asarray(im, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else values * 0
        im = Image.fromarray(scaled.astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = im.convert("RGBA")
        canvas = Image.new("RGBA", im.size, (255, 255, 255, 255))
        canvas.alpha_composite(im)
        return canvas.convert("RGB")
    return im.convert("RGB")


def _open_rgb(path: str, shown: str, size: int) -> Any:
    from PIL import ImageOps

    with open_image(path, shown=shown) as im:
        im.draft("RGB", (size * 2, size * 2))  # JPEG: decode at a reduced scale
        im.load()
        return _rgb(ImageOps.exif_transpose(im))


def _colour(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct colour per class id."""
    h = (class_id * 2654435761) & 0xFFFFFF
    return (64 + (h & 0x7F), 64 + ((h >> 8) & 0x7F), 64 + ((h >> 16) & 0x7F))


def _overlay(task: Thumb) -> Any:
    import numpy as np
    from PIL import Image, ImageDraw

    from rebalance.images.masks import read_mask

    assert task.mask is not None
    with open_image(task.mask, "mask", shown=task.mask) as m:
        mask_size = m.size
    ids = read_mask(task.mask, task.mask).reshape(mask_size[1], mask_size[0])
    base = (
        _open_rgb(task.path, task.shown, max(mask_size)).resize(mask_size)
        if task.path is not None
        else Image.new("RGB", mask_size, (0, 0, 0))
    )
    pixels = np.asarray(base, dtype=np.float64).copy()
    tint = np.zeros_like(pixels)
    for class_id in np.unique(ids).tolist():
        tint[ids == class_id] = _colour(int(class_id))
    pixels = pixels * 0.65 + tint * 0.35
    picture = Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")
    scale = task.size / max(mask_size)
    small = (max(1, round(mask_size[0] * scale)), max(1, round(mask_size[1] * scale)))
    picture = picture.resize(small, Image.Resampling.BILINEAR)
    # the class is marked at thumbnail size: any covered thumbnail pixel, so a class of a
    # few pixels in a large mask does not vanish in the downscale
    target = Image.fromarray(((ids == task.highlight) * 255).astype(np.uint8), "L")
    covered = np.asarray(target.resize(small, Image.Resampling.BOX)) > 0
    marked = np.asarray(picture, dtype=np.float64).copy()
    marked[covered] = marked[covered] * 0.25 + np.array([230.0, 20.0, 60.0]) * 0.75
    picture = Image.fromarray(marked.astype(np.uint8), "RGB")
    rows, cols = np.nonzero(covered)
    if len(rows):
        box = (int(cols.min()) - 4, int(rows.min()) - 4, int(cols.max()) + 4, int(rows.max()) + 4)
        ImageDraw.Draw(picture).rectangle(box, outline=(255, 230, 0), width=2)
    return picture


def render(task: Thumb) -> Made:
    """One thumbnail's JPEG bytes, or the reason it failed (a bad file is not an error here:
    the report shows it)."""
    try:
        if task.mask is not None:
            picture = _overlay(task)
        else:
            assert task.path is not None
            picture = _open_rgb(task.path, task.shown, task.size)
            picture.thumbnail((task.size, task.size), reducing_gap=2.0)
    except RebalanceError as exc:
        return Made(None, str(exc))
    except Exception as exc:  # Pillow's many decoding errors: the report names them
        return Made(None, f"{task.shown}: {type(exc).__name__}: {exc}")
    buffer = io.BytesIO()
    # overlays keep full colour resolution: the marked class may be a pixel or two
    picture.save(buffer, "JPEG", quality=QUALITY, subsampling=0 if task.mask else 2)
    return Made(buffer.getvalue())


def make_thumbs(
    tasks: Sequence[Thumb],
    *,
    workers: int | None = None,
    step: Callable[[int], None] | None = None,
) -> list[Made]:
    """Every task's thumbnail, in task order (``workers`` processes)."""
    n = workers or usable_cpus()
    if n == 1 or len(tasks) < _POOL_FROM:
        done = []
        for task in tasks:
            done.append(render(task))
            if step is not None:
                step(1)
        return done
    with ProcessPoolExecutor(  # the workers share this process's pixel limit
        max_workers=n, initializer=set_max_image_pixels, initargs=(max_image_pixels(),)
    ) as pool:
        made = []
        for item in pool.map(render, tasks, chunksize=max(1, min(32, len(tasks) // (4 * n)))):
            made.append(item)
            if step is not None:
                step(1)
        return made
