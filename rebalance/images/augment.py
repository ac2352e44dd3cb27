"""Augmentation oversampling: new minority images on disk, drawn from ``--seed``.

Which rows get a new image is the random method's choice of copies (as even as
possible over a class's rows, keyed by seed and row); each copy becomes a new file,
its parent transformed by parameters drawn from a generator seeded by (seed, the
copy's output position), so a rerun writes byte-identical files whatever the
number of workers.

Transforms (``--augment``, each with a strength): ``rotate=DEG`` (uniform in ±DEG),
``flip`` (horizontal, half the time), ``vflip``, ``zoom=Z`` (scale 1..1+Z, centred
crop), ``skew=S`` (shear in ±S along both axes), ``color=C`` (brightness, contrast
and saturation × 1±C, hue ± C/2 of a turn). Geometry applies identically to a mask
(nearest neighbour, no colour change). Pillow does the pixels; modes are kept
(RGB, L, RGBA, P, 16-bit), and so is the file format; EXIF orientation is applied.

File names are ``<label>-<hash>__<parent stem>__<n>.<ext>`` inside ``--image-dir``:
the label and stem are reduced to ``[A-Za-z0-9._-]`` with a short hash of the exact
label, so no label (``../../etc``, ``/abs``, ``a\\b``, NUL, ``CON``) can name a file
outside the folder, and two labels never share a name.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.images.files import max_image_pixels, open_image, set_max_image_pixels

DEFAULT_AUGMENT = "rotate=15,flip,zoom=0.1,color=0.2"
MAX_FILES = 200_000  # pre-flight: more files, or more bytes, need allow_large
MAX_BYTES = 20 * 1024**3
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class AugmentSpec:
    """Strengths of each transform (0 or False: off)."""

    rotate: float = 0.0
    flip: bool = False
    vflip: bool = False
    zoom: float = 0.0
    skew: float = 0.0
    color: float = 0.0


def parse_augment(text: str | None) -> AugmentSpec:
    """``rotate=15,flip,zoom=0.2,skew=0.1,color=0.3`` (default :data:`DEFAULT_AUGMENT`)."""
    values: dict[str, Any] = {}
    limits = {"rotate": (0.0, 180.0), "zoom": (0.0, 1.0), "skew": (0.0, 1.0), "color": (0.0, 1.0)}
    for part in (p.strip() for p in (text or DEFAULT_AUGMENT).split(",")):
        if not part:
            continue
        name, _, raw = part.partition("=")
        name = name.strip().lower()
        if name in ("flip", "vflip"):
            if raw:
                raise RebalanceError(f"--augment {part!r}: {name} takes no value")
            values[name] = True
            continue
        if name not in limits:
            raise RebalanceError(
                f"--augment {part!r}: unknown transform (use rotate=DEG, flip, vflip, zoom=Z, "
                "skew=S, color=C)"
            )
        try:
            value = float(raw)
        except ValueError:
            raise RebalanceError(
                f"--augment {part!r}: {name} needs a number, e.g. {name}=0.2"
            ) from None
        low, high = limits[name]
        if not low <= value <= high:
            raise RebalanceError(f"--augment {part!r}: {name} must be in {low:g}..{high:g}")
        values[name] = value
    return AugmentSpec(**values)


def draw(spec: AugmentSpec, seed: int, position: int) -> dict[str, Any]:
    """The transform of one new image, from (seed, its output position) alone."""
    rng = np.random.default_rng([seed, position])
    u = rng.random(10)
    return {
        "angle": round(float((2 * u[0] - 1) * spec.rotate), 4),
        "hflip": bool(spec.flip and u[1] < 0.5),
        "vflip": bool(spec.vflip and u[2] < 0.5),
        "zoom": round(float(1 + u[3] * spec.zoom), 4),
        "skew_x": round(float((2 * u[4] - 1) * spec.skew), 4),
        "skew_y": round(float((2 * u[5] - 1) * spec.skew), 4),
        "brightness": round(float(1 + (2 * u[6] - 1) * spec.color), 4),
        "contrast": round(float(1 + (2 * u[7] - 1) * spec.color), 4),
        "saturation": round(float(1 + (2 * u[8] - 1) * spec.color), 4),
        "hue": round(float((2 * u[9] - 1) * spec.color / 2), 4),
    }


def _affine(size: tuple[int, int], p: dict[str, Any]) -> tuple[float, ...]:
    """Pillow's AFFINE data (output → input) for flip ∘ zoom ∘ shear ∘ rotation about the centre."""
    w, h = size
    cx, cy = w / 2, h / 2
    t = math.radians(p["angle"])
    rotation = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    shear = np.array([[1.0, p["skew_x"]], [p["skew_y"], 1.0]])
    zoom = np.eye(2) * p["zoom"]
    flip = np.diag([-1.0 if p["hflip"] else 1.0, -1.0 if p["vflip"] else 1.0])
    forward = flip @ zoom @ shear @ rotation
    m = np.linalg.inv(forward)
    a, b, d, e = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    return (a, b, cx - a * cx - b * cy, d, e, cy - d * cx - e * cy)


def transform(im: Any, params: dict[str, Any], *, mask: bool = False) -> Any:
    """The image (or mask) transformed; mode and size kept."""
    from PIL import Image

    data = _affine(im.size, params)
    nearest = mask or im.mode in ("P", "1")
    mode = im.mode
    work = im.convert("I") if mode.startswith("I;16") else im  # transforms want I, not I;16
    out = work.transform(
        im.size,
        Image.Transform.AFFINE,
        data,
        resample=Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR,
        fillcolor=0,
    )
    if mode.startswith("I;16"):
        out = out.convert(mode)
    if mask or mode not in ("RGB", "RGBA", "L"):
        return out  # colour changes for photos only; masks and palettes keep their values
    if (
        params["brightness"] == params["contrast"] == params["saturation"] == 1
        and not params["hue"]
    ):
        return out  # no colour change drawn: skip the pass
    alpha = out.getchannel("A") if mode == "RGBA" else None
    rgb = out.convert("RGB") if mode == "RGBA" else out
    if mode == "L":
        mean = float(np.asarray(rgb, dtype=np.float32).mean()) * params["brightness"]
        b, c = params["brightness"], params["contrast"]
        rgb = rgb.point([min(255, max(0, round((v * b - mean) * c + mean))) for v in range(256)])
    else:
        rgb = rgb.convert("RGB", _colour_matrix(rgb, params))
    if alpha is not None:
        rgb = rgb.convert("RGBA")
        rgb.putalpha(alpha)
    return rgb


_LUMA = np.array([0.299, 0.587, 0.114])


def _colour_matrix(rgb: Any, params: dict[str, Any]) -> tuple[float, ...]:
    """Brightness, contrast, saturation and hue as one 3 × 4 colour matrix (one pass)."""
    b, c, s = params["brightness"], params["contrast"], params["saturation"]
    t = 2 * math.pi * params["hue"]
    cos, sin = math.cos(t), math.sin(t)
    hue = np.array(  # rotation about the grey axis, luma kept
        [
            [
                0.299 + 0.701 * cos + 0.168 * sin,
                0.587 - 0.587 * cos + 0.330 * sin,
                0.114 - 0.114 * cos - 0.497 * sin,
            ],
            [
                0.299 - 0.299 * cos - 0.328 * sin,
                0.587 + 0.413 * cos + 0.035 * sin,
                0.114 - 0.114 * cos + 0.292 * sin,
            ],
            [
                0.299 - 0.300 * cos + 1.250 * sin,
                0.587 - 0.588 * cos - 1.050 * sin,
                0.114 + 0.886 * cos - 0.203 * sin,
            ],
        ]
    )
    saturation = s * np.eye(3) + (1 - s) * np.tile(_LUMA, (3, 1))
    # contrast pulls towards the mean grey of the brightened image, as ImageEnhance.Contrast does
    from PIL import ImageStat

    mean = float(np.dot(ImageStat.Stat(rgb).mean[:3], _LUMA)) * b
    m = c * b * (hue @ saturation)
    offset = (1 - c) * mean
    return tuple(float(v) for row in m for v in (*row, offset))


def safe_part(text: str, *, limit: int = 60) -> str:
    """``text`` reduced to ``[A-Za-z0-9._-]``, never empty, hidden, ``..`` or a device name."""
    part = _SAFE.sub("_", text).strip("._")[:limit] or "_"
    if part.split(".")[0].lower() in _RESERVED:
        part = "_" + part
    return part


def file_name(label: str, parent: str, n: int, ext: str) -> str:
    """The new file's name: flat inside the image folder, whatever the label holds."""
    digest = hashlib.sha1(label.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    stem = os.path.splitext(os.path.basename(parent.replace("\\", "/")))[0]
    return f"{safe_part(label)}-{digest}__{safe_part(stem)}__{n}{ext}"


def _load(path: str) -> tuple[Any, str | None, dict[str, Any]]:
    from PIL import ImageOps

    with open_image(path) as opened:
        fmt = opened.format
        info: dict[str, Any] = {
            k: opened.info[k] for k in ("dpi", "transparency") if k in opened.info
        }
        if opened.getexif().get(0x0112, 1) != 1:  # rotated by EXIF: make it upright
            im = ImageOps.exif_transpose(opened)
        else:
            opened.load()
            im = opened
    return im, fmt, info


def _encode(im: Any, fmt: str | None, info: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    options: dict[str, Any] = {k: v for k, v in info.items() if k == "dpi"}
    if fmt == "JPEG":
        options.update(quality=95)
    if "transparency" in info and im.mode == "P":
        options["transparency"] = info["transparency"]
    im.save(buf, format=fmt or "PNG", **options)
    return buf.getvalue()


@dataclass(frozen=True)
class Task:
    """One new image (and its mask): where from, where to, how."""

    source: str
    target: str
    params: dict[str, Any]
    mask_source: str | None = None
    mask_target: str | None = None


def render(task: Task) -> list[tuple[str, bytes]]:
    """The encoded new image (and mask) of one task: (target path, bytes) pairs."""
    im, fmt, info = _load(task.source)
    out = [(task.target, _encode(transform(im, task.params), fmt, info))]
    if task.mask_source is not None and task.mask_target is not None:
        mask, mfmt, minfo = _load(task.mask_source)
        if mask.size != im.size:
            raise RebalanceError(
                f"{task.mask_source}: mask size {mask.size[0]}x{mask.size[1]} differs from its image "
                f"{im.size[0]}x{im.size[1]}"
            )
        out.append(
            (task.mask_target, _encode(transform(mask, task.params, mask=True), mfmt, minfo))
        )
    return out


def plan_files(tasks: Sequence[Task], *, allow_large: bool) -> int:
    """Pre-flight: refuse existing targets and too many files or bytes. Returns the estimated bytes."""
    count = sum(1 + (t.mask_target is not None) for t in tasks)
    estimate = 0
    sizes: dict[str, int] = {}
    for t in tasks:
        for src in (t.source, t.mask_source):
            if src is None:
                continue
            if src not in sizes:
                try:
                    sizes[src] = os.path.getsize(src)
                except OSError:
                    raise RebalanceError(f"{src}: no such image file") from None
            estimate += sizes[src]
    for t in tasks:
        for target in (t.target, t.mask_target):
            if target is not None and os.path.lexists(target):
                raise RebalanceError(
                    f"{target}: already exists; augmentation never overwrites a file "
                    "(choose an empty --image-dir)"
                )
    if not allow_large and (count > MAX_FILES or estimate > MAX_BYTES):
        raise RebalanceError(
            f"augmentation would write {count:,} files, about {estimate / 1024**3:,.1f} GB; "
            "pass --allow-large to confirm, or choose a lower --target"
        )
    return estimate


def write_images(
    tasks: Sequence[Task],
    *,
    workers: int | None = None,
    write: Callable[[str, bytes], None],
    step: Callable[[int], None] | None = None,
) -> None:
    """Render every task (``workers`` processes) and hand each file to ``write`` in task order."""
    n = workers or usable_cpus()
    if n == 1 or len(tasks) < 8:
        results: Any = map(render, tasks)
        pool = None
    else:
        pool = ProcessPoolExecutor(  # the workers share this process's pixel limit
            max_workers=n, initializer=set_max_image_pixels, initargs=(max_image_pixels(),)
        )
        results = pool.map(render, tasks, chunksize=max(1, min(64, len(tasks) // (4 * n))))
    try:
        for files in results:
            for path, data in files:
                write(path, data)
            if step is not None:
                step(1)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def params_json(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))
