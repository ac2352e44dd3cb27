"""A torchvision ``ImageFolder`` tree: ``root/<class>/…`` (or ``root/<split>/<class>/…``).

One row per image: ``path`` (relative to the root, ``/``-separated), ``label`` (the class
folder's name, verbatim) and ``split`` when the top folders are splits. As torchvision does,
every image under a class folder belongs to it, however deep, through symbolic links too;
hidden files and folders are skipped; within a class a folder is read once, so a link back up
(a loop) is not followed again; other files are counted and left out.
"""

from __future__ import annotations

import os

import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest.ondisk.common import _SUFFIXES, OnDisk

SPLIT_NAMES = frozenset(
    {"train", "training", "val", "valid", "validation", "test", "testing", "dev"}
)


def _subfolders(path: str) -> list[str]:
    with os.scandir(path) as entries:
        return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir())


def _images_under(folder: str, rel: str, seen: set[str], others: list[str]) -> list[str]:
    """Image paths (relative, ``/``-separated) under ``folder``, sorted, depth first."""
    real = os.path.realpath(folder)
    if real in seen:
        return []
    seen.add(real)
    with os.scandir(folder) as entries:
        listed = [(e.name, e.is_dir()) for e in entries if not e.name.startswith(".")]
    files = sorted(name for name, is_dir in listed if not is_dir)
    prefix = rel + "/"
    found = [prefix + name for name in files if name.lower().endswith(_SUFFIXES)]
    if len(found) < len(files):
        others.extend(prefix + name for name in files if not name.lower().endswith(_SUFFIXES))
    for name in sorted(name for name, is_dir in listed if is_dir):
        found.extend(_images_under(os.path.join(folder, name), prefix + name, seen, others))
    return found


def is_split_layout(root: str) -> bool:
    """Whether the top folders are splits (``train/``, ``val/``…) holding class folders."""
    tops = _subfolders(root)
    return (
        bool(tops)
        and all(t.lower() in SPLIT_NAMES for t in tops)
        and all(_subfolders(os.path.join(root, t)) for t in tops)
    )


def read_imagefolder(root: str) -> OnDisk:
    """The manifest of an ``ImageFolder`` tree (see the module docstring)."""
    split_layout = is_split_layout(root)
    groups = (
        [(t, os.path.join(root, t), t) for t in _subfolders(root)]
        if split_layout
        else [(None, root, "")]
    )
    paths: list[str] = []
    labels: list[str] = []
    splits: list[str] = []
    others: list[str] = []
    for split, folder, rel in groups:
        above = {os.path.realpath(root), os.path.realpath(folder)}
        loose = _loose_files(folder)
        others.extend(f"{rel}/{n}".lstrip("/") for n in loose)
        for name in _subfolders(folder):
            prefix = f"{rel}/{name}".lstrip("/")
            found = _images_under(os.path.join(folder, name), prefix, set(above), others)
            paths.extend(found)
            labels.extend([name] * len(found))
            if split is not None:
                splits.extend([split] * len(found))
    if not paths:
        raise RebalanceError(
            f"{root}: no images in class folders (an ImageFolder tree is root/<class>/<image>, "
            "or root/<split>/<class>/<image>) and no Parquet files"
        )
    columns: dict[str, pa.Array] = {
        "path": pa.array(paths, pa.string()),
        "label": pa.array(labels, pa.string()),
    }
    if split_layout:
        columns["split"] = pa.array(splits, pa.string())
    notes = []
    if others:
        notes.append(
            f"{root}: {len(others):,} file(s) that are not images left out (first: {others[0]})"
        )
    return OnDisk(pa.table(columns), base=root, notes=notes)


def _loose_files(folder: str) -> list[str]:
    """Files lying beside the class folders: no class holds them."""
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_file())
