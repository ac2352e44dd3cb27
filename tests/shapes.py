"""A small image manifest the tests make: circles and squares on random backgrounds, and two
circles planted again as JPEG near-duplicates (``img/dup3.jpg``, ``img/dup7.jpg``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def shapes_manifest(folder: Path, circles: int, squares: int) -> Path:
    """``folder/m.csv`` (``path,label``) over ``folder/img/``: the same pictures for the same
    counts, every run."""
    rng = np.random.default_rng(0)
    (folder / "img").mkdir()
    rows, k = ["path,label"], 0
    for label, n in (("circle", circles), ("square", squares)):
        for _ in range(n):
            im = Image.new("RGB", (48, 48), tuple(int(v) for v in rng.integers(0, 255, 3)))
            x, y = (int(v) for v in rng.integers(4, 20, 2))
            draw = ImageDraw.Draw(im)
            (draw.ellipse if label == "circle" else draw.rectangle)(
                [x, y, x + 20, y + 20], fill="white"
            )
            im.save(folder / f"img/{k}.png")
            rows.append(f"img/{k}.png,{label}")
            k += 1
    for j in (3, 7):  # the same picture again, re-encoded as JPEG
        Image.open(folder / f"img/{j}.png").save(folder / f"img/dup{j}.jpg", quality=95)
        rows.append(f"img/dup{j}.jpg,circle")
    (folder / "m.csv").write_text("\n".join(rows) + "\n")
    return folder / "m.csv"
