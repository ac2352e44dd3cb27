"""Image features for similarity-aware methods: one interface, two sources.

* ``builtin`` (no network, Pillow + numpy): a 16 × 16 grayscale thumbnail, centred
  and scaled to unit length (the shape of the image, like a perceptual hash before
  thresholding), followed by a 4 × 4 × 4 RGB colour histogram. Two images close in
  this space look alike at a glance: near-duplicates, re-encodes, crops and coarse
  look-alikes. It knows nothing of semantics (a red car and a red apple can be close).
* the user's own embeddings: :func:`column_features` reads a list / fixed-size-list
  column (e.g. from their own CNN) or several numeric columns.

:func:`image_features` computes ``builtin`` descriptors with ``workers`` processes,
one image at a time per worker (memory stays flat), and caches them on disk in one
SQLite file keyed by (path, size, mtime, extractor): a second run reads no image.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rebalance.cpus import usable_cpus
from rebalance.errors import RebalanceError
from rebalance.images.decode import load_rgb
from rebalance.images.files import max_image_pixels, set_max_image_pixels

EXTRACTORS = ("builtin", "cnn")
BUILTIN = "builtin-v1"  # bump when the descriptor changes: old cache entries stop matching
_THUMB = 16
_BINS = 4
DIMENSIONS = _THUMB * _THUMB + _BINS**3

Matrix = npt.NDArray[np.float32]


def default_cache_dir() -> str:
    """``$REBALANCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/rebalance``, else ``~/.cache/rebalance``."""
    if os.environ.get("REBALANCE_CACHE_DIR"):
        return os.environ["REBALANCE_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rebalance")


def descriptor(path: str) -> Matrix:
    """The ``builtin`` descriptor of one image (EXIF orientation honoured)."""
    from PIL import Image

    rgb = load_rgb(path, (_THUMB * 2, _THUMB * 2))
    gray = np.asarray(rgb.convert("L").resize((_THUMB, _THUMB), Image.Resampling.BOX), np.float32)
    gray = gray.ravel() - gray.mean()
    norm = float(np.linalg.norm(gray))
    shape = gray / norm if norm > 0 else gray
    pixels = np.asarray(rgb, dtype=np.uint8).reshape(-1, 3) // (256 // _BINS)
    codes = (pixels[:, 0].astype(np.int64) * _BINS + pixels[:, 1]) * _BINS + pixels[:, 2]
    hist = np.bincount(codes, minlength=_BINS**3).astype(np.float32)
    hist /= max(float(np.linalg.norm(hist)), 1e-12)
    return np.concatenate([shape, hist]).astype(np.float32)


def _key(path: str, extractor: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None  # read (and fail, naming the file) below
    raw = f"{extractor}\0{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class FeatureCache:
    """Descriptors on disk, one SQLite file; a key changes when the file does."""

    def __init__(self, folder: str) -> None:
        try:
            os.makedirs(folder, exist_ok=True)
            self.db = sqlite3.connect(os.path.join(folder, "features.sqlite"))
            self.db.execute("CREATE TABLE IF NOT EXISTS f (k TEXT PRIMARY KEY, v BLOB)")
        except (OSError, sqlite3.Error) as exc:
            raise RebalanceError(f"feature cache {folder}: cannot open ({exc})") from None

    def get(self, keys: Sequence[str]) -> dict[str, Matrix]:
        found: dict[str, Matrix] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for k, v in self.db.execute(f"SELECT k, v FROM f WHERE k IN ({marks})", chunk):
                found[k] = np.frombuffer(v, dtype=np.float32)
        return found

    def put(self, items: dict[str, Matrix]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO f VALUES (?, ?)",
                ((k, v.astype(np.float32).tobytes()) for k, v in items.items()),
            )

    def close(self) -> None:
        self.db.close()


def image_features(
    paths: Sequence[str],
    *,
    extractor: str = "builtin",
    workers: int | None = None,
    cache_dir: str | None = None,
    step: Callable[[int], None] | None = None,
    weights: str | None = None,
) -> Matrix:
    """One row of features per image path (resolved), computed or read from the cache.

    ``builtin``: ``workers`` processes compute what the cache lacks (1: in this
    process). ``cnn`` (the ``embed`` extra): MobileNetV3-Small embeddings, ``weights``
    a state_dict file (default: torchvision's ImageNet weights). ``cache_dir=""`` turns
    the cache off.
    """
    if extractor not in EXTRACTORS:
        raise RebalanceError(
            f"--image-features {extractor!r} is not an extractor (use: {', '.join(EXTRACTORS)}, "
            "or your own embeddings with --features COL)"
        )
    if extractor == "cnn":
        from rebalance.images import cnn

        kind, dims = cnn.extractor_id(weights), cnn.DIMENSIONS
    else:
        if weights is not None:
            raise RebalanceError("--weights applies to --image-features cnn")
        kind, dims = BUILTIN, DIMENSIONS
    keys = [_key(p, kind) for p in paths]
    cache = None if cache_dir == "" else FeatureCache(cache_dir or default_cache_dir())
    try:
        known = cache.get([k for k in keys if k]) if cache else {}
        todo = [i for i, k in enumerate(keys) if k is None or k not in known]
        if step is not None and len(paths) > len(todo):
            step(len(paths) - len(todo))
        computed: dict[int, Matrix] = {}
        if todo and extractor == "cnn":
            vectors = cnn.embed([paths[i] for i in todo], weights=weights, step=step)
            computed = {i: vectors[j] for j, i in enumerate(todo)}
            if cache:
                cache.put({keys[i]: v for i, v in computed.items() if keys[i]})  # type: ignore[misc]
        elif todo:
            n = workers or usable_cpus()
            wanted = [paths[i] for i in todo]
            if n == 1 or len(todo) < 8:
                results: Any = map(descriptor, wanted)
            else:
                pool = ProcessPoolExecutor(  # the workers share this process's pixel limit
                    max_workers=n,
                    initializer=set_max_image_pixels,
                    initargs=(max_image_pixels(),),
                )
                results = pool.map(
                    descriptor, wanted, chunksize=max(1, min(256, len(todo) // (4 * n)))
                )
            try:
                for i, vector in zip(todo, results, strict=True):
                    computed[i] = vector
                    if step is not None:
                        step(1)
            finally:
                if n > 1 and len(todo) >= 8:
                    pool.shutdown(cancel_futures=True)
            if cache:
                cache.put({keys[i]: v for i, v in computed.items() if keys[i]})  # type: ignore[misc]
    finally:
        if cache:
            cache.close()
    out = np.empty((len(paths), dims), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = computed[i] if i in computed else known[k]  # type: ignore[index]
    return out


def path_column_features(
    table: pa.Table,
    extractor: str,
    *,
    path_col: str | None,
    root: str | None,
    workers: int | None,
    where: str,
    cache_dir: str | None = None,
    step: Callable[[int], None] | None = None,
    weights: str | None = None,
) -> Matrix:
    """:func:`image_features` of the images of a manifest's path column (detected, or
    ``path_col``), relative paths from ``root`` (default: the working folder)."""
    from rebalance.images.files import base_folder, column_paths, path_column, resolve

    name = path_column(table.column_names, path_col, where=where)
    shown = column_paths(table, name, what="image path", where=where)
    paths = [p for p in resolve(shown, base_folder(None, root)) if p is not None]
    return image_features(
        paths, extractor=extractor, workers=workers, cache_dir=cache_dir, step=step, weights=weights
    )


def column_features(table: pa.Table, columns: Sequence[str], *, where: str) -> Matrix:
    """The user's embeddings: one list / fixed-size-list column, or numeric columns."""
    import pyarrow.compute as pc

    for name in columns:
        if name not in table.column_names:
            from rebalance.manifest import column_error

            raise column_error(where, name, table.column_names)
    first = table.column(columns[0])
    if (
        pa.types.is_list(first.type)
        or pa.types.is_large_list(first.type)
        or pa.types.is_fixed_size_list(first.type)
    ):
        if len(columns) > 1:
            raise RebalanceError(f"{where}: name one embedding column, or numeric columns")
        if first.null_count:
            raise RebalanceError(f"{where}: embedding column {columns[0]!r} has empty rows")
        lengths = pc.list_value_length(first)
        low, high = pc.min(lengths).as_py(), pc.max(lengths).as_py()
        if low != high:
            raise RebalanceError(
                f"{where}: embedding column {columns[0]!r} holds vectors of {low} to {high} values; "
                "they must all have one length"
            )
        values = pc.list_flatten(first).to_numpy(zero_copy_only=False)
        matrix = np.asarray(values, dtype=np.float32).reshape(len(first), low)
    else:
        try:
            matrix = np.column_stack(
                [
                    np.asarray(
                        pc.cast(table.column(c), pa.float64()).to_numpy(zero_copy_only=False)
                    )
                    for c in columns
                ]
            ).astype(np.float32)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise RebalanceError(
                f"{where}: --features columns must be numbers or one list column"
            ) from None
    if not np.isfinite(matrix).all():
        raise RebalanceError(f"{where}: the features hold NaN or infinite values")
    return matrix
