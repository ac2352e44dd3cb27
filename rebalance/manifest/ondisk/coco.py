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
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest.ondisk.common import Missing, OnDisk, label_sets_table, missing_images

# the key under which a COCO file written by rebalance says where its images are
ROOT_KEY = "rebalance_image_root"


def load_coco(path: str) -> dict[str, Any]:
    """The parsed COCO document; malformed JSON is an error naming its line and column."""
    try:
        with open(path, "rb") as fh:
            doc = json.load(fh)
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
) -> tuple[list[list[str]], list[list[int]]]:
    """Each image's categories (in category order) and its number of objects of each."""
    k = max(len(names), 1)
    pairs, counts = np.unique(rows * k + cols, return_counts=True)
    labels: list[list[str]] = [[] for _ in range(n_images)]
    instances: list[list[int]] = [[] for _ in range(n_images)]
    for code, count in zip(pairs.tolist(), counts.tolist(), strict=True):
        row, col = divmod(code, k)
        labels[row].append(names[col])
        instances[row].append(count)
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
    columns: dict[str, Any] = {"image_id": pa.array(ids, pa.int64()), "path": files}
    columns.update({k: pa.array(v, pa.int64()) for k, v in sizes.items()})
    table = label_sets_table(columns, labels, instances)
    if len(kept) < len(ids):
        table = table.take(pa.array(kept, pa.int64()))
    return OnDisk(table, base=base, notes=notes, instances=True)
