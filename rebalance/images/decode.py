"""Decoding an image file into pixels for the methods that look at them."""

from __future__ import annotations

from typing import Any

import numpy as np

from rebalance.images.files import open_image


def load_rgb(path: str, size: tuple[int, int]) -> Any:
    """An image as RGB at ``size`` (EXIF orientation applied; 16-bit scaled to 8 bits)."""
    from PIL import Image, ImageOps

    with open_image(path) as opened:
        # JPEG: decoded at a reduced scale; a large image is never decoded whole for a thumbnail
        opened.draft("RGB", (size[0] * 2, size[1] * 2))
        im: Image.Image = ImageOps.exif_transpose(opened)
        if im.mode.startswith("I") or im.mode == "F":  # 16/32-bit: scale to 8 bits
            values = np.asarray(im, dtype=np.float64)
            top = float(values.max()) or 1.0
            im = Image.fromarray((values / top * 255).astype(np.uint8), "L")
        return im.convert("RGB").resize(size, Image.Resampling.BILINEAR)
