"""Pascal VOC: ``Annotations/*.xml`` (one per image), images in ``JPEGImages/``, splits in
``ImageSets/Main/{train,val,test}.txt``.

One row per annotation file, in name order: ``path`` (``JPEGImages/<filename>``, relative
to the VOC folder), ``split`` (the split lists that name it; ``trainval`` when only that one
exists; empty where none does), ``width``/``height`` from ``<size>``, ``labels`` (the object
names present, sorted) and ``instances`` (objects of each; ``difficult`` ones included, as
VOC counts them).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any

import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest.ondisk.common import Missing, OnDisk, label_sets_table, missing_images


def is_voc(folder: str) -> bool:
    """Whether a folder is laid out as VOC (an ``Annotations`` folder of XML files)."""
    return os.path.isdir(os.path.join(folder, "Annotations"))


def _splits(root: str) -> dict[str, str]:
    """Image id → split, from ``ImageSets/Main``."""
    main = os.path.join(root, "ImageSets", "Main")
    names = [s for s in ("train", "val", "test") if os.path.isfile(os.path.join(main, s + ".txt"))]
    if not names and os.path.isfile(os.path.join(main, "trainval.txt")):
        names = ["trainval"]
    out: dict[str, str] = {}
    for split in names:
        with open(os.path.join(main, split + ".txt"), encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if parts:
                    out.setdefault(parts[0], split)
    return out


def _text(node: ET.Element, tag: str) -> str | None:
    found = node.find(tag)
    return None if found is None or found.text is None else found.text.strip()


def _size(root: ET.Element, tag: str) -> int | None:
    size = root.find("size")
    text = None if size is None else _text(size, tag)
    return int(text) if text is not None and text.isdigit() else None


def read_annotation(path: str) -> tuple[str | None, list[str], list[int], int | None, int | None]:
    """One VOC XML: file name, object names (sorted) and counts, width, height."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, column = exc.position
        raise RebalanceError(f"{path}: not valid XML at line {line}, column {column + 1}") from None
    except OSError as exc:
        raise RebalanceError(f"{path}: cannot read ({exc.strerror})") from None
    counts: dict[str, int] = {}
    for i, obj in enumerate(root.iter("object")):
        name = _text(obj, "name")
        if not name:
            raise RebalanceError(f"{path}: object {i + 1} has no <name>")
        counts[name] = counts.get(name, 0) + 1
    names = sorted(counts)
    return (
        _text(root, "filename"),
        names,
        [counts[n] for n in names],
        _size(root, "width"),
        _size(root, "height"),
    )


def read_voc(folder: str, *, root: str | None = None, missing: Missing = "error") -> OnDisk:
    """The manifest of a Pascal VOC folder (see the module docstring)."""
    annotations = os.path.join(folder, "Annotations")
    files = sorted(
        f for f in os.listdir(annotations) if f.lower().endswith(".xml") and not f.startswith(".")
    )
    if not files:
        raise RebalanceError(f"{annotations}: no annotation files (*.xml)")
    split_of = _splits(folder)
    paths: list[str] = []
    splits: list[str | None] = []
    labels: list[list[str]] = []
    instances: list[list[int]] = []
    sizes: dict[str, list[Any]] = {"width": [], "height": []}
    for name in files:
        stem = os.path.splitext(name)[0]
        file_name, found, counts, width, height = read_annotation(os.path.join(annotations, name))
        paths.append(f"JPEGImages/{file_name or stem + '.jpg'}")
        splits.append(split_of.get(stem))
        labels.append(found)
        instances.append(counts)
        sizes["width"].append(width)
        sizes["height"].append(height)
    base = root or folder
    kept, notes = missing_images(paths, base, missing, where=folder)
    columns: dict[str, Any] = {"path": pa.array(paths, pa.string())}
    if split_of:
        columns["split"] = pa.array(splits, pa.string())
    columns.update({k: pa.array(v, pa.int64()) for k, v in sizes.items()})
    table = label_sets_table(columns, labels, instances)
    if len(kept) < len(paths):
        table = table.take(pa.array(kept, pa.int64()))
    return OnDisk(table, base=base, notes=notes, instances=True)
