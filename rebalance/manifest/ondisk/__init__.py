"""Image datasets as they lie on disk, read as manifests: ``ImageFolder`` trees, COCO
instances JSON, YOLO (``data.yaml`` or an image list) and Pascal VOC.

A layout is a source like CSV or Parquet: :func:`read_layout` makes its table once (cached
per dataset version), every command reads that table, and its ``path`` values start from
the dataset's own image folder (:func:`layout_base`). Detection data (COCO, YOLO, VOC) is the
multi-label kind: a ``labels`` list column, with ``instances`` counting each label's objects.
"""

from __future__ import annotations

import os
from typing import Any

from rebalance.manifest.ondisk.common import (
    IMAGE_SUFFIXES,
    MISSING_POLICIES,
    Missing,
    OnDisk,
    cached,
    file_stamp,
    folder_stamp,
    is_image_name,
    layout_reading,
    reading_defaults,
)

LAYOUTS: tuple[str, ...] = ("imagefolder", "coco", "yolo", "voc")

__all__ = [
    "IMAGE_SUFFIXES",
    "LAYOUTS",
    "MISSING_POLICIES",
    "Missing",
    "OnDisk",
    "detect_layout",
    "is_image_name",
    "layout_base",
    "layout_reading",
    "read_parts",
    "reading_defaults",
    "read_layout",
]


def _is_parquet_folder(path: str) -> bool:
    """A folder that is a Parquet dataset: Parquet files or ``key=value`` folders on top."""
    with os.scandir(path) as entries:
        for entry in entries:
            name = entry.name.lower()
            if name.startswith((".", "_")):
                continue
            if name.endswith((".parquet", ".parq")) or (entry.is_dir() and "=" in name):
                return True
    return False


def _first_file(path: str, depth: int = 4) -> str | None:
    """The first non-hidden file met going down the first folders (a cheap look, no walk)."""
    with os.scandir(path) as entries:
        listed = sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)
    for entry in listed:
        if entry.is_file():
            return entry.name
    if depth:
        for entry in listed:
            if entry.is_dir():
                found = _first_file(entry.path, depth - 1)
                if found is not None:
                    return found
    return None


def detect_layout(path: str) -> str | None:
    """The on-disk layout of ``path`` (one of :data:`LAYOUTS`), or ``None`` for a manifest
    file or a Parquet dataset folder."""
    if os.path.isdir(path):
        from rebalance.manifest.ondisk.voc import is_voc
        from rebalance.manifest.ondisk.yolo import find_yaml

        if _is_parquet_folder(path):
            return None
        if find_yaml(path) is not None:
            return "yolo"
        if is_voc(path):
            return "voc"
        with os.scandir(path) as entries:
            if not any(e.is_dir() and not e.name.startswith((".", "_")) for e in entries):
                return None  # no class folders: read (and refused) as a Parquet dataset
        first = _first_file(path)
        if first is not None and first.lower().endswith((".parquet", ".parq")):
            return None  # Parquet files in plain subfolders: a dataset, as before
        return "imagefolder"
    lower = path.lower()
    if lower.endswith(".json"):
        return "coco"
    if lower.endswith((".yaml", ".yml")):
        return "yolo"
    if lower.endswith(".txt") and _lists_images(path):
        return "yolo"
    return None


def _lists_images(path: str) -> bool:
    """Whether a text file is an image list: its first line names an image file."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    return is_image_name(line.strip())
    except (OSError, UnicodeDecodeError):
        return False
    return False


def read_parts(path: Any) -> list[Any]:
    """What reading ``path`` reads, for refusing outputs among it: a YOLO or VOC folder's
    subfolders and YAML files (its top folder holds nothing else that is read); any other
    path as it is."""
    if path is None or not isinstance(path, str | os.PathLike):
        return [path]
    text = os.fspath(path)
    if text == "-" or not os.path.isdir(text) or detect_layout(text) not in ("yolo", "voc"):
        return [path]
    with os.scandir(text) as entries:
        parts = [
            e.path for e in entries if e.is_dir() or e.name.lower().endswith((".yaml", ".yml"))
        ]
    return sorted(parts)


def read_layout(source: Any) -> OnDisk:
    """The manifest of an on-disk dataset (read once per version of it in a process)."""
    from rebalance.errors import RebalanceError

    path, kind = source.path, source.format
    missing: Missing = source.missing
    if kind == "imagefolder":
        from rebalance.manifest.ondisk.imagefolder import read_imagefolder

        if not os.path.isdir(path):
            raise RebalanceError(f"{path}: --input-format imagefolder reads a folder")
        return cached(kind, path, (), lambda: read_imagefolder(path), folder_stamp)
    options = (source.root, missing)
    if kind == "coco":
        from rebalance.manifest.ondisk.coco import read_coco

        if os.path.isdir(path):
            raise RebalanceError(f"{path}: --input-format coco reads an instances JSON file")
        return cached(
            kind, path, options, lambda: read_coco(path, root=source.root, missing=missing)
        )
    if kind == "voc":
        from rebalance.manifest.ondisk.voc import is_voc, read_voc

        if not is_voc(path):
            raise RebalanceError(f"{path}: not a VOC folder (no Annotations/ in it)")
        return cached(
            kind,
            path,
            options,
            lambda: read_voc(path, root=source.root, missing=missing),
            folder_stamp,
        )
    from rebalance.manifest.ondisk.yolo import read_yolo

    stamp = folder_stamp if os.path.isdir(path) else file_stamp
    return cached(
        kind, path, options, lambda: read_yolo(path, root=source.root, missing=missing), stamp
    )


def layout_base(source: Any) -> str:
    """The folder an on-disk dataset's ``path`` values start from."""
    return read_layout(source).base
