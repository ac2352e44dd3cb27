"""YOLO detection data: ``data.yaml`` (``names``; ``train``/``val``/``test`` folders or image
lists) with a ``labels/*.txt`` file per image, as Ultralytics lays it out.

One row per image listed: ``path`` (relative to the dataset root: ``path:`` of the YAML, else
its folder), ``split`` (the YAML key that lists it), ``labels`` (the class names present, in
class id order) and ``instances`` (objects of each). An image's label file is found as
Ultralytics finds it (the last ``/images/`` of its path becomes ``/labels/``, the extension
``.txt``); an image without one has no objects. An image list (``train.txt``, one path a
line, relative to the list's folder) is read the same way; its class names come from a YAML
with ``names`` in its folder, else in a folder above its first image (the dataset root a
written list points back to), else the class ids are the labels.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from rebalance.errors import RebalanceError
from rebalance.manifest.ondisk.common import (
    Missing,
    OnDisk,
    is_image_name,
    label_sets_table,
    missing_images,
)

SPLIT_KEYS = ("train", "val", "test")


def load_yaml(path: str) -> dict[str, Any]:
    """A dataset YAML as a mapping; malformed YAML names its line."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RebalanceError(f"{path}: not valid YAML{where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RebalanceError(f"{path}: cannot read ({exc})") from None
    if not isinstance(doc, dict):
        raise RebalanceError(f"{path}: not a dataset YAML (no mapping at the top)")
    return doc


def class_names(doc: dict[str, Any], path: str) -> dict[int, str]:
    """``names`` as class id → name (a list by id, or a mapping)."""
    names = doc.get("names")
    if isinstance(names, list):
        out = dict(enumerate(names))
    elif isinstance(names, dict):
        out = {}
        for key, value in names.items():
            if not isinstance(key, int) or isinstance(key, bool):
                raise RebalanceError(f"{path}: names: {key!r} is not a class id")
            out[key] = value
    else:
        raise RebalanceError(f'{path}: no "names" (a list of class names, or id: name)')
    for key, value in out.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise RebalanceError(f"{path}: names: class {key} has no name")
        out[key] = str(value)
    return dict(sorted(out.items()))


def find_yaml(folder: str) -> str | None:
    """The dataset YAML of a folder: ``data.yaml``, else the one ``*.yaml`` with ``names``."""
    for name in ("data.yaml", "data.yml", "dataset.yaml"):
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    found = sorted(glob.glob(os.path.join(glob.escape(folder), "*.y*ml")))
    for path in found:
        try:
            with open(path, encoding="utf-8") as fh:
                if any(line.startswith("names:") for line in fh):
                    return path
        except (OSError, UnicodeDecodeError):
            continue
    return None


def label_file(image: str) -> str:
    """Ultralytics' label path of an image: ``…/images/…/x.jpg`` → ``…/labels/…/x.txt``."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    head = sb.join(image.rsplit(sa, 1)) if sa in image else image
    return os.path.splitext(head)[0] + ".txt"


def read_labels(path: str, names: dict[int, str] | None) -> tuple[list[str], list[int]]:
    """The class names of one label file (class id order) and their object counts; a line
    that is not ``class x y w h …`` or a class id outside ``names`` names the file and line."""
    counts: dict[int, int] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as exc:
        raise RebalanceError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        try:
            cls = int(parts[0])
            [float(v) for v in parts[1:5]]
        except ValueError:
            cls = -1
        if cls < 0 or len(parts) < 5:
            raise RebalanceError(
                f"{path}:{number}: not a YOLO label line (class x y w h): {line.strip()[:60]!r}"
            )
        if names is not None and cls not in names:
            raise RebalanceError(
                f"{path}:{number}: class id {cls} is not in names (ids {min(names)}–{max(names)})"
            )
        counts[cls] = counts.get(cls, 0) + 1
    ids = sorted(counts)
    shown = [names[c] if names is not None else str(c) for c in ids]
    return shown, [counts[c] for c in ids]


def _images_of(entry: str, base: str, where: str) -> list[str]:
    """The image paths (relative to ``base``) a ``train:``/``val:`` entry names: a folder
    (every image under it), an image list file, or one image."""
    full = os.path.normpath(os.path.join(base, entry))
    if os.path.isdir(full):
        found: list[str] = []
        for folder, dirs, files in os.walk(full, followlinks=True):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(
                os.path.join(folder, f)
                for f in sorted(files)
                if not f.startswith(".") and is_image_name(f)
            )
        return [os.path.relpath(f, base).replace(os.sep, "/") for f in found]
    if full.lower().endswith(".txt") and os.path.isfile(full):
        listed = list_file(full)
        folder = os.path.dirname(full)
        return [os.path.relpath(os.path.join(folder, p), base).replace(os.sep, "/") for p in listed]
    if is_image_name(full) and os.path.isfile(full):
        return [os.path.relpath(full, base).replace(os.sep, "/")]
    raise RebalanceError(f"{where}: {entry!r} is not a folder of images or an image list ({full})")


def list_file(path: str) -> list[str]:
    """The paths of an image list, one a line (``./`` and blank lines dropped), as written."""
    with open(path, encoding="utf-8") as fh:
        lines = [line.strip() for line in fh]
    return [line[2:] if line.startswith("./") else line for line in lines if line]


def _table(
    paths: Sequence[str], splits: Sequence[str] | None, base: str, names: dict[int, str] | None,
    missing: Missing, where: str,
) -> OnDisk:  # fmt: skip
    if not paths:
        raise RebalanceError(f"{where}: no images listed")
    kept, notes = missing_images(paths, base, missing, where=where)
    labels: list[list[str]] = []
    instances: list[list[int]] = []
    for i in kept:
        found, counts = read_labels(label_file(os.path.join(base, paths[i])), names)
        labels.append(found)
        instances.append(counts)
    columns: dict[str, Any] = {"path": pa.array([paths[i] for i in kept], pa.string())}
    if splits is not None:
        columns["split"] = pa.array([splits[i] for i in kept], pa.string())
    return OnDisk(label_sets_table(columns, labels, instances), base, notes, instances=True)


def read_yolo(path: str, *, root: str | None = None, missing: Missing = "error") -> OnDisk:
    """The manifest of a YOLO dataset: its folder, its YAML, or an image list."""
    if path.lower().endswith(".txt"):
        return read_image_list(path, missing=missing)
    yaml_path = find_yaml(path) if os.path.isdir(path) else path
    if yaml_path is None:
        raise RebalanceError(f"{path}: no data.yaml (a YOLO dataset names its classes there)")
    doc = load_yaml(yaml_path)
    names = class_names(doc, yaml_path)
    here = os.path.dirname(os.path.abspath(yaml_path))
    given = doc.get("path")
    base = root or (os.path.normpath(os.path.join(here, str(given))) if given else here)
    if not os.path.isdir(base):
        raise RebalanceError(f"{yaml_path}: path {given!r} is not a folder ({base})")
    paths: list[str] = []
    splits: list[str] = []
    for key in SPLIT_KEYS:
        entries = doc.get(key)
        if entries is None:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            found = _images_of(str(entry), base, f"{yaml_path}: {key}")
            paths.extend(found)
            splits.extend([key] * len(found))
    if not paths and not any(doc.get(k) for k in SPLIT_KEYS):
        raise RebalanceError(f"{yaml_path}: no train, val or test images named")
    return _table(paths, splits, base, names, missing, yaml_path)


def read_image_list(path: str, *, missing: Missing = "error") -> OnDisk:
    """An image list (``train.txt``): its paths and each image's YOLO labels."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        listed = list_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise RebalanceError(f"{path}: cannot read ({exc})") from None
    yaml_path = find_yaml(folder)
    above = os.path.dirname(os.path.normpath(os.path.join(folder, listed[0]))) if listed else folder
    for _ in range(4):
        if yaml_path is not None or above == os.path.dirname(above):
            break
        yaml_path, above = find_yaml(above), os.path.dirname(above)
    names = class_names(load_yaml(yaml_path), yaml_path) if yaml_path else None
    return _table(listed, None, folder, names, missing, path)
