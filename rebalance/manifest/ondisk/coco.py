"""COCO instances JSON (``instances_train2017.json`` and the like, LVIS too).

One row per image, in the file's order: ``image_id``, ``path`` (``file_name``, relative to the
image folder), ``width`` and ``height`` where given, ``labels`` (the names of the categories
present, in category id order: the multi-label kind) and ``instances`` (how many annotations
of each). An image without annotations has empty lists: it is counted, never dropped.

The image folder is ``--root``, else the one a COCO file written by rebalance names, else
the first of: the JSON's folder, ``images/`` beside it, ``../images``, ``../<split>``
(``annotations/instances_train2017.json`` → ``../train2017``) and ``images/<split>`` that
holds one of the first images.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa

from rebalance import arrays
from rebalance.errors import RebalanceError
from rebalance.manifest.ondisk.common import Missing, OnDisk, label_sets_table, missing_images

# the key under which a COCO file written by rebalance says where its images are
ROOT_KEY = "rebalance_image_root"


def parse_json(data: bytes) -> Any:
    """JSON text as Python values, as :func:`json.loads` gives them, faster: orjson parses,
    with the garbage collector paused (a COCO file is millions of small containers, none in
    a cycle, and collecting while they are made costs more than making them). What orjson
    refuses (NaN literals, integers over 64 bits, a syntax error) goes to :mod:`json`, which
    accepts the same or says where the error is."""
    import orjson

    with _collector_paused():
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return json.loads(data)


def load_coco(path: str) -> dict[str, Any]:
    """The parsed COCO document; malformed JSON is an error naming its line and column."""
    try:
        with open(path, "rb") as fh:
            doc = parse_json(fh.read())
    except json.JSONDecodeError as exc:
        raise RebalanceError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except UnicodeDecodeError as exc:
        raise RebalanceError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise RebalanceError(f'{path}: not a COCO file (no "images" list at the top)')
    for key in ("annotations", "categories"):
        if not isinstance(doc.get(key, []), list):
            raise RebalanceError(f'{path}: "{key}" is not a list')
    return doc


def _field(item: Any, key: str, kind: type, where: str) -> Any:
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RebalanceError(f"{where} has no {kind.__name__} {key!r}")
    return value


def categories(doc: dict[str, Any], path: str) -> dict[int, str]:
    """Category id → name, in id order; a repeated id or name is an error."""
    names: dict[int, str] = {}
    for i, cat in enumerate(doc.get("categories", [])):
        where = f"{path}: categories[{i}]"
        cid = _field(cat, "id", int, where)
        name = _field(cat, "name", str, where)
        if cid in names:
            raise RebalanceError(f"{where}: category id {cid} is given twice")
        names[cid] = name
    seen: dict[str, int] = {}
    for cid, name in names.items():
        if name in seen:
            raise RebalanceError(
                f"{path}: categories {seen[name]} and {cid} have the same name {name!r}"
            )
        seen[name] = cid
    return dict(sorted(names.items()))


def image_table(
    doc: dict[str, Any], path: str
) -> tuple[list[int], list[str], dict[str, list[Any]]]:
    """Image ids, file names and the optional width/height columns, in file order."""
    images = doc["images"]
    try:
        ids = [img["id"] for img in images]
        names = [img["file_name"] for img in images]
        sizes = {key: [img.get(key) for img in images] for key in ("width", "height")}
    except (KeyError, TypeError, AttributeError):
        return _image_table_checked(doc, path)
    if not (_all_of(ids, int) and _all_of(names, str)) or len(set(ids)) != len(ids):
        return _image_table_checked(doc, path)
    present = {k: _ints_or_none(v) for k, v in sizes.items()}
    return ids, names, {k: v for k, v in present.items() if any(x is not None for x in v)}


def _all_of(values: list[Any], kind: type) -> bool:
    """Whether every value is exactly of ``kind`` (a bool is not an int here)."""
    return not values or set(map(type, values)) == {kind}


def _ints_or_none(values: list[Any]) -> list[Any]:
    return values if _all_of(values, int) else [v if type(v) is int else None for v in values]


def _image_table_checked(
    doc: dict[str, Any], path: str
) -> tuple[list[int], list[str], dict[str, list[Any]]]:
    """:func:`image_table` one image at a time, naming the first bad one."""
    ids: list[int] = []
    names: list[str] = []
    sizes: dict[str, list[Any]] = {"width": [], "height": []}
    for i, image in enumerate(doc["images"]):
        where = f"{path}: images[{i}]"
        ids.append(_field(image, "id", int, where))
        names.append(_field(image, "file_name", str, where))
        for key in sizes:
            value = image.get(key)
            sizes[key].append(
                value if isinstance(value, int) and not isinstance(value, bool) else None
            )
    if len(set(ids)) != len(ids):
        seen: set[int] = set()
        dup = next(x for x in ids if x in seen or seen.add(x))  # type: ignore[func-returns-value]
        raise RebalanceError(f"{path}: image id {dup} is given twice")
    return ids, names, {k: v for k, v in sizes.items() if any(x is not None for x in v)}


def _annotation_pairs(
    doc: dict[str, Any], path: str, row_of: dict[int, int], cats: dict[int, str]
) -> tuple[np.ndarray, np.ndarray]:
    """(image row, category position) of every annotation; one naming a missing image or
    category is an error naming its index and id."""
    anns = doc.get("annotations", [])
    position = {cid: j for j, cid in enumerate(cats)}
    try:
        image_ids = [a["image_id"] for a in anns]
        category_ids = [a["category_id"] for a in anns]
    except (KeyError, TypeError):
        image_ids = category_ids = []
    # exact ints only (an id of 1.0 or true is not image 1): anything else takes the slow path
    if len(image_ids) == len(anns) and _all_of(image_ids, int) and _all_of(category_ids, int):
        try:
            rows_found = _lookup(np.array(image_ids, dtype=np.int64), row_of)
            cols_found = _lookup(np.array(category_ids, dtype=np.int64), position)
        except OverflowError:
            rows_found = cols_found = None
        if rows_found is not None and cols_found is not None:
            return rows_found, cols_found
    rows = np.empty(len(anns), dtype=np.int64)
    cols = np.empty(len(anns), dtype=np.int64)
    for i, ann in enumerate(anns):
        try:
            rows[i] = row_of[ann["image_id"]]
            cols[i] = position[ann["category_id"]]
        except (KeyError, TypeError):
            rows[i] = cols[i] = 0
            _bad_annotation(ann, i, path, row_of, position)
    return rows, cols


def _lookup(keys: np.ndarray, index: dict[int, int]) -> np.ndarray | None:
    """``index[k]`` for every key, or ``None`` when one is not in the index."""
    if len(keys) == 0:
        return keys
    if not index:
        return None
    known = np.fromiter(index.keys(), dtype=np.int64, count=len(index))
    values = np.fromiter(index.values(), dtype=np.int64, count=len(index))
    order = np.argsort(known)
    where = np.minimum(np.searchsorted(known[order], keys), len(known) - 1)
    if not np.array_equal(known[order][where], keys):
        return None
    return values[order][where]


def _bad_annotation(
    ann: Any, i: int, path: str, row_of: dict[int, int], position: dict[int, int]
) -> None:
    where = f"{path}: annotations[{i}]"
    if not isinstance(ann, dict):
        raise RebalanceError(f"{where} is not an object")
    if isinstance(ann.get("id"), int):
        where += f" (id {ann['id']})"
    for key, known, what in (
        ("image_id", row_of, "an image"),
        ("category_id", position, "a category"),
    ):
        if key not in ann:
            raise RebalanceError(f"{where} has no {key!r}")
        if ann[key] not in known:
            raise RebalanceError(f"{where}: {key} {ann[key]!r} is not {what} of the file")


def label_lists(
    rows: np.ndarray, cols: np.ndarray, n_images: int, names: Sequence[str]
) -> tuple[pa.Array, pa.Array]:
    """Each image's categories (in category order) and its number of objects of each, as
    Arrow list arrays (one entry per image)."""
    k = max(len(names), 1)
    pairs, counts = np.unique(rows * k + cols, return_counts=True)
    row, col = np.divmod(pairs, k)
    offsets = np.zeros(n_images + 1, dtype=np.int32)
    np.cumsum(np.bincount(row, minlength=n_images), out=offsets[1:])
    # Arrow arrays from buffers: pa.array(ndarray) and ListArray.from_arrays import pandas
    offsets_buffer = pa.py_buffer(offsets)
    values = arrays.text([names[c] for c in col.tolist()])
    labels = pa.Array.from_buffers(
        pa.list_(pa.string()), n_images, [None, offsets_buffer], children=[values]
    )
    objects = arrays.to_arrow(counts.astype(np.int32))
    instances = pa.Array.from_buffers(
        pa.list_(pa.int32()), n_images, [None, offsets_buffer], children=[objects]
    )
    return labels, instances


def image_root(path: str, doc: dict[str, Any], first: Sequence[str], root: str | None) -> str:
    """The folder the images' ``file_name`` start from (see the module docstring)."""
    if root is not None:
        return root
    here = os.path.dirname(os.path.abspath(path))
    hint = doc.get(ROOT_KEY)
    if isinstance(hint, str):
        return os.path.normpath(os.path.join(here, hint))
    stem = os.path.splitext(os.path.basename(path))[0]
    split = (
        stem.split("_", 1)[1] if stem.startswith(("instances_", "lvis_")) and "_" in stem else stem
    )
    candidates = [here, os.path.join(here, "images"), os.path.join(here, "..", "images"),
                  os.path.join(here, "..", split), os.path.join(here, "images", split)]  # fmt: skip
    for name in first:  # a few: the very first image may be the one that is missing
        for folder in candidates:
            if os.path.isfile(os.path.join(folder, name)):
                return os.path.normpath(folder)
    return here


def read_coco(path: str, *, root: str | None = None, missing: Missing = "error") -> OnDisk:
    """The manifest of a COCO instances file (see the module docstring)."""
    with _collector_paused():
        return _read_coco(path, root, missing)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off for a while: a COCO file is millions of small containers,
    none in a cycle; collecting while they are made and freed costs more than both."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_coco(path: str, root: str | None, missing: Missing) -> OnDisk:
    doc = load_coco(path)
    cats = categories(doc, path)
    ids, files, sizes = image_table(doc, path)
    if not ids:
        raise RebalanceError(f"{path}: no images")
    row_of = {image_id: i for i, image_id in enumerate(ids)}
    rows, cols = _annotation_pairs(doc, path, row_of, cats)
    labels, instances = label_lists(rows, cols, len(ids), list(cats.values()))
    base = image_root(path, doc, files[:8], root)
    kept, notes = missing_images(files, base, missing, where=path)
    del doc  # millions of objects: freed now, while the collector is still paused
    columns: dict[str, Any] = {
        "image_id": arrays.to_arrow(np.array(ids, dtype=np.int64)),
        "path": arrays.text(files),
    }
    columns.update({k: _int_column(v) for k, v in sizes.items()})
    table = label_sets_table(columns, labels, instances)
    if len(kept) < len(ids):
        table = arrays.take(table, np.array(kept, dtype=np.int64))
    return OnDisk(table, base=base, notes=notes, instances=True)


def _int_column(values: list[Any]) -> pa.Array:
    """Whole numbers, ``None`` as null."""
    null = np.array([v is None for v in values], dtype=bool)
    data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    return arrays.to_arrow(data, null=null)
