"""What the on-disk readers share: image file names, the table they make, one cache."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from rebalance.errors import RebalanceError, RebalanceWarning

# the extensions torchvision's ImageFolder and Ultralytics accept as images
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
     ".dng", ".mpo", ".heic", ".pfm"}
)  # fmt: skip

Missing = Literal["error", "skip", "keep"]
MISSING_POLICIES: tuple[str, ...] = ("error", "skip", "keep")


# (root, missing) for datasets resolved without them: set for a whole command run
_READING: ContextVar[tuple[str | None, str]] = ContextVar("layout_reading", default=(None, "error"))


def reading_defaults() -> tuple[str | None, str]:
    """The image folder and missing-image policy an on-disk dataset is read with when its
    source does not name them (see :func:`layout_reading`)."""
    return _READING.get()


@contextmanager
def layout_reading(root: str | None = None, missing: str = "error") -> Iterator[None]:
    """Within the block, image datasets on disk are read with this image folder (``None``:
    found from the layout) and missing-image policy (``error``, ``skip`` or ``keep``): a
    command sets them once for every read it makes (``--root``, ``--skip-bad``)."""
    if missing not in MISSING_POLICIES:
        raise RebalanceError(f"missing images: {missing!r} is not one of error, skip, keep")
    token = _READING.set((root, missing))
    try:
        yield
    finally:
        _READING.reset(token)


_SUFFIXES = tuple(sorted(IMAGE_SUFFIXES))


def is_image_name(name: str) -> bool:
    """Whether a file name ends like an image (case-insensitive)."""
    return name.lower().endswith(_SUFFIXES)


@dataclass
class OnDisk:
    """An image dataset read from its own layout: the manifest table, the folder its
    relative ``path`` values start from, and what was left out or noticed on the way."""

    table: pa.Table
    base: str
    notes: list[str] = field(default_factory=list)
    instances: bool = False  # an ``instances`` column counts each label's objects


def label_sets_table(
    columns: dict[str, Any],
    labels: Sequence[Sequence[str]] | pa.Array,
    instances: Sequence[Sequence[int]] | pa.Array,
) -> pa.Table:
    """A detection manifest: the given columns, then ``labels`` (each image's categories, a
    list) and ``instances`` (how many objects of each of them, in the same order)."""
    data: dict[str, Any] = dict(columns)  # pa.table of arrays: no pandas import
    data["labels"] = (
        labels if isinstance(labels, pa.Array) else pa.array(labels, pa.list_(pa.string()))
    )
    data["instances"] = (
        instances if isinstance(instances, pa.Array) else pa.array(instances, pa.list_(pa.int32()))
    )
    return pa.table(data)


def missing_images(
    paths: Sequence[str], base: str, policy: Missing, *, where: str
) -> tuple[list[int], list[str]]:
    """The rows whose image file exists under ``base``, and notes. A missing image is an
    error naming it (``error``), left out with a note (``skip``) or kept (``keep``: the
    file check reports it)."""
    if policy == "keep":
        return list(range(len(paths))), []
    gone = _not_files(paths, base)
    if not gone:
        return list(range(len(paths))), []
    first = paths[gone[0]]
    if policy == "error":
        raise RebalanceError(
            f"{where}: image {first} is missing ({os.path.join(base, first)}; "
            f"{len(gone):,} missing in all): resample --skip-bad leaves such images out, "
            "inspect --check-files lists them"
        )
    kept = sorted(set(range(len(paths))) - set(gone))
    return kept, [f"{where}: {len(gone):,} missing image(s) left out (first: {first})"]


def _not_files(paths: Sequence[str], base: str) -> list[int]:
    """The positions of the paths that are not regular files under ``base``: one listing per
    folder (a COCO folder of 100k images is one ``scandir``, not 100k ``stat`` calls), a
    ``stat`` for what a listing cannot tell (links, other kinds)."""
    folders: dict[str, dict[str, bool | None]] = {}
    gone = []
    for i, p in enumerate(paths):
        folder, name = (
            (base, p) if "/" not in p and os.sep not in p else os.path.split(os.path.join(base, p))
        )
        if folder not in folders:
            folders[folder] = _listing(folder)
        kind = folders[folder].get(name, False)
        if kind is None:
            kind = os.path.isfile(os.path.join(folder, name))
        if not kind:
            gone.append(i)
    return gone


def _listing(folder: str) -> dict[str, bool | None]:
    """A folder's names: ``True`` for a regular file, ``None`` where a link must be followed."""
    try:
        with os.scandir(folder) as entries:
            return {
                e.name: None if e.is_symlink() else e.is_file(follow_symlinks=False)
                for e in entries
            }
    except OSError:
        return {}


def warn_notes(notes: Sequence[str]) -> None:
    """The notes of a read, as warnings (the command line prints each as one line)."""
    for note in notes:
        warnings.warn(note, RebalanceWarning, stacklevel=3)


_CACHE: dict[tuple[object, ...], OnDisk] = {}


def folder_stamp(path: str) -> tuple[object, ...]:
    """A folder's version: its own and its subfolders' change times (a file added to a
    class folder changes that folder's)."""
    stamps: list[object] = [os.stat(path).st_mtime_ns]
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_dir():
                stamps.append((entry.name, entry.stat().st_mtime_ns))
    return tuple(sorted(stamps, key=repr))


def file_stamp(path: str) -> tuple[object, ...]:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size)


def cached(
    kind: str,
    path: str,
    options: tuple[object, ...],
    read: Callable[[], OnDisk],
    stamp: Callable[[str], tuple[object, ...]] = file_stamp,
) -> OnDisk:
    """One read per dataset and version in a process: a command asks for the columns, the
    types and the rows of the same dataset, and a COCO file takes seconds to parse."""
    full = os.path.abspath(path)
    key = (kind, full, options, stamp(full))
    if key not in _CACHE:
        _CACHE.clear()  # one dataset at a time: a run reads one input (and a training set)
        found = read()
        warn_notes(found.notes)
        _CACHE[key] = found
    return _CACHE[key]
